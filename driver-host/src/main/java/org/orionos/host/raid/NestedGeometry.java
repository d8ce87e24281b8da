package org.orionos.host.raid;

/**
 * RAID50/RAID60 the way md builds them: there is no md level 50 or 60. One creates several RAID5
 * (or RAID6) arrays, each with its own v1.2 superblocks on its members, then a RAID0 whose members
 * are those arrays; the RAID0's own superblock sits at the start of each inner array, so the RAID0
 * sees each group's array shortened by its {@code data_offset}. Mapping is therefore pure
 * composition: outer RAID0 map, add the outer data offset, inner RAID5/6 map.
 *
 * <p>Members are numbered group-major: member {@code g * groupDisks + d} is member {@code d} of
 * group {@code g}. All groups share one inner geometry (orion refuses unequal groups, as
 * {@link Raid0Geometry} refuses unequal members).
 */
public final class NestedGeometry {
    private final Raid0Geometry outer;
    private final ParityGeometry inner;
    private final long outerDataOffset;

    /**
     * @param inner            geometry of every group (RAID5 or RAID6)
     * @param groups           number of groups (the outer RAID0's member count)
     * @param outerChunkSectors chunk of the outer RAID0
     * @param outerDataOffset  sectors each group's array gives to the outer RAID0's superblock area
     */
    public NestedGeometry(ParityGeometry inner, int groups, int outerChunkSectors, long outerDataOffset) {
        if (outerDataOffset < 0 || outerDataOffset >= inner.arraySectors()) {
            throw RaidGeometry.invalid("outer data offset " + outerDataOffset + " in groups of "
                    + inner.arraySectors() + " sectors", "the outer RAID0's data offset must fit inside each group");
        }
        long[] sizes = new long[groups];
        java.util.Arrays.fill(sizes, inner.arraySectors() - outerDataOffset);
        this.outer = Raid0Geometry.of(outerChunkSectors, sizes);
        this.inner = inner;
        this.outerDataOffset = outerDataOffset;
    }

    /** The outer RAID0 (its members are the groups). */
    public Raid0Geometry outer() {
        return outer;
    }

    /** The geometry of each group. */
    public ParityGeometry inner() {
        return inner;
    }

    /** Total members over all groups. */
    public int members() {
        return outer.raidDisks() * inner.raidDisks();
    }

    /** Size of the nested array in sectors. */
    public long arraySectors() {
        return outer.arraySectors();
    }

    /**
     * Maps {@code arraySector}; {@code out.disk} is the group-major member number, {@code out.sector}
     * the sector in that member's data area. {@code scratch} is a second caller-owned holder.
     */
    public void map(long arraySector, MemberAddress out, MemberAddress scratch) {
        outer.map(arraySector, scratch);
        int group = scratch.disk;
        int outerRun = scratch.runSectors;
        inner.map(scratch.sector + outerDataOffset, out);
        out.disk += group * inner.raidDisks();
        out.runSectors = Math.min(out.runSectors, outerRun);
    }
}
