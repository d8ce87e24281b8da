package org.orionos.host.lvm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Orion's thin-pool mapping format on the pool's {@code _tmeta} volume (not dm-thin's btrees; see
 * {@link org.orionos.host.lvm.metadata.ThinSegments} for how lvm2 is kept from misreading it).
 *
 * <p>The volume is split into two equal slots, each a whole image of the pool's mappings. A
 * commit writes the slot that does not hold the newest image and then flushes, so a crash at any
 * point leaves the other slot intact; opening takes the valid slot with the higher seqno. A slot
 * whose header or body fails its CRC-32C (a torn write) is invalid. All integers little-endian.
 *
 * <pre>
 * slot header (4096 bytes, at slot offset 0)
 *   0  char[8] magic "ORTHINP1"
 *   8  u32     version (1)
 *  12  u32     chunk size in sectors
 *  16  u64     seqno (grows by one per commit)
 *  24  u64     data chunks in the pool when committed
 *  32  u64     body length in bytes
 *  40  u32     CRC-32C of the body
 *  44  u32     CRC-32C of header bytes 0..43
 * body (at slot offset 4096)
 *   u64 device count, then per device, ascending id:
 *     u64 device id, u64 virtual chunks, u64 run count, then runs ascending by virtual chunk:
 *       u64 first virtual chunk, u64 first data chunk, u64 chunk count
 * </pre>
 */
final class ThinPoolMetadata {
    static final byte[] MAGIC = "ORTHINP1".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    static final int HEADER_BYTES = 4096;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;

    /** One device's mappings as runs of consecutive virtual chunks on consecutive data chunks. */
    record Device(long id, long virtualChunks, long[] runs) {
        int runCount() {
            return runs.length / 3;
        }
    }

    /** A decoded image. */
    record Image(long seqno, long chunkSectors, long dataChunks, List<Device> devices) {
    }

    private ThinPoolMetadata() {
    }

    /** Bytes of one slot on a metadata volume of {@code metaBytes}. */
    static long slotBytes(long metaBytes) {
        return metaBytes / 2 / 4096 * 4096;
    }

    /** Bytes {@link #encode} needs for these devices, rounded up to 4 KiB. */
    static long encodedBytes(List<Device> devices) {
        long body = 8;
        for (Device d : devices) {
            body += 24 + 8L * d.runs.length;
        }
        return HEADER_BYTES + (body + 4095) / 4096 * 4096;
    }

    /** Writes an image into {@code out} (at least {@link #encodedBytes} long, zeroed). */
    static void encode(Image img, MemorySegment out) {
        long at = HEADER_BYTES;
        out.set(U64, at, img.devices().size());
        at += 8;
        for (Device d : img.devices()) {
            out.set(U64, at, d.id());
            out.set(U64, at + 8, d.virtualChunks());
            out.set(U64, at + 16, d.runCount());
            at += 24;
            for (long v : d.runs()) {
                out.set(U64, at, v);
                at += 8;
            }
        }
        long bodyBytes = at - HEADER_BYTES;
        MemorySegment.copy(MemorySegment.ofArray(MAGIC), 0, out, 0, 8);
        out.set(U32, 8, VERSION);
        out.set(U32, 12, (int) img.chunkSectors());
        out.set(U64, 16, img.seqno());
        out.set(U64, 24, img.dataChunks());
        out.set(U64, 32, bodyBytes);
        out.set(U32, 40, crc(out.asSlice(HEADER_BYTES, bodyBytes)));
        out.set(U32, 44, crc(out.asSlice(0, 44)));
    }

    /** The body length a slot header announces, or -1 when the header is not a valid one. */
    static long bodyBytes(MemorySegment header, long slotBytes) {
        byte[] m = header.asSlice(0, 8).toArray(ValueLayout.JAVA_BYTE);
        if (!java.util.Arrays.equals(m, MAGIC) || header.get(U32, 44) != crc(header.asSlice(0, 44))
                || header.get(U32, 8) != VERSION) {
            return -1;
        }
        long body = header.get(U64, 32);
        return body < 8 || body > slotBytes - HEADER_BYTES ? -1 : body;
    }

    /**
     * Decodes a slot (header then body), or returns null when it is not a valid image (never
     * written, torn, or damaged): the caller falls back to the other slot.
     */
    static Image decode(MemorySegment slot, long slotBytes) {
        long bodyBytes = bodyBytes(slot, slotBytes);
        if (bodyBytes < 0 || slot.byteSize() < HEADER_BYTES + bodyBytes) {
            return null;
        }
        MemorySegment body = slot.asSlice(HEADER_BYTES, bodyBytes);
        if (slot.get(U32, 40) != crc(body)) {
            return null;
        }
        long n = body.get(U64, 0);
        long at = 8;
        List<Device> devices = new ArrayList<>();
        for (long i = 0; i < n; i++) {
            if (at + 24 > bodyBytes) {
                return null;
            }
            long id = body.get(U64, at);
            long virt = body.get(U64, at + 8);
            long runs = body.get(U64, at + 16);
            at += 24;
            if (runs < 0 || at + runs * 24 > bodyBytes) {
                return null;
            }
            long[] r = new long[(int) (runs * 3)];
            for (int k = 0; k < r.length; k++) {
                r[k] = body.get(U64, at);
                at += 8;
            }
            devices.add(new Device(id, virt, r));
        }
        return new Image(slot.get(U64, 16), slot.get(U32, 12) & 0xffffffffL, slot.get(U64, 24), devices);
    }

    private static int crc(MemorySegment s) {
        CRC32C c = new CRC32C();
        c.update(s.asByteBuffer());
        return (int) c.getValue();
    }
}
