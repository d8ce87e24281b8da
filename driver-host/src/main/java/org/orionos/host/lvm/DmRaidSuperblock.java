package org.orionos.host.lvm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * dm-raid's superblock at byte 0 of each rmeta sub-LV (the kernel's {@code struct
 * dm_raid_superblock}, little-endian, 4 KiB block), reduced to what orion reads and changes:
 * which images the array has recorded as failed, each image's recovery progress, the array's
 * initial-resync progress, and the events counter that picks the freshest copy. A zeroed rmeta
 * (no magic) is a new array to dm-raid.
 *
 * <p>Orion records an image it failed by setting {@code disk_recovery_offset} to 0 in that
 * image's own superblock: dm-raid then rebuilds the image in full on its next activation
 * instead of trusting its stale data. When that cannot express it (the array has no superblock
 * yet, or the image's rmeta is gone), orion writes {@link #ORION_STALE} superblocks to the
 * other images instead, whose non-zero {@code incompat_features} make dm-raid refuse to
 * assemble the array (a new-array resync would copy or recompute from the stale image) while
 * orion reads the failed bits.
 *
 * <p>Clean/dirty (unclean-shutdown) state: while orion has a raid volume active, every rmeta
 * that carries a superblock has {@code array_resync_offset} 0 (md's dirty superblock: with the
 * write-intent bitmap after it, dm-raid resyncs the regions whose bits are set; with the bitmap
 * marked stale, all of it), and one without a superblock holds {@link #ORION_DIRTY} at byte 0
 * instead (no dm-raid magic: dm-raid still takes a new array and resyncs it in full). A clean
 * close puts back {@code array_resync_offset = MaxSector}, or zeroes.
 */
final class DmRaidSuperblock {
    static final int SIZE = 4096;
    static final int MAGIC = 0x64526D44; // "DmRd" read as a little-endian u32
    static final long MAX_SECTOR = -1L;
    static final int FEATURE_V190 = 0x1;
    static final int SB_FLAG_RESHAPE_ACTIVE = 0x1;
    /** Orion's incompat bit: "images listed in failed_devices are stale; no dm-raid superblock existed". */
    static final int ORION_STALE = 0x8000_0000;

    /** Orion's dirty mark on an rmeta without a dm-raid superblock ("OrDy" little-endian); not dm-raid's magic. */
    static final int ORION_DIRTY = 0x7944724F;

    private static final int OFF_MAGIC = 0;
    private static final int OFF_COMPAT = 4;
    private static final int OFF_NUM_DEVICES = 8;
    private static final int OFF_POSITION = 12;
    private static final int OFF_EVENTS = 16;
    private static final int OFF_FAILED = 24;
    private static final int OFF_DISK_RECOVERY = 32;
    private static final int OFF_ARRAY_RESYNC = 40;
    private static final int OFF_LEVEL = 48;
    private static final int OFF_LAYOUT = 52;
    private static final int OFF_STRIPE_SECTORS = 56;
    private static final int OFF_FLAGS = 60;
    private static final int OFF_DATA_OFFSET = 96;
    private static final int OFF_INCOMPAT = 144;

    private final ByteBuffer b;

    private DmRaidSuperblock(byte[] block) {
        this.b = ByteBuffer.wrap(block).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The superblock in {@code block} (at least 4 KiB), or null when it carries no dm-raid magic. */
    static DmRaidSuperblock parse(byte[] block) {
        DmRaidSuperblock s = new DmRaidSuperblock(block.clone());
        return s.b.getInt(OFF_MAGIC) == MAGIC ? s : null;
    }

    /**
     * Orion's marker superblock for image {@code position} of {@code devices}: the images in
     * {@code failed} are stale. Level, layout and chunk are the array's (md's numbers), so that
     * dm-raid's refusal names the incompatible feature, not a level change.
     */
    static DmRaidSuperblock orionStale(int devices, int position, long failed, int level, int layout, int chunkSectors) {
        DmRaidSuperblock s = new DmRaidSuperblock(new byte[SIZE]);
        s.b.putInt(OFF_MAGIC, MAGIC);
        s.b.putInt(OFF_NUM_DEVICES, devices);
        s.b.putInt(OFF_POSITION, position);
        s.b.putLong(OFF_EVENTS, 1);
        s.b.putLong(OFF_FAILED, failed);
        s.b.putLong(OFF_DISK_RECOVERY, MAX_SECTOR);
        s.b.putLong(OFF_ARRAY_RESYNC, MAX_SECTOR);
        s.b.putInt(OFF_LEVEL, level);
        s.b.putInt(OFF_LAYOUT, layout);
        s.b.putInt(OFF_STRIPE_SECTORS, chunkSectors);
        s.b.putInt(OFF_INCOMPAT, ORION_STALE);
        return s;
    }

    /** Whether {@code block} (an rmeta's first 4 KiB) is orion's dirty mark on a superblock-less rmeta. */
    static boolean orionDirty(byte[] block) {
        return ByteBuffer.wrap(block).order(ByteOrder.LITTLE_ENDIAN).getInt(OFF_MAGIC) == ORION_DIRTY;
    }

    /** Orion's dirty mark for an rmeta without a superblock (see the class comment). */
    static byte[] orionDirtyBlock() {
        byte[] b = new byte[SIZE];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(OFF_MAGIC, ORION_DIRTY);
        return b;
    }

    /** This superblock with {@code array_resync_offset} set (0: dirty, resync all; MAX_SECTOR: in sync). */
    DmRaidSuperblock withResyncOffset(long sector) {
        DmRaidSuperblock s = new DmRaidSuperblock(b.array().clone());
        s.b.putLong(OFF_ARRAY_RESYNC, sector);
        return s;
    }

    byte[] bytes() {
        return b.array().clone();
    }

    long events() {
        return b.getLong(OFF_EVENTS);
    }

    /** Failed images 0..63 (orion arrays have at most 64). */
    long failed() {
        return b.getLong(OFF_FAILED);
    }

    int position() {
        return b.getInt(OFF_POSITION);
    }

    long diskRecoveryOffset() {
        return b.getLong(OFF_DISK_RECOVERY);
    }

    long arrayResyncOffset() {
        return b.getLong(OFF_ARRAY_RESYNC);
    }

    boolean v190() {
        return (b.getInt(OFF_COMPAT) & FEATURE_V190) != 0;
    }

    /** Reshape state flags (v1.9.0 superblocks only, else 0). */
    int flags() {
        return v190() ? b.getInt(OFF_FLAGS) : 0;
    }

    long dataOffset() {
        return v190() ? b.getLong(OFF_DATA_OFFSET) : 0;
    }

    int incompat() {
        return v190() || b.getInt(OFF_INCOMPAT) == ORION_STALE ? b.getInt(OFF_INCOMPAT) : 0;
    }

    boolean orionMarker() {
        return incompat() == ORION_STALE;
    }

    /**
     * This superblock with the images in {@code mask} rebuilt: no longer failed, and when this
     * is one of their own superblocks, recovered to the end; {@code events} set.
     */
    DmRaidSuperblock withRebuilt(long mask, long events) {
        DmRaidSuperblock s = new DmRaidSuperblock(b.array().clone());
        s.b.putLong(OFF_FAILED, failed() & ~mask);
        if ((mask & 1L << position()) != 0) {
            s.b.putLong(OFF_DISK_RECOVERY, MAX_SECTOR);
        }
        s.b.putLong(OFF_EVENTS, events);
        return s;
    }

    /** This superblock with {@code disk_recovery_offset} set (0: the image must be rebuilt from the start). */
    DmRaidSuperblock withRecoveryOffset(long sector) {
        DmRaidSuperblock s = new DmRaidSuperblock(b.array().clone());
        s.b.putLong(OFF_DISK_RECOVERY, sector);
        return s;
    }
}
