package org.orionos.host.raid;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * md's write-intent bitmap ({@code bitmap_super_t}, drivers/md/md-bitmap.h) as stored inside a
 * member ("internal bitmap"): at {@code bitmap_offset} sectors from the v1 superblock, a 256-byte
 * little-endian header followed immediately by the bits.
 *
 * <p>Bit {@code k} covers region {@code k} of md's resync address space: sectors
 * {@code [k * chunk, (k+1) * chunk)} with {@code chunk = chunksize / 512}. That space is each
 * member's data area for RAID1/4/5/6 and the array for RAID10 ({@code sync_size} sectors in all).
 * Bit {@code k} lives in byte {@code 256 + k / 8} (counted from the header's start) at mask
 * {@code 1 << (k % 8)} (md's little-endian bit order); 1 means "may be out of sync".
 */
public final class MdBitmap {
    /** BITMAP_MAGIC ("bitm" little-endian). */
    public static final int BITMAP_MAGIC = 0x6d746962;
    /** BITMAP_MAJOR_HI: the version md writes for non-clustered bitmaps. */
    public static final int BITMAP_MAJOR_HI = 4;
    /** BITMAP_MAJOR_LO: oldest version md still reads. */
    public static final int BITMAP_MAJOR_LO = 3;
    /** Bytes of the header before the bits. */
    public static final int HEADER_BYTES = 256;
    /** state bit: the bitmap is stale and must be ignored/rebuilt (BITMAP_STALE). */
    public static final int BITMAP_STALE = 1 << 1;
    /** state bit: a write to the bitmap failed (BITMAP_WRITE_ERROR). */
    public static final int BITMAP_WRITE_ERROR = 1 << 2;
    /** state bit: bits are in host order (BITMAP_HOSTENDIAN); orion refuses such bitmaps. */
    public static final int BITMAP_HOSTENDIAN = 1 << 15;
    /** md's default flush delay for clearing bits, seconds. */
    public static final int DEFAULT_DAEMON_SLEEP = 5;

    private static final ValueLayout.OfInt LE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfByte U8 = ValueLayout.JAVA_BYTE;

    /** {@code bitmap_super_t}: 256 bytes. */
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            LE32.withName("magic"), LE32.withName("version"),
            MemoryLayout.sequenceLayout(16, U8).withName("uuid"),
            LE64.withName("events"), LE64.withName("events_cleared"), LE64.withName("sync_size"),
            LE32.withName("state"), LE32.withName("chunksize"), LE32.withName("daemon_sleep"),
            LE32.withName("write_behind"), LE32.withName("sectors_reserved"), LE32.withName("nodes"),
            MemoryLayout.sequenceLayout(64, U8).withName("cluster_name"),
            MemoryLayout.sequenceLayout(120, U8).withName("pad")).withName("bitmap_super_s");

    private static long off(String f) {
        return LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement(f));
    }

    static final long MAGIC = off("magic");
    static final long VERSION = off("version");
    static final long UUID = off("uuid");
    static final long EVENTS = off("events");
    static final long EVENTS_CLEARED = off("events_cleared");
    static final long SYNC_SIZE = off("sync_size");
    static final long STATE = off("state");
    static final long CHUNKSIZE = off("chunksize");
    static final long DAEMON_SLEEP = off("daemon_sleep");
    static final long WRITE_BEHIND = off("write_behind");
    static final long SECTORS_RESERVED = off("sectors_reserved");
    static final long NODES = off("nodes");
    static final long CLUSTER_NAME = off("cluster_name");

    public int version = BITMAP_MAJOR_HI;
    /** The array's set_uuid. */
    public byte[] uuid = new byte[16];
    /** Superblock events when the bitmap was last written. */
    public long events;
    /** Events up to which cleared bits are trustworthy. */
    public long eventsCleared;
    /** Sectors the bitmap covers. */
    public long syncSize;
    public int state;
    /** Bytes per bit (a power of two, at least 512). */
    public int chunksize;
    public int daemonSleep = DEFAULT_DAEMON_SLEEP;
    public int writeBehind;
    /** Sectors reserved for header+bits (0 = not recorded). */
    public int sectorsReserved;
    public int nodes;
    public String clusterName = "";

    /** Number of bits (regions): ceil(sync_size / chunk sectors). */
    public long bits() {
        long chunkSectors = chunksize / 512;
        return (syncSize + chunkSectors - 1) / chunkSectors;
    }

    /** Bytes of header plus bits. */
    public long byteSize() {
        return HEADER_BYTES + (bits() + 7) / 8;
    }

    /** The region (bit number) holding resync-space sector {@code sector}. */
    public long bitOf(long sector) {
        return sector / (chunksize / 512);
    }

    /** Writes the header into {@code buf} (the bits after it are untouched). */
    public void encode(MemorySegment buf) {
        byte[] cn = clusterName.getBytes(StandardCharsets.UTF_8);
        if (cn.length > 64) {
            throw new IllegalArgumentException("cluster_name longer than 64 bytes");
        }
        if (Integer.bitCount(chunksize) != 1 || chunksize < 512) {
            throw new IllegalArgumentException("bitmap chunksize " + chunksize + " is not a power of two >= 512");
        }
        buf.asSlice(0, HEADER_BYTES).fill((byte) 0);
        buf.set(LE32, MAGIC, BITMAP_MAGIC);
        buf.set(LE32, VERSION, version);
        MemorySegment.copy(uuid, 0, buf, U8, UUID, 16);
        buf.set(LE64, EVENTS, events);
        buf.set(LE64, EVENTS_CLEARED, eventsCleared);
        buf.set(LE64, SYNC_SIZE, syncSize);
        buf.set(LE32, STATE, state);
        buf.set(LE32, CHUNKSIZE, chunksize);
        buf.set(LE32, DAEMON_SLEEP, daemonSleep);
        buf.set(LE32, WRITE_BEHIND, writeBehind);
        buf.set(LE32, SECTORS_RESERVED, sectorsReserved);
        buf.set(LE32, NODES, nodes);
        MemorySegment.copy(cn, 0, buf, U8, CLUSTER_NAME, cn.length);
    }

    /**
     * Reads and validates a bitmap header.
     * @throws ErrnoException EINVAL for a bad magic, an unknown version, host-endian bits, or a bad chunk size
     */
    public static MdBitmap decode(MemorySegment buf, String where) {
        int magic = buf.get(LE32, MAGIC);
        if (magic != BITMAP_MAGIC) {
            throw bad(where, "no md bitmap (magic 0x" + Integer.toHexString(magic) + ", expected 0x6d746962)");
        }
        MdBitmap b = new MdBitmap();
        b.version = buf.get(LE32, VERSION);
        if (b.version < BITMAP_MAJOR_LO || b.version > BITMAP_MAJOR_HI) {
            throw bad(where, "md bitmap version " + b.version + " (orion reads " + BITMAP_MAJOR_LO + ".."
                    + BITMAP_MAJOR_HI + "; 5 is clustered md)");
        }
        b.uuid = buf.asSlice(UUID, 16).toArray(U8);
        b.events = buf.get(LE64, EVENTS);
        b.eventsCleared = buf.get(LE64, EVENTS_CLEARED);
        b.syncSize = buf.get(LE64, SYNC_SIZE);
        b.state = buf.get(LE32, STATE);
        b.chunksize = buf.get(LE32, CHUNKSIZE);
        b.daemonSleep = buf.get(LE32, DAEMON_SLEEP);
        b.writeBehind = buf.get(LE32, WRITE_BEHIND);
        b.sectorsReserved = buf.get(LE32, SECTORS_RESERVED);
        b.nodes = buf.get(LE32, NODES);
        byte[] cn = buf.asSlice(CLUSTER_NAME, 64).toArray(U8);
        int len = 0;
        while (len < 64 && cn[len] != 0) {
            len++;
        }
        b.clusterName = new String(cn, 0, len, StandardCharsets.UTF_8);
        if ((b.state & BITMAP_HOSTENDIAN) != 0) {
            throw bad(where, "md bitmap with host-endian bits");
        }
        if (Integer.bitCount(b.chunksize) != 1 || b.chunksize < 512) {
            throw bad(where, "md bitmap chunksize " + Integer.toUnsignedString(b.chunksize) + " is not a power of two >= 512");
        }
        return b;
    }

    /** Whether bit {@code k} is set in {@code bitmap} (header at offset 0). */
    public static boolean isDirty(MemorySegment bitmap, long k) {
        return (bitmap.get(U8, HEADER_BYTES + (k >>> 3)) & (1 << (k & 7))) != 0;
    }

    /** Sets or clears bit {@code k} in {@code bitmap} (header at offset 0). */
    public static void setDirty(MemorySegment bitmap, long k, boolean dirty) {
        long at = HEADER_BYTES + (k >>> 3);
        int v = bitmap.get(U8, at);
        v = dirty ? v | (1 << (k & 7)) : v & ~(1 << (k & 7));
        bitmap.set(U8, at, (byte) v);
    }

    private static ErrnoException bad(String where, String what) {
        return new ErrnoException(Errno.EINVAL, "read md bitmap (" + what + ")", where,
                "the member's write-intent bitmap is invalid; it can be removed and re-added with mdadm --grow --bitmap");
    }
}
