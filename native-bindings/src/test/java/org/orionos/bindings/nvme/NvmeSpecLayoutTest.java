package org.orionos.bindings.nvme;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.foreign.GroupLayout;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.orionos.bindings.NotInHeader;
import org.orionos.bindings.check.LayoutChecker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * NVMe layouts against offsets transcribed from the specification ({@code nvme-spec-offsets.txt}).
 * Spec-only layouts (no header declares them: {@link NvmeSqe}, {@link NvmeCqe}, and any future
 * {@code @NotInHeader} layout in this package) must be listed completely; the libnvme-proven ones
 * are spot-checked here as a second, independent source.
 */
class NvmeSpecLayoutTest {
    private record Expect(String member, long offset, long size) {
    }

    private static Map<String, List<Expect>> table(Set<String> complete) throws IOException {
        Map<String, List<Expect>> t = new LinkedHashMap<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
                NvmeSpecLayoutTest.class.getResourceAsStream("nvme-spec-offsets.txt"), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                line = line.strip();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                String[] f = line.split("\\s+");
                if (f[1].equals("complete")) {
                    complete.add(f[0]);
                    continue;
                }
                t.computeIfAbsent(f[0], k -> new ArrayList<>()).add(new Expect(f[1], Long.parseLong(f[2]),
                        f.length > 3 ? Long.parseLong(f[3]) : -1));
            }
        }
        return t;
    }

    private static GroupLayout layoutOf(Class<?> c) {
        try {
            Field f = c.getDeclaredField("LAYOUT");
            return f.get(null) instanceof GroupLayout g ? g : null;
        } catch (NoSuchFieldException e) {
            return null;
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void layoutsMatchTheSpecificationTable() throws IOException {
        Set<String> complete = new HashSet<>();
        Map<String, List<Expect>> table = table(complete);

        Map<String, GroupLayout> layouts = new LinkedHashMap<>();
        Set<String> specOnly = new HashSet<>();
        for (Class<?> c : LayoutChecker.classesBeside(NvmeSqe.class,
                c -> c.getPackageName().equals(NvmeSqe.class.getPackageName()))) {
            GroupLayout g = layoutOf(c);
            if (g != null && g.name().isPresent()) {
                layouts.put(g.name().get(), g);
                if (c.isAnnotationPresent(NotInHeader.class)) {
                    specOnly.add(g.name().get());
                }
            }
        }
        assertTrue(specOnly.contains("nvme_sqe") && specOnly.contains("nvme_cqe"), specOnly.toString());
        for (String s : specOnly) {
            assertTrue(complete.contains(s), s + " has no header to check it: list it completely in the table");
        }

        List<String> errors = new ArrayList<>();
        for (Map.Entry<String, List<Expect>> e : table.entrySet()) {
            GroupLayout g = layouts.get(e.getKey());
            assertNotNull(g, "no layout named " + e.getKey() + " in " + layouts.keySet());
            Map<String, long[]> members = LayoutChecker.members(g);
            Set<String> listed = new HashSet<>();
            for (Expect x : e.getValue()) {
                if (x.member.equals("SIZE")) {
                    if (g.byteSize() != x.offset) {
                        errors.add(e.getKey() + " size: java=" + g.byteSize() + " spec=" + x.offset);
                    }
                    continue;
                }
                listed.add(x.member);
                long[] m = members.get(x.member);
                if (m == null) {
                    errors.add(e.getKey() + "." + x.member + ": missing in the layout");
                } else if (m[0] != x.offset || m[1] != x.size) {
                    errors.add(e.getKey() + "." + x.member + ": java offset/size=" + m[0] + "/" + m[1] + " spec="
                            + x.offset + "/" + x.size);
                }
            }
            if (complete.contains(e.getKey())) {
                for (String m : members.keySet()) {
                    if (!listed.contains(m)) {
                        errors.add(e.getKey() + "." + m + ": not in the specification table");
                    }
                }
            }
        }
        assertEquals(List.of(), errors);
    }
}
