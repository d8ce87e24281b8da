package org.orionos.host.lvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.bdev.BdevClient;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.ModelWorkload;
import org.orionos.host.bdev.backend.MemoryBdev;
import org.orionos.host.lvm.metadata.ExtentAllocator;
import org.orionos.host.lvm.metadata.LogicalVolumeMetadata;
import org.orionos.host.lvm.metadata.RaidSegments;
import org.orionos.host.lvm.metadata.StripedSegment;
import org.orionos.host.lvm.metadata.VolumeGroupMetadata;
import org.orionos.host.raid.RaidBdev;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Raid1/5/6 logical volumes: concurrent random I/O against the byte-exact model through each;
 * the images' raw bytes on the PVs checked against an independent computation of dm-raid's
 * layout (mirrors equal, left-symmetric and zero-restart data placement, P = XOR of the data);
 * the initial sync making garbage images consistent; degraded reads with PVs missing; removal
 * and refusals.
 */
class RaidVolumeTest {
    private static final long MIB = 1 << 20;
    private static final long EXTENT_SECTORS = 2048;
    private static final long REGION = 4 * MIB;

    /** PVs full of random bytes, so only a real sync makes images consistent. */
    private static List<BlockDevice> garbagePvs(BdevHost host, int n, long size) throws Exception {
        List<BlockDevice> out = new ArrayList<>();
        Random rnd = new Random(42);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(MIB, 4096);
            byte[] b = new byte[(int) MIB];
            for (int i = 0; i < n; i++) {
                BlockDevice d = new MemoryBdev("rpv" + i + "-" + System.nanoTime(), size, 4096);
                for (long at = 0; at < size; at += MIB) {
                    rnd.nextBytes(b);
                    MemorySegment.copy(b, 0, buf, JAVA_BYTE, 0, b.length);
                    host.client().write(d, at, buf, 0).get(10, TimeUnit.SECONDS);
                }
                out.add(d);
            }
        }
        return out;
    }

    private static void runModel(BdevHost host, BlockDevice dev, long ops) throws Exception {
        try (Arena arena = Arena.ofShared()) {
            List<ModelWorkload> loads = new ArrayList<>();
            for (int i = 0; i < host.reactorCount(); i++) {
                loads.add(new ModelWorkload(host.context(i), dev, i * REGION, REGION, ops, 16, 11 + i, false, arena));
            }
            loads.forEach(ModelWorkload::start);
            for (ModelWorkload w : loads) {
                assertNull(w.done.get(120, TimeUnit.SECONDS));
                assertTrue(w.reads > ops / 5 && w.writes > ops / 5, "reads " + w.reads + " writes " + w.writes);
            }
        }
    }

    /** Image {@code i}'s bytes, read straight from its PV with the metadata's mapping (rimage LVs are linear). */
    private static byte[] image(BdevClient c, VolumeGroup vg, List<BlockDevice> pvs, String lvName, int i) throws Exception {
        VolumeGroupMetadata m = vg.metadata();
        RaidSegments.Raid raid = RaidSegments.raidOf(m.logicalVolume(lvName));
        LogicalVolumeMetadata img = m.logicalVolume(raid.imageLvs().get(i));
        StripedSegment seg = (StripedSegment) img.segments().get(0);
        assertEquals(1, img.segments().size());
        int pv = m.physicalVolumes().indexOf(m.physicalVolume(seg.stripes().get(0).pvName()));
        long base = m.physicalVolume(seg.stripes().get(0).pvName()).peStart() * 512
                + seg.stripes().get(0).startExtent() * m.extentSize() * 512;
        return read(c, pvs.get(pv), base, img.extentCount() * m.extentSize() * 512);
    }

    static byte[] read(BdevClient c, BlockDevice d, long off, long len) throws Exception {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(len, 4096);
            c.read(d, off, buf).get(30, TimeUnit.SECONDS);
            return buf.toArray(JAVA_BYTE);
        }
    }

    /** Writes the whole device with random bytes from {@code seed}, or zeros when it is 0. */
    private static void fill(BdevClient c, BlockDevice d, long seed) throws Exception {
        byte[] b = new byte[(int) d.sizeBytes()];
        if (seed != 0) {
            new Random(seed).nextBytes(b);
        }
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(b.length, 4096);
            MemorySegment.copy(b, 0, buf, JAVA_BYTE, 0, b.length);
            c.write(d, 0, buf, 0).get(30, TimeUnit.SECONDS);
            c.flush(d).get(30, TimeUnit.SECONDS);
        }
    }

    /**
     * The LV's bytes as dm-raid lays them out, computed here from the kernel's raid5.h algorithms:
     * parity disk and data disk of each data index per stripe (row) of chunks.
     */
    private static byte[] assembleParity(List<byte[]> imgs, int chunk, boolean raid6) {
        int n = imgs.size();
        int data = n - (raid6 ? 2 : 1);
        long rows = imgs.get(0).length / chunk;
        byte[] out = new byte[(int) (rows * data * chunk)];
        for (long s = 0; s < rows; s++) {
            int pd;
            int qd = -1;
            if (!raid6) {
                pd = (int) (n - 1 - s % n); // left-symmetric
            } else {
                pd = (int) (s % n); // rotating zero restart: P rotates forward, Q right after it
                qd = pd == n - 1 ? 0 : pd + 1;
            }
            for (int i = 0; i < data; i++) {
                int disk;
                if (!raid6) {
                    disk = (pd + 1 + i) % n;
                } else {
                    disk = pd == n - 1 ? i + 1 : i >= pd ? i + 2 : i;
                }
                assertNotEquals(pd, disk);
                assertNotEquals(qd, disk);
                System.arraycopy(imgs.get(disk), (int) (s * chunk), out, (int) ((s * data + i) * chunk), chunk);
            }
            for (int b = 0; b < chunk; b++) {
                int x = 0;
                for (int d = 0; d < n; d++) {
                    if (d != qd) {
                        x ^= imgs.get(d)[(int) (s * chunk) + b];
                    }
                }
                assertEquals(0, x & 0xff, "P of stripe " + s + " byte " + b + " is the XOR of its data");
            }
        }
        return out;
    }

    @Test
    void raid1Raid5Raid6MatchTheModelAndDmRaidsLayoutAfterAnInitialSyncOfGarbage() throws Exception {
        try (BdevHost host = BdevHost.start(2, 8 << 20)) {
            BdevClient c = host.client();
            List<BlockDevice> pvs = garbagePvs(host, 4, 24 * MIB);
            try (VolumeGroup vg = VolumeGroup.create(host, "vgr", pvs, EXTENT_SECTORS)) {
                vg.createRaid("m", "raid1", 2, 9, 0, 4096, false);
                vg.createRaid("r5", "raid5", 4, 10, 128, 4096, false); // rounds up to 12: 4 per data image
                vg.createRaid("r6", "raid6", 4, 8, 16, 1024, false);
                assertEquals(12, vg.metadata().logicalVolume("r5").extentCount());
                // Each image pair on its own PV: rmeta first, rimage right after it.
                for (String lv : List.of("m", "r5", "r6")) {
                    RaidSegments.Raid r = RaidSegments.raidOf(vg.metadata().logicalVolume(lv));
                    List<String> pvsUsed = new ArrayList<>();
                    for (int i = 0; i < r.devices(); i++) {
                        StripedSegment meta = (StripedSegment) vg.metadata().logicalVolume(r.metaLvs().get(i)).segments().get(0);
                        StripedSegment img = (StripedSegment) vg.metadata().logicalVolume(r.imageLvs().get(i)).segments().get(0);
                        assertEquals(1, meta.extentCount());
                        assertEquals(meta.stripes().get(0).pvName(), img.stripes().get(0).pvName());
                        assertEquals(meta.stripes().get(0).startExtent() + 1, img.stripes().get(0).startExtent());
                        assertFalse(pvsUsed.contains(img.stripes().get(0).pvName()));
                        pvsUsed.add(img.stripes().get(0).pvName());
                        // The rmeta extent is zeroed: dm-raid sees a new array.
                        LogicalVolumeMetadata m = vg.metadata().logicalVolume(r.metaLvs().get(i));
                        StripedSegment ms = (StripedSegment) m.segments().get(0);
                        byte[] rmeta = read(c, pvs.get(Integer.parseInt(ms.stripes().get(0).pvName().substring(2))),
                                vg.metadata().physicalVolume(ms.stripes().get(0).pvName()).peStart() * 512
                                        + ms.stripes().get(0).startExtent() * MIB, MIB);
                        assertEquals(-1, java.util.Arrays.mismatch(rmeta, new byte[(int) MIB]),
                                "rmeta of " + lv + " image " + i + " is zero");
                    }
                }
                // The initial sync made the garbage consistent, before any write.
                assertEquals(-1, java.util.Arrays.mismatch(image(c, vg, pvs, "m", 0), image(c, vg, pvs, "m", 1)));
                assembleParity(List.of(image(c, vg, pvs, "r5", 0), image(c, vg, pvs, "r5", 1), image(c, vg, pvs, "r5", 2),
                        image(c, vg, pvs, "r5", 3)), 128 * 512, false);
                assembleParity(List.of(image(c, vg, pvs, "r6", 0), image(c, vg, pvs, "r6", 1), image(c, vg, pvs, "r6", 2),
                        image(c, vg, pvs, "r6", 3)), 16 * 512, true);

                for (String lv : List.of("m", "r5", "r6")) {
                    BlockDevice v = vg.activateAny(lv, "vgr/" + lv);
                    assertTrue(v instanceof RaidBdev);
                    assertEquals(vg.metadata().logicalVolume(lv).extentCount() * MIB, v.sizeBytes());
                    fill(c, v, 0); // the model starts from zeros; the synced garbage is not
                    runModel(host, v, 3000);
                    fill(c, v, lv.hashCode());
                    byte[] content = read(c, v, 0, v.sizeBytes());
                    RaidSegments.Raid r = RaidSegments.raidOf(vg.metadata().logicalVolume(lv));
                    List<byte[]> imgs = new ArrayList<>();
                    for (int i = 0; i < r.devices(); i++) {
                        imgs.add(image(c, vg, pvs, lv, i));
                    }
                    byte[] expected = lv.equals("m") ? imgs.get(0)
                            : assembleParity(imgs, (int) r.stripeSectors() * 512, lv.equals("r6"));
                    if (lv.equals("m")) {
                        assertEquals(-1, java.util.Arrays.mismatch(imgs.get(0), imgs.get(1)), "mirror images equal");
                    }
                    assertEquals(-1, java.util.Arrays.mismatch(content, expected), lv + " lies on its images as dm-raid lays it out");
                }
                ErrnoException e = assertThrows(ErrnoException.class, () -> vg.resize("r5", 16, false));
                assertEquals(Errno.EOPNOTSUPP, e.errno());
                e = assertThrows(ErrnoException.class, () -> vg.remove("r5_rimage_0"));
                assertEquals(Errno.EINVAL, e.errno());
                long free = new ExtentAllocator(vg.metadata()).freeExtents();
                vg.remove("r6");
                assertEquals(free + 4 * (4 + 1), new ExtentAllocator(vg.metadata()).freeExtents(), "images and rmetas freed");
                assertNull(vg.metadata().logicalVolume("r6_rimage_3"));
            }
        }
    }

    @Test
    void aVgWithMissingPvsActivatesRaidVolumesDegradedWithTheSameContent() throws Exception {
        try (BdevHost host = BdevHost.start(2, 8 << 20)) {
            BdevClient c = host.client();
            List<BlockDevice> pvs = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                pvs.add(new MemoryBdev("dpv" + i + "-" + System.nanoTime(), 24 * MIB, 4096));
            }
            byte[][] content = new byte[3][];
            List<String> lvs = List.of("m", "r5", "r6");
            try (VolumeGroup vg = VolumeGroup.create(host, "vgd", pvs, EXTENT_SECTORS)) {
                vg.createRaid("m", "raid1", 3, 4, 0, 4096, true);
                assertTrue(vg.metadata().logicalVolume("m").status().contains(RaidSegments.NOTSYNCED));
                vg.createRaid("r5", "raid5_ls", 3, 6, 64, 4096, false);
                vg.createRaid("r6", "raid6_zr", 4, 6, 128, 4096, false);
                for (int k = 0; k < 3; k++) {
                    BlockDevice v = vg.activateAny(lvs.get(k), "vgd/" + lvs.get(k));
                    fill(c, v, k + 1);
                    content[k] = read(c, v, 0, v.sizeBytes());
                }
            }
            // Without the degraded mode a missing PV refuses the VG.
            List<BlockDevice> some = List.of(pvs.get(1), pvs.get(2), pvs.get(3));
            assertEquals(Errno.ENODEV, assertThrows(ErrnoException.class, () -> VolumeGroup.open(host, some).close()).errno());
            // An image once left out stays stale (recorded in the others' rmeta) until rebuilt, as with dm-raid.
            java.util.Map<String, java.util.Set<Integer>> stale = new java.util.HashMap<>();
            for (List<Integer> keep : List.of(List.of(1, 2, 3), List.of(0, 2, 3), List.of(2, 3))) {
                List<BlockDevice> present = keep.stream().map(pvs::get).toList();
                try (VolumeGroup vg = VolumeGroup.open(host, present, true)) {
                    for (int k = 0; k < 3; k++) {
                        String lv = lvs.get(k);
                        RaidSegments.Raid r = RaidSegments.raidOf(vg.metadata().logicalVolume(lv));
                        java.util.Set<Integer> out = new java.util.HashSet<>(stale.getOrDefault(lv, java.util.Set.of()));
                        for (int i = 0; i < r.devices(); i++) {
                            String pv = ((StripedSegment) vg.metadata().logicalVolume(r.imageLvs().get(i)).segments().get(0))
                                    .stripes().get(0).pvName();
                            if (!keep.contains(Integer.parseInt(pv.substring(2)))) {
                                out.add(i);
                            }
                        }
                        int lost = out.size();
                        int tolerated = lv.equals("r6") ? 2 : lv.equals("m") ? 2 : 1;
                        if (lost > tolerated) {
                            assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class,
                                    () -> vg.activateAny(lv, "vgd/" + lv)).errno(), lv + " without " + lost + " images");
                            continue;
                        }
                        RaidBdev v = (RaidBdev) vg.activateAny(lv, "vgd/" + lv);
                        assertEquals(lost, Long.bitCount(v.failedMask()), lv);
                        stale.put(lv, out);
                        assertEquals(-1, java.util.Arrays.mismatch(content[k], read(c, v, 0, v.sizeBytes())),
                                lv + " reads the same with " + lost + " images missing");
                    }
                    // No metadata change while a PV is missing: its copy would go stale.
                    assertEquals(Errno.ENODEV, assertThrows(ErrnoException.class, () -> vg.createLinear("x", 1)).errno());
                }
            }
        }
    }

    /**
     * pvmove of a PV holding a raid5 image while the model workload runs on the volume (the
     * image's writes go to both PVs during the copy); a move that would put two images of the
     * volume on one PV is refused; a PV removed under the running volume fails only its image.
     */
    @Test
    void pvmoveOfARaidImageUnderLoadAndAPvRemovedUnderTheVolume() throws Exception {
        try (BdevHost host = BdevHost.start(2, 8 << 20); Arena arena = Arena.ofShared()) {
            BdevClient c = host.client();
            List<BlockDevice> pvs = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                pvs.add(new MemoryBdev("mpv" + i + "-" + System.nanoTime(), 24 * MIB, 4096));
            }
            try (VolumeGroup vg = VolumeGroup.create(host, "vgm", pvs, EXTENT_SECTORS)) {
                vg.createRaid("r5", "raid5", 3, 16, 128, 4096, false);
                RaidBdev v = (RaidBdev) vg.activateAny("r5", "vgm/r5");
                ModelWorkload w = new ModelWorkload(host.context(1), v, 0, v.sizeBytes(), 40000, 16, 5, false, arena);
                w.start();
                long before = w.writes;
                long moved = vg.pvmove(pvs.get(0), pvs.get(3));
                long during = w.writes - before;
                assertNull(w.done.get(300, TimeUnit.SECONDS));
                assertEquals(1 + 8, moved, "rmeta and rimage of image 0");
                assertTrue(during > 0, "the workload did not run during the move");
                for (String sub : List.of("r5_rmeta_0", "r5_rimage_0")) {
                    assertEquals("pv3", ((StripedSegment) vg.metadata().logicalVolume(sub).segments().get(0)).stripes()
                            .get(0).pvName());
                }
                ErrnoException e = assertThrows(ErrnoException.class, () -> vg.pvmove(pvs.get(1), pvs.get(2)));
                assertEquals(Errno.ENOSPC, e.errno());
                assertTrue(e.getMessage().contains("another image"), e.getMessage());

                fill(c, v, 9);
                byte[] content = read(c, v, 0, v.sizeBytes());
                pvs.get(3).announceRemoval(); // image 0 lives there now
                assertEquals(1L, v.failedMask(), "only image 0 failed");
                assertEquals(-1, java.util.Arrays.mismatch(content, read(c, v, 0, v.sizeBytes())));
                assertTrue(vg.volume("r5") == null && vg.raidVolume("r5") == v);
            }
        }
    }

    /** Where sub-LV {@code sub} (linear, one segment) starts: [PV index, byte offset]. */
    static long[] whereIs(VolumeGroup vg, String sub) {
        VolumeGroupMetadata m = vg.metadata();
        StripedSegment seg = (StripedSegment) m.logicalVolume(sub).segments().get(0);
        String pv = seg.stripes().get(0).pvName();
        return new long[] {m.physicalVolumes().indexOf(m.physicalVolume(pv)),
                m.physicalVolume(pv).peStart() * 512 + seg.stripes().get(0).startExtent() * m.extentSize() * 512};
    }

    static byte[] rawRead(BdevClient c, VolumeGroup vg, List<BlockDevice> pvs, String sub, long len) throws Exception {
        long[] w = whereIs(vg, sub);
        return read(c, pvs.get((int) w[0]), w[1], len);
    }

    private static void rawWrite(BdevClient c, VolumeGroup vg, List<BlockDevice> pvs, String sub, byte[] b) throws Exception {
        long[] w = whereIs(vg, sub);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(b.length, 4096);
            MemorySegment.copy(b, 0, buf, JAVA_BYTE, 0, b.length);
            c.write(pvs.get((int) w[0]), w[1], buf, 0).get(30, TimeUnit.SECONDS);
        }
    }

    /** A superblock as dm-raid writes it for image {@code pos} (v1.9.0, in sync unless told). */
    private static byte[] dmRaidSb(int devices, int pos, long events, long failed, long recovery, int flags) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4096).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 0x64526D44).putInt(4, 1).putInt(8, devices).putInt(12, pos).putLong(16, events).putLong(24, failed)
                .putLong(32, recovery).putLong(40, -1L).putInt(48, 5).putInt(52, 2).putInt(56, 128).putInt(60, flags);
        return b.array();
    }

    static DmRaidSuperblock sbOf(BdevClient c, VolumeGroup vg, List<BlockDevice> pvs, String sub) throws Exception {
        return DmRaidSuperblock.parse(rawRead(c, vg, pvs, sub, 4096));
    }

    private static DmRaidSuperblock awaitSb(BdevClient c, VolumeGroup vg, List<BlockDevice> pvs, String sub,
                                            java.util.function.Predicate<DmRaidSuperblock> ok) throws Exception {
        long end = System.nanoTime() + 10_000_000_000L;
        DmRaidSuperblock sb = null;
        while (System.nanoTime() < end) {
            sb = sbOf(c, vg, pvs, sub);
            if (sb != null && ok.test(sb)) {
                return sb;
            }
            Thread.sleep(20);
        }
        throw new AssertionError(sub + " superblock never got there: " + (sb == null ? "none" : "failed " + sb.failed()
                + " events " + sb.events()));
    }

    /**
     * dm-raid's superblocks in the rmeta LVs both ways: an image orion fails is recorded for
     * dm-raid (its bit in the survivors' failed_devices with events bumped, or orion's marker
     * that makes dm-raid refuse a never-assembled array), and what dm-raid recorded (failed
     * images, unfinished recoveries, a reshape) is what orion's activation follows: a stale
     * image full of garbage is never read.
     */
    @Test
    void failedImagesAreRecordedForDmRaidAndDmRaidsRecordIsFollowed() throws Exception {
        try (BdevHost host = BdevHost.start(2, 8 << 20)) {
            BdevClient c = host.client();
            List<BlockDevice> pvs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                pvs.add(new MemoryBdev("spv" + i + "-" + System.nanoTime(), 24 * MIB, 4096));
            }
            byte[] mirror;
            byte[] parity;
            byte[] garbage = new byte[(int) (4 * MIB)];
            new Random(3).nextBytes(garbage);
            try (VolumeGroup vg = VolumeGroup.create(host, "vgs", pvs, EXTENT_SECTORS)) {
                vg.createRaid("m", "raid1", 2, 4, 0, 4096, false);
                vg.createRaid("r5", "raid5", 3, 8, 128, 4096, false);
                // Never assembled by dm-raid (zeroed rmeta): orion's marker on the survivor.
                RaidBdev m = (RaidBdev) vg.activateAny("m", "vgs/m");
                m.markFailed(0, "test");
                DmRaidSuperblock marker = awaitSb(c, vg, pvs, "m_rmeta_1", s -> s.failed() == 1);
                assertTrue(marker.orionMarker() && marker.position() == 1);
                assertEquals(1, sbOf(c, vg, pvs, "m_rmeta_0").failed(), "the failed image's own rmeta says so too");
                fill(c, m, 5);
                mirror = read(c, m, 0, m.sizeBytes());
                // Assembled by dm-raid before: the survivors' failed_devices and events.
                for (int i = 0; i < 3; i++) {
                    rawWrite(c, vg, pvs, "r5_rmeta_" + i, dmRaidSb(3, i, 7, 0, -1L, 0));
                }
                RaidBdev r5 = (RaidBdev) vg.activateAny("r5", "vgs/r5");
                assertEquals(0, r5.failedMask());
                r5.markFailed(2, "test");
                // Its own superblock says "recovering from sector 0": dm-raid rebuilds it in full.
                DmRaidSuperblock own = awaitSb(c, vg, pvs, "r5_rmeta_2", s -> s.diskRecoveryOffset() == 0);
                assertEquals(7, own.events());
                assertEquals(0, own.failed());
                for (int i = 0; i < 2; i++) {
                    DmRaidSuperblock sb = sbOf(c, vg, pvs, "r5_rmeta_" + i);
                    assertEquals(0, sb.failed());
                    assertEquals(-1L, sb.diskRecoveryOffset());
                }
                fill(c, r5, 6);
                parity = read(c, r5, 0, r5.sizeBytes());
                // The failed images go stale: what is on them now must never be read.
                rawWrite(c, vg, pvs, "m_rimage_0", garbage);
                rawWrite(c, vg, pvs, "r5_rimage_2", garbage);
            }
            try (VolumeGroup vg = VolumeGroup.open(host, pvs)) {
                RaidBdev m = (RaidBdev) vg.activateAny("m", "vgs/m");
                assertEquals(1, m.failedMask(), "orion's marker keeps image 0 out");
                assertEquals(-1, java.util.Arrays.mismatch(mirror, read(c, m, 0, m.sizeBytes())));
                RaidBdev r5 = (RaidBdev) vg.activateAny("r5", "vgs/r5");
                assertEquals(4, r5.failedMask(), "its recovery offset keeps image 2 out");
                assertEquals(-1, java.util.Arrays.mismatch(parity, read(c, r5, 0, r5.sizeBytes())));
            }
            try (VolumeGroup vg = VolumeGroup.open(host, pvs)) {
                // What dm-raid records: a failed image in the newest superblock, an unfinished recovery.
                rawWrite(c, vg, pvs, "r5_rmeta_0", dmRaidSb(3, 0, 9, 1, -1L, 0));
                rawWrite(c, vg, pvs, "r5_rmeta_1", dmRaidSb(3, 1, 9, 1, -1L, 0));
                rawWrite(c, vg, pvs, "r5_rmeta_2", dmRaidSb(3, 2, 8, 0, -1L, 0));
                assertEquals(1, ((RaidBdev) vg.activateAny("r5", "vgs/r5")).failedMask());
                vg.remove("r5");
                vg.createRaid("r5", "raid5", 3, 8, 128, 4096, false);
                rawWrite(c, vg, pvs, "r5_rmeta_0", dmRaidSb(3, 0, 9, 0, -1L, 0));
                rawWrite(c, vg, pvs, "r5_rmeta_1", dmRaidSb(3, 1, 9, 0, 4096, 0));
                rawWrite(c, vg, pvs, "r5_rmeta_2", dmRaidSb(3, 2, 9, 0, -1L, 0));
                RaidBdev r5 = (RaidBdev) vg.activateAny("r5", "vgs/r5");
                assertEquals(2, r5.failedMask());
                vg.remove("r5");
                vg.createRaid("r5b", "raid5", 3, 2, 128, 4096, false);
                for (int i = 0; i < 3; i++) {
                    rawWrite(c, vg, pvs, "r5b_rmeta_" + i, dmRaidSb(3, i, 3, 0, -1L, DmRaidSuperblock.SB_FLAG_RESHAPE_ACTIVE));
                }
                ErrnoException e = assertThrows(ErrnoException.class, () -> vg.activateAny("r5b", "vgs/r5b"));
                assertEquals(Errno.EOPNOTSUPP, e.errno());
                assertTrue(e.getMessage().contains("reshape"), e.getMessage());
            }
        }
    }

    /**
     * lvchange --rebuild in place: stale images (one recorded by orion's marker, one in
     * dm-raid's failed_devices), overwritten with garbage, are rebuilt from the others while
     * the volumes stay active; afterwards the images are consistent again, the records say so
     * (markers zeroed, failed bits cleared) and the next activation uses every image.
     */
    @Test
    void staleImagesAreRebuiltInPlaceAndTheRecordCleared() throws Exception {
        try (BdevHost host = BdevHost.start(2, 8 << 20)) {
            BdevClient c = host.client();
            List<BlockDevice> pvs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                pvs.add(new MemoryBdev("bpv" + i + "-" + System.nanoTime(), 24 * MIB, 4096));
            }
            byte[] garbage = new byte[(int) (4 * MIB)];
            new Random(4).nextBytes(garbage);
            byte[] mirror;
            byte[] parity;
            try (VolumeGroup vg = VolumeGroup.create(host, "vgb", pvs, EXTENT_SECTORS)) {
                vg.createRaid("m", "raid1", 2, 4, 0, 4096, false);
                vg.createRaid("r5", "raid5", 3, 8, 128, 4096, false);
                for (int i = 0; i < 3; i++) {
                    rawWrite(c, vg, pvs, "r5_rmeta_" + i, dmRaidSb(3, i, 7, 0, -1L, 0));
                }
                RaidBdev m = (RaidBdev) vg.activateAny("m", "vgb/m");
                RaidBdev r5 = (RaidBdev) vg.activateAny("r5", "vgb/r5");
                m.markFailed(0, "test");
                r5.markFailed(1, "test");
                awaitSb(c, vg, pvs, "m_rmeta_1", s -> s.failed() == 1);
                awaitSb(c, vg, pvs, "r5_rmeta_1", s -> s.diskRecoveryOffset() == 0);
                fill(c, m, 7);
                fill(c, r5, 8);
                mirror = read(c, m, 0, m.sizeBytes());
                parity = read(c, r5, 0, r5.sizeBytes());
                rawWrite(c, vg, pvs, "m_rimage_0", garbage);
                rawWrite(c, vg, pvs, "r5_rimage_1", garbage);
                assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class, () -> vg.rebuildRaid("m", "pv1")).errno(),
                        "image 0 is not on pv1");
                assertEquals(List.of(0), vg.rebuildRaid("m", null));
                assertEquals(List.of(1), vg.rebuildRaid("r5", null));
                assertEquals(0, m.failedMask());
                assertEquals(0, r5.failedMask());
                assertEquals(-1, java.util.Arrays.mismatch(mirror, read(c, m, 0, m.sizeBytes())));
                assertEquals(-1, java.util.Arrays.mismatch(parity, read(c, r5, 0, r5.sizeBytes())));
                assertEquals(-1, java.util.Arrays.mismatch(image(c, vg, pvs, "m", 0), image(c, vg, pvs, "m", 1)));
                assertEquals(-1, java.util.Arrays.mismatch(parity, assembleParity(List.of(image(c, vg, pvs, "r5", 0),
                        image(c, vg, pvs, "r5", 1), image(c, vg, pvs, "r5", 2)), 128 * 512, false)));
                assertNull(sbOf(c, vg, pvs, "m_rmeta_0"));
                assertNull(sbOf(c, vg, pvs, "m_rmeta_1"), "orion's marker is gone: a new array to dm-raid");
                for (int i = 0; i < 3; i++) {
                    DmRaidSuperblock sb = sbOf(c, vg, pvs, "r5_rmeta_" + i);
                    assertEquals(0, sb.failed(), "r5_rmeta_" + i);
                    assertEquals(-1L, sb.diskRecoveryOffset());
                }
            }
            try (VolumeGroup vg = VolumeGroup.open(host, pvs)) {
                assertEquals(0, ((RaidBdev) vg.activateAny("m", "vgb/m")).failedMask());
                assertEquals(0, ((RaidBdev) vg.activateAny("r5", "vgb/r5")).failedMask());
            }
        }
    }

    /** lvcreate of a raid volume that fails while preparing its images commits nothing. */
    @Test
    void aRaidCreateThatFailsBeforeItsCommitLeavesTheVgUnchanged() throws Exception {
        try (BdevHost host = BdevHost.start(1, 8 << 20)) {
            List<BlockDevice> pvs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                pvs.add(new MemoryBdev("epv" + i + "-" + System.nanoTime(), 24 * MIB, 4096));
            }
            org.orionos.host.bdev.backend.ErrorBdev bad = new org.orionos.host.bdev.backend.ErrorBdev("bad", pvs.get(2));
            List<BlockDevice> devs = List.of(pvs.get(0), pvs.get(1), bad);
            try (VolumeGroup vg = VolumeGroup.create(host, "vge", devs, EXTENT_SECTORS)) {
                long seqno = vg.metadata().seqno();
                long free = new ExtentAllocator(vg.metadata()).freeExtents();
                bad.inject(org.orionos.host.bdev.backend.ErrorBdev.Rule.fail(
                        1 << org.orionos.host.bdev.BdevOp.READ | 1 << org.orionos.host.bdev.BdevOp.WRITE, Errno.EIO, -1));
                assertThrows(ErrnoException.class, () -> vg.createRaid("r5", "raid5", 3, 4, 128, 4096, false));
                bad.clear();
                assertNull(vg.metadata().logicalVolume("r5"));
                assertEquals(seqno, vg.metadata().seqno());
                assertEquals(free, new ExtentAllocator(vg.metadata()).freeExtents());
            }
            try (VolumeGroup vg = VolumeGroup.open(host, devs)) {
                assertNull(vg.metadata().logicalVolume("r5_rimage_0"), "nothing reached the disks' metadata");
                vg.createRaid("r5", "raid5", 3, 4, 128, 4096, false); // the same extents, now fine
            } finally {
                bad.close();
            }
        }
    }
}
