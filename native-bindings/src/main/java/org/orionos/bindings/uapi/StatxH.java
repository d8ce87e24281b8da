package org.orionos.bindings.uapi;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import org.orionos.bindings.CHeader;

import static org.orionos.bindings.Layouts.U16;
import static org.orionos.bindings.Layouts.U32;
import static org.orionos.bindings.Layouts.U64;
import static org.orionos.bindings.Layouts.offset;
import static org.orionos.bindings.Layouts.pad;

/** linux/stat.h: {@code struct statx}, its mask bits, and the file-type bits of {@code stx_mode}. */
@CHeader({"linux/stat.h", "sys/stat.h"})
public final class StatxH {
    private StatxH() {
    }

    public static final int STATX_TYPE = 0x1;
    public static final int STATX_MODE = 0x2;
    public static final int STATX_SIZE = 0x200;
    public static final int STATX_BLOCKS = 0x400;
    public static final int STATX_BASIC_STATS = 0x7ff;
    public static final int STATX_DIOALIGN = 0x2000;

    public static final int S_IFMT = 0170000;
    public static final int S_IFDIR = 0040000;
    public static final int S_IFCHR = 0020000;
    public static final int S_IFBLK = 0060000;
    public static final int S_IFREG = 0100000;

    /** {@code struct statx_timestamp}. */
    public static final class StatxTimestamp {
        private StatxTimestamp() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U64.withName("tv_sec"), U32.withName("tv_nsec"), U32.withName("__reserved"))
                .withName("statx_timestamp");
    }

    /** {@code struct statx}: 256 bytes. */
    public static final class Statx {
        private Statx() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U32.withName("stx_mask"), U32.withName("stx_blksize"), U64.withName("stx_attributes"),
                U32.withName("stx_nlink"), U32.withName("stx_uid"), U32.withName("stx_gid"),
                U16.withName("stx_mode"), pad(2),
                U64.withName("stx_ino"), U64.withName("stx_size"), U64.withName("stx_blocks"),
                U64.withName("stx_attributes_mask"),
                StatxTimestamp.LAYOUT.withName("stx_atime"), StatxTimestamp.LAYOUT.withName("stx_btime"),
                StatxTimestamp.LAYOUT.withName("stx_ctime"), StatxTimestamp.LAYOUT.withName("stx_mtime"),
                U32.withName("stx_rdev_major"), U32.withName("stx_rdev_minor"),
                U32.withName("stx_dev_major"), U32.withName("stx_dev_minor"),
                U64.withName("stx_mnt_id"), U32.withName("stx_dio_mem_align"), U32.withName("stx_dio_offset_align"),
                pad(96))
                .withName("statx");
        public static final long STX_MASK = offset(LAYOUT, "stx_mask");
        public static final long STX_BLKSIZE = offset(LAYOUT, "stx_blksize");
        public static final long STX_MODE = offset(LAYOUT, "stx_mode");
        public static final long STX_SIZE = offset(LAYOUT, "stx_size");
        public static final long STX_BLOCKS = offset(LAYOUT, "stx_blocks");
        public static final long STX_RDEV_MAJOR = offset(LAYOUT, "stx_rdev_major");
        public static final long STX_RDEV_MINOR = offset(LAYOUT, "stx_rdev_minor");
        public static final long STX_DIO_MEM_ALIGN = offset(LAYOUT, "stx_dio_mem_align");
        public static final long STX_DIO_OFFSET_ALIGN = offset(LAYOUT, "stx_dio_offset_align");
        public static final long SIZE = LAYOUT.byteSize();
    }
}
