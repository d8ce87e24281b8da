package org.orionos.host.raid;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.backend.FileBdev;
import org.orionos.host.guest.Commands;
import org.orionos.host.guest.GuestSpec;
import org.orionos.host.guest.GuestTest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Linux md and orion's reshapes, in the test guest (real md driver over loop devices): md
 * assembles arrays orion grew (RAID5 3→4) and migrated (RAID1→RAID5→RAID6) with the same SHA-256
 * and 0 parity mismatches in md's check; and md itself continues a reshape orion was interrupted
 * in (a crash image taken mid-way), finishing with the same content: orion's superblocks, data
 * offsets and data mid-reshape are what md would have written.
 */
@GuestTest(spec = ReshapeInteropGuestTest.Spec.class)
class ReshapeInteropGuestTest {
    private static final long MEMBER = 16L << 20;

    /** No extra devices: members are files in the guest's /tmp (tmpfs) on loop devices. */
    public static final class Spec implements Supplier<GuestSpec> {
        @Override
        public GuestSpec get() {
            return GuestSpec.builder().build();
        }
    }

    @BeforeAll
    static void modules() throws Exception {
        for (String m : new String[] {"loop", "raid456", "raid1"}) {
            run("modprobe", m);
        }
    }

    @AfterEach
    void noHook() {
        MdReshape.testHook = null;
    }

    static String run(String... cmd) throws java.io.IOException, InterruptedException {
        return Commands.runMerged(cmd);
    }

    private static List<Path> files(String prefix, int n) throws Exception {
        List<Path> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Path p = Path.of("/tmp/" + prefix + i + ".img");
            Files.deleteIfExists(p);
            run("truncate", "-s", String.valueOf(MEMBER), p.toString());
            out.add(p);
        }
        return out;
    }

    private static List<BlockDevice> open(List<Path> files) {
        List<BlockDevice> out = new ArrayList<>();
        for (Path f : files) {
            out.add(FileBdev.open(f.toString(), f, 0, 4096, "off"));
        }
        return out;
    }

    private static String sha256(MemorySegment m) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        md.update(m.asByteBuffer());
        return HexFormat.of().formatHex(md.digest());
    }

    private static MemorySegment random(Arena arena, long size, long seed) {
        MemorySegment w = arena.allocate(size, 4096);
        SplittableRandom rnd = new SplittableRandom(seed);
        for (long i = 0; i < size; i += 8) {
            w.set(ValueLayout.JAVA_LONG, i, rnd.nextLong());
        }
        return w;
    }

    private static void waitIdle(String dev) throws Exception {
        Path action = Path.of("/sys/block/" + dev + "/md/sync_action");
        long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
        while (!Files.readString(action).strip().equals("idle")) {
            assertTrue(System.nanoTime() < end, dev + " still " + Files.readString(action));
            Thread.sleep(200);
        }
    }

    /**
     * md assembles {@code f} (over loop devices), lets any reshape it finds run to the end, and
     * must then read {@code expectSha} over {@code expectBytes} with 0 mismatches in its check.
     * Returns mdadm --detail.
     */
    private static String mdReads(String kind, List<Path> f, long expectBytes, String expectSha) throws Exception {
        List<String> loops = new ArrayList<>();
        for (Path p : f) {
            loops.add(run("losetup", "-f", "--show", p.toString()).strip());
        }
        String md = "/dev/md/" + kind;
        try {
            List<String> cmd = new ArrayList<>(List.of("mdadm", "--assemble", "--run", md));
            cmd.addAll(loops);
            String asm = run(cmd.toArray(new String[0]));
            String dev = Path.of(md).toRealPath().getFileName().toString();
            run("mdadm", "--readwrite", md); // an array assembled read-auto holds a reshape until the first write
            waitIdle(dev);
            String detail = run("mdadm", "--detail", md);
            assertTrue(!detail.contains("Reshape") && !detail.contains("degraded"), asm + detail);
            long size = Long.parseLong(Files.readString(Path.of("/sys/block/" + dev + "/size")).strip()) * 512;
            assertEquals(expectBytes, size, detail);
            String sum = run("sha256sum", "/dev/" + dev).split(" ")[0];
            assertEquals(expectSha, sum, kind + ": md reads the content\n" + detail);
            Files.writeString(Path.of("/sys/block/" + dev + "/md/sync_action"), "check");
            Thread.sleep(500);
            waitIdle(dev);
            assertEquals("0", Files.readString(Path.of("/sys/block/" + dev + "/md/mismatch_cnt")).strip(),
                    kind + ": md's check\n" + detail);
            return detail;
        } finally {
            run("mdadm", "--stop", md);
            for (String l : loops) {
                run("losetup", "-d", l);
            }
        }
    }

    /**
     * 512 KiB chunks: orion creates with mdadm's data offset (2 MiB on these members) and grows
     * twice, each time one chunk down; md assembles the result (data offset 1 MiB) with the same
     * content and a clean check.
     */
    @Test
    void mdAssemblesAnArrayOrionGrewTwiceWithMdadmsHeadroom() throws Exception {
        List<Path> f = files("r2", 5);
        String sum;
        long size;
        try (BdevHost host = BdevHost.start(1, 16 << 20); Arena arena = Arena.ofShared()) {
            List<BlockDevice> devs = open(f);
            try (MdArray a = MdArray.create(host, "r2", new MdArray.CreateOptions(RaidLevel.RAID5, null, 1024, false),
                    devs.subList(0, 3), List.of(), 1L << 40)) {
                a.start();
                assertTrue(a.awaitIdle(Duration.ofMinutes(2)));
                MemorySegment w = random(arena, a.bdev().sizeBytes(), 12);
                host.client().write(a.bdev(), 0, w, 0).get(60, TimeUnit.SECONDS);
                for (int n = 4; n <= 5; n++) {
                    a.grow(new MdArray.GrowOptions(null, n, List.of(devs.get(n - 1))));
                    assertTrue(a.awaitIdle(Duration.ofMinutes(3)));
                }
                size = a.bdev().sizeBytes();
                MemorySegment all = arena.allocate(size, 4096);
                MemorySegment.copy(w, 0, all, 0, w.byteSize());
                sum = sha256(all);
            } finally {
                devs.forEach(BlockDevice::close);
            }
        }
        String detail = mdReads("r2", f, size, sum);
        assertTrue(detail.contains("Raid Devices : 5"), detail);
    }

    @Test
    void mdAssemblesWhatOrionGrewAndMigrated() throws Exception {
        List<Path> f = files("rg", 4);
        String sum;
        long size;
        try (BdevHost host = BdevHost.start(1, 16 << 20); Arena arena = Arena.ofShared()) {
            List<BlockDevice> devs = open(f);
            try (MdArray a = MdArray.create(host, "rg", new MdArray.CreateOptions(RaidLevel.RAID5, null, 128, false),
                    devs.subList(0, 3), List.of(), 1L << 40)) {
                a.start();
                assertTrue(a.awaitIdle(Duration.ofMinutes(2)));
                MemorySegment w = random(arena, a.bdev().sizeBytes(), 11);
                host.client().write(a.bdev(), 0, w, 0).get(60, TimeUnit.SECONDS);
                a.grow(new MdArray.GrowOptions(null, 4, List.of(devs.get(3))));
                assertTrue(a.awaitIdle(Duration.ofMinutes(3)));
                size = a.bdev().sizeBytes();
                MemorySegment all = arena.allocate(size, 4096);
                MemorySegment.copy(w, 0, all, 0, w.byteSize());
                sum = sha256(all);
            } finally {
                devs.forEach(BlockDevice::close);
            }
        }
        String detail = mdReads("rg", f, size, sum);
        assertTrue(detail.contains("Raid Devices : 4"), detail);

        List<Path> m = files("rm", 4);
        try (BdevHost host = BdevHost.start(1, 16 << 20); Arena arena = Arena.ofShared()) {
            List<BlockDevice> devs = open(m);
            try (MdArray a = MdArray.create(host, "rm", new MdArray.CreateOptions(RaidLevel.RAID1, null, 0, false),
                    devs.subList(0, 2), List.of(), 1L << 40)) {
                a.start();
                assertTrue(a.awaitIdle(Duration.ofMinutes(2)));
                MemorySegment w = random(arena, a.bdev().sizeBytes(), 12);
                host.client().write(a.bdev(), 0, w, 0).get(60, TimeUnit.SECONDS);
                a.grow(new MdArray.GrowOptions(RaidLevel.RAID5, 3, List.of(devs.get(2))));
                assertTrue(a.awaitIdle(Duration.ofMinutes(3)));
                a.grow(new MdArray.GrowOptions(RaidLevel.RAID6, 0, List.of(devs.get(3))));
                assertTrue(a.awaitIdle(Duration.ofMinutes(3)));
                size = a.bdev().sizeBytes();
                MemorySegment all = arena.allocate(size, 4096);
                MemorySegment.copy(w, 0, all, 0, w.byteSize());
                sum = sha256(all);
            } finally {
                devs.forEach(BlockDevice::close);
            }
        }
        detail = mdReads("rm", m, size, sum);
        assertTrue(detail.contains("Raid Level : raid6") && detail.contains("left-symmetric-6"), detail);
        for (Path p : f) {
            Files.delete(p);
        }
        for (Path p : m) {
            Files.delete(p);
        }
    }

    /**
     * The other way: md grows a RAID5 from 3 to 4 members (slowed to 1 MB/s) and is stopped
     * mid-reshape; orion assembles the members, resumes md's reshape from md's reshape_position
     * and new_offset, finishes it, and reads what was written with 0 parity mismatches.
     */
    @Test
    void orionContinuesAReshapeMdWasStoppedIn() throws Exception {
        List<Path> f = files("mg", 4);
        List<String> loops = new ArrayList<>();
        for (Path p : f) {
            loops.add(run("losetup", "-f", "--show", p.toString()).strip());
        }
        String md = "/dev/md/mg";
        String sum;
        long oldBytes;
        String examine;
        try {
            run("mdadm", "--create", md, "--run", "--metadata=1.2", "--level=5", "--raid-devices=3", "--chunk=64",
                    "--bitmap=none", loops.get(0), loops.get(1), loops.get(2));
            String dev = Path.of(md).toRealPath().getFileName().toString();
            waitIdle(dev);
            oldBytes = Long.parseLong(Files.readString(Path.of("/sys/block/" + dev + "/size")).strip()) * 512;
            run("dd", "if=/dev/urandom", "of=" + md, "bs=1M", "oflag=direct", "status=none", "count=" + oldBytes / (1 << 20));
            sum = run("sha256sum", md).split(" ")[0];
            Files.writeString(Path.of("/sys/block/" + dev + "/md/sync_speed_min"), "100");
            Files.writeString(Path.of("/sys/block/" + dev + "/md/sync_speed_max"), "1000");
            run("mdadm", "--add", md, loops.get(3));
            run("mdadm", "--grow", md, "--raid-devices=4");
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Files.readString(Path.of("/sys/block/" + dev + "/md/sync_completed")).contains("/")
                    || Long.parseLong(Files.readString(Path.of("/sys/block/" + dev + "/md/reshape_position")).strip()
                    .replace("none", "0")) < 4096) {
                assertTrue(System.nanoTime() < end, "md's reshape did not get going: " + run("cat", "/proc/mdstat"));
                Thread.sleep(100);
            }
            run("mdadm", "--stop", md);
            examine = run("mdadm", "--examine", loops.get(0));
        } finally {
            if (Files.exists(Path.of(md))) {
                run("mdadm", "--stop", md);
            }
            for (String l : loops) {
                run("losetup", "-d", l);
            }
        }
        assertTrue(examine.contains("Reshape pos'n"), "md stopped mid-reshape:\n" + examine);
        try (BdevHost host = BdevHost.start(1, 16 << 20); Arena arena = Arena.ofShared()) {
            List<BlockDevice> devs = open(f);
            try (MdArray a = MdArray.assemble(host, "mg", devs, List.of(), null, 1L << 40)) {
                assertTrue(a.awaitIdle(Duration.ofMinutes(3)));
                assertTrue(a.reshape() != null && a.reshape().done(), "orion resumed md's reshape\n" + examine);
                assertEquals(4, a.current().geometry().raidDisks());
                MemorySegment back = arena.allocate(a.bdev().sizeBytes(), 4096);
                host.client().read(a.bdev(), 0, back).get(60, TimeUnit.SECONDS);
                assertEquals(sum, sha256(back.asSlice(0, oldBytes)), "orion reads what md wrote\n" + examine);
                assertEquals(0, a.scrub(false), examine);
            } finally {
                devs.forEach(BlockDevice::close);
            }
        }
        for (Path p : f) {
            Files.delete(p);
        }
    }

    /**
     * A crash image of orion's RAID5 3→4 reshape, taken once the 10th window's position was
     * recorded: md assembles it, continues the reshape from orion's reshape_position and new_offset,
     * and ends with the content orion was given (zeros in the new space) and consistent parity.
     */
    @Test
    void mdContinuesAReshapeOrionWasInterruptedIn() throws Exception {
        List<Path> f = files("rc", 4);
        List<Path> crash = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            crash.add(Path.of("/tmp/rcrash" + i + ".img"));
        }
        String sum;
        long size;
        try (BdevHost host = BdevHost.start(1, 16 << 20); Arena arena = Arena.ofShared()) {
            List<BlockDevice> devs = open(f);
            try (MdArray a = MdArray.create(host, "rc", new MdArray.CreateOptions(RaidLevel.RAID5, null, 128, false),
                    devs.subList(0, 3), List.of(), 1L << 40)) {
                a.start();
                assertTrue(a.awaitIdle(Duration.ofMinutes(2)));
                MemorySegment w = random(arena, a.bdev().sizeBytes(), 13);
                host.client().write(a.bdev(), 0, w, 0).get(60, TimeUnit.SECONDS);
                host.client().flush(a.bdev()).get(60, TimeUnit.SECONDS);
                int[] seen = {0};
                MdReshape.testHook = (point, end) -> {
                    if (point.equals("recorded") && ++seen[0] == 10) {
                        try {
                            for (int i = 0; i < 4; i++) {
                                Files.copy(f.get(i), crash.get(i), StandardCopyOption.REPLACE_EXISTING);
                            }
                        } catch (java.io.IOException e) {
                            throw new IllegalStateException(e);
                        }
                    }
                };
                a.grow(new MdArray.GrowOptions(null, 4, List.of(devs.get(3))));
                assertTrue(a.awaitIdle(Duration.ofMinutes(3)));
                assertTrue(seen[0] > 10, "the crash image was taken mid-way");
                size = a.bdev().sizeBytes();
                MemorySegment all = arena.allocate(size, 4096);
                MemorySegment.copy(w, 0, all, 0, w.byteSize());
                sum = sha256(all);
            } finally {
                devs.forEach(BlockDevice::close);
            }
        }
        String loop = run("losetup", "-f", "--show", crash.get(0).toString()).strip(); // mdadm opens O_DIRECT: not on tmpfs
        String examine;
        try {
            examine = run("mdadm", "--examine", loop);
        } finally {
            run("losetup", "-d", loop);
        }
        assertTrue(examine.contains("Reshape pos'n") && examine.contains("Delta Devices : 1 (3->4)"), examine);
        String detail = mdReads("rc", crash, size, sum);
        assertTrue(detail.contains("Raid Devices : 4"), detail);
        // And orion assembles what md finished.
        try (BdevHost host = BdevHost.start(1, 16 << 20); Arena arena = Arena.ofShared()) {
            List<BlockDevice> devs = open(crash);
            try (MdArray a = MdArray.assemble(host, "rc", devs, List.of(), null, 1L << 40)) {
                assertTrue(a.awaitIdle(Duration.ofMinutes(1)));
                MemorySegment back = arena.allocate(a.bdev().sizeBytes(), 4096);
                host.client().read(a.bdev(), 0, back).get(60, TimeUnit.SECONDS);
                assertEquals(sum, sha256(back), "orion reads what md finished\n" + a.describe());
                assertEquals(0, a.scrub(false));
            } finally {
                devs.forEach(BlockDevice::close);
            }
        }
        for (Path p : f) {
            Files.delete(p);
        }
        for (Path p : crash) {
            Files.delete(p);
        }
    }
}
