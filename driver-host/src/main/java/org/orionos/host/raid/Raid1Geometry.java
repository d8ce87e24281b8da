package org.orionos.host.raid;

/**
 * RAID1 (n-way mirror): array sector s is sector s of every member. The array is as large as the
 * smallest member (md's rule); md keeps no chunk for RAID1.
 */
public final class Raid1Geometry extends RaidGeometry {

    private Raid1Geometry(int raidDisks, long memberSectors) {
        super(raidDisks, 0, memberSectors);
    }

    /** A mirror over members whose data areas hold {@code memberDataSectors[i]} sectors. */
    public static Raid1Geometry of(long... memberDataSectors) {
        if (memberDataSectors.length < 1) {
            throw invalid("RAID1 with no members", "give at least one member");
        }
        long min = Long.MAX_VALUE;
        for (long s : memberDataSectors) {
            min = Math.min(min, s);
        }
        if (min <= 0) {
            throw invalid("RAID1 member with no data area", "use non-empty members");
        }
        return new Raid1Geometry(memberDataSectors.length, min);
    }

    @Override
    public RaidLevel level() {
        return RaidLevel.RAID1;
    }

    @Override
    public int mdLayout() {
        return 0;
    }

    @Override
    public long arraySectors() {
        return memberSectors;
    }

    @Override
    public int copies() {
        return raidDisks;
    }

    @Override
    public void map(long arraySector, int copy, MemberAddress out) {
        checkSector(arraySector);
        if (copy < 0 || copy >= raidDisks) {
            throw new IndexOutOfBoundsException("copy " + copy + " of a " + raidDisks + "-way mirror");
        }
        out.disk = copy;
        out.sector = arraySector;
        long left = memberSectors - arraySector;
        out.runSectors = (int) Math.min(left, Integer.MAX_VALUE);
        out.stripe = -1;
        out.dataIndex = -1;
    }
}
