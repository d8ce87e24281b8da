package org.orionos.host.lvm.metadata;

import java.nio.ByteBuffer;

/**
 * LVM2's metadata checksum: the reflected CRC-32 polynomial (0xEDB88320, the one zlib uses), seeded
 * with {@link #INITIAL} and without zlib's final inversion. It protects the label sector (bytes
 * 20..511), the metadata area header (bytes 4..511) and each copy of the text metadata.
 *
 * <p>Relation to zlib's CRC-32, used by the tests as a cross-check: {@code zlib(d) ==
 * ~update(0xFFFFFFFF, d)}.
 */
public final class Lvm2Crc {

    /** The seed LVM2 uses for every checksum it writes (INITIAL_CRC in lvm2). */
    public static final int INITIAL = 0xf597a6cf;

    private static final int[] TABLE = new int[256];

    static {
        for (int i = 0; i < 256; i++) {
            int c = i;
            for (int k = 0; k < 8; k++) {
                c = (c & 1) != 0 ? (c >>> 1) ^ 0xEDB88320 : c >>> 1;
            }
            TABLE[i] = c;
        }
    }

    private Lvm2Crc() {
    }

    /** Continues a checksum over {@code len} bytes of {@code data} from {@code off}. */
    public static int update(int crc, byte[] data, int off, int len) {
        int c = crc;
        for (int i = off, end = off + len; i < end; i++) {
            c = TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
        }
        return c;
    }

    /** Continues a checksum over the remaining bytes of {@code buf}, leaving its position untouched. */
    public static int update(int crc, ByteBuffer buf) {
        int c = crc;
        for (int i = buf.position(), end = buf.limit(); i < end; i++) {
            c = TABLE[(c ^ buf.get(i)) & 0xff] ^ (c >>> 8);
        }
        return c;
    }

    /** The checksum LVM2 stores for {@code len} bytes of {@code data} from {@code off}. */
    public static int of(byte[] data, int off, int len) {
        return update(INITIAL, data, off, len);
    }
}
