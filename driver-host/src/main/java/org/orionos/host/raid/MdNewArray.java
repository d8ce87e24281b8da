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
    /** The smallest data offset mdadm picks (1 MiB): small members with a chunk of 64 KiB or less, and RAID1. */
    public static final long DEFAULT_DATA_OFFSET = 2048;
    /** mdadm's most reshape headroom before the data: 128 MiB. */
    static final long MAX_HEADROOM = 128L * 1024 * 2;
    /** orion's default bytes per bitmap bit (doubled until the bits fit the space before the data). */
    public static final int DEFAULT_BITMAP_CHUNK = 64 << 20;

    /**
     * The data offset (sectors) mdadm 4.x chooses at create for 1.2 metadata, so orion's arrays
     * have the room md leaves for later reshapes (each grow moves the data down, md's
     * {@code new_offset}): superblock and bad-block log (12 KiB), the bitmap space mdadm sets aside
     * (4 KiB, 64 KiB above 8 GiB, 128 KiB from 200 GiB), and headroom of about 0.1% of the
     * member, at most 128 MiB and (for chunked levels) not below two chunks, rounded up to 1 MiB.
     * So 1 MiB for small members with 64 KiB chunks, 2 MiB with 512 KiB chunks, 129 MiB from 128 GiB.
     * @param devSectors  the smallest member's size in sectors
     * @param chunkSectors the chunk (0 for RAID1)
     */
    public static long dataOffset(long devSectors, int chunkSectors) {
        long bmSpace;
        if (devSectors < 64 * 2) {
            bmSpace = 0;
        } else if (devSectors - 64 * 2 >= 200L * 1024 * 1024 * 2) {
            bmSpace = 128 * 2;
        } else if (devSectors - 4 * 2 > 8L * 1024 * 1024 * 2) {
            bmSpace = 64 * 2;
        } else {
            bmSpace = 4 * 2;
        }
        long headroom = MAX_HEADROOM;
        // Halved while above 0.1% of the member, but kept at two chunks or more (mdadm's loop, chunk in sectors).
        while ((headroom << 10) > devSectors && (chunkSectors == 0 || headroom / 2 >= 2L * chunkSectors)) {
            headroom >>= 1;
        }
        long raw = 12 * 2 + bmSpace + headroom;
        return (raw + DEFAULT_DATA_OFFSET - 1) / DEFAULT_DATA_OFFSET * DEFAULT_DATA_OFFSET;
    }

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
