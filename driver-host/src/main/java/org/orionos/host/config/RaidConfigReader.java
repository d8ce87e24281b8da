package org.orionos.host.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Reads {@code [[raid]]} tables (see {@link RaidSpec}). Refuses, naming the table and key: unknown
 * levels, too few members for the level, a device listed twice or in two arrays, a chunk md would
 * refuse, a layout that does not exist at the level. Device names are checked by the loader with
 * the other bases (they must be defined by [[bdev]] or [[nvme]]).
 */
public final class RaidConfigReader {
    private static final long DEFAULT_CHUNK = 512 * 1024;
    private static final long DEFAULT_SYNC_SPEED = 200L << 20;
    private static final Set<String> PARITY_LAYOUTS = Set.of("left-asymmetric", "right-asymmetric",
            "left-symmetric", "right-symmetric", "parity-first", "parity-last");
    private static final Set<String> RAID6_LAYOUTS = Set.of("ddf-zero-restart", "ddf-N-restart", "ddf-N-continue",
            "left-asymmetric-6", "right-asymmetric-6", "left-symmetric-6", "right-symmetric-6", "parity-first-6");

    private RaidConfigReader() {
    }

    public static List<RaidSpec> read(JsonNode node, String source) {
        List<RaidSpec> out = new ArrayList<>();
        Map<String, String> usedBy = new HashMap<>();
        for (Section s : Section.arrayOfTables(node, "raid", source)) {
            s.expectKeys("name", "level", "members", "chunk", "spares", "layout", "sync_speed");
            String name = s.requireString("name");
            if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,31}")) {
                throw s.error("name", "must be 1-32 characters of letters, digits, '.', '_' or '-' (md's set_name holds 32 bytes)");
            }
            int level = (int) s.optLong("level", -1, 0, 10);
            int min = switch (level) {
                case 0 -> 1;
                case 1, 10 -> 2;
                case 5 -> 3;
                case 6 -> 4;
                default -> throw s.error("level", "must be 0, 1, 5, 6 or 10 (RAID50/60: a level-0 array over level-5/6 arrays)");
            };
            List<String> members = s.optStringList("members");
            if (members.size() < min) {
                throw s.error("members", "raid" + level + " needs at least " + min + " members, " + members.size() + " given");
            }
            List<String> spares = s.optStringList("spares");
            if (level == 0 && !spares.isEmpty()) {
                throw s.error("spares", "raid0 has no redundancy to rebuild; drop the spares");
            }
            Set<String> here = new HashSet<>();
            for (String m : concat(members, spares)) {
                if (!here.add(m)) {
                    throw s.error(spares.contains(m) ? "spares" : "members", "lists \"" + m + "\" twice");
                }
                String prev = usedBy.putIfAbsent(m, name);
                if (prev != null) {
                    throw s.error("members", "\"" + m + "\" is already a member of [[raid]] \"" + prev
                            + "\"; a device can belong to one array only");
                }
            }
            long chunk = s.optSize("chunk", DEFAULT_CHUNK);
            if (chunk < 4096 || Long.bitCount(chunk) != 1 || chunk > (1L << 30)) {
                throw s.error("chunk", "must be a power of two from 4K to 1G, got " + chunk + " bytes");
            }
            String layout = s.has("layout") ? s.requireString("layout") : null;
            if (layout != null) {
                boolean ok = switch (level) {
                    case 5 -> PARITY_LAYOUTS.contains(layout);
                    case 6 -> PARITY_LAYOUTS.contains(layout) || RAID6_LAYOUTS.contains(layout);
                    case 10 -> layout.matches("n[2-9]");
                    default -> false;
                };
                if (!ok) {
                    throw s.error("layout", "\"" + layout + "\" is not a raid" + level + " layout orion builds"
                            + (level == 0 || level == 1 ? " (raid" + level + " takes none)"
                            : level == 10 ? " (near layouts n2..n9)" : " (mdadm's names, e.g. left-symmetric)"));
                }
            }
            long speed = s.optSize("sync_speed", DEFAULT_SYNC_SPEED);
            if (speed < (1 << 20)) {
                throw s.error("sync_speed", "must be at least 1M (bytes per second), got " + speed);
            }
            s.rejectUnknown();
            out.add(new RaidSpec(name, level, members, (int) (chunk / 512), spares, layout, speed));
        }
        return out;
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
