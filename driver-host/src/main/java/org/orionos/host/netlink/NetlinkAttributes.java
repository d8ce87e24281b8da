package org.orionos.host.netlink;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.orionos.bindings.uapi.NetlinkH;
import org.orionos.bindings.uapi.NetlinkH.Nlattr;

/**
 * A parsed run of netlink attributes ({@code struct nlattr} TLVs, each padded to 4 bytes) over a
 * received message. Attributes are kept in wire order; a type may repeat (array-style nests such
 * as NBD_ATTR_DEVICE_LIST hold many items of one type). Values are read from the message bytes on
 * demand, in host byte order. A length that runs past the end is a malformed message and throws.
 */
public final class NetlinkAttributes {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;

    private final MemorySegment bytes;
    private final int[] types;
    private final long[] offsets;
    private final int[] lengths;

    private NetlinkAttributes(MemorySegment bytes, int[] types, long[] offsets, int[] lengths) {
        this.bytes = bytes;
        this.types = types;
        this.offsets = offsets;
        this.lengths = lengths;
    }

    /** Parses the attributes in {@code [from, to)} of {@code bytes}. */
    public static NetlinkAttributes parse(MemorySegment bytes, long from, long to) {
        List<long[]> found = new ArrayList<>();
        long a = from;
        while (a + Nlattr.SIZE <= to) {
            int len = Short.toUnsignedInt(bytes.get(U16, a + Nlattr.NLA_LEN));
            int type = Short.toUnsignedInt(bytes.get(U16, a + Nlattr.NLA_TYPE)) & NetlinkH.NLA_TYPE_MASK;
            if (len < Nlattr.SIZE || a + len > to) {
                throw new IllegalArgumentException("malformed netlink attribute at offset " + a + ": length " + len
                        + " with " + (to - a) + " bytes left");
            }
            found.add(new long[] {type, a + Nlattr.SIZE, len - Nlattr.SIZE});
            a += NetlinkH.nlaAlign(len);
        }
        int n = found.size();
        int[] t = new int[n];
        long[] o = new long[n];
        int[] l = new int[n];
        for (int i = 0; i < n; i++) {
            long[] f = found.get(i);
            t[i] = (int) f[0];
            o[i] = f[1];
            l[i] = (int) f[2];
        }
        return new NetlinkAttributes(bytes, t, o, l);
    }

    /** Number of attributes (repeats included). */
    public int size() {
        return types.length;
    }

    /** Type of the {@code i}-th attribute in wire order (flag bits removed). */
    public int typeAt(int i) {
        return types[i];
    }

    public boolean has(int type) {
        return indexOf(type) >= 0;
    }

    /** Payload length of the first attribute of {@code type}, or -1. */
    public int length(int type) {
        int i = indexOf(type);
        return i < 0 ? -1 : lengths[i];
    }

    public int u8(int type) {
        return Byte.toUnsignedInt(bytes.get(ValueLayout.JAVA_BYTE, at(type, 1)));
    }

    public int u16(int type) {
        return Short.toUnsignedInt(bytes.get(U16, at(type, 2)));
    }

    public int u32(int type) {
        return bytes.get(U32, at(type, 4));
    }

    public long u64(int type) {
        return bytes.get(U64, at(type, 8));
    }

    /** A NUL-terminated (or length-bounded) string attribute. */
    public String string(int type) {
        int i = require(type);
        byte[] b = bytes.asSlice(offsets[i], lengths[i]).toArray(ValueLayout.JAVA_BYTE);
        int n = 0;
        while (n < b.length && b[n] != 0) {
            n++;
        }
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }

    /** The attributes nested inside the first attribute of {@code type}. */
    public NetlinkAttributes nested(int type) {
        return nestedAt(require(type));
    }

    /** The attributes nested inside the {@code i}-th attribute. */
    public NetlinkAttributes nestedAt(int i) {
        return parse(bytes, offsets[i], offsets[i] + lengths[i]);
    }

    private long at(int type, int width) {
        int i = require(type);
        if (lengths[i] < width) {
            throw new IllegalArgumentException("netlink attribute " + type + " has " + lengths[i]
                    + " bytes, expected " + width);
        }
        return offsets[i];
    }

    private int require(int type) {
        int i = indexOf(type);
        if (i < 0) {
            throw new IllegalArgumentException("netlink attribute " + type + " missing");
        }
        return i;
    }

    private int indexOf(int type) {
        for (int i = 0; i < types.length; i++) {
            if (types[i] == type) {
                return i;
            }
        }
        return -1;
    }
}
