package org.orionos.host.raid;

/**
 * md RAID10 with the "near" layout ({@code n2}, {@code n3}, ...): each array chunk is written
 * {@code near} times to consecutive member slots, continuing on the next chunk row when the slots
 * wrap. With {@code x = chunk * near + copy}, copy {@code copy} of array chunk {@code chunk} lives
 * on member {@code x % n} at chunk row {@code x / n}; this works for any member count, including
 * ones that are not a multiple of {@code near} (md's n2 over 3 members).
 *
 * <p>md's layout word is {@code near | far << 8 | offset << 16}; the far and offset layouts are
 * refused by {@link #of} (orion does not build them yet).
 */
public final class Raid10Geometry extends RaidGeometry {
    private final int near;
    private final long arraySectors;

    private Raid10Geometry(int raidDisks, int chunkSectors, long memberSectors, int near) {
        super(raidDisks, chunkSectors, memberSectors);
        this.near = near;
        long memberChunks = memberSectors / chunkSectors;
        this.arraySectors = memberChunks * raidDisks / near * chunkSectors;
    }

    /** A near-layout RAID10 keeping {@code near} copies, over equal or unequal members (md uses the smallest). */
    public static Raid10Geometry near(int near, int chunkSectors, long... memberDataSectors) {
        checkChunk(chunkSectors, true);
        int n = memberDataSectors.length;
        if (near < 2 || near > n) {
            throw invalid("RAID10 with " + near + " near copies over " + n + " members",
                    "near copies must be between 2 and the number of members");
        }
        long min = Long.MAX_VALUE;
        for (long s : memberDataSectors) {
            min = Math.min(min, s);
        }
        long size = min / chunkSectors * chunkSectors;
        if (size == 0) {
            throw invalid("RAID10 members smaller than one chunk", "use larger members or a smaller chunk");
        }
        return new Raid10Geometry(n, chunkSectors, size, near);
    }

    /** The geometry an md superblock's layout word describes; refuses far and offset layouts. */
    public static Raid10Geometry ofMdLayout(int mdLayout, int chunkSectors, long... memberDataSectors) {
        int nearCopies = mdLayout & 0xff;
        int farCopies = (mdLayout >> 8) & 0xff;
        boolean offset = (mdLayout & 0x10000) != 0;
        if (farCopies != 1 || offset || (mdLayout >>> 17) > 1) {
            throw invalid("RAID10 layout 0x" + Integer.toHexString(mdLayout)
                    + " (near " + nearCopies + ", far " + farCopies + (offset ? ", offset" : "") + ")",
                    "orion supports only md's near layouts (n2, n3, ...); far and offset layouts are not implemented");
        }
        return near(nearCopies, chunkSectors, memberDataSectors);
    }

    /** Copies kept of each chunk. */
    public int nearCopies() {
        return near;
    }

    @Override
    public RaidLevel level() {
        return RaidLevel.RAID10;
    }

    /** near copies in bits 0-7, far copies (1) in bits 8-15: mdadm's "near=N". */
    @Override
    public int mdLayout() {
        return near | 1 << 8;
    }

    @Override
    public long arraySectors() {
        return arraySectors;
    }

    @Override
    public int copies() {
        return near;
    }

    @Override
    public void map(long arraySector, int copy, MemberAddress out) {
        checkSector(arraySector);
        if (copy < 0 || copy >= near) {
            throw new IndexOutOfBoundsException("copy " + copy + " of " + near);
        }
        long chunk = arraySector / chunkSectors;
        int inChunk = (int) (arraySector - chunk * chunkSectors);
        long x = chunk * near + copy;
        long row = x / raidDisks;
        out.disk = (int) (x - row * raidDisks);
        out.sector = row * chunkSectors + inChunk;
        out.runSectors = chunkSectors - inChunk;
        out.stripe = chunk;
        out.dataIndex = -1;
    }
}
