package org.orionos.host.raid;

import org.orionos.host.guest.Commands;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.backend.FileBdev;
import org.orionos.host.guest.GuestSpec;
import org.orionos.host.guest.GuestTest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Linux md and orion read each other's arrays, in the test guest (real md driver): arrays orion
 * creates, resyncs and fills are assembled by {@code mdadm --assemble} over loop devices and read
 * back with the same SHA-256, and md's own {@code check} finds 0 parity mismatches; arrays
 * {@code mdadm --create} makes and fills are assembled by orion with the same SHA-256, and orion's
 * check finds 0 mismatches.
 */
@GuestTest(spec = MdInteropGuestTest.Spec.class)
class MdInteropGuestTest {
    private static final long MEMBER = 40L << 20;

    /** No extra devices: members are files in the guest's /tmp (tmpfs) on loop devices. */
    public static final class Spec implements Supplier<GuestSpec> {
        @Override
        public GuestSpec get() {
            return GuestSpec.builder().build();
        }
    }

    @BeforeAll
    static void modules() throws Exception {
        for (String m : new String[] {"loop", "raid456", "raid1", "raid10"}) {
            run("modprobe", m);
        }
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

    private static List<String> loops(List<Path> files) throws Exception {
        List<String> out = new ArrayList<>();
        for (Path f : files) {
            out.add(run("losetup", "-f", "--show", f.toString()).strip());
        }
        return out;
    }

    private static void detach(List<String> loops) throws Exception {
        for (String l : loops) {
            run("losetup", "-d", l);
        }
    }

    private static String sha256(Path p) throws Exception {
        return run("sha256sum", p.toString()).split(" ")[0];
    }

    private static String sha256(MemorySegment m) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        md.update(m.asByteBuffer());
        return HexFormat.of().formatHex(md.digest());
    }

    private static List<BlockDevice> open(List<Path> files) {
        List<BlockDevice> out = new ArrayList<>();
        for (Path f : files) {
            out.add(FileBdev.open(f.toString(), f, 0, 4096, "off"));
        }
        return out;
    }

    /** Waits until md is idle (no resync/recovery/check running) on {@code md}. */
    private static void waitIdle(String md) throws Exception {
        Path action = Path.of("/sys/block/" + md.replace("/dev/", "") + "/md/sync_action");
        long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
        while (!Files.readString(action).strip().equals("idle")) {
            assertTrue(System.nanoTime() < end, md + " still " + Files.readString(action));
            Thread.sleep(200);
        }
    }

    private static void orionToMd(String kind, RaidLevel level, String layout, int n) throws Exception {
        List<Path> f = files(kind, n);
        String sum;
        try (BdevHost host = BdevHost.start(1, 16 << 20); Arena arena = Arena.ofShared()) {
            List<BlockDevice> devs = open(f);
            try (MdArray a = MdArray.create(host, "o" + kind, new MdArray.CreateOptions(level, layout, 128, false),
                    devs, List.of(), 1L << 40)) {
                a.start();
                assertTrue(a.awaitIdle(Duration.ofMinutes(2)));
                MemorySegment w = arena.allocate(a.bdev().sizeBytes(), 4096);
                SplittableRandom rnd = new SplittableRandom(kind.hashCode());
                for (long i = 0; i < w.byteSize(); i += 8) {
                    w.set(ValueLayout.JAVA_LONG, i, rnd.nextLong());
                }
                host.client().write(a.bdev(), 0, w, 0).get(60, TimeUnit.SECONDS);
                host.client().flush(a.bdev()).get(60, TimeUnit.SECONDS);
                sum = sha256(w);
            } finally {
                devs.forEach(BlockDevice::close);
            }
        }
        List<String> l = loops(f);
        String md = "/dev/md/" + kind;
        try {
            List<String> cmd = new ArrayList<>(List.of("mdadm", "--assemble", md));
            cmd.addAll(l);
            run(cmd.toArray(new String[0]));
            String detail = run("mdadm", "--detail", md);
            assertTrue(detail.contains("State : clean") && !detail.contains("degraded"), detail);
            assertEquals(sum, sha256(Path.of(md)), kind + ": md reads what orion wrote\n" + detail);
            if (level == RaidLevel.RAID5 || level == RaidLevel.RAID6) {
                String dev = Path.of(md).toRealPath().getFileName().toString();
                Files.writeString(Path.of("/sys/block/" + dev + "/md/sync_action"), "check");
                Thread.sleep(500);
                waitIdle(dev);
                assertEquals("0", Files.readString(Path.of("/sys/block/" + dev + "/md/mismatch_cnt")).strip(),
                        kind + ": md's check of orion's parity");
            }
        } finally {
            run("mdadm", "--stop", md);
            detach(l);
            for (Path p : f) {
                Files.delete(p);
            }
        }
    }

    @Test
    void mdAssemblesOrionRaid5WithTheSameContentAndConsistentParity() throws Exception {
        orionToMd("r5", RaidLevel.RAID5, null, 4);
    }

    @Test
    void mdAssemblesOrionRaid6WithTheSameContentAndConsistentParity() throws Exception {
        orionToMd("r6", RaidLevel.RAID6, null, 5);
    }

    @Test
    void mdAssemblesOrionRaid10AndRaid1WithTheSameContent() throws Exception {
        orionToMd("r10", RaidLevel.RAID10, "n2", 4);
        orionToMd("r1", RaidLevel.RAID1, null, 2);
    }

    private static void mdToOrion(String kind, String level, int n, String... extra) throws Exception {
        List<Path> f = files(kind, n);
        List<String> l = loops(f);
        String md = "/dev/md/" + kind;
        String sum;
        try {
            List<String> cmd = new ArrayList<>(List.of("mdadm", "--create", md, "--run", "--metadata=1.2",
                    "--level=" + level, "--raid-devices=" + n));
            if (!level.equals("1")) {
                cmd.add("--chunk=64");
            }
            cmd.addAll(List.of(extra));
            cmd.addAll(l);
            run(cmd.toArray(new String[0]));
            String dev = Path.of(md).toRealPath().getFileName().toString();
            waitIdle(dev);
            run("dd", "if=/dev/urandom", "of=" + md, "bs=1M", "oflag=direct", "status=none",
                    "count=" + Long.parseLong(Files.readString(Path.of("/sys/block/" + dev + "/size")).strip()) / 2048);
            sum = sha256(Path.of(md));
        } finally {
            run("mdadm", "--stop", md);
            detach(l);
        }
        try (BdevHost host = BdevHost.start(1, 16 << 20); Arena arena = Arena.ofShared()) {
            List<BlockDevice> devs = open(f);
            try (MdArray a = MdArray.assemble(host, kind, devs, List.of(), null, 1L << 40)) {
                assertTrue(a.awaitIdle(Duration.ofMinutes(1)));
                assertEquals(0, a.bdev().failedMask(), a.describe());
                MemorySegment back = arena.allocate(a.bdev().sizeBytes(), 4096);
                host.client().read(a.bdev(), 0, back).get(60, TimeUnit.SECONDS);
                assertEquals(sum, sha256(back), kind + ": orion reads what md wrote\n" + a.describe());
                if (a.bdev().geometry() instanceof ParityGeometry) {
                    assertEquals(0, a.scrub(false), kind + ": orion's check of md's parity");
                }
            } finally {
                devs.forEach(BlockDevice::close);
                for (Path p : f) {
                    Files.delete(p);
                }
            }
        }
    }

    @Test
    void orionAssemblesMdRaid5And6WithTheSameContentAndConsistentParity() throws Exception {
        mdToOrion("m5", "5", 4, "--bitmap=none");
        mdToOrion("m6", "6", 5, "--bitmap=internal");
    }

    @Test
    void orionAssemblesMdRaid10AndRaid1WithTheSameContent() throws Exception {
        mdToOrion("m10", "10", 4, "--layout=n2", "--bitmap=none");
        mdToOrion("m1", "1", 2, "--bitmap=internal");
    }
}
