package org.orionos.host.raid;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;

/**
 * Where an array's logical sectors live on its members, computed exactly as Linux md computes it,
 * so member images are interchangeable with md's. Immutable and thread-safe; the lookups allocate
 * nothing (results go into a caller-owned {@link MemberAddress}).
 *
 * <p>All sectors are 512 bytes. Member sectors are relative to the member's data area (md's
 * {@code data_offset}); {@link #memberSectors()} is md's {@code size} superblock field: the part of
 * each member's data area the array uses (rounded down to a whole chunk where md rounds).
 */
public abstract sealed class RaidGeometry permits Raid0Geometry, Raid1Geometry, Raid10Geometry, ParityGeometry {
    protected final int raidDisks;
    protected final int chunkSectors;
    protected final long memberSectors;

    RaidGeometry(int raidDisks, int chunkSectors, long memberSectors) {
        this.raidDisks = raidDisks;
        this.chunkSectors = chunkSectors;
        this.memberSectors = memberSectors;
    }

    /** The RAID level. */
    public abstract RaidLevel level();

    /** md's superblock {@code layout} value for this geometry. */
    public abstract int mdLayout();

    /** Number of member slots (md's raid_disks), including missing ones. */
    public final int raidDisks() {
        return raidDisks;
    }

    /** Chunk size in sectors (0 for RAID1, which has no chunks). */
    public final int chunkSectors() {
        return chunkSectors;
    }

    /** Sectors of each member's data area the array uses (md's {@code size}). */
    public final long memberSectors() {
        return memberSectors;
    }

    /**
     * Sectors of md's resync address space, which the write-intent bitmap covers (its
     * {@code sync_size}): each member's used size for RAID1/5/6, the array size for RAID10, and 0
     * for RAID0 (no redundancy, no bitmap).
     */
    public long syncSectors() {
        return switch (level()) {
            case RAID0 -> 0;
            case RAID10 -> arraySectors();
            default -> memberSectors;
        };
    }

    /**
     * Where array sector {@code arraySector} falls in the resync address space: the bitmap bit to
     * dirty before writing it is {@code syncSector / bitmapChunkSectors}. RAID5/6: the stripe's
     * member sector; RAID1: the sector itself; RAID10: the array sector (md's r10_bio sector).
     */
    public long syncSector(long arraySector) {
        checkSector(arraySector);
        return switch (level()) {
            case RAID0 -> throw new IllegalStateException("RAID0 has no resync space");
            case RAID5, RAID6 -> {
                long chunk = arraySector / chunkSectors;
                long stripe = chunk / ((ParityGeometry) this).dataDisks();
                yield stripe * chunkSectors + arraySector % chunkSectors;
            }
            default -> arraySector;
        };
    }

    /** Size of the array in sectors. */
    public abstract long arraySectors();

    /** How many copies of each data sector exist (1 for RAID0, parity levels keep 1 plus parity). */
    public abstract int copies();

    /**
     * Maps array sector {@code arraySector} to copy {@code copy} (0 ≤ copy < {@link #copies()}).
     * Throws only on arguments out of range (a caller bug).
     */
    public abstract void map(long arraySector, int copy, MemberAddress out);

    /** Copy 0 of {@link #map(long, int, MemberAddress)}. */
    public final void map(long arraySector, MemberAddress out) {
        map(arraySector, 0, out);
    }

    final void checkSector(long arraySector) {
        if (arraySector < 0 || arraySector >= arraySectors()) {
            throw new IndexOutOfBoundsException("array sector " + arraySector + " outside 0.." + arraySectors());
        }
    }

    static ErrnoException invalid(String what, String hint) {
        return new ErrnoException(Errno.EINVAL, "raid geometry", what, hint);
    }

    static void checkChunk(int chunkSectors, boolean powerOfTwo) {
        // md requires chunks of at least one 4 KiB page and a whole number of pages.
        if (chunkSectors < 8 || chunkSectors % 8 != 0) {
            throw invalid("chunk of " + chunkSectors + " sectors",
                    "the chunk size must be a multiple of 4 KiB (8 sectors)");
        }
        if (powerOfTwo && Integer.bitCount(chunkSectors) != 1) {
            throw invalid("chunk of " + chunkSectors + " sectors",
                    "md requires a power-of-two chunk size at this level");
        }
    }
}
