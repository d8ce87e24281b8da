package org.orionos.host.lvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.backend.FileBdev;
import org.orionos.host.guest.GuestTest;
import org.orionos.host.raid.RaidBdev;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.orionos.host.lvm.LvmGuestTest.fill;
import static org.orionos.host.lvm.LvmGuestTest.modprobe;
import static org.orionos.host.lvm.LvmGuestTest.namespace;
import static org.orionos.host.lvm.LvmGuestTest.run;

/**
 * Orion's crash seen by dm-raid: a raid5 volume dm-raid has assembled before (superblocks and
 * bitmap in its rmetas) is written by orion, which then dies without closing it, after tearing
 * row 0 (new data on image 0, parity not written, as a crash between member writes does). dm-raid
 * must resync it on {@code vgchange -ay} (orion keeps dm-raid's bitmap as its write-intent log:
 * the region of every write in flight has its bit set), so that a following {@code --syncaction
 * check} finds no parity mismatch.
 */
@GuestTest(spec = LvmRaidGuestTest.Spec.class)
class LvmRaidCrashGuestTest {
    private static final long MIB = 1 << 20;
    private static final int CHUNK = 64 << 10;

    @Test
    void dmRaidResyncsARaid5OrionLeftDirty() throws Exception {
        List<Path> disks = new ArrayList<>();
        for (String s : LvmRaidGuestTest.SERIALS.subList(0, 3)) {
            disks.add(namespace(s));
        }
        LvmGuestTest.GuestLvm lvm = new LvmGuestTest.GuestLvm(disks);
        modprobe("dm_mod");
        modprobe("dm_raid");
        try (BdevHost host = BdevHost.start(1, 8 << 20)) {
            List<BlockDevice> pvs = open(disks, "c");
            try (VolumeGroup vg = VolumeGroup.create(host, "cvg", pvs, 8192)) {
                vg.createRaid("r5", "raid5", 3, 6, CHUNK / 512, 4096, false);
                fill(host, vg.activateAny("r5", "cvg/r5"), 51);
            } finally {
                pvs.forEach(BlockDevice::close);
            }
        }
        // dm-raid assembles it once: its superblocks and bitmap are in the rmetas from now on.
        lvm.ok("vgchange", "-ay", "cvg");
        waitIdle(lvm);
        lvm.ok("vgchange", "-an", "cvg");

        byte[] torn = new byte[CHUNK];
        new Random(53).nextBytes(torn);
        try (BdevHost host = BdevHost.start(1, 8 << 20)) {
            List<BlockDevice> pvs = open(disks, "d");
            VolumeGroup vg = VolumeGroup.open(host, pvs);
            RaidBdev r5 = vg.activateRaid("r5", "cvg/r5");
            fill(host, r5, 52);
            // A write right before the crash: its region's bit is on the rmetas, as for any write a crash cuts.
            try (Arena arena = Arena.ofShared()) {
                host.client().write(r5, 0, arena.allocate(CHUNK, 4096), 0).get(30, TimeUnit.SECONDS);
            }
            long[] at = RaidVolumeTest.whereIs(vg, "r5_rimage_0");
            try (Arena arena = Arena.ofShared()) {
                MemorySegment buf = arena.allocate(CHUNK, 4096);
                MemorySegment.copy(torn, 0, buf, JAVA_BYTE, 0, CHUNK);
                host.client().write(pvs.get((int) at[0]), at[1], buf, 0).get(30, TimeUnit.SECONDS);
                host.client().flush(pvs.get((int) at[0])).get(30, TimeUnit.SECONDS);
            }
            // The crash: the volume and the VG are never closed, only the files under them.
            pvs.forEach(BlockDevice::close);
        }
        run("dmesg", "-C");
        lvm.ok("vgchange", "-ay", "cvg");
        try {
            waitIdle(lvm);
            System.out.println(run("dmesg"));
            byte[] first = new byte[CHUNK];
            try (FileChannel ch = FileChannel.open(lvm.node("cvg", "r5"), StandardOpenOption.READ)) {
                ch.read(ByteBuffer.wrap(first), 0);
            }
            assertEquals(-1, Arrays.mismatch(torn, first), "the torn data chunk reads as it is on image 0");
            lvm.ok("lvchange", "--syncaction", "check", "cvg/r5");
            Thread.sleep(1000);
            waitIdle(lvm);
            String mismatches = lvm.ok("lvs", "--noheadings", "-o", "raid_mismatch_count", "cvg/r5").strip();
            System.out.println(run("dmsetup", "status", "cvg-r5"));
            assertEquals("0", mismatches, "dm-raid's check after its resync of orion's dirty volume");
        } finally {
            lvm.run("vgchange", "-an", "cvg");
        }
        lvm.ok("vgremove", "-ff", "-y", "cvg");
    }

    private static List<BlockDevice> open(List<Path> disks, String tag) {
        List<BlockDevice> pvs = new ArrayList<>();
        for (int i = 0; i < disks.size(); i++) {
            pvs.add(FileBdev.open(tag + i, disks.get(i), 0, 512, "auto"));
        }
        return pvs;
    }

    /** Waits until dm-raid reports cvg/r5 idle and 100% in sync. */
    private static void waitIdle(LvmGuestTest.GuestLvm lvm) throws Exception {
        long deadline = System.nanoTime() + 300_000_000_000L;
        String s = "";
        while (System.nanoTime() < deadline) {
            s = lvm.ok("lvs", "--noheadings", "-o", "sync_percent,raid_sync_action", "cvg/r5").strip();
            if (s.startsWith("100.00") && s.endsWith("idle")) {
                return;
            }
            Thread.sleep(500);
        }
        fail("cvg/r5 not idle and in sync after 300 s: " + s);
    }
}
