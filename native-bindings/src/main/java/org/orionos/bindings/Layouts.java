package org.orionos.bindings;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

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

    /**
     * Byte offset of a (possibly nested, dot-separated) member, e.g. {@code "sq_off.head"}.
     * Members of anonymous unions/structs (C11 style, as in {@code io_uring_sqe}) are found
     * through their unnamed parents, as C code names them.
     */
    public static long offset(GroupLayout layout, String path) {
        String[] parts = path.split("\\.");
        List<MemoryLayout.PathElement> elems = new ArrayList<>();
        GroupLayout g = layout;
        for (int i = 0; i < parts.length; i++) {
            List<MemoryLayout.PathElement> hop = find(g, parts[i]);
            if (hop == null) {
                throw new IllegalArgumentException("no member " + parts[i] + " in " + layout);
            }
            elems.addAll(hop);
            MemoryLayout m = layout.select(elems.toArray(new MemoryLayout.PathElement[0]));
            if (i + 1 < parts.length) {
                g = (GroupLayout) m;
            }
        }
        return layout.byteOffset(elems.toArray(new MemoryLayout.PathElement[0]));
    }

    /** Path to member {@code name} of {@code g}, descending into unnamed groups; null if absent. */
    private static List<MemoryLayout.PathElement> find(GroupLayout g, String name) {
        List<MemoryLayout> members = g.memberLayouts();
        for (int i = 0; i < members.size(); i++) {
            if (members.get(i).name().filter(name::equals).isPresent()) {
                return new ArrayList<>(List.of(groupElement(i)));
            }
        }
        for (int i = 0; i < members.size(); i++) {
            if (members.get(i) instanceof GroupLayout inner && inner.name().isEmpty()) {
                List<MemoryLayout.PathElement> sub = find(inner, name);
                if (sub != null) {
                    sub.add(0, groupElement(i));
                    return sub;
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
