package org.orionos.host.lvm.metadata;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;

/**
 * The 512-byte header at the start of each metadata area ({@code struct mda_header}),
 * little-endian:
 * <pre>
 *   0  checksum_xl  u32  LVM2 CRC of bytes 4..511
 *   4  magic[16]    " LVM2 x[5A%r0N*&gt;"
 *  20  version      u32  1
 *  24  start        u64  byte offset of this area on the device
 *  32  size         u64  bytes in the area, header included
 *  40  raw_locns[]  slot 0: committed metadata; slot 1: precommitted; list ends with a zero entry
 * </pre>
 * The rest of the area is a circular buffer of text metadata copies (see {@link MetadataArea}).
 */
public record MdaHeader(long start, long size, RawLocation committed, RawLocation precommitted) {

    public static final int SIZE = 512;
    public static final String MAGIC = " LVM2 x[5A%r0N*>";
    public static final int VERSION = 1;
    static final int RAW_LOCNS = 40;

    /** The header of a fresh area with no metadata. */
    public static MdaHeader empty(long start, long size) {
        return new MdaHeader(start, size, RawLocation.NONE, RawLocation.NONE);
    }

    public MdaHeader withCommitted(RawLocation slot0, RawLocation slot1) {
        return new MdaHeader(start, size, slot0, slot1);
    }

    /** The 512-byte sector with its checksum. */
    public ByteBuffer encode() {
        ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.position(4);
        b.put(MAGIC.getBytes(StandardCharsets.US_ASCII));
        b.putInt(VERSION).putLong(start).putLong(size);
        put(b, committed);
        put(b, precommitted);
        b.putInt(0, Lvm2Crc.update(Lvm2Crc.INITIAL, b.array(), 4, SIZE - 4));
        return b.clear();
    }

    private static void put(ByteBuffer b, RawLocation r) {
        b.putLong(r.offset()).putLong(r.size()).putInt(r.checksum()).putInt(r.flags());
    }

    /**
     * Decodes and checks a header read from {@code expectedStart}.
     *
     * @param where device and area, for error messages
     * @throws ErrnoException EBADMSG naming the area when checksum, magic, version or start is wrong
     */
    public static MdaHeader decode(ByteBuffer sector, long expectedStart, String where) {
        ByteBuffer b = sector.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        byte[] raw = new byte[SIZE];
        b.get(0, raw);
        int stored = b.getInt(0);
        int computed = Lvm2Crc.update(Lvm2Crc.INITIAL, raw, 4, SIZE - 4);
        if (stored != computed) {
            throw corrupt(where, String.format("metadata area header checksum 0x%08x does not match its contents "
                    + "(0x%08x)", stored, computed));
        }
        String magic = new String(raw, 4, 16, StandardCharsets.ISO_8859_1);
        if (!MAGIC.equals(magic)) {
            throw corrupt(where, "wrong magic in metadata area header");
        }
        int version = b.getInt(20);
        if (version != VERSION) {
            throw corrupt(where, "metadata area header version " + version + " is not " + VERSION);
        }
        long start = b.getLong(24);
        if (start != expectedStart) {
            throw corrupt(where, "metadata area header says it starts at " + start);
        }
        long size = b.getLong(32);
        RawLocation slot0 = get(b, RAW_LOCNS);
        RawLocation slot1 = slot0.isEmpty() ? RawLocation.NONE : get(b, RAW_LOCNS + RawLocation.BYTES);
        return new MdaHeader(start, size, slot0, slot1);
    }

    private static RawLocation get(ByteBuffer b, int at) {
        return new RawLocation(b.getLong(at), b.getLong(at + 8), b.getInt(at + 16), b.getInt(at + 20));
    }

    static ErrnoException corrupt(String where, String what) {
        return new ErrnoException(Errno.EBADMSG, "read LVM2 metadata area", where,
                what + "; this copy is unusable: repair with vgck --updatemetadata or vgcfgrestore");
    }
}
