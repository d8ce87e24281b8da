package org.orionos.host.raid;

/**
 * The RAID levels orion builds, with md's superblock {@code level} numbers. RAID50/60 are not md
 * levels: md (and orion) nest them as a RAID0 whose members are RAID5/6 arrays; see
 * {@link NestedGeometry}.
 */
public enum RaidLevel {
    RAID0(0, 1),
    RAID1(1, 1),
    RAID5(5, 2),
    RAID6(6, 4),
    RAID10(10, 2);

    private final int mdLevel;
    private final int minDisks;

    RaidLevel(int mdLevel, int minDisks) {
        this.mdLevel = mdLevel;
        this.minDisks = minDisks;
    }

    /** The superblock's {@code level} value. */
    public int mdLevel() {
        return mdLevel;
    }

    /** The fewest members md accepts at this level (RAID5 with 2 is a mirror-like degenerate array). */
    public int minDisks() {
        return minDisks;
    }

    /** The name mdadm prints ("raid5"). */
    public String mdadmName() {
        return "raid" + mdLevel;
    }

    /** The level with superblock number {@code n}, or null if orion does not build it. */
    public static RaidLevel ofMdLevel(int n) {
        for (RaidLevel l : values()) {
            if (l.mdLevel == n) {
                return l;
            }
        }
        return null;
    }
}
