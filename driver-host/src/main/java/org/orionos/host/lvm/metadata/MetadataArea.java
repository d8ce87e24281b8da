package org.orionos.host.lvm.metadata;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;

/**
 * One metadata area on one PV: the {@link MdaHeader} and the circular buffer of text copies after
 * it. Placement follows lvm2 so that either tool can append after the other:
 * <ul>
 * <li>the first copy goes right after the header (offset 512);</li>
 * <li>a new copy starts after the last byte of the committed one, at the next 512-byte boundary
 *     strictly past it, or back at 512 when that is within 512 bytes of the end;</li>
 * <li>a copy that passes the end of the area continues at offset 512 (it wraps);</li>
 * <li>one copy may use at most {@code (size - 512) / 2 - 512} bytes, so the committed copy and
 *     the new one never overlap, which is what makes a commit atomic.</li>
 * </ul>
 */
public final class MetadataArea {

    /** Text copies start on this boundary. */
    public static final int ALIGNMENT = 512;

    private final MetadataIo io;
    private final DiskLocation location;
    private final int index;

    /**
     * @param index 1-based number of the area on its PV (1 at the start, 2 at the end), for messages
     */
    public MetadataArea(MetadataIo io, DiskLocation location, int index) {
        this.io = io;
        this.location = location;
        this.index = index;
    }

    public MetadataIo io() {
        return io;
    }

    public DiskLocation location() {
        return location;
    }

    public int index() {
        return index;
    }

    /** e.g. {@code /dev/loop0 metadata area 1 (offset 4096)}. */
    public String describe() {
        return io.name() + " metadata area " + index + " (offset " + location.offset() + ")";
    }

    /** Reads and checks the header; throws EBADMSG naming this area when it is damaged. */
    public MdaHeader readHeader() {
        ByteBuffer b = ByteBuffer.allocate(MdaHeader.SIZE);
        io.read(location.offset(), b);
        MdaHeader h = MdaHeader.decode(b.flip(), location.offset(), describe());
        if (h.size() != location.size()) {
            throw MdaHeader.corrupt(describe(), "metadata area header says size " + h.size()
                    + " but the PV label says " + location.size());
        }
        return h;
    }

    public void writeHeader(MdaHeader header) {
        io.write(location.offset(), header.encode());
    }

    /** The largest text copy (NUL included) this area can hold. */
    public long maxTextSize() {
        return (location.size() - MdaHeader.SIZE) / 2 - ALIGNMENT;
    }

    /**
     * Reads the copy {@code r} points at, joining the wrapped part, and checks its checksum.
     *
     * @return the text without its terminating NUL
     */
    public String readText(RawLocation r) {
        long areaSize = location.size();
        if (r.offset() < MdaHeader.SIZE || r.offset() >= areaSize || r.size() <= 0
                || r.size() > areaSize - MdaHeader.SIZE || r.size() > Integer.MAX_VALUE - 8) {
            throw MdaHeader.corrupt(describe(), "metadata location offset " + r.offset() + " size " + r.size()
                    + " is outside the area");
        }
        byte[] text = new byte[(int) r.size()];
        long first = Math.min(r.size(), areaSize - r.offset());
        io.read(location.offset() + r.offset(), ByteBuffer.wrap(text, 0, (int) first));
        if (first < r.size()) {
            io.read(location.offset() + MdaHeader.SIZE, ByteBuffer.wrap(text, (int) first, (int) (r.size() - first)));
        }
        int crc = Lvm2Crc.of(text, 0, text.length);
        if (crc != r.checksum()) {
            throw MdaHeader.corrupt(describe(), String.format("metadata text at offset %d (%d bytes) has checksum "
                    + "0x%08x, header expects 0x%08x", r.offset(), r.size(), crc, r.checksum()));
        }
        int len = text.length;
        while (len > 0 && text[len - 1] == 0) {
            len--;
        }
        return new String(text, 0, len, StandardCharsets.UTF_8);
    }

    /** Where lvm2's rule puts the next copy after {@code committed} (an empty slot means none yet). */
    public static long nextOffset(RawLocation committed, long areaSize) {
        if (committed.isEmpty()) {
            return MdaHeader.SIZE;
        }
        long end = committed.offset() + committed.size();
        long lastByte = end > areaSize ? end - areaSize + MdaHeader.SIZE - 1 : end - 1;
        if (areaSize - lastByte < ALIGNMENT) {
            return MdaHeader.SIZE;
        }
        long next = lastByte + 1;
        // lvm2 always advances to the following boundary, even from an aligned position.
        long start = next + (ALIGNMENT - next % ALIGNMENT);
        return start > areaSize - ALIGNMENT ? MdaHeader.SIZE : start;
    }

    /**
     * Writes a new copy into the circular buffer without touching the header, so the committed
     * copy stays the one readers see.
     *
     * @param text the metadata text (a NUL is appended, as lvm2 does)
     * @return the slot that points at the new copy, for {@link #writeHeader}
     */
    public RawLocation writeText(MdaHeader current, String text) {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        byte[] withNul = new byte[body.length + 1];
        System.arraycopy(body, 0, withNul, 0, body.length);
        if (withNul.length > maxTextSize()) {
            throw new ErrnoException(Errno.ENOSPC, "write VG metadata", describe(), "the metadata needs "
                    + withNul.length + " bytes but one copy may use at most " + maxTextSize()
                    + "; create PVs with a larger --metadatasize");
        }
        long areaSize = location.size();
        long offset = nextOffset(current.committed(), areaSize);
        long first = Math.min(withNul.length, areaSize - offset);
        io.write(location.offset() + offset, ByteBuffer.wrap(withNul, 0, (int) first));
        if (first < withNul.length) {
            io.write(location.offset() + MdaHeader.SIZE,
                    ByteBuffer.wrap(withNul, (int) first, (int) (withNul.length - first)));
        }
        return new RawLocation(offset, withNul.length, Lvm2Crc.of(withNul, 0, withNul.length), 0);
    }
}
