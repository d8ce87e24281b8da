package org.orionos.host.raid;

import java.util.Arrays;

/**
 * RAID0 striping as md's raid0 maps it. md rounds every member down to a whole chunk, then cuts
 * the array into zones: zone 0 stripes over all members up to the smallest member's size; each
 * further zone stripes over the members still larger, up to the next smallest size. Within a zone,
 * with {@code z} the sector relative to the zone's start and {@code k} the zone's member count,
 * the member sector is {@code devStart + (z / (k * chunk)) * chunk + z % chunk}.
 *
 * <p>Which member of the zone holds a chunk is where md's two multi-zone layouts differ
 * (superblock {@code layout} with MD_FEATURE_RAID0_LAYOUT): RAID0_ORIG_LAYOUT (1) picks member
 * {@code (arraySector / chunk) % k}, from the array sector (the pre-3.14 kernel behaviour);
 * RAID0_ALT_MULTIZONE_LAYOUT (2) picks {@code (z / chunk) % k}, from the zone-relative sector. With
 * one zone (equal members) both are the same and md leaves the layout 0.
 */
public final class Raid0Geometry extends RaidGeometry {
    /** md's RAID0_ORIG_LAYOUT. */
    public static final int RAID0_ORIG_LAYOUT = 1;
    /** md's RAID0_ALT_MULTIZONE_LAYOUT. */
    public static final int RAID0_ALT_MULTIZONE_LAYOUT = 2;

    private final int layout;
    private final long[] zoneEnd;      // array sector where each zone ends (exclusive)
    private final long[] zoneDevStart; // member sector where each zone begins
    private final int[][] zoneDevs;    // member indices of each zone, in slot order
    private final long[] memberSizes;  // per member, rounded down to a chunk

    private Raid0Geometry(int chunkSectors, long[] sizes, int layout) {
        super(sizes.length, chunkSectors, Arrays.stream(sizes).min().orElseThrow());
        this.layout = layout;
        this.memberSizes = sizes;
        long[] distinct = Arrays.stream(sizes).distinct().sorted().toArray();
        zoneEnd = new long[distinct.length];
        zoneDevStart = new long[distinct.length];
        zoneDevs = new int[distinct.length][];
        long end = 0;
        long start = 0;
        for (int z = 0; z < distinct.length; z++) {
            final long from = start;
            zoneDevs[z] = java.util.stream.IntStream.range(0, sizes.length).filter(i -> sizes[i] > from).toArray();
            zoneDevStart[z] = start;
            end += (distinct[z] - start) * zoneDevs[z].length;
            zoneEnd[z] = end;
            start = distinct[z];
        }
    }

    /**
     * A single-zone RAID0 over members whose data areas hold {@code memberDataSectors[i]} sectors.
     * @throws org.orionos.bindings.ErrnoException EINVAL for no members, a bad chunk, or members
     *         whose chunk-rounded sizes differ (those need {@link #withLayout} and a layout)
     */
    public static Raid0Geometry of(int chunkSectors, long... memberDataSectors) {
        return withLayout(chunkSectors, 0, memberDataSectors);
    }

    /**
     * A RAID0 with md's multi-zone {@code layout} (1 original, 2 alternate; 0 only for equal members).
     * @throws org.orionos.bindings.ErrnoException EINVAL naming what md would refuse
     */
    public static Raid0Geometry withLayout(int chunkSectors, int layout, long... memberDataSectors) {
        checkChunk(chunkSectors, false);
        if (memberDataSectors.length < 1) {
            throw invalid("RAID0 with no members", "give at least one member");
        }
        if (layout < 0 || layout > RAID0_ALT_MULTIZONE_LAYOUT) {
            throw invalid("RAID0 layout " + layout, "md knows layouts 1 (original) and 2 (alternate)");
        }
        long[] sizes = new long[memberDataSectors.length];
        for (int i = 0; i < sizes.length; i++) {
            sizes[i] = memberDataSectors[i] / chunkSectors * chunkSectors;
            if (sizes[i] == 0) {
                throw invalid("RAID0 member " + i + " smaller than one chunk", "use larger members or a smaller chunk");
            }
        }
        boolean multiZone = Arrays.stream(sizes).distinct().count() > 1;
        if (multiZone && layout == 0) {
            throw invalid("RAID0 over members of unequal size (" + Arrays.toString(sizes) + " sectors)",
                    "md needs a multi-zone layout for that: original (1) or alternate (2); or use equal members");
        }
        return new Raid0Geometry(chunkSectors, sizes, multiZone ? layout : 0);
    }

    @Override
    public RaidLevel level() {
        return RaidLevel.RAID0;
    }

    /**
     * 0 for a single zone, else RAID0_ORIG_LAYOUT / RAID0_ALT_MULTIZONE_LAYOUT; a non-zero layout
     * must be recorded with MD_FEATURE_RAID0_LAYOUT in the superblock or md refuses the array.
     */
    @Override
    public int mdLayout() {
        return layout;
    }

    /** Number of zones (1 when all members are equal). */
    public int zones() {
        return zoneEnd.length;
    }

    /** Usable sectors of member {@code i} (rounded down to a chunk). */
    public long memberSectors(int i) {
        return memberSizes[i];
    }

    @Override
    public long arraySectors() {
        return zoneEnd[zoneEnd.length - 1];
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
        int z = 0;
        while (arraySector >= zoneEnd[z]) {
            z++;
        }
        long inZone = arraySector - (z == 0 ? 0 : zoneEnd[z - 1]);
        int[] devs = zoneDevs[z];
        int k = devs.length;
        int inChunk = (int) (inZone % chunkSectors);
        long row = inZone / ((long) k * chunkSectors);
        long pick = layout == RAID0_ORIG_LAYOUT ? arraySector : inZone;
        out.disk = devs[(int) ((pick / chunkSectors) % k)];
        out.sector = zoneDevStart[z] + row * chunkSectors + inChunk;
        out.runSectors = chunkSectors - inChunk;
        out.stripe = row;
        out.dataIndex = -1;
    }
}
