package org.orionos.host.raid;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * md's version-1 superblock ({@code struct mdp_superblock_1}, linux/raid/md_p.h), as orion
 * writes it on every member: format 1.2, i.e. at 4 KiB (8 sectors) from the start of the member.
 *
 * <p>Wire format: little-endian, 256 fixed bytes then {@code max_dev} 16-bit {@code dev_roles}
 * entries indexed by {@code dev_number}: a role below raid_disks is the member's slot, 0xffff a
 * spare, 0xfffe faulty, 0xfffd a journal. Times are seconds in the low 40 bits and microseconds
 * in the high 24 bits. {@code size}, {@code data_offset}, {@code data_size}, {@code super_offset},
 * {@code recovery_offset}, {@code resync_offset} are 512-byte sectors; {@code chunksize} too;
 * {@code bitmap_offset} is a signed sector offset from the superblock. {@code sb_csum} is md's
 * {@code calc_sb_1_csum}: the 64-bit sum of the little-endian 32-bit words of the first
 * {@code 256 + 2*max_dev} bytes (with sb_csum taken as 0, a final 16-bit half word added as is),
 * folded once: {@code (sum & 0xffffffff) + (sum >>> 32)}, truncated to 32 bits.
 *
 * <p>A mutable value: decode from bytes, change fields, encode (which computes the checksum).
 */
public final class MdSuperblock1 {
    /** MD_SB_MAGIC. */
    public static final int MD_SB_MAGIC = 0xa92b4efc;
    /** Superblock location of format 1.2, in sectors from the start of the member. */
    public static final long SUPER_OFFSET_1_2 = 8;
    /** Bytes md reads and writes for a v1 superblock (MAX_SB_SIZE); dev_roles must fit in it. */
    public static final int MAX_SB_SIZE = 4096;
    /** Most dev_roles entries that fit: (4096 - 256) / 2. */
    public static final int MAX_DEVS = (MAX_SB_SIZE - 256) / 2;

    public static final int MD_FEATURE_BITMAP_OFFSET = 1;
    public static final int MD_FEATURE_RECOVERY_OFFSET = 2;
    public static final int MD_FEATURE_RESHAPE_ACTIVE = 4;
    public static final int MD_FEATURE_BAD_BLOCKS = 8;
    public static final int MD_FEATURE_REPLACEMENT = 16;
    public static final int MD_FEATURE_RESHAPE_BACKWARDS = 32;
    public static final int MD_FEATURE_NEW_OFFSET = 64;
    public static final int MD_FEATURE_RECOVERY_BITMAP = 128;
    public static final int MD_FEATURE_CLUSTERED = 256;
    public static final int MD_FEATURE_JOURNAL = 512;
    public static final int MD_FEATURE_PPL = 1024;
    public static final int MD_FEATURE_MULTIPLE_PPLS = 2048;
    public static final int MD_FEATURE_RAID0_LAYOUT = 4096;
    /** Every feature bit md defines (MD_FEATURE_ALL). */
    public static final int MD_FEATURE_ALL = 0x1fff;
    /** The features orion's RAID code honours today; others are refused at decode by default. */
    public static final int ORION_FEATURES = MD_FEATURE_BITMAP_OFFSET | MD_FEATURE_RECOVERY_OFFSET
            | MD_FEATURE_RECOVERY_BITMAP | MD_FEATURE_RAID0_LAYOUT | MD_FEATURE_RESHAPE_ACTIVE | MD_FEATURE_NEW_OFFSET;
    private static final String[] FEATURE_NAMES = {"bitmap-offset", "recovery-offset", "reshape-active",
        "bad-blocks", "replacement", "reshape-backwards", "new-offset", "recovery-bitmap", "clustered",
        "journal", "ppl", "multiple-ppls", "raid0-layout"};

    /** dev_roles value of a spare. */
    public static final int MD_DISK_ROLE_SPARE = 0xffff;
    /** dev_roles value of a faulty member. */
    public static final int MD_DISK_ROLE_FAULTY = 0xfffe;
    /** dev_roles value of a journal device. */
    public static final int MD_DISK_ROLE_JOURNAL = 0xfffd;
    /** resync_offset of a clean array (md's MaxSector). */
    public static final long MAX_SECTOR = -1L;

    private static final ValueLayout.OfInt LE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfByte U8 = ValueLayout.JAVA_BYTE;

    /** {@code struct mdp_superblock_1} without the flexible dev_roles array (256 bytes). */
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            LE32.withName("magic"), LE32.withName("major_version"), LE32.withName("feature_map"), LE32.withName("pad0"),
            MemoryLayout.sequenceLayout(16, U8).withName("set_uuid"),
            MemoryLayout.sequenceLayout(32, U8).withName("set_name"),
            LE64.withName("ctime"), LE32.withName("level"), LE32.withName("layout"), LE64.withName("size"),
            LE32.withName("chunksize"), LE32.withName("raid_disks"), LE32.withName("bitmap_offset"),
            LE32.withName("new_level"), LE64.withName("reshape_position"), LE32.withName("delta_disks"),
            LE32.withName("new_layout"), LE32.withName("new_chunk"), LE32.withName("new_offset"),
            LE64.withName("data_offset"), LE64.withName("data_size"), LE64.withName("super_offset"),
            LE64.withName("recovery_offset"), LE32.withName("dev_number"), LE32.withName("cnt_corrected_read"),
            MemoryLayout.sequenceLayout(16, U8).withName("device_uuid"),
            U8.withName("devflags"), U8.withName("bblog_shift"), LE16.withName("bblog_size"),
            LE32.withName("bblog_offset"),
            LE64.withName("utime"), LE64.withName("events"), LE64.withName("resync_offset"),
            LE32.withName("sb_csum"), LE32.withName("max_dev"),
            MemoryLayout.sequenceLayout(32, U8).withName("pad3")).withName("mdp_superblock_1");

    private static long off(String f) {
        return LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement(f));
    }

    static final long MAGIC = off("magic");
    static final long MAJOR_VERSION = off("major_version");
    static final long FEATURE_MAP = off("feature_map");
    static final long PAD0 = off("pad0");
    static final long SET_UUID = off("set_uuid");
    static final long SET_NAME = off("set_name");
    static final long CTIME = off("ctime");
    static final long LEVEL = off("level");
    static final long LAYOUT_OFF = off("layout");
    static final long SIZE = off("size");
    static final long CHUNKSIZE = off("chunksize");
    static final long RAID_DISKS = off("raid_disks");
    static final long BITMAP_OFFSET = off("bitmap_offset");
    static final long NEW_LEVEL = off("new_level");
    static final long RESHAPE_POSITION = off("reshape_position");
    static final long DELTA_DISKS = off("delta_disks");
    static final long NEW_LAYOUT = off("new_layout");
    static final long NEW_CHUNK = off("new_chunk");
    static final long NEW_OFFSET = off("new_offset");
    static final long DATA_OFFSET = off("data_offset");
    static final long DATA_SIZE = off("data_size");
    static final long SUPER_OFFSET = off("super_offset");
    static final long RECOVERY_OFFSET = off("recovery_offset");
    static final long DEV_NUMBER = off("dev_number");
    static final long CNT_CORRECTED_READ = off("cnt_corrected_read");
    static final long DEVICE_UUID = off("device_uuid");
    static final long DEVFLAGS = off("devflags");
    static final long BBLOG_SHIFT = off("bblog_shift");
    static final long BBLOG_SIZE = off("bblog_size");
    static final long BBLOG_OFFSET = off("bblog_offset");
    static final long UTIME = off("utime");
    static final long EVENTS = off("events");
    static final long RESYNC_OFFSET = off("resync_offset");
    static final long SB_CSUM = off("sb_csum");
    static final long MAX_DEV = off("max_dev");
    static final long PAD3 = off("pad3");
    static final long DEV_ROLES = LAYOUT.byteSize();

    public int featureMap;
    public byte[] setUuid = new byte[16];
    /** Up to 32 bytes; md's convention is {@code homehost:name}. */
    public String setName = "";
    /** Raw md time: seconds | microseconds << 40. */
    public long ctime;
    public int level;
    public int layout;
    /** Sectors of each member's data area the array uses. */
    public long size;
    public int chunksize;
    public int raidDisks;
    /** Signed sectors from the superblock to the bitmap (valid with MD_FEATURE_BITMAP_OFFSET). */
    public int bitmapOffset;
    public int newLevel;
    public long reshapePosition;
    public int deltaDisks;
    public int newLayout;
    public int newChunk;
    public int newOffset;
    public long dataOffset;
    public long dataSize;
    public long superOffset = SUPER_OFFSET_1_2;
    public long recoveryOffset;
    public int devNumber;
    public int cntCorrectedRead;
    public byte[] deviceUuid = new byte[16];
    public int devflags;
    public int bblogShift;
    public int bblogSize;
    public int bblogOffset;
    public long utime;
    public long events;
    public long resyncOffset = MAX_SECTOR;
    /** dev_roles[0..max_dev): role per dev_number. */
    public int[] devRoles = new int[0];

    /**
     * md's time encoding of {@code t}: seconds only. The format allows microseconds in the top 24
     * bits, but neither the kernel nor mdadm writes them, and the kernel clamps the whole field to
     * 32 bits for GET_ARRAY_INFO, so with microseconds mdadm --detail shows the year 2106.
     */
    public static long mdTime(Instant t) {
        return t.getEpochSecond() & ((1L << 40) - 1);
    }

    /** Seconds part of an md time. */
    public static long mdTimeSeconds(long mdTime) {
        return mdTime & ((1L << 40) - 1);
    }

    /** Bytes this superblock occupies: 256 + 2 * max_dev. */
    public int byteSize() {
        return (int) DEV_ROLES + 2 * devRoles.length;
    }

    /** md's calc_sb_1_csum over an encoded superblock in {@code buf} (its sb_csum field is ignored). */
    public static int checksum(MemorySegment buf) {
        int maxDev = buf.get(LE32, MAX_DEV);
        long size = DEV_ROLES + 2L * Integer.toUnsignedLong(maxDev);
        long sum = 0;
        long o = 0;
        for (; size >= 4; size -= 4, o += 4) {
            if (o != SB_CSUM) {
                sum += Integer.toUnsignedLong(buf.get(LE32, o));
            }
        }
        if (size == 2) {
            sum += Short.toUnsignedLong(buf.get(LE16, o));
        }
        return (int) ((sum & 0xffffffffL) + (sum >>> 32));
    }

    /** Writes this superblock into {@code buf} (at least {@link #byteSize()} bytes; the rest up to 4 KiB is zeroed). */
    public void encode(MemorySegment buf) {
        if (devRoles.length > MAX_DEVS) {
            throw new IllegalArgumentException(devRoles.length + " dev_roles entries; md allows " + MAX_DEVS);
        }
        byte[] name = setName.getBytes(StandardCharsets.UTF_8);
        if (name.length > 32) {
            throw new IllegalArgumentException("set_name \"" + setName + "\" is longer than md's 32 bytes");
        }
        buf.asSlice(0, Math.min(buf.byteSize(), MAX_SB_SIZE)).fill((byte) 0);
        buf.set(LE32, MAGIC, MD_SB_MAGIC);
        buf.set(LE32, MAJOR_VERSION, 1);
        buf.set(LE32, FEATURE_MAP, featureMap);
        MemorySegment.copy(setUuid, 0, buf, U8, SET_UUID, 16);
        MemorySegment.copy(name, 0, buf, U8, SET_NAME, name.length);
        buf.set(LE64, CTIME, ctime);
        buf.set(LE32, LEVEL, level);
        buf.set(LE32, LAYOUT_OFF, layout);
        buf.set(LE64, SIZE, size);
        buf.set(LE32, CHUNKSIZE, chunksize);
        buf.set(LE32, RAID_DISKS, raidDisks);
        buf.set(LE32, BITMAP_OFFSET, bitmapOffset);
        buf.set(LE32, NEW_LEVEL, newLevel);
        buf.set(LE64, RESHAPE_POSITION, reshapePosition);
        buf.set(LE32, DELTA_DISKS, deltaDisks);
        buf.set(LE32, NEW_LAYOUT, newLayout);
        buf.set(LE32, NEW_CHUNK, newChunk);
        buf.set(LE32, NEW_OFFSET, newOffset);
        buf.set(LE64, DATA_OFFSET, dataOffset);
        buf.set(LE64, DATA_SIZE, dataSize);
        buf.set(LE64, SUPER_OFFSET, superOffset);
        buf.set(LE64, RECOVERY_OFFSET, recoveryOffset);
        buf.set(LE32, DEV_NUMBER, devNumber);
        buf.set(LE32, CNT_CORRECTED_READ, cntCorrectedRead);
        MemorySegment.copy(deviceUuid, 0, buf, U8, DEVICE_UUID, 16);
        buf.set(U8, DEVFLAGS, (byte) devflags);
        buf.set(U8, BBLOG_SHIFT, (byte) bblogShift);
        buf.set(LE16, BBLOG_SIZE, (short) bblogSize);
        buf.set(LE32, BBLOG_OFFSET, bblogOffset);
        buf.set(LE64, UTIME, utime);
        buf.set(LE64, EVENTS, events);
        buf.set(LE64, RESYNC_OFFSET, resyncOffset);
        buf.set(LE32, MAX_DEV, devRoles.length);
        for (int i = 0; i < devRoles.length; i++) {
            buf.set(LE16, DEV_ROLES + 2L * i, (short) devRoles[i]);
        }
        buf.set(LE32, SB_CSUM, checksum(buf));
    }

    /** {@link #decode(MemorySegment, String, int)} accepting only {@link #ORION_FEATURES}. */
    public static MdSuperblock1 decode(MemorySegment buf, String where) {
        return decode(buf, where, ORION_FEATURES);
    }

    /**
     * Reads and validates the superblock in {@code buf} (the 4 KiB read from {@link #SUPER_OFFSET_1_2}).
     * @param where    the member, for messages
     * @param features feature bits the caller can honour; others are refused by name
     * @throws ErrnoException EINVAL naming what is wrong: no md superblock, bad version, bad
     *         checksum, bad super_offset, non-zero reserved fields, unsupported features
     */
    public static MdSuperblock1 decode(MemorySegment buf, String where, int features) {
        if (buf.byteSize() < DEV_ROLES) {
            throw bad(where, buf.byteSize() + " bytes is shorter than an md v1 superblock", null);
        }
        int magic = buf.get(LE32, MAGIC);
        if (magic != MD_SB_MAGIC) {
            throw bad(where, "no md superblock at 4 KiB (magic 0x" + Integer.toHexString(magic) + ", expected 0xa92b4efc)",
                    "the member was not created as an md 1.2 array member, or is zeroed");
        }
        int major = buf.get(LE32, MAJOR_VERSION);
        if (major != 1) {
            throw bad(where, "md superblock major_version " + major, "only md metadata 1.x is supported");
        }
        int maxDev = buf.get(LE32, MAX_DEV);
        if (maxDev < 0 || maxDev > MAX_DEVS || DEV_ROLES + 2L * maxDev > buf.byteSize()) {
            throw bad(where, "md superblock max_dev " + Integer.toUnsignedString(maxDev) + " exceeds " + MAX_DEVS, null);
        }
        int stored = buf.get(LE32, SB_CSUM);
        int computed = checksum(buf);
        if (stored != computed) {
            throw bad(where, String.format("md superblock checksum mismatch: stored %08x, computed %08x", stored, computed),
                    "the superblock is damaged; restore it from another member's copy or re-create the array");
        }
        MdSuperblock1 sb = new MdSuperblock1();
        sb.featureMap = buf.get(LE32, FEATURE_MAP);
        if ((sb.featureMap & ~MD_FEATURE_ALL) != 0) {
            throw bad(where, "md superblock feature bits 0x" + Integer.toHexString(sb.featureMap & ~MD_FEATURE_ALL)
                    + " unknown to md", "the superblock is from a newer md or damaged");
        }
        int unsupported = sb.featureMap & ~features;
        if (unsupported != 0) {
            throw new ErrnoException(Errno.EOPNOTSUPP, "read md superblock", where,
                    "the array uses md features orion does not support: " + featureNames(unsupported)
                            + "; finish or undo them with mdadm first");
        }
        if (buf.get(LE32, PAD0) != 0 || !allZero(buf, PAD3, 32)) {
            throw bad(where, "md superblock has non-zero reserved fields", "the superblock is damaged or not md's");
        }
        sb.setUuid = buf.asSlice(SET_UUID, 16).toArray(U8);
        byte[] name = buf.asSlice(SET_NAME, 32).toArray(U8);
        int len = 0;
        while (len < 32 && name[len] != 0) {
            len++;
        }
        sb.setName = new String(name, 0, len, StandardCharsets.UTF_8);
        sb.ctime = buf.get(LE64, CTIME);
        sb.level = buf.get(LE32, LEVEL);
        sb.layout = buf.get(LE32, LAYOUT_OFF);
        sb.size = buf.get(LE64, SIZE);
        sb.chunksize = buf.get(LE32, CHUNKSIZE);
        sb.raidDisks = buf.get(LE32, RAID_DISKS);
        sb.bitmapOffset = buf.get(LE32, BITMAP_OFFSET);
        sb.newLevel = buf.get(LE32, NEW_LEVEL);
        sb.reshapePosition = buf.get(LE64, RESHAPE_POSITION);
        sb.deltaDisks = buf.get(LE32, DELTA_DISKS);
        sb.newLayout = buf.get(LE32, NEW_LAYOUT);
        sb.newChunk = buf.get(LE32, NEW_CHUNK);
        sb.newOffset = buf.get(LE32, NEW_OFFSET);
        sb.dataOffset = buf.get(LE64, DATA_OFFSET);
        sb.dataSize = buf.get(LE64, DATA_SIZE);
        sb.superOffset = buf.get(LE64, SUPER_OFFSET);
        sb.recoveryOffset = buf.get(LE64, RECOVERY_OFFSET);
        sb.devNumber = buf.get(LE32, DEV_NUMBER);
        sb.cntCorrectedRead = buf.get(LE32, CNT_CORRECTED_READ);
        sb.deviceUuid = buf.asSlice(DEVICE_UUID, 16).toArray(U8);
        sb.devflags = buf.get(U8, DEVFLAGS) & 0xff;
        sb.bblogShift = buf.get(U8, BBLOG_SHIFT) & 0xff;
        sb.bblogSize = buf.get(LE16, BBLOG_SIZE) & 0xffff;
        sb.bblogOffset = buf.get(LE32, BBLOG_OFFSET);
        sb.utime = buf.get(LE64, UTIME);
        sb.events = buf.get(LE64, EVENTS);
        sb.resyncOffset = buf.get(LE64, RESYNC_OFFSET);
        sb.devRoles = new int[maxDev];
        for (int i = 0; i < maxDev; i++) {
            sb.devRoles[i] = buf.get(LE16, DEV_ROLES + 2L * i) & 0xffff;
        }
        if (sb.superOffset != SUPER_OFFSET_1_2) {
            throw bad(where, "md superblock super_offset " + sb.superOffset + " where it was read from sector "
                    + SUPER_OFFSET_1_2, "only metadata 1.2 (superblock at 4 KiB) is supported");
        }
        if (sb.devNumber < 0 || sb.devNumber >= maxDev) {
            throw bad(where, "md superblock dev_number " + sb.devNumber + " outside dev_roles[" + maxDev + "]", null);
        }
        return sb;
    }

    /** This member's role: its slot, or one of the MD_DISK_ROLE_* values. */
    public int role() {
        return devRoles[devNumber];
    }

    /** Names of the feature bits set in {@code bits}. */
    public static String featureNames(int bits) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            if ((bits & (1 << i)) != 0) {
                names.add(i < FEATURE_NAMES.length ? FEATURE_NAMES[i] : "bit " + i);
            }
        }
        return String.join(", ", names);
    }

    private static boolean allZero(MemorySegment buf, long off, int len) {
        for (int i = 0; i < len; i++) {
            if (buf.get(U8, off + i) != 0) {
                return false;
            }
        }
        return true;
    }

    private static ErrnoException bad(String where, String what, String hint) {
        return new ErrnoException(Errno.EINVAL, "read md superblock (" + what + ")", where,
                hint != null ? hint : "the member's md metadata is invalid");
    }

    @Override
    public String toString() {
        return "mdp_superblock_1{name=" + setName + " level=" + level + " layout=" + layout + " disks=" + raidDisks
                + " chunk=" + chunksize + " size=" + size + " dev=" + devNumber + " events=" + events
                + " roles=" + Arrays.toString(devRoles) + "}";
    }
}
