package org.orionos.host.lvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.orionos.host.bdev.BdevClient;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.backend.MemoryBdev;
import org.orionos.host.raid.MdBitmap;
import org.orionos.host.raid.RaidBdev;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Crash consistency of raid volumes. A crash is simulated by copying the PVs' bytes while the
 * volume is active (what the disks hold when the process dies: no close ran) and then tearing a
 * stripe on the copy the way a crash between member writes does: new data on one image, its
 * parity (or the other mirror leg) not written. The VG opened on the copy must resync before it
 * trusts redundancy, so that a degraded read afterwards reconstructs the data that is on disk,
 * not garbage. The clean/dirty marks in the rmetas are checked on both kinds of rmeta: zeroed
 * (never assembled by dm-raid) and carrying dm-raid's superblock and bitmap.
 */
class RaidCrashTest {
    private static final long MIB = 1 << 20;
    private static final long EXTENT_SECTORS = 2048;
    private static final int CHUNK = 64 << 10;

    private static List<BlockDevice> pvs(String tag, int n) {
        List<BlockDevice> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new MemoryBdev(tag + i + "-" + System.nanoTime(), 24 * MIB, 4096));
        }
        return out;
    }

    /** The bytes the PVs hold right now, on fresh devices: the disks as a kill -9 leaves them. */
    private static List<BlockDevice> crashImage(BdevClient c, List<BlockDevice> pvs) throws Exception {
        List<BlockDevice> out = new ArrayList<>();
        for (BlockDevice d : pvs) {
            BlockDevice copy = new MemoryBdev(d.name() + "-crash", d.sizeBytes(), 4096);
            write(c, copy, 0, RaidVolumeTest.read(c, d, 0, d.sizeBytes()));
            out.add(copy);
        }
        return out;
    }

    private static void write(BdevClient c, BlockDevice d, long off, byte[] b) throws Exception {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(b.length, 4096);
            MemorySegment.copy(b, 0, buf, JAVA_BYTE, 0, b.length);
            c.write(d, off, buf, 0).get(30, TimeUnit.SECONDS);
            c.flush(d).get(30, TimeUnit.SECONDS);
        }
    }

    private static void rawWrite(BdevClient c, VolumeGroup vg, List<BlockDevice> pvs, String sub, long off, byte[] b)
            throws Exception {
        long[] w = RaidVolumeTest.whereIs(vg, sub);
        write(c, pvs.get((int) w[0]), w[1] + off, b);
    }

    private static byte[] random(int len, long seed) {
        byte[] b = new byte[len];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] slice(byte[] b, int off, int len) {
        return Arrays.copyOfRange(b, off, off + len);
    }

    /**
     * raid5 (left-symmetric, 3 images): row 0 holds LV chunk 0 on image 0, chunk 1 on image 1 and P
     * on image 2. The crash left new data in chunk 0 but the old P. After the VG opened on the
     * crashed disks resynced, losing image 1 must still read chunk 1 as it was (P recomputed from
     * the torn data); without a resync P is stale and chunk 1 comes back as new0 ^ old0 ^ old1.
     */
    @Test
    void anUncleanRaid5IsResyncedSoADegradedReadReconstructsTheDataOnDisk() throws Exception {
        try (BdevHost host = BdevHost.start(2, 8 << 20)) {
            BdevClient c = host.client();
            List<BlockDevice> pvs = pvs("cpv", 3);
            try (VolumeGroup vg = VolumeGroup.create(host, "vgc", pvs, EXTENT_SECTORS)) {
                vg.createRaid("r5", "raid5", 3, 8, CHUNK / 512, 4096, false);
                vg.createRaid("m", "raid1", 2, 4, 0, 4096, false);
            }
            byte[] r5Content;
            byte[] mContent;
            List<BlockDevice> crashed;
            VolumeGroup live = VolumeGroup.open(host, pvs);
            try {
                RaidBdev r5 = (RaidBdev) live.activateAny("r5", "vgc/r5");
                RaidBdev m = (RaidBdev) live.activateAny("m", "vgc/m");
                write(c, r5, 0, random((int) r5.sizeBytes(), 1));
                write(c, m, 0, random((int) m.sizeBytes(), 2));
                r5Content = RaidVolumeTest.read(c, r5, 0, r5.sizeBytes());
                mContent = RaidVolumeTest.read(c, m, 0, m.sizeBytes());
                for (String sub : List.of("r5_rmeta_0", "r5_rmeta_1", "r5_rmeta_2", "m_rmeta_0", "m_rmeta_1")) {
                    assertTrue(DmRaidSuperblock.orionDirty(RaidVolumeTest.rawRead(c, live, pvs, sub, 4096)),
                            sub + " carries orion's dirty mark while the volume is active");
                }
                // Writes right before the crash: their regions' bits are on disk (cleared only after
                // daemon_sleep without writes), as for every write a real crash interrupts.
                write(c, r5, 0, slice(r5Content, 0, CHUNK));
                write(c, m, 0, slice(mContent, 0, CHUNK));
                crashed = crashImage(c, pvs);
                // The torn writes: data reached one member, the crash took the rest.
                rawWrite(c, live, crashed, "r5_rimage_0", 0, random(CHUNK, 3));
                rawWrite(c, live, crashed, "m_rimage_1", 0, random(CHUNK, 4));
            } finally {
                live.close();
            }
            try (VolumeGroup vg = VolumeGroup.open(host, crashed)) {
                RaidBdev r5 = (RaidBdev) vg.activateAny("r5", "vgc/r5");
                byte[] torn = RaidVolumeTest.read(c, r5, 0, CHUNK);
                r5.markFailed(1, "test: lose the image holding chunk 1");
                assertEquals(-1, Arrays.mismatch(slice(r5Content, CHUNK, CHUNK), RaidVolumeTest.read(c, r5, CHUNK, CHUNK)),
                        "chunk 1 reconstructed from chunk 0 and P must be what image 1 held");
                assertEquals(-1, Arrays.mismatch(torn, RaidVolumeTest.read(c, r5, 0, CHUNK)));
                assertEquals(-1, Arrays.mismatch(slice(r5Content, 2 * CHUNK, (int) r5.sizeBytes() - 2 * CHUNK),
                        RaidVolumeTest.read(c, r5, 2 * CHUNK, r5.sizeBytes() - 2 * CHUNK)), "the rest is untouched");

                RaidBdev m = (RaidBdev) vg.activateAny("m", "vgc/m");
                byte[] before = RaidVolumeTest.read(c, m, 0, m.sizeBytes());
                m.markFailed(0, "test: lose leg 0");
                assertEquals(-1, Arrays.mismatch(before, RaidVolumeTest.read(c, m, 0, m.sizeBytes())),
                        "both mirror legs must read the same after the resync");
                assertEquals(-1, Arrays.mismatch(slice(mContent, CHUNK, (int) m.sizeBytes() - CHUNK),
                        RaidVolumeTest.read(c, m, CHUNK, m.sizeBytes() - CHUNK)));
            }
        }
    }

    /** A clean close takes the marks away on superblock-less rmetas: zeroed again, as dm-raid's new array. */
    @Test
    void aCleanCloseLeavesZeroedRmetasAndNoResync() throws Exception {
        try (BdevHost host = BdevHost.start(2, 8 << 20)) {
            BdevClient c = host.client();
            List<BlockDevice> pvs = pvs("kpv", 3);
            byte[] content;
            try (VolumeGroup vg = VolumeGroup.create(host, "vgk", pvs, EXTENT_SECTORS)) {
                vg.createRaid("r5", "raid5", 3, 8, CHUNK / 512, 4096, false);
                RaidBdev r5 = (RaidBdev) vg.activateAny("r5", "vgk/r5");
                write(c, r5, 0, random((int) r5.sizeBytes(), 5));
                content = RaidVolumeTest.read(c, r5, 0, r5.sizeBytes());
            }
            try (VolumeGroup vg = VolumeGroup.open(host, pvs)) {
                for (int i = 0; i < 3; i++) {
                    byte[] b = RaidVolumeTest.rawRead(c, vg, pvs, "r5_rmeta_" + i, 4096);
                    assertEquals(-1, Arrays.mismatch(new byte[4096], b), "r5_rmeta_" + i + " zeroed by the clean close");
                }
                assertEquals(null, LvmRaid.uncleanReason(c, metas(vg, 3)));
                RaidBdev r5 = (RaidBdev) vg.activateAny("r5", "vgk/r5");
                assertEquals(-1, Arrays.mismatch(content, RaidVolumeTest.read(c, r5, 0, r5.sizeBytes())));
            }
        }
    }

    /** The rmeta LVs of r5 as block devices (the VG's own mapping). */
    private static BlockDevice[] metas(VolumeGroup vg, int n) {
        BlockDevice[] out = new BlockDevice[n];
        for (int i = 0; i < n; i++) {
            out[i] = vg.hiddenVolume("r5_rmeta_" + i);
        }
        return out;
    }

    /** dm-raid's v1.9.0 superblock for image {@code pos} of an in-sync raid5_ls array. */
    private static byte[] dmRaidSb(int pos, long events) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4096).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, DmRaidSuperblock.MAGIC).putInt(4, 1).putInt(8, 3).putInt(12, pos).putLong(16, events).putLong(24, 0)
                .putLong(32, -1L).putLong(40, -1L).putInt(48, 5).putInt(52, 2).putInt(56, CHUNK / 512);
        return b.array();
    }

    /** dm-raid's bitmap header (2 MiB regions over 4 MiB images: 2 bits) with {@code dirtyBit} set (or none). */
    private static byte[] dmRaidBitmap(long events, int dirtyBit) {
        MdBitmap h = new MdBitmap();
        h.events = events;
        h.eventsCleared = events;
        h.syncSize = 8192;
        h.chunksize = 2 << 20;
        MemorySegment seg = MemorySegment.ofArray(new byte[4096]);
        h.encode(seg);
        if (dirtyBit >= 0) {
            MdBitmap.setDirty(seg, dirtyBit, true);
        }
        return seg.toArray(JAVA_BYTE);
    }

    /**
     * rmetas dm-raid wrote (superblock + bitmap): orion uses dm-raid's bitmap as its write-intent
     * log (a write's region bit is on every rmeta before the write; the superblocks say dirty,
     * array_resync_offset 0, so that dm-raid resyncs the set bits), a clean close clears the bits. A crash with region 0 dirty makes the next
     * activation resync region 0 only: its torn row is repaired, a torn row in clean region 1 is
     * not visited (as md: the bitmap says only in-flight regions can be torn).
     */
    @Test
    void dmRaidsBitmapIsTheWriteIntentLogAndOnlyDirtyRegionsResync() throws Exception {
        try (BdevHost host = BdevHost.start(2, 8 << 20)) {
            BdevClient c = host.client();
            List<BlockDevice> pvs = pvs("dpv", 3);
            byte[] content;
            try (VolumeGroup vg = VolumeGroup.create(host, "vgb", pvs, EXTENT_SECTORS)) {
                vg.createRaid("r5", "raid5", 3, 8, CHUNK / 512, 4096, false);
                for (int i = 0; i < 3; i++) {
                    rawWrite(c, vg, pvs, "r5_rmeta_" + i, 0, dmRaidSb(i, 5));
                    rawWrite(c, vg, pvs, "r5_rmeta_" + i, 4096, dmRaidBitmap(5, -1));
                }
                RaidBdev r5 = (RaidBdev) vg.activateAny("r5", "vgb/r5");
                write(c, r5, 0, random(CHUNK, 6)); // region 0 only (row 0)
                for (int i = 0; i < 3; i++) {
                    DmRaidSuperblock sb = RaidVolumeTest.sbOf(c, vg, pvs, "r5_rmeta_" + i);
                    assertNotNull(sb);
                    assertEquals(0, sb.arrayResyncOffset(), "md's dirty superblock while active (resync the set bits)");
                    assertEquals(5, sb.events());
                    MemorySegment bm = MemorySegment.ofArray(RaidVolumeTest.rawRead(c, vg, pvs, "r5_rmeta_" + i, 8192))
                            .asSlice(4096);
                    MdBitmap h = MdBitmap.decode(bm, "test");
                    assertEquals(0, h.state & MdBitmap.BITMAP_STALE);
                    assertTrue(MdBitmap.isDirty(bm, 0) && !MdBitmap.isDirty(bm, 1), "region 0's bit set before its write");
                }
                write(c, r5, 0, random((int) r5.sizeBytes(), 8));
                content = RaidVolumeTest.read(c, r5, 0, r5.sizeBytes());
            }
            try (VolumeGroup vg = VolumeGroup.open(host, pvs)) {
                for (int i = 0; i < 3; i++) {
                    DmRaidSuperblock sb = RaidVolumeTest.sbOf(c, vg, pvs, "r5_rmeta_" + i);
                    assertEquals(-1L, sb.arrayResyncOffset(), "clean after close");
                    MemorySegment bm = MemorySegment.ofArray(RaidVolumeTest.rawRead(c, vg, pvs, "r5_rmeta_" + i, 8192))
                            .asSlice(4096);
                    assertFalse(MdBitmap.isDirty(bm, 0) || MdBitmap.isDirty(bm, 1), "bits cleared by the clean close");
                }
                assertEquals(null, LvmRaid.uncleanReason(c, metas(vg, 3)));
                // A crash with region 0 in flight: its bit set, row 0 torn; row 32 (region 1, clean) torn too.
                for (int i = 0; i < 3; i++) {
                    rawWrite(c, vg, pvs, "r5_rmeta_" + i, 4096, dmRaidBitmap(5, 0));
                }
                rawWrite(c, vg, pvs, "r5_rimage_0", 0, random(CHUNK, 7));
                rawWrite(c, vg, pvs, "r5_rimage_1", 2 * MIB, random(CHUNK, 9));
                String why = LvmRaid.uncleanReason(c, metas(vg, 3));
                assertTrue(why != null && why.contains("1 dirty region"), String.valueOf(why));
                RaidBdev r5 = (RaidBdev) vg.activateAny("r5", "vgb/r5");
                r5.markFailed(1, "test");
                assertEquals(-1, Arrays.mismatch(slice(content, CHUNK, CHUNK), RaidVolumeTest.read(c, r5, CHUNK, CHUNK)),
                        "row 0 resynced: chunk 1 reconstructed right");
                // Row 32: P on image 0, LV chunk 64 on image 1. Not resynced, so P still matches the old chunk.
                assertEquals(-1, Arrays.mismatch(slice(content, (int) (4 * MIB), CHUNK),
                        RaidVolumeTest.read(c, r5, 4 * MIB, CHUNK)), "region 1 was not resynced");
            }
        }
    }
}
