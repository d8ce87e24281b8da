package org.orionos.host.raid;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.orionos.host.bdev.BdevCallback;
import org.orionos.host.bdev.BdevClient;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BdevOp;
import org.orionos.host.bdev.BdevRequest;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.Claim;
import org.orionos.host.bdev.backend.MemoryBdev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * md's bitmap-based re-add: a member that left (failed and came back through {@code add}, or was
 * absent at an assembly) is rebuilt only in the sync units whose write-intent bit is set: member
 * I/O is recorded per offset and must stay inside those units; the content, parity and
 * {@code check} agree afterwards, and mdadm reads the superblocks and bitmaps. A member older than
 * the bitmap's events_cleared is rebuilt in full.
 */
class MdReAddTest {
    private static final long META = MdNewArray.DEFAULT_DATA_OFFSET * 512;
    private static final int CHUNK = 128; // 64 KiB
    private static final long FAST = 1L << 40;

    /** Passes every request to a memory device and records (op, offset, length). */
    static final class Recorder extends BlockDevice implements BdevCallback {
        record Io(int op, long offset, long length) {
        }

        final MemoryBdev base;
        final ConcurrentLinkedQueue<Io> log = new ConcurrentLinkedQueue<>();
        private final Claim claim;

        Recorder(String name, long size) {
            this(name, new MemoryBdev(name + "-mem", size, 4096));
        }

        private Recorder(String name, MemoryBdev base) {
            super(name, base.blockSize(), base.blockCount(), base.capabilities(), base.optimalBoundary(), base.maxTransfer());
            this.base = base;
            this.claim = base.claim("recorder " + name, true, () -> { });
        }

        @Override
        protected void doSubmit(BdevRequest r) {
            log.add(new Io(r.op(), r.offset(), r.length()));
            base.submit(r.context().forward(r, this));
        }

        @Override
        public void onComplete(BdevRequest down, int status) {
            BdevRequest up = down.forwardedFor();
            down.release();
            up.complete(status);
        }

        /** Data-area requests of {@code op} as member offsets, and forgets everything recorded. */
        List<Io> drain(int op) {
            List<Io> out = new ArrayList<>();
            for (Io io; (io = log.poll()) != null; ) {
                if (io.op() == op && io.offset() >= META) {
                    out.add(io);
                }
            }
            return out;
        }

        @Override
        public void close() {
            claim.close();
            base.close();
        }
    }

    private static Recorder[] devices(String prefix, int n, long dataBytes) {
        Recorder[] r = new Recorder[n];
        for (int i = 0; i < n; i++) {
            r[i] = new Recorder(prefix + i, META + dataBytes);
        }
        return r;
    }

    private static MemorySegment random(Arena arena, long size, long seed) {
        MemorySegment w = arena.allocate(size, 4096);
        SplittableRandom rnd = new SplittableRandom(seed);
        for (long i = 0; i < size; i += 8) {
            w.set(ValueLayout.JAVA_LONG, i, rnd.nextLong());
        }
        return w;
    }

    private static void assertContent(BdevClient c, BlockDevice dev, MemorySegment expect) throws Exception {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment back = arena.allocate(expect.byteSize(), 4096);
            c.read(dev, 0, back).get(30, TimeUnit.SECONDS);
            assertEquals(-1L, expect.mismatch(back), "array content");
        }
    }

    private static void awaitClean(MdArray a) throws InterruptedException {
        long end = System.nanoTime() + 10_000_000_000L;
        while (a.dirtyRegions() != 0 && System.nanoTime() < end) {
            Thread.sleep(20);
        }
        assertEquals(0, a.dirtyRegions(), "bits cleared after a quiet period");
    }

    /** The sync units (member chunk rows, or RAID1's 1 MiB units) requests fall into; asserts none straddles two. */
    private static TreeSet<Long> units(List<Recorder.Io> ios, long unitBytes) {
        TreeSet<Long> u = new TreeSet<>();
        for (Recorder.Io io : ios) {
            long first = (io.offset() - META) / unitBytes;
            long last = (io.offset() + io.length() - 1 - META) / unitBytes;
            for (long k = first; k <= last; k++) {
                u.add(k);
            }
        }
        return u;
    }

    /**
     * Writes 8 KiB at three places (first, middle, last sync unit), into {@code w} too; returns the
     * sync units written ({@code arrayPerUnit} array bytes per unit).
     */
    private static TreeSet<Long> writeThree(BdevClient c, RaidBdev raid, MemorySegment w, Arena arena, long seed,
                                            long arrayPerUnit) throws Exception {
        long size = raid.sizeBytes();
        TreeSet<Long> units = new TreeSet<>();
        for (long off : new long[] {4096, size / 2 + 4096, size - 65536}) {
            MemorySegment small = random(arena, 8192, seed++);
            MemorySegment.copy(small, 0, w, off, 8192);
            c.write(raid, off, small, 0).get(30, TimeUnit.SECONDS);
            units.add(off / arrayPerUnit);
        }
        assertEquals(3, units.size());
        return units;
    }

    private static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + " failed:\n" + out);
        return out;
    }

    /** mdadm --examine of {@code dev}'s image and mdadm -X of its bitmap area (mdadm 4.2 wants that by itself). */
    private static String[] mdadm(BdevClient c, BlockDevice dev, Arena arena) throws Exception {
        MemorySegment raw = arena.allocate(dev.sizeBytes(), 4096);
        c.read(dev, 0, raw).get(30, TimeUnit.SECONDS);
        Path img = Files.createTempFile("orion-readd", ".img");
        Path bm = Files.createTempFile("orion-readd-bitmap", ".img");
        try {
            Files.write(img, raw.toArray(ValueLayout.JAVA_BYTE));
            Files.write(bm, raw.asSlice(8192, META - 8192).toArray(ValueLayout.JAVA_BYTE));
            return new String[] {run("mdadm", "--examine", img.toString()), run("mdadm", "-X", bm.toString())};
        } finally {
            Files.delete(img);
            Files.delete(bm);
        }
    }

    /**
     * {@code raid fail} (RAID1: and {@code raid remove}) then {@code raid add} of the same device while the array runs: the writes
     * made meanwhile dirty three regions, and only their units are read from the survivors and
     * written to the returning member (nothing read from it); bits stay set while degraded.
     */
    @Test
    void aFailedMemberAddedBackIsRebuiltOnlyInTheRegionsWrittenWhileItWasAway() throws Exception {
        for (RaidLevel level : new RaidLevel[] {RaidLevel.RAID5, RaidLevel.RAID1}) {
            int n = level == RaidLevel.RAID5 ? 4 : 2;
            long dataBytes = level == RaidLevel.RAID5 ? 2L << 20 : 8L << 20;
            // One bit per sync unit: a chunk row for RAID5, RAID1's 1 MiB unit.
            long unitBytes = level == RaidLevel.RAID5 ? CHUNK * 512L : 1L << 20;
            Recorder[] d = devices("a" + level.mdadmName(), n, dataBytes);
            try (BdevHost host = BdevHost.start(2, 32 << 20); Arena arena = Arena.ofShared()) {
                BdevClient c = host.client();
                try (MdArray a = MdArray.create(host, "md0", new MdArray.CreateOptions(level, null, CHUNK, false, (int) unitBytes),
                        List.<BlockDevice>of(d), List.of(), FAST)) {
                    a.bitmapPeriod(Duration.ofMillis(50));
                    a.start();
                    assertTrue(a.awaitIdle(Duration.ofSeconds(30)));
                    MemorySegment w = random(arena, a.bdev().sizeBytes(), 41);
                    c.write(a.bdev(), 0, w, 0).get(30, TimeUnit.SECONDS);
                    awaitClean(a);

                    a.fail(1);
                    assertTrue(a.awaitIdle(Duration.ofSeconds(30)));
                    assertEquals(1L << 1, a.bdev().failedMask());
                    TreeSet<Long> expect = writeThree(c, a.bdev(), w, arena, 42, unitBytes * (n == 2 ? 1 : n - 1));
                    Thread.sleep(300); // six bitmap periods: md never clears bits while degraded
                    assertEquals(3, a.dirtyRegions(), level + ": the three written regions stay dirty");
                    String[] away = mdadm(c, d[0], arena);
                    assertTrue(away[1].contains(" 3 dirty"), level + ": mdadm -X of a survivor:\n" + away[1]);
                    for (Recorder r : d) {
                        r.log.clear();
                    }

                    if (level == RaidLevel.RAID1) {
                        a.remove(d[1]); // mdadm --remove first: the superblock on the device still names its role
                    }
                    assertTrue(a.addSpare(d[1], true), level + ": re-added into its role");
                    assertTrue(a.awaitIdle(Duration.ofSeconds(30)));
                    assertEquals(0, a.bdev().failedMask(), level + ": in sync");
                    assertEquals(d[1], a.bdev().member(1));
                    assertEquals("rebuild", a.progress().kind());
                    assertEquals(3, a.progress().totalStripes(), level + ": " + a.progress());
                    assertEquals(expect, units(d[1].drain(BdevOp.WRITE), unitBytes), level + ": units written to the returning member");
                    assertEquals(List.of(), d[1].drain(BdevOp.READ), level + ": nothing read from the returning member");
                    for (int i = 0; i < n; i++) {
                        if (i != 1) {
                            TreeSet<Long> read = units(d[i].drain(BdevOp.READ), unitBytes);
                            assertTrue(expect.containsAll(read), level + ": member " + i + " read units " + read);
                        }
                    }
                    assertContent(c, a.bdev(), w);
                    assertEquals(0, a.scrub(false), level + ": check after the re-add");
                    awaitClean(a);
                }
                long events = MdArray.readSuperblock(c, d[0]).events;
                for (int i = 0; i < n; i++) {
                    assertEquals(events, MdArray.readSuperblock(c, d[i]).events, level + ": member " + i + " current");
                    String[] out = mdadm(c, d[i], arena);
                    assertTrue(out[0].contains("Array State : " + "A".repeat(n) + " "), level + ": mdadm --examine:\n" + out[0]);
                    assertTrue(out[0].matches("(?s).*Events : " + events + "\\n.*"), level + ": " + out[0]);
                    assertTrue(out[1].contains(" 0 dirty"), level + ": mdadm -X:\n" + out[1]);
                }
            } finally {
                for (Recorder r : d) {
                    r.close();
                }
            }
        }
    }

    /**
     * Assembly with a member that was absent while the array ran degraded and was shut down
     * cleanly (the bits survive the clean close because the array was degraded): it is rebuilt
     * from the bitmap. The same member from an older epoch (its image from before the bitmap was
     * last cleared) is rebuilt in full instead. Both end byte-exact with 0 mismatches.
     */
    @Test
    void aStaleMemberAtAssemblyUsesTheBitmapOnlyWhenTheBitmapCoversItsAbsence() throws Exception {
        long dataBytes = 2L << 20;
        long unitBytes = CHUNK * 512L;
        int n = 4;
        for (boolean older : new boolean[] {false, true}) {
            Recorder[] d = devices(older ? "o" : "s", n, dataBytes);
            try (BdevHost host = BdevHost.start(1, 32 << 20); Arena arena = Arena.ofShared()) {
                BdevClient c = host.client();
                MemorySegment w;
                TreeSet<Long> dirty;
                try (MdArray a = MdArray.create(host, "md0", new MdArray.CreateOptions(RaidLevel.RAID5, null, CHUNK, false,
                        (int) unitBytes), List.<BlockDevice>of(d), List.of(), FAST)) {
                    a.start();
                    assertTrue(a.awaitIdle(Duration.ofSeconds(30)));
                    w = random(arena, a.bdev().sizeBytes(), 51);
                    c.write(a.bdev(), 0, w, 0).get(30, TimeUnit.SECONDS);
                }
                // Member 2 as it is now: events of this clean close, which cleared the bitmap.
                MemorySegment epoch1 = arena.allocate(META + dataBytes, 4096);
                c.read(d[2], 0, epoch1).get(30, TimeUnit.SECONDS);
                // Another clean run of the whole array: events_cleared moves past epoch1's event count.
                try (MdArray a = MdArray.assemble(host, "md0", List.<BlockDevice>of(d), List.of(), null, FAST)) {
                    assertTrue(a.awaitIdle(Duration.ofSeconds(30)));
                    writeThree(c, a.bdev(), w, arena, 52, unitBytes * (n - 1));
                }
                // Member 2 away: the array runs degraded, is written, and is closed cleanly.
                try (MdArray a = MdArray.assemble(host, "md0", List.of(d[0], d[1], d[3]), List.of(), null, FAST)) {
                    assertTrue(a.awaitIdle(Duration.ofSeconds(30)));
                    assertEquals(1L << 2, a.bdev().failedMask());
                    dirty = writeThree(c, a.bdev(), w, arena, 53, unitBytes * (n - 1));
                    assertEquals(3, a.dirtyRegions());
                }
                String[] out = mdadm(c, d[0], arena);
                assertTrue(out[1].contains(" 3 dirty"), "bits kept over a degraded clean close:\n" + out[1]);
                assertTrue(out[0].matches("(?s).*Events : " + MdArray.readSuperblock(c, d[0]).events + "\\n.*"), out[0]);
                if (older) {
                    c.write(d[2], 0, epoch1, 0).get(30, TimeUnit.SECONDS);
                }
                for (Recorder r : d) {
                    r.log.clear();
                }
                try (MdArray a = MdArray.assemble(host, "md0", List.<BlockDevice>of(d), List.of(), null, FAST)) {
                    assertTrue(a.awaitIdle(Duration.ofSeconds(30)));
                    assertEquals(0, a.bdev().failedMask());
                    assertEquals("rebuild", a.progress().kind());
                    long all = dataBytes / unitBytes;
                    TreeSet<Long> written = units(d[2].drain(BdevOp.WRITE), unitBytes);
                    if (older) {
                        assertEquals(all, a.progress().totalStripes(), "an older epoch: full rebuild " + a.progress());
                        assertEquals(all, written.size(), "every unit rewritten");
                    } else {
                        assertEquals(3, a.progress().totalStripes(), "from the bitmap: " + a.progress());
                        assertEquals(dirty, written);
                    }
                    assertContent(c, a.bdev(), w);
                    assertEquals(0, a.scrub(false));
                }
            } finally {
                for (Recorder r : d) {
                    r.close();
                }
            }
        }
    }

    private static String[] orion(String... args) {
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        picocli.CommandLine cl = org.orionos.host.cli.OrionMain.commandLine();
        cl.setOut(new java.io.PrintWriter(out));
        cl.setErr(new java.io.PrintWriter(err));
        int rc = cl.execute(args);
        assertEquals(0, rc, String.join(" ", args) + ":\n" + out + err);
        return new String[] {out.toString(), err.toString()};
    }

    private static java.util.Map<String, String> examine(Path p) throws Exception {
        java.util.Map<String, String> m = new java.util.HashMap<>();
        String out = run("mdadm", "--examine", p.toString());
        for (String line : out.split("\n")) {
            int c = line.indexOf(" : ");
            if (c > 0) {
                m.put(line.substring(0, c).trim(), line.substring(c + 3).trim());
            }
        }
        m.put("", out);
        return m;
    }

    /**
     * The offline tools on image files: {@code orion raid fail}, a host runs the array degraded and
     * writes two regions, {@code orion raid add} of the failed image records it back in its role as
     * a recovering member ({@code mdadm --examine}: active device 1, recovery offset 0, feature
     * map with md's recovery-bitmap bit), and the next host recovers only the two dirty regions.
     */
    @Test
    void anImageAddedBackOfflineIsRecoveredFromTheBitmapByTheNextHost(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        long size = 24L << 20;
        Path[] d = new Path[4];
        for (int i = 0; i < d.length; i++) {
            d[i] = dir.resolve("m" + i + ".img");
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(d[i],
                    java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
                ch.truncate(size);
                ch.write(java.nio.ByteBuffer.wrap(new byte[1]), size - 1);
            }
        }
        String all = String.join(",", java.util.Arrays.stream(d).map(Path::toString).toList());
        try (BdevHost host = BdevHost.start(1, 16 << 20); Arena arena = Arena.ofShared()) {
            BdevClient c = host.client();
            MemorySegment w;
            List<BlockDevice> devs = open(d);
            try (MdArray a = MdArray.create(host, "md0", new MdArray.CreateOptions(RaidLevel.RAID5, null, CHUNK, false, 1 << 20),
                    devs, List.of(), FAST)) {
                a.start();
                assertTrue(a.awaitIdle(Duration.ofSeconds(60)));
                w = random(arena, a.bdev().sizeBytes(), 61);
                c.write(a.bdev(), 0, w, 0).get(30, TimeUnit.SECONDS);
            } finally {
                devs.forEach(BlockDevice::close);
            }
            orion("raid", "fail", "md0", "--devices", all, d[1].toString());
            devs = open(d);
            try (MdArray a = MdArray.assemble(host, "md0", devs, List.of(), null, FAST)) {
                assertTrue(a.awaitIdle(Duration.ofSeconds(60)));
                assertEquals(1L << 1, a.bdev().failedMask());
                for (long off : new long[] {4096, a.bdev().sizeBytes() / 2}) {
                    MemorySegment small = random(arena, 8192, off);
                    MemorySegment.copy(small, 0, w, off, 8192);
                    c.write(a.bdev(), off, small, 0).get(30, TimeUnit.SECONDS);
                }
                assertEquals(2, a.dirtyRegions());
            } finally {
                devs.forEach(BlockDevice::close);
            }
            String[] r = orion("raid", "add", "md0", "--devices", all, d[1].toString());
            assertTrue(r[0].contains("re-added " + d[1]), r[0]);
            java.util.Map<String, String> ex = examine(d[1]);
            assertEquals("Active device 1", ex.get("Device Role"), ex.get(""));
            assertEquals("0 sectors", ex.get("Recovery Offset"), ex.get(""));
            int features = Integer.decode(ex.get("Feature Map"));
            assertEquals(MdSuperblock1.MD_FEATURE_RECOVERY_BITMAP | MdSuperblock1.MD_FEATURE_RECOVERY_OFFSET
                    | MdSuperblock1.MD_FEATURE_BITMAP_OFFSET, features, ex.get(""));
            assertEquals(examine(d[0]).get("Events"), ex.get("Events"));
            devs = open(d);
            try (MdArray a = MdArray.assemble(host, "md0", devs, List.of(), null, FAST)) {
                assertTrue(a.awaitIdle(Duration.ofSeconds(60)));
                assertEquals(0, a.bdev().failedMask());
                assertEquals("rebuild", a.progress().kind());
                // Two 1 MiB regions of 16 chunk rows each, of the 368 rows.
                assertEquals(32, a.progress().totalStripes(), a.progress().toString());
                assertContent(c, a.bdev(), w);
                assertEquals(0, a.scrub(false));
            } finally {
                devs.forEach(BlockDevice::close);
            }
            for (Path p : d) {
                java.util.Map<String, String> e = examine(p);
                assertTrue(e.get("Array State").startsWith("AAAA"), e.get(""));
                assertEquals(null, e.get("Recovery Offset"), e.get(""));
                assertEquals("0x1", e.get("Feature Map"), e.get(""));
            }
        }
    }

    private static List<BlockDevice> open(Path[] d) {
        List<BlockDevice> out = new ArrayList<>();
        for (Path p : d) {
            out.add(org.orionos.host.bdev.backend.FileBdev.open(p.toString(), p, 0, 4096, "auto"));
        }
        return out;
    }
}
