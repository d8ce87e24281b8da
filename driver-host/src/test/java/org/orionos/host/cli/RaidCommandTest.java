package org.orionos.host.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.backend.FileBdev;
import org.orionos.host.raid.MdArray;

import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code orion raid} on image files, checked against the real {@code mdadm --examine} after every
 * step: create, status, fail, a host rebuilding onto the spare, remove, add, check and repair of a
 * corrupted member; and refusals that leave the images untouched.
 */
class RaidCommandTest {
    private static final long SIZE = 24L << 20;

    @TempDir
    Path dir;

    record Result(int rc, String out, String err) {
    }

    private static Result orion(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = OrionMain.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int rc = cl.execute(args);
        return new Result(rc, out.toString(), err.toString());
    }

    private static Map<String, String> fields(String text) {
        Map<String, String> m = new HashMap<>();
        for (String line : text.split("\n")) {
            int c = line.indexOf(" : ");
            if (c > 0) {
                m.put(line.substring(0, c).trim(), line.substring(c + 3).trim());
            }
        }
        return m;
    }

    private static Map<String, String> examine(Path p) throws IOException, InterruptedException {
        Process pr = new ProcessBuilder("mdadm", "--examine", p.toString()).redirectErrorStream(true).start();
        String out = new String(pr.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(pr.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, pr.exitValue(), out);
        Map<String, String> m = fields(out);
        m.put("", out);
        return m;
    }

    private Path[] images(String... names) throws IOException {
        Path[] p = new Path[names.length];
        for (int i = 0; i < names.length; i++) {
            p[i] = dir.resolve(names[i] + ".img");
            try (FileChannel ch = FileChannel.open(p[i], StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ch.truncate(SIZE);
                ch.write(ByteBuffer.wrap(new byte[1]), SIZE - 1);
            }
        }
        return p;
    }

    private static String[] args(Object... parts) {
        List<String> out = new ArrayList<>();
        for (Object o : parts) {
            if (o instanceof Path[] ps) {
                for (Path p : ps) {
                    out.add(p.toString());
                }
            } else {
                out.add(o.toString());
            }
        }
        return out.toArray(new String[0]);
    }

    private static String list(Path... ps) {
        return String.join(",", java.util.Arrays.stream(ps).map(Path::toString).toList());
    }

    /** What `orion raid status` says of each device agrees with mdadm --examine of it. */
    private static void assertAgrees(Path... devs) throws Exception {
        Result st = orion(args("raid", "status", devs));
        assertEquals(0, st.rc(), st.err());
        Map<String, String> mine = fields(st.out());
        for (Path d : devs) {
            Map<String, String> ex = examine(d);
            String all = ex.get("") + "\n---\n" + st.out();
            String line = mine.get(d.toString());
            String role = ex.get("Device Role");
            // md stops writing a faulty member's superblock, so mdadm --examine of it shows its last role;
            // status shows the array's view (from the freshest superblock) and that the device is behind.
            if (!line.startsWith("faulty")) {
                assertTrue(line.startsWith(role.startsWith("Active") ? role : role.toLowerCase(java.util.Locale.ROOT)), all);
            }
            assertTrue(line.endsWith("events " + ex.get("Events")), all);
            assertEquals(ex.get("Array UUID"), mine.get("Array UUID"), all);
            assertEquals(ex.get("Raid Level"), mine.get("Raid Level"), all);
            assertEquals(ex.get("Raid Devices"), mine.get("Raid Devices"), all);
            assertEquals(ex.get("Chunk Size"), mine.get("Chunk Size"), all);
        }
        // The freshest member's view of the array, as mdadm prints it.
        Map<String, String> ex = examine(devs[0]);
        assertTrue(ex.get("Array State").startsWith(mine.get("Array State") + " "), ex.get("") + st.out());
    }

    @Test
    void createFailRebuildRemoveAddCheckRepairAgreeWithMdadm() throws Exception {
        Path[] d = images("a", "b", "c", "d", "e");
        Result r = orion(args("raid", "create", "md0", "--level", "5", "--raid-devices", "4", "--spare-devices", "1",
                "--chunk", "64K", d));
        assertEquals(0, r.rc(), r.err());
        assertTrue(r.out().contains("raid5, 4 devices, 1 spares"), r.out());
        assertAgrees(d);
        assertTrue(orion(args("raid", "status", d)).out().contains("resync pending"));

        // A host assembles it: the initial resync runs; data is written.
        SplittableRandom rnd = new SplittableRandom(3);
        MemorySegment w;
        try (Arena arena = Arena.ofShared(); BdevHost host = BdevHost.start(1, 16 << 20)) {
            List<BlockDevice> devs = open(d);
            try (MdArray a = MdArray.assemble(host, "md0", devs, List.of(), null, 1L << 40)) {
                assertTrue(a.awaitIdle(Duration.ofSeconds(60)));
                w = arena.allocate(a.bdev().sizeBytes(), 4096);
                for (long i = 0; i < w.byteSize(); i += 8) {
                    w.set(ValueLayout.JAVA_LONG, i, rnd.nextLong());
                }
                host.client().write(a.bdev(), 0, w, 0).get(30, TimeUnit.SECONDS);
            } finally {
                devs.forEach(BlockDevice::close);
            }
            assertFalse(orion(args("raid", "status", d)).out().contains("resync pending"));
            assertEquals("0 sectors (0 stripes)", mismatches(orion("raid", "check", "md0", "--devices", list(d))));

            r = orion("raid", "fail", "md0", "--devices", list(d), d[1].toString());
            assertEquals(0, r.rc(), r.err());
            assertAgrees(d);
            assertTrue(examine(d[0]).get("Array State").startsWith("A.AA"));
            assertTrue(orion(args("raid", "status", d)).out().contains(d[1] + " : faulty"));

            // The next host rebuilds role 1 onto the spare.
            devs = open(d);
            try (MdArray a = MdArray.assemble(host, "md0", devs, List.of(), null, 1L << 40)) {
                assertTrue(a.awaitIdle(Duration.ofSeconds(60)));
                assertEquals("rebuild", a.progress().kind());
                assertEquals(0, a.bdev().failedMask());
                MemorySegment back = arena.allocate(w.byteSize(), 4096);
                host.client().read(a.bdev(), 0, back).get(30, TimeUnit.SECONDS);
                assertEquals(-1L, w.mismatch(back));
            } finally {
                devs.forEach(BlockDevice::close);
            }
            assertAgrees(d);
            assertEquals("Active device 1", examine(d[4]).get("Device Role"));
            assertTrue(examine(d[0]).get("Array State").startsWith("AAAA"));

            r = orion("raid", "remove", "md0", "--devices", list(d), d[2].toString());
            assertEquals(1, r.rc());
            assertTrue(r.err().contains("is an active member of md0 (role 2); fail it first"), r.err());
            r = orion("raid", "remove", "md0", "--devices", list(d), d[1].toString());
            assertEquals(0, r.rc(), r.err());
            Path[] f = images("f");
            r = orion("raid", "add", "md0", "--devices", list(d[0], d[2], d[3], d[4]), f[0].toString());
            assertEquals(0, r.rc(), r.err());
            Path[] now = {d[0], d[2], d[3], d[4], f[0]};
            assertAgrees(now);
            assertEquals("spare", examine(f[0]).get("Device Role"));

            // Corrupt one chunk of c.img's data area: check counts it, repair fixes it.
            try (FileChannel ch = FileChannel.open(d[2], StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap(new byte[4096]), (1L << 20) + 5 * 65536 + 4096);
            }
            assertEquals("128 sectors (1 stripes)", mismatches(orion("raid", "check", "md0", "--devices", list(now))));
            assertEquals("128 sectors (1 stripes)", mismatches(orion("raid", "repair", "md0", "--devices", list(now))));
            assertEquals("0 sectors (0 stripes)", mismatches(orion("raid", "check", "md0", "--devices", list(now))));
        }
    }

    private static String mismatches(Result r) {
        assertEquals(0, r.rc(), r.err());
        String s = r.out().trim();
        return s.substring(s.indexOf("mismatch_cnt ") + 13).replace(", parity rewritten", "");
    }

    private static List<BlockDevice> open(Path[] d) {
        List<BlockDevice> out = new ArrayList<>();
        for (Path p : d) {
            out.add(FileBdev.open(p.toString(), p, 0, 4096, "auto"));
        }
        return out;
    }

    @Test
    void badRequestsAreRefusedAndLeaveTheImagesUntouched() throws Exception {
        Path[] d = images("a", "b", "c", "d");
        Path small = dir.resolve("small.img");
        Files.write(small, new byte[0]);
        try (FileChannel ch = FileChannel.open(small, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[1]), SIZE / 2 - 1);
        }
        Result r = orion(args("raid", "create", "md0", "--level", "6", "--raid-devices", "3", d[0], d[1], d[2]));
        assertEquals(1, r.rc());
        assertTrue(r.err().contains("raid6 needs at least 4 members, 3 given"), r.err());
        r = orion(args("raid", "create", "md0", "--level", "5", "--raid-devices", "4", d[0], d[1], d[2], small));
        assertEquals(1, r.rc());
        assertTrue(r.err().contains("member sizes differ"), r.err());
        r = orion(args("raid", "create", "md0", "--level", "5", "--raid-devices", "4", d));
        assertEquals(0, r.rc(), r.err());
        Path[] e = images("e");
        r = orion(args("raid", "create", "md1", "--level", "1", "--raid-devices", "2", e[0], d[0]));
        assertEquals(1, r.rc());
        assertTrue(r.err().contains("already carries an md superblock of array md0"), r.err());
        for (Path p : new Path[] {small, e[0]}) {
            Process pr = new ProcessBuilder("mdadm", "--examine", p.toString()).redirectErrorStream(true).start();
            String out = new String(pr.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(pr.waitFor(30, TimeUnit.SECONDS));
            assertTrue(pr.exitValue() != 0 && out.contains("No md superblock"), out);
        }
    }

    private static void assertFalse(boolean b) {
        assertTrue(!b);
    }
    /**
     * {@code orion raid status NAME} asks the running host over its management socket: state,
     * roles and the rebuild's percent, rate and ETA while a rate-limited rebuild runs; an unknown
     * name is refused naming the arrays there are.
     */
    @Test
    void liveStatusOverTheManagementSocketShowsTheRebuild() throws Exception {
        try (BdevHost host = BdevHost.start(1, 16L << 20);
             org.orionos.host.control.ControlServer control = org.orionos.host.control.ControlServer.start(dir.resolve("c.sock"))) {
            List<BlockDevice> devs = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                devs.add(new org.orionos.host.bdev.backend.MemoryBdev("f" + i, 9L << 20, 4096));
            }
            MdArray a = MdArray.create(host, "md0", new MdArray.CreateOptions(org.orionos.host.raid.RaidLevel.RAID5, null, 128, true),
                    devs.subList(0, 4), devs.subList(4, 5), 4L << 20);
            try {
                host.registry().add(a.bdev());
                control.publish(org.orionos.host.control.HostControl.handlers(host, null, "test"));
                a.start();
                a.fail(1);
                long end = System.nanoTime() + 10_000_000_000L;
                while ((a.progress() == null || !a.progress().running() || a.progress().doneStripes() == 0)
                        && System.nanoTime() < end) {
                    Thread.sleep(20);
                }
                Result r = orion("raid", "status", "md0", "--control-socket", dir.resolve("c.sock").toString());
                assertEquals(0, r.rc(), r.err());
                Map<String, String> f = fields(r.out());
                assertEquals("raid5", f.get("Raid Level"), r.out());
                assertEquals("active, recovering", f.get("State"), r.out());
                assertTrue(f.get("Rebuild Status").matches("\\d+\\.\\d% complete \\(\\d+/128 units\\) onto f4, \\d+\\.\\d MB/s, ETA \\d+:\\d\\d:\\d\\d"),
                        r.out());
                assertTrue(r.out().contains("1   rebuilding f4"), r.out());
                assertTrue(r.out().contains("0   active     f0"), r.out());
                Result j = orion("raid", "status", "md0", "--json", "--control-socket", dir.resolve("c.sock").toString());
                assertEquals(0, j.rc(), j.err());
                com.fasterxml.jackson.databind.JsonNode s = new com.fasterxml.jackson.databind.ObjectMapper().readTree(j.out());
                double pct = s.path("sync").path("percent").asDouble();
                assertTrue(pct > 0 && pct < 100, j.out());
                assertTrue(s.path("sync").path("mb_per_s").asDouble() > 0, j.out());
                assertEquals("rebuild", s.path("sync").path("kind").asText(), j.out());
                Result bad = orion("raid", "status", "md9", "--control-socket", dir.resolve("c.sock").toString());
                assertEquals(1, bad.rc());
                assertTrue(bad.err().contains("no RAID array named \"md9\" on this host (arrays: md0)"), bad.err());
            } finally {
                a.close();
                for (BlockDevice d : devs) {
                    d.close();
                }
            }
        }
    }
    /**
     * kill -9 of {@code orion serve} with a RAID5 in use: the write through NBD set the region's bit
     * on disk (live status showed it) and the crash left it set; the next serve resyncs exactly the
     * dirty regions and a clean stop leaves every bit clear.
     */
    @Test
    void killMinus9LeavesTheWrittenRegionDirtyAndTheNextServeResyncsIt() throws Exception {
        Path cfg = dir.resolve("orion.toml");
        StringBuilder t = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            t.append("[[bdev]]\nname = \"f").append(i).append("\"\ntype = \"file\"\npath = \"")
                    .append(dir.resolve("f" + i + ".img")).append("\"\nsize = \"8M\"\n");
        }
        t.append("[[raid]]\nname = \"md0\"\nlevel = 5\nmembers = [\"f0\", \"f1\", \"f2\", \"f3\"]\nchunk = \"64K\"\n");
        t.append("[[nbd.listen]]\naddress = \"unix:").append(dir.resolve("nbd.sock")).append("\"\n");
        t.append("[[nbd.export]]\nname = \"md0\"\n");
        Files.writeString(cfg, t.toString());
        Path sock = dir.resolve("control.sock");

        Process p = serve(cfg, sock);
        try {
            awaitLine(p, "ready;");
            // The initial resync's bits clear after md's daemon_sleep (5 s) without writes.
            awaitDirty(sock, 0, 30);
            Process io = new ProcessBuilder("qemu-io", "-f", "raw", "-c", "write -P 0x5a 1M 64k",
                    "nbd+unix:///md0?socket=" + dir.resolve("nbd.sock")).redirectErrorStream(true).start();
            String ioOut = new String(io.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(io.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, io.exitValue(), ioOut);
            com.fasterxml.jackson.databind.JsonNode st = awaitDirty(sock, 1, 5);
            assertEquals("active", st.path("state").asText(), st.toString());
        } finally {
            p.destroyForcibly(); // SIGKILL: no clean close
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        }
        Map<String, String> x = examineBitmap(dir.resolve("f0.img"));
        assertTrue(x.get("Bitmap").contains("1 dirty"), x.get(""));
        assertEquals(examine(dir.resolve("f0.img")).get("Events"), x.get("Events"), x.get(""));

        Process again = serve(cfg, sock);
        try {
            String log = awaitLine(again, "resync complete");
            assertTrue(log.contains("md0: resync of 1 dirty bitmap region(s) of 1"), log);
        } finally {
            again.toHandle().destroy(); // SIGTERM: clean close
            assertTrue(again.waitFor(60, TimeUnit.SECONDS));
        }
        x = examineBitmap(dir.resolve("f0.img"));
        assertTrue(x.get("Bitmap").contains("0 dirty"), x.get(""));
        Result check = orion("raid", "check", "md0", "--devices", dir.resolve("f0.img") + "," + dir.resolve("f1.img") + ","
                + dir.resolve("f2.img") + "," + dir.resolve("f3.img"));
        assertEquals(0, check.rc(), check.err());
        assertTrue(check.out().contains("mismatch_cnt 0"), check.out());
    }

    /**
     * {@code orion raid grow} against the running host (RAID5 3 → 4 members, rate-limited) while
     * qemu-io writes and reads through NBD on both sides of the reshape position; kill -9 mid-way;
     * mdadm --examine and offline status show the reshape position; the offline
     * {@code orion raid grow NAME --devices ...} continues it to the end: check finds 0 mismatches,
     * mdadm sees 4 members at the moved data offset, and every byte written is there.
     */
    @Test
    void growOnTheRunningHostSurvivesKillMinus9AndFinishesOffline() throws Exception {
        Path[] d = images("g0", "g1", "g2", "g3");
        Result r = orion(args("raid", "create", "md0", "--level", "5", "--raid-devices", "3", "--chunk", "64K",
                "--assume-clean", d[0], d[1], d[2]));
        assertEquals(0, r.rc(), r.err());
        Path cfg = dir.resolve("grow.toml");
        StringBuilder t = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            t.append("[[bdev]]\nname = \"f").append(i).append("\"\ntype = \"file\"\npath = \"").append(d[i])
                    .append("\"\nsize = \"24M\"\n");
        }
        t.append("[[raid]]\nname = \"md0\"\nlevel = 5\nmembers = [\"f0\", \"f1\", \"f2\"]\nchunk = \"64K\"\n")
                .append("sync_speed = \"2M\"\n");
        t.append("[[nbd.listen]]\naddress = \"unix:").append(dir.resolve("g.sock")).append("\"\n");
        t.append("[[nbd.export]]\nname = \"md0\"\n");
        Files.writeString(cfg, t.toString());
        Path sock = dir.resolve("gcontrol.sock");
        String nbd = "nbd+unix:///md0?socket=" + dir.resolve("g.sock");
        Process p = serve(cfg, sock);
        try {
            awaitLine(p, "ready;");
            qemuIo(nbd, "write -P 0x11 0 2M");
            r = orion("raid", "grow", "md0", "--raid-devices", "4", "--add", "f3", "--control-socket", sock.toString());
            assertEquals(0, r.rc(), r.err());
            assertTrue(r.out().contains("raid5, 4 devices"), r.out());
            com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
            long end = System.nanoTime() + 30_000_000_000L;
            com.fasterxml.jackson.databind.JsonNode st;
            do {
                Thread.sleep(100);
                Result j = orion("raid", "status", "md0", "--json", "--control-socket", sock.toString());
                assertEquals(0, j.rc(), j.err());
                st = json.readTree(j.out());
            } while (st.path("sync").path("percent").asDouble() < 8 && System.nanoTime() < end);
            assertEquals("reshape", st.path("sync").path("kind").asText(), st.toString());
            assertTrue(st.path("sync").path("running").asBoolean(), st.toString());
            assertEquals("active, reshaping", st.path("state").asText(), st.toString());
            qemuIo(nbd, "read -P 0x11 0 2M");       // below the position: the new geometry
            qemuIo(nbd, "write -P 0x33 40M 1M");    // above it: the old geometry, copied later
            qemuIo(nbd, "read -P 0x33 40M 1M");
        } finally {
            p.destroyForcibly(); // SIGKILL mid-reshape
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        }
        Map<String, String> ex = examine(d[0]);
        assertEquals("1 (3->4)", ex.get("Delta Devices"), ex.get(""));
        long pos = Long.parseLong(ex.get("Reshape pos'n").split(" ")[0]);
        assertTrue(pos > 0 && pos < 69L * 1024, ex.get(""));
        Result st = orion(args("raid", "status", d));
        assertTrue(st.out().contains("3 -> 4 devices, data offset 2048 -> 1536 sectors"), st.out());

        r = orion("raid", "grow", "md0", "--devices", list(d));
        assertEquals(0, r.rc(), r.err());
        assertTrue(r.out().contains("md0 is now raid5 with 4 devices, " + (69L << 20) + " bytes"), r.out());
        assertEquals("0 sectors (0 stripes)", mismatches(orion("raid", "check", "md0", "--devices", list(d))));
        for (Path m : d) {
            ex = examine(m);
            assertEquals("4", ex.get("Raid Devices"), ex.get(""));
            assertEquals("1536 sectors", ex.get("Data Offset"), ex.get(""));
            assertTrue(!ex.containsKey("Reshape pos'n"), ex.get(""));
        }
        assertEquals("Active device 3", examine(d[3]).get("Device Role"));
        try (Arena arena = Arena.ofShared(); BdevHost host = BdevHost.start(1, 16 << 20)) {
            List<BlockDevice> devs = open(d);
            try (MdArray a = MdArray.assemble(host, "md0", devs, List.of(), null, 1L << 40, false)) {
                MemorySegment back = arena.allocate(a.bdev().sizeBytes(), 4096);
                host.client().read(a.bdev(), 0, back).get(30, TimeUnit.SECONDS);
                for (long i = 0; i < back.byteSize(); i++) {
                    byte want = i < (2 << 20) ? (byte) 0x11 : i >= (40L << 20) && i < (41L << 20) ? (byte) 0x33 : 0;
                    if (back.get(ValueLayout.JAVA_BYTE, i) != want) {
                        throw new AssertionError("byte " + i + " is " + back.get(ValueLayout.JAVA_BYTE, i) + ", want " + want);
                    }
                }
            } finally {
                devs.forEach(BlockDevice::close);
            }
        }
    }

    private static void qemuIo(String url, String cmd) throws IOException, InterruptedException {
        Process io = new ProcessBuilder("qemu-io", "-f", "raw", "-c", cmd, url).redirectErrorStream(true).start();
        String out = new String(io.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(io.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, io.exitValue(), cmd + ": " + out);
        assertTrue(!out.contains("Pattern verification failed"), cmd + ": " + out);
    }

    private Process serve(Path cfg, Path sock) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                OrionMain.class.getName(), "serve", "--config", cfg.toString(), "--reactors", "1", "--control-socket",
                sock.toString()).directory(dir.toFile()).redirectErrorStream(true).start();
    }

    /** Reads {@code p}'s output up to the first line containing {@code marker}; returns all of it. */
    private static String awaitLine(Process p, String marker) throws IOException {
        java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        StringBuilder all = new StringBuilder();
        String line;
        while ((line = r.readLine()) != null) {
            all.append(line).append('\n');
            if (line.contains(marker)) {
                Thread drain = new Thread(() -> {
                    try {
                        r.transferTo(java.io.Writer.nullWriter());
                    } catch (IOException e) {
                        // the process ended
                    }
                });
                drain.setDaemon(true);
                drain.start();
                return all.toString();
            }
        }
        throw new AssertionError("serve ended before \"" + marker + "\":\n" + all);
    }

    private static com.fasterxml.jackson.databind.JsonNode awaitDirty(Path sock, long dirty, int seconds) throws InterruptedException {
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        com.fasterxml.jackson.databind.JsonNode s;
        do {
            s = org.orionos.host.control.ControlClient.call(sock, "raid.status",
                    com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("name", "md0"));
            if (s.path("bitmap_dirty_regions").asLong() == dirty) {
                return s;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < end);
        throw new AssertionError("bitmap never had " + dirty + " dirty region(s): " + s);
    }

    private Map<String, String> examineBitmap(Path member) throws IOException, InterruptedException {
        Path bm = dir.resolve(member.getFileName() + ".bitmap");
        try (FileChannel in = FileChannel.open(member, StandardOpenOption.READ);
             FileChannel o = FileChannel.open(bm, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                     StandardOpenOption.TRUNCATE_EXISTING)) {
            in.transferTo(8192, (1 << 20) - 8192, o); // mdadm 4.2 -X wants the bitmap area as a file of its own
        }
        Process pr = new ProcessBuilder("mdadm", "-X", bm.toString()).redirectErrorStream(true).start();
        String out = new String(pr.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(pr.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, pr.exitValue(), out);
        Map<String, String> m = fields(out);
        m.put("", out);
        return m;
    }
}
