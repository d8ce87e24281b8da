package org.orionos.host.lvm.metadata;

import java.util.Set;

/**
 * Segment type names exactly as lvm2 writes them in {@code type = "..."}. Linear volumes are
 * {@code "striped"} with one stripe. Types other than striped are kept verbatim as
 * {@link OtherSegment} until their layers exist, so metadata carrying them round-trips unchanged.
 */
public final class SegmentTypes {

    public static final String STRIPED = "striped";
    public static final String MIRROR = "mirror";
    public static final String RAID0 = "raid0";
    public static final String RAID0_META = "raid0_meta";
    public static final String RAID1 = "raid1";
    public static final String RAID10 = "raid10";
    public static final String RAID4 = "raid4";
    public static final String RAID5 = "raid5";
    public static final String RAID5_LS = "raid5_ls";
    public static final String RAID5_LA = "raid5_la";
    public static final String RAID5_RS = "raid5_rs";
    public static final String RAID5_RA = "raid5_ra";
    public static final String RAID5_N = "raid5_n";
    public static final String RAID6 = "raid6";
    public static final String RAID6_ZR = "raid6_zr";
    public static final String RAID6_NR = "raid6_nr";
    public static final String RAID6_NC = "raid6_nc";
    public static final String THIN_POOL = "thin-pool";
    public static final String THIN = "thin";
    public static final String SNAPSHOT = "snapshot";
    public static final String CACHE = "cache";
    public static final String CACHE_POOL = "cache-pool";
    public static final String ZERO = "zero";
    public static final String ERROR = "error";

    /** Every name above, for recognising types lvm2 knows. */
    public static final Set<String> KNOWN = Set.of(STRIPED, MIRROR, RAID0, RAID0_META, RAID1, RAID10, RAID4,
            RAID5, RAID5_LS, RAID5_LA, RAID5_RS, RAID5_RA, RAID5_N, RAID6, RAID6_ZR, RAID6_NR, RAID6_NC,
            THIN_POOL, THIN, SNAPSHOT, CACHE, CACHE_POOL, ZERO, ERROR);

    private SegmentTypes() {
    }
}
