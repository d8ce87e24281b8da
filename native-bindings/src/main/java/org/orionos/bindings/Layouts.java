package org.orionos.bindings;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

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

    /** Byte offset of a (possibly nested, dot-separated) member, e.g. {@code "sq_off.head"}. */
    public static long offset(GroupLayout layout, String path) {
        String[] parts = path.split("\\.");
        MemoryLayout.PathElement[] elems = new MemoryLayout.PathElement[parts.length];
        for (int i = 0; i < parts.length; i++) {
            elems[i] = groupElement(parts[i]);
        }
        return layout.byteOffset(elems);
    }

    /** Padding to bring a struct to {@code size} bytes after {@code used} bytes. */
    public static MemoryLayout pad(long bytes) {
        return MemoryLayout.paddingLayout(bytes);
    }
}
