package org.orionos.host.lvm;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.orionos.host.cli.OrionMain;
import org.orionos.host.control.ControlClient;
import org.orionos.host.guest.Commands;

import com.fasterxml.jackson.databind.JsonNode;

import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Raid volumes with a real {@code orion serve} process: {@code orion lvm lvcreate --type raid5}
 * through the running host, {@code [[lvm]]} activating raid1/raid5 volumes at serve start and
 * exporting them over NBD (checked with nbdinfo/nbdcopy), and a start with one PV missing:
 * refused with a message naming activation_mode, then served degraded with the data intact.
 */
class LvmRaidLiveTest {
    private static final long MIB = 1 << 20;

    record Run(int exit, String out, String err) {}

    static Run lvm(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new OrionMain());
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        List<String> a = new ArrayList<>(List.of("lvm"));
        a.addAll(Arrays.asList(args));
        int exit = cl.execute(a.toArray(String[]::new));
        return new Run(exit, out.toString(), err.toString());
    }

    static Run ok(String... args) {
        Run r = lvm(args);
        assertEquals(0, r.exit(), "orion lvm " + String.join(" ", args) + ":\n" + r.out() + r.err());
        return r;
    }

    static String run(String... cmd) throws java.io.IOException, InterruptedException {
        return Commands.runMerged(cmd).trim();
    }

    /** An {@code orion serve} child process and its merged output lines. */
    static final class Serve implements AutoCloseable {
        final Process process;
        final List<String> lines = new ArrayList<>();
        private final Thread reader;

        Serve(Path dir, Path cfg, Path controlSocket) throws java.io.IOException {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            process = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                    System.getProperty("java.class.path"), OrionMain.class.getName(), "serve", "--config",
                    cfg.toString(), "--reactors", "2", "--control-socket", controlSocket.toString())
                    .directory(dir.toFile()).redirectErrorStream(true).start();
            reader = Thread.ofPlatform().daemon().start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String l; (l = r.readLine()) != null; ) {
                        synchronized (lines) {
                            lines.add(l);
                            lines.notifyAll();
                        }
                    }
                } catch (java.io.IOException ignored) {
                    // the host exited
                }
            });
        }

        /** Waits for "ready;" (true) or the process' exit (false). */
        boolean awaitReady() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            synchronized (lines) {
                while (!has("ready;") && System.nanoTime() < deadline && process.isAlive()) {
                    lines.wait(200);
                }
            }
            if (!process.isAlive()) {
                process.waitFor(30, TimeUnit.SECONDS);
                reader.join(10_000);
            }
            return process.isAlive() && has("ready;");
        }

        boolean has(String text) {
            synchronized (lines) {
                return lines.stream().anyMatch(l -> l.contains(text));
            }
        }

        String log() {
            synchronized (lines) {
                return String.join("\n", lines);
            }
        }

        @Override
        public void close() throws java.io.IOException {
            if (process.isAlive()) {
                process.toHandle().destroy();
                try {
                    assertTrue(process.waitFor(60, TimeUnit.SECONDS), "serve did not exit");
                    reader.join(10_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("interrupted waiting for serve to stop");
                }
                assertEquals(0, process.exitValue(), log());
            }
        }
    }

    static void image(Path p, long bytes) throws java.io.IOException {
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(bytes);
        }
    }

    static String config(List<Path> pvs, String lvmExtra, Path nbdSock, List<String> exports) {
        StringBuilder b = new StringBuilder();
        List<String> names = new ArrayList<>();
        for (Path p : pvs) {
            String name = p.getFileName().toString().replace(".img", "");
            names.add("\"" + name + "\"");
            b.append("[[bdev]]\nname = \"").append(name).append("\"\ntype = \"file\"\npath = \"").append(p).append("\"\n");
        }
        b.append("[[lvm]]\nvg = \"vgr\"\npvs = [").append(String.join(", ", names)).append("]\n").append(lvmExtra);
        b.append("[[nbd.listen]]\naddress = \"unix:").append(nbdSock).append("\"\n");
        for (String e : exports) {
            b.append("[[nbd.export]]\nname = \"").append(e).append("\"\nbdev = \"vgr/").append(e).append("\"\n");
        }
        return b.toString();
    }

    static byte[] nbdRead(Path dir, String uri) throws Exception {
        Path back = dir.resolve("back.bin");
        Files.deleteIfExists(back);
        run("nbdcopy", uri, back.toString());
        return Files.readAllBytes(back);
    }

    @Test
    void raidVolumesThroughARunningHostAndActivatedAtStartIncludingWithAPvMissing(@TempDir Path dir) throws Exception {
        List<Path> pvs = List.of(dir.resolve("pv0.img"), dir.resolve("pv1.img"), dir.resolve("pv2.img"));
        for (Path p : pvs) {
            image(p, 128 * MIB);
        }
        Path sock = dir.resolve("control.sock");
        String devs = "--devices=" + String.join(",", pvs.stream().map(Path::toString).toList());
        String cs = "--control-socket=" + sock;
        for (Path p : pvs) {
            ok("pvcreate", devs, cs, p.toString());
        }
        ok("vgcreate", devs, cs, "vgr", pvs.get(0).toString(), pvs.get(1).toString(), pvs.get(2).toString());
        ok("lvcreate", devs, cs, "--type", "raid1", "-m", "1", "-L", "16M", "-n", "m1", "vgr");
        ok("lvcreate", devs, cs, "-L", "4M", "-n", "lin", "vgr"); // linear, on pv0 (the first PV with room)
        Path nbdSock = dir.resolve("nbd.sock");
        Path cfg = dir.resolve("orion.toml");
        byte[] p1 = new byte[(int) (16 * MIB)];
        new Random(1).nextBytes(p1);
        byte[] p5 = new byte[(int) (32 * MIB)];
        new Random(5).nextBytes(p5);
        Path src1 = dir.resolve("p1.bin");
        Path src5 = dir.resolve("p5.bin");
        Files.write(src1, p1);
        Files.write(src5, p5);
        String uri1 = "nbd+unix:///m1?socket=" + nbdSock;
        String uri5 = "nbd+unix:///r5?socket=" + nbdSock;

        // 1. [[lvm]] without a volume list activates the raid1 volume; raid5 is created through the host.
        Files.writeString(cfg, config(pvs, "", nbdSock, List.of("m1")));
        try (Serve s = new Serve(dir, cfg, sock)) {
            assertTrue(s.awaitReady(), s.log());
            assertEquals(String.valueOf(16 * MIB), run("nbdinfo", "--size", uri1));
            run("nbdcopy", src1.toString(), uri1);
            Run made = ok("lvcreate", cs, "--type", "raid5", "-i", "2", "-L", "32M", "-n", "r5", "vgr");
            assertTrue(made.err().contains("Using the running orion host on " + sock), made.err());
            JsonNode status = ControlClient.call(sock, "status", null);
            boolean[] seen = new boolean[1];
            status.path("bdevs").forEach(b -> {
                if (b.path("name").asText().equals("vgr/r5")) {
                    seen[0] = true;
                    assertEquals(32 * MIB, b.path("size_bytes").asLong());
                }
            });
            assertTrue(seen[0], status.toString());
            Run lvs = ok("lvs", cs, devs);
            assertTrue(lvs.out().matches("(?s).*m1 +vgr +rwi-aor--- +16.00m.*"), "raid1 active and exported:\n" + lvs.out());
            assertTrue(lvs.out().matches("(?s).*r5 +vgr +rwi-a-r--- +32.00m.*"), "raid5 active:\n" + lvs.out());
        }

        // 2. Both exported at the next start: the raid5 volume made live takes data; raid1 kept its data.
        // An exported raid volume keeps its size: lvextend through the host is refused, nothing written.
        Files.writeString(cfg, config(pvs, "", nbdSock, List.of("m1", "r5")));
        try (Serve s = new Serve(dir, cfg, sock)) {
            assertTrue(s.awaitReady(), s.log());
            assertEquals(String.valueOf(32 * MIB), run("nbdinfo", "--size", uri5));
            run("nbdcopy", src5.toString(), uri5);
            assertArrayEquals(p5, nbdRead(dir, uri5));
            assertArrayEquals(p1, nbdRead(dir, uri1));
            Run busy = lvm("lvextend", cs, "-L", "+16M", "vgr/r5");
            assertNotEquals(0, busy.exit());
            assertTrue(busy.err().contains("in use by") && busy.err().contains("keep their geometry"), busy.err());
            assertEquals(String.valueOf(32 * MIB), run("nbdinfo", "--size", uri5));
        }

        // 3. r5 active but not exported: the host drains it, grows every image, syncs the new region
        //    and activates it again.
        Files.writeString(cfg, config(pvs, "", nbdSock, List.of("m1")));
        try (Serve s = new Serve(dir, cfg, sock)) {
            assertTrue(s.awaitReady(), s.log());
            Run grown = ok("lvextend", cs, "-L", "+16M", "vgr/r5");
            assertTrue(grown.out().contains("changed from 8 extents to 12 extents"), grown.out());
            long[] size = {0};
            ControlClient.call(sock, "status", null).path("bdevs").forEach(b -> {
                if (b.path("name").asText().equals("vgr/r5")) {
                    size[0] = b.path("size_bytes").asLong();
                }
            });
            assertEquals(48 * MIB, size[0], "the reactivated volume has the new size");
            assertTrue(ok("lvs", cs, devs).out().matches("(?s).*r5 +vgr +rwi-a-r--- +48.00m.*"));
        }
        Files.writeString(cfg, config(pvs, "", nbdSock, List.of("m1", "r5")));
        try (Serve s = new Serve(dir, cfg, sock)) {
            assertTrue(s.awaitReady(), s.log());
            assertEquals(String.valueOf(48 * MIB), run("nbdinfo", "--size", uri5), "NBD sees the grown volume");
            assertArrayEquals(p5, Arrays.copyOf(nbdRead(dir, uri5), p5.length), "data kept across the grow");
        }

        // 4. pv0 gone: refused by default, with how to proceed; nothing served.
        List<Path> left = pvs.subList(1, 3);
        Files.writeString(cfg, config(left, "", nbdSock, List.of("m1", "r5")));
        try (Serve s = new Serve(dir, cfg, sock)) {
            assertTrue(!s.awaitReady(), s.log());
            assertNotEquals(0, s.process.exitValue());
            assertTrue(s.has("is missing") && s.has("activation_mode = \"degraded\""), s.log());
        }

        // 5. activation_mode = "degraded": both raid volumes run without their pv0 images, data intact.
        Files.writeString(cfg, config(left, "activation_mode = \"degraded\"\n", nbdSock, List.of("m1", "r5")));
        try (Serve s = new Serve(dir, cfg, sock)) {
            assertTrue(s.awaitReady(), s.log());
            assertTrue(s.has("vgr/m1 activated degraded") && s.has("vgr/r5 activated degraded"), s.log());
            // A volume that needs the missing PV stays inactive, said in the log; the others serve.
            assertTrue(s.has("vgr/lin not activated"), s.log());
            List<String> bdevs = new ArrayList<>();
            ControlClient.call(sock, "status", null).path("bdevs").forEach(b -> bdevs.add(b.path("name").asText()));
            assertTrue(bdevs.containsAll(List.of("vgr/m1", "vgr/r5")) && !bdevs.contains("vgr/lin"), bdevs.toString());
            assertArrayEquals(p1, nbdRead(dir, uri1), "raid1 read from its surviving image");
            assertArrayEquals(p5, Arrays.copyOf(nbdRead(dir, uri5), p5.length), "raid5 reconstructed without pv0's image");
            Run refused = lvm("lvcreate", cs, "-L", "4M", "-n", "x", "vgr");
            assertNotEquals(0, refused.exit(), refused.out() + refused.err());
            assertTrue(refused.err().contains("is missing"), refused.err());
        }
    }
}
