package org.orionos.bindings.uapi;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import org.orionos.bindings.CHeader;

import static org.orionos.bindings.Ioctl._IOR;
import static org.orionos.bindings.Ioctl._IOW;
import static org.orionos.bindings.Ioctl._IOWR;
import static org.orionos.bindings.Layouts.U32;
import static org.orionos.bindings.Layouts.U64;
import static org.orionos.bindings.Layouts.U8;
import static org.orionos.bindings.Layouts.offset;

/**
 * linux/blkzoned.h: zoned block devices (ZNS namespaces through the block layer, SMR disks): zone
 * report and zone management ioctls. Positions and lengths are in 512-byte sectors.
 */
@CHeader("linux/blkzoned.h")
public final class BlkzonedH {
    private BlkzonedH() {
    }

    // ---- enum blk_zone_type
    public static final int BLK_ZONE_TYPE_CONVENTIONAL = 0x1;
    public static final int BLK_ZONE_TYPE_SEQWRITE_REQ = 0x2;
    public static final int BLK_ZONE_TYPE_SEQWRITE_PREF = 0x3;
    // ---- enum blk_zone_cond
    public static final int BLK_ZONE_COND_NOT_WP = 0x0;
    public static final int BLK_ZONE_COND_EMPTY = 0x1;
    public static final int BLK_ZONE_COND_IMP_OPEN = 0x2;
    public static final int BLK_ZONE_COND_EXP_OPEN = 0x3;
    public static final int BLK_ZONE_COND_CLOSED = 0x4;
    public static final int BLK_ZONE_COND_READONLY = 0xD;
    public static final int BLK_ZONE_COND_FULL = 0xE;
    public static final int BLK_ZONE_COND_OFFLINE = 0xF;
    /** In blk_zone_report.flags on return: {@code capacity} is valid. */
    public static final int BLK_ZONE_REP_CAPACITY = 1;

    /** {@code struct blk_zone}: one zone descriptor (64 bytes). */
    public static final class BlkZone {
        private BlkZone() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U64.withName("start"), U64.withName("len"), U64.withName("wp"), U8.withName("type"),
                U8.withName("cond"), U8.withName("non_seq"), U8.withName("reset"),
                MemoryLayout.sequenceLayout(4, U8).withName("resv"), U64.withName("capacity"),
                MemoryLayout.sequenceLayout(24, U8).withName("reserved"))
                .withName("blk_zone");
        public static final long START = offset(LAYOUT, "start");
        public static final long LEN = offset(LAYOUT, "len");
        public static final long WP = offset(LAYOUT, "wp");
        public static final long TYPE = offset(LAYOUT, "type");
        public static final long COND = offset(LAYOUT, "cond");
        public static final long CAPACITY = offset(LAYOUT, "capacity");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /** {@code struct blk_zone_report}: header followed by {@code nr_zones} {@link BlkZone}s. */
    public static final class BlkZoneReport {
        private BlkZoneReport() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U64.withName("sector"), U32.withName("nr_zones"), U32.withName("flags"),
                MemoryLayout.sequenceLayout(0, BlkZone.LAYOUT).withName("zones"))
                .withName("blk_zone_report");
        public static final long SECTOR = offset(LAYOUT, "sector");
        public static final long NR_ZONES = offset(LAYOUT, "nr_zones");
        public static final long FLAGS = offset(LAYOUT, "flags");
        public static final long ZONES = offset(LAYOUT, "zones");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /** {@code struct blk_zone_range}: argument of reset/open/close/finish. */
    public static final class BlkZoneRange {
        private BlkZoneRange() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U64.withName("sector"), U64.withName("nr_sectors"))
                .withName("blk_zone_range");
        public static final long SECTOR = offset(LAYOUT, "sector");
        public static final long NR_SECTORS = offset(LAYOUT, "nr_sectors");
        public static final long SIZE = LAYOUT.byteSize();
    }

    private static final int BLK = 0x12;

    public static final long BLKREPORTZONE = _IOWR(BLK, 130, BlkZoneReport.LAYOUT);
    public static final long BLKRESETZONE = _IOW(BLK, 131, BlkZoneRange.LAYOUT);
    /** Zone size in sectors (u32 *). */
    public static final long BLKGETZONESZ = _IOR(BLK, 132, U32);
    public static final long BLKGETNRZONES = _IOR(BLK, 133, U32);
    public static final long BLKOPENZONE = _IOW(BLK, 134, BlkZoneRange.LAYOUT);
    public static final long BLKCLOSEZONE = _IOW(BLK, 135, BlkZoneRange.LAYOUT);
    public static final long BLKFINISHZONE = _IOW(BLK, 136, BlkZoneRange.LAYOUT);
}
