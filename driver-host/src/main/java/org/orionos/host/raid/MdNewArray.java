package org.orionos.host.raid;

import java.time.Instant;
import java.util.random.RandomGenerator;

/**
 * The md v1.2 metadata of a freshly created array, laid out as mdadm lays it out: superblock at
 * sector 8, internal bitmap 8 sectors after it (redundant levels only), data from
 * {@code dataOffset}; every member active in slot order, the array clean, events as given.
 * Pure: computes the structures; writing them to the members belongs to the caller.
 */
public final class MdNewArray {
    private MdNewArray() {
    }

    /** mdadm's bitmap position for 1.2 metadata: 4 KiB after the superblock. */
    public static final int BITMAP_OFFSET = 8;
    /** orion's default data offset: 1 MiB, what mdadm picks for small members. */
    public static final long DEFAULT_DATA_OFFSET = 2048;
    /** orion's default bytes per bitmap bit (doubled until the bits fit the space before the data). */
    public static final int DEFAULT_BITMAP_CHUNK = 64 << 20;

    /**
     * Superblocks for every member of a new array.
     * @param memberDataSectors sectors from {@code dataOffset} to the end of each member (md's data_size)
     * @param rnd               source of the device UUIDs
     */
    public static MdSuperblock1[] superblocks(RaidGeometry g, String name, byte[] setUuid, long[] memberDataSectors,
                                              long dataOffset, long events, Instant now, RandomGenerator rnd) {
        if (memberDataSectors.length != g.raidDisks()) {
            throw new IllegalArgumentException(memberDataSectors.length + " member sizes for " + g.raidDisks() + " members");
        }
        if (dataOffset < MdSuperblock1.SUPER_OFFSET_1_2 + BITMAP_OFFSET + 8) {
            throw RaidGeometry.invalid("data offset " + dataOffset + " sectors",
                    "leave room for the superblock and bitmap: at least 24 sectors, normally 2048");
        }
        boolean redundant = g.level() != RaidLevel.RAID0;
        MdSuperblock1[] out = new MdSuperblock1[g.raidDisks()];
        for (int d = 0; d < out.length; d++) {
            MdSuperblock1 sb = new MdSuperblock1();
            sb.featureMap = redundant ? MdSuperblock1.MD_FEATURE_BITMAP_OFFSET : 0;
            if (g.level() == RaidLevel.RAID0 && g.mdLayout() != 0) {
                sb.featureMap |= MdSuperblock1.MD_FEATURE_RAID0_LAYOUT; // md refuses multi-zone RAID0 without it
            }
            sb.setUuid = setUuid.clone();
            sb.setName = name;
            sb.ctime = MdSuperblock1.mdTime(now);
            sb.utime = sb.ctime;
            sb.level = g.level().mdLevel();
            sb.layout = g.mdLayout();
            sb.size = g.memberSectors();
            sb.chunksize = g.chunkSectors();
            sb.raidDisks = g.raidDisks();
            sb.bitmapOffset = redundant ? BITMAP_OFFSET : 0;
            sb.dataOffset = dataOffset;
            sb.dataSize = memberDataSectors[d];
            sb.devNumber = d;
            rnd.nextBytes(sb.deviceUuid);
            sb.events = events;
            sb.devRoles = new int[g.raidDisks()];
            for (int i = 0; i < sb.devRoles.length; i++) {
                sb.devRoles[i] = i;
            }
            out[d] = sb;
        }
        return out;
    }

    /**
     * The internal bitmap header of a new redundant array, all bits clean; the chunk starts at
     * {@code chunkBytes} and doubles until header and bits fit between the bitmap and {@code dataOffset}.
     */
    public static MdBitmap bitmap(RaidGeometry g, byte[] setUuid, long events, long dataOffset, int chunkBytes) {
        if (g.level() == RaidLevel.RAID0) {
            throw new IllegalArgumentException("RAID0 has no write-intent bitmap");
        }
        MdBitmap b = new MdBitmap();
        b.uuid = setUuid.clone();
        b.events = events;
        b.eventsCleared = events;
        b.syncSize = g.syncSectors();
        b.sectorsReserved = (int) (dataOffset - MdSuperblock1.SUPER_OFFSET_1_2 - BITMAP_OFFSET);
        b.chunksize = chunkBytes;
        while (b.byteSize() > (long) b.sectorsReserved * 512) {
            b.chunksize <<= 1;
        }
        return b;
    }
}
