package org.orionos.bindings;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

/** Helpers for declaring C layouts once, as static finals. */
public final class Layouts {
    private Layouts() {
    }

    /** C {@code __u8}/{@code __s8}. */
    public static final ValueLayout.OfByte U8 = ValueLayout.JAVA_BYTE;
    /** C {@code __u16}/{@code __s16}, naturally aligned. */
    public static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT;
    /** C {@code __u32}/{@code __s32}, naturally aligned. */
    public static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT;
    /** C {@code __u64}/{@code __s64}, naturally aligned. */
    public static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG;
    /** A C pointer on this ABI. */
    public static final ValueLayout PTR = ValueLayout.ADDRESS;

    /**
     * Byte offset of a (possibly nested, dot-separated) member, e.g. {@code "sq_off.head"}. Names are
     * also found inside unnamed struct/union members, as C resolves anonymous members (the JDK's
     * layout paths would need the unnamed group spelled out).
     */
    public static long offset(GroupLayout layout, String path) {
        long at = 0;
        MemoryLayout cur = layout;
        for (String part : path.split("\\.")) {
            if (!(cur instanceof GroupLayout g)) {
                throw new IllegalArgumentException("'" + part + "' of " + path + ": not inside a struct or union");
            }
            long[] off = new long[1];
            MemoryLayout found = find(g, part, off);
            if (found == null) {
                throw new IllegalArgumentException("no member '" + part + "' (path " + path + ") in " + layout);
            }
            at += off[0];
            cur = found;
        }
        return at;
    }

    private static MemoryLayout find(GroupLayout g, String name, long[] off) {
        long pos = 0;
        for (MemoryLayout m : g.memberLayouts()) {
            long here = g instanceof StructLayout ? pos : 0;
            pos += m.byteSize();
            if (m.name().isPresent() && m.name().get().equals(name)) {
                off[0] = here;
                return m;
            }
            if (m.name().isEmpty() && m instanceof GroupLayout inner) {
                MemoryLayout r = find(inner, name, off);
                if (r != null) {
                    off[0] += here;
                    return r;
                }
            }
        }
        return null;
    }

    /** Padding to bring a struct to {@code size} bytes after {@code used} bytes. */
    public static MemoryLayout pad(long bytes) {
        return MemoryLayout.paddingLayout(bytes);
    }
}
