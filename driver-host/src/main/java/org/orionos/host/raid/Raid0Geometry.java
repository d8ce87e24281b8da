package org.orionos.host.raid;

/**
 * RAID0 striping as md's raid0 maps it for a single zone: chunk {@code c} of the array is chunk
 * {@code c / n} of member {@code c % n}.
 *
 * <p>md rounds every member down to a whole chunk; when the rounded sizes differ, md builds several
 * "zones" (the later zones stripe over fewer, larger members) and records which of two zone
 * mappings it used in the layout field (RAID0_ORIG_LAYOUT=1 / RAID0_ALT_MULTIZONE_LAYOUT=2).
 * orion does not build multi-zone arrays: {@link #of} refuses unequal members with the reason,
 * rather than inventing a layout md would read differently.
 */
public final class Raid0Geometry extends RaidGeometry {

    private Raid0Geometry(int raidDisks, int chunkSectors, long memberSectors) {
        super(raidDisks, chunkSectors, memberSectors);
    }

    /**
     * A RAID0 over members whose data areas hold {@code memberDataSectors[i]} sectors.
     * @throws org.orionos.bindings.ErrnoException EINVAL for no members, a bad chunk, or unequal members
     */
    public static Raid0Geometry of(int chunkSectors, long... memberDataSectors) {
        checkChunk(chunkSectors, false);
        if (memberDataSectors.length < 1) {
            throw invalid("RAID0 with no members", "give at least one member");
        }
        long size = memberDataSectors[0] / chunkSectors * chunkSectors;
        for (int i = 1; i < memberDataSectors.length; i++) {
            long s = memberDataSectors[i] / chunkSectors * chunkSectors;
            if (s != size) {
                throw invalid("RAID0 member " + i + " of " + s + " usable sectors vs " + size + " on member 0",
                        "members of unequal size need md's multi-zone RAID0 layout, which orion does not build; "
                                + "use equal-size members (the extra space of larger ones is left unused only if "
                                + "you make them equal, e.g. by partitioning)");
            }
        }
        if (size == 0) {
            throw invalid("RAID0 members smaller than one chunk", "use larger members or a smaller chunk");
        }
        return new Raid0Geometry(memberDataSectors.length, chunkSectors, size);
    }

    @Override
    public RaidLevel level() {
        return RaidLevel.RAID0;
    }

    /** Single-zone arrays read the same under both md multi-zone layouts; md leaves the field 0. */
    @Override
    public int mdLayout() {
        return 0;
    }

    @Override
    public long arraySectors() {
        return memberSectors * raidDisks;
    }

    @Override
    public int copies() {
        return 1;
    }

    @Override
    public void map(long arraySector, int copy, MemberAddress out) {
        checkSector(arraySector);
        if (copy != 0) {
            throw new IndexOutOfBoundsException("RAID0 has one copy, asked for copy " + copy);
        }
        long chunk = arraySector / chunkSectors;
        int inChunk = (int) (arraySector - chunk * chunkSectors);
        long row = chunk / raidDisks;
        out.disk = (int) (chunk - row * raidDisks);
        out.sector = row * chunkSectors + inChunk;
        out.runSectors = chunkSectors - inChunk;
        out.stripe = row;
        out.dataIndex = out.disk;
    }
}
