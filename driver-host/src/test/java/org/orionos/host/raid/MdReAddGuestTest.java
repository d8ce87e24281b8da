package org.orionos.host.raid;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
import org.orionos.host.guest.Commands;
import org.orionos.host.guest.GuestSpec;
import org.orionos.host.guest.GuestTest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Linux md finishes a recovery orion recorded: a RAID5 member failed, the array ran degraded and
 * was written, and orion re-added the member offline as md's bitmap-based recovering member
 * (role, recovery_offset 0, MD_FEATURE_RECOVERY_BITMAP). {@code mdadm --assemble} in the guest
 * takes it in that state, md recovers it, and the array then reads back with the same SHA-256 and
 * md's own check finds 0 mismatches.
 */
@GuestTest(spec = MdReAddGuestTest.Spec.class)
class MdReAddGuestTest {
    private static final long MEMBER = 40L << 20;

    /** No extra devices: members are files in the guest's /tmp on loop devices. */
    public static final class Spec implements Supplier<GuestSpec> {
        @Override
        public GuestSpec get() {
            return GuestSpec.builder().build();
        }
    }

    @BeforeAll
    static void modules() throws Exception {
        for (String m : new String[] {"loop", "raid456"}) {
            Commands.runMerged("modprobe", m);
        }
    }

    private static List<BlockDevice> open(List<Path> files) {
        List<BlockDevice> out = new ArrayList<>();
        for (Path f : files) {
            out.add(FileBdev.open(f.toString(), f, 0, 4096, "off"));
        }
        return out;
    }

    @Test
    void mdFinishesTheBitmapBasedRecoveryOrionRecorded() throws Exception {
        List<Path> f = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Path p = Path.of("/tmp/ra" + i + ".img");
            Files.deleteIfExists(p);
            Commands.runMerged("truncate", "-s", String.valueOf(MEMBER), p.toString());
            f.add(p);
        }
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (BdevHost host = BdevHost.start(1, 16 << 20); Arena arena = Arena.ofShared()) {
            MemorySegment w;
            List<BlockDevice> devs = open(f);
            try (MdArray a = MdArray.create(host, "ra", new MdArray.CreateOptions(RaidLevel.RAID5, null, 128, false, 1 << 20),
                    devs, List.of(), 1L << 40)) {
                a.bitmapPeriod(Duration.ofMillis(100));
                a.start();
                assertTrue(a.awaitIdle(Duration.ofMinutes(2)));
                w = arena.allocate(a.bdev().sizeBytes(), 4096);
                SplittableRandom rnd = new SplittableRandom(81);
                for (long i = 0; i < w.byteSize(); i += 8) {
                    w.set(ValueLayout.JAVA_LONG, i, rnd.nextLong());
                }
                host.client().write(a.bdev(), 0, w, 0).get(60, TimeUnit.SECONDS);
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (a.dirtyRegions() != 0 && System.nanoTime() < end) {
                    Thread.sleep(50); // quiet array: the bits clear
                }
                assertEquals(0, a.dirtyRegions());
                a.fail(1);
                assertTrue(a.awaitIdle(Duration.ofMinutes(1)));
                for (long off : new long[] {4096, a.bdev().sizeBytes() / 2}) {
                    MemorySegment small = arena.allocate(65536, 4096);
                    small.fill((byte) off);
                    MemorySegment.copy(small, 0, w, off, small.byteSize());
                    host.client().write(a.bdev(), off, small, 0).get(60, TimeUnit.SECONDS);
                }
                assertEquals(2, a.dirtyRegions());
            } finally {
                devs.forEach(BlockDevice::close);
            }
            devs = open(f);
            try (MdArray a = MdArray.assemble(host, "ra", devs, List.of(), null, 1L << 40, false)) {
                assertTrue(a.addSpare(devs.get(1), true), "re-added into its role");
            } finally {
                devs.forEach(BlockDevice::close);
            }
            sha.update(w.asByteBuffer());
        }
        String sum = HexFormat.of().formatHex(sha.digest());
        List<String> loops = new ArrayList<>();
        for (Path p : f) {
            loops.add(Commands.runMerged("losetup", "-f", "--show", p.toString()).strip());
        }
        String md = "/dev/md/ra";
        try {
            // On the loop device: mdadm opens with O_DIRECT, which the guest's tmpfs refuses.
            String examine = Commands.runMerged("mdadm", "--examine", loops.get(1));
            assertTrue(examine.contains("Recovery Offset : 0 sectors"), examine);
            List<String> cmd = new ArrayList<>(List.of("mdadm", "--assemble", md));
            cmd.addAll(loops);
            Commands.runMerged(cmd.toArray(new String[0]));
            String dev = Path.of(md).toRealPath().getFileName().toString();
            Path action = Path.of("/sys/block/" + dev + "/md/sync_action");
            long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
            String detail = Commands.runMerged("mdadm", "--detail", md);
            assertTrue(detail.contains("spare rebuilding   " + loops.get(1)), "md takes the member as recovering\n" + detail);
            // Assembled arrays start auto-read-only, and md recovers nothing until the array is writable.
            Commands.runMerged("mdadm", "--readwrite", md);
            // md starts the recovery from its own thread: wait for the member to be in sync.
            while (!detail.contains("Active Devices : 4") || detail.contains("degraded")) {
                assertTrue(System.nanoTime() < end, detail);
                Thread.sleep(200);
                detail = Commands.runMerged("mdadm", "--detail", md);
            }
            assertEquals(sum, Commands.runMerged("sha256sum", md).split(" ")[0], "md reads the array orion wrote\n" + detail);
            Files.writeString(action, "check");
            Thread.sleep(500);
            while (!Files.readString(action).strip().equals("idle")) {
                assertTrue(System.nanoTime() < end, md + " still " + Files.readString(action));
                Thread.sleep(200);
            }
            assertEquals("0", Files.readString(Path.of("/sys/block/" + dev + "/md/mismatch_cnt")).strip(), detail);
        } finally {
            Commands.runMerged("mdadm", "--stop", md);
            for (String l : loops) {
                Commands.runMerged("losetup", "-d", l);
            }
            for (Path p : f) {
                Files.delete(p);
            }
        }
    }
}
