package org.orionos.host.config;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;

/**
 * One TOML table being read, with where it came from, so every error names the file, the table
 * and the key, and says what was expected. Keys are read once each; {@link #rejectUnknown} then
 * refuses anything left over (a typo must not be silently ignored).
 */
public final class Section {
    private final String file;
    private final String where;
    private final ObjectNode node;
    private final Set<String> read = new TreeSet<>();

    /**
     * The tables of a TOML array of tables ({@code [[what]]}), each labelled {@code what[i]} and, when
     * it has a string {@code name}, {@code what[i] "name"}; refuses a plain table or a non-table entry.
     */
    public static List<Section> arrayOfTables(JsonNode node, String what, String file) {
        List<Section> out = new ArrayList<>();
        if (node == null) {
            return out;
        }
        if (!node.isArray()) {
            throw ErrnoException.withMessage(Errno.EINVAL, "config", file,
                    file + ": '" + what + "' must be an array of tables: write [[" + what + "]], not [" + what + "]");
        }
        int i = 0;
        for (JsonNode n : node) {
            i++;
            String label = what + "[" + i + "]";
            if (!n.isObject()) {
                throw ErrnoException.withMessage(Errno.EINVAL, "config", file, file + ": " + label + " must be a table");
            }
            JsonNode name = n.get("name");
            if (name != null && name.isTextual()) {
                label += " \"" + name.asText() + "\"";
            }
            out.add(new Section(file, label, (ObjectNode) n));
        }
        return out;
    }

    Section(String file, String where, ObjectNode node) {
        this.file = file;
        this.where = where;
        this.node = node;
    }

    /** e.g. {@code bdev[2] "f0"}. */
    public String where() {
        return where;
    }

    public boolean has(String key) {
        read.add(key);
        return node.has(key);
    }

    public String requireString(String key) {
        String v = optString(key, null);
        if (v == null) {
            throw error(key, "is required (a string)");
        }
        return v;
    }

    public String optString(String key, String fallback) {
        JsonNode v = get(key);
        if (v == null) {
            return fallback;
        }
        if (!v.isTextual()) {
            throw error(key, "must be a string, got " + describe(v));
        }
        return v.asText();
    }

    /** One of {@code allowed}, case-sensitive. */
    public String optEnum(String key, String fallback, String... allowed) {
        String v = optString(key, fallback);
        if (v != null && !List.of(allowed).contains(v)) {
            throw error(key, "must be one of " + String.join(", ", allowed) + ", got \"" + v + "\"");
        }
        return v;
    }

    /** A size as {@link Sizes} reads it, or an integer byte count. */
    public long requireSize(String key) {
        if (get(key) == null) {
            throw error(key, "is required (a size such as \"1G\")");
        }
        return optSize(key, -1);
    }

    public long optSize(String key, long fallback) {
        JsonNode v = get(key);
        if (v == null) {
            return fallback;
        }
        long size;
        if (v.isIntegralNumber()) {
            size = v.asLong();
        } else if (v.isTextual()) {
            try {
                size = Sizes.parse(v.asText());
            } catch (IllegalArgumentException e) {
                throw error(key, e.getMessage());
            }
        } else {
            throw error(key, "must be a size such as \"10G\" or a byte count, got " + describe(v));
        }
        if (size <= 0) {
            throw error(key, "must be positive, got " + size);
        }
        return size;
    }

    public long optLong(String key, long fallback, long min, long max) {
        JsonNode v = get(key);
        if (v == null) {
            return fallback;
        }
        if (!v.isIntegralNumber()) {
            throw error(key, "must be an integer, got " + describe(v));
        }
        long x = v.asLong();
        if (x < min || x > max) {
            throw error(key, "must be between " + min + " and " + max + ", got " + x);
        }
        return x;
    }

    public double optDouble(String key, double fallback, double min, double max) {
        JsonNode v = get(key);
        if (v == null) {
            return fallback;
        }
        if (!v.isNumber()) {
            throw error(key, "must be a number, got " + describe(v));
        }
        double x = v.asDouble();
        if (!(x >= min && x <= max)) {
            throw error(key, "must be between " + min + " and " + max + ", got " + x);
        }
        return x;
    }

    public boolean optBool(String key, boolean fallback) {
        JsonNode v = get(key);
        if (v == null) {
            return fallback;
        }
        if (!v.isBoolean()) {
            throw error(key, "must be true or false, got " + describe(v));
        }
        return v.asBoolean();
    }

    /** A list of strings (e.g. RAID members). */
    public List<String> optStringList(String key) {
        JsonNode v = get(key);
        List<String> out = new ArrayList<>();
        if (v == null) {
            return out;
        }
        if (!v.isArray()) {
            throw error(key, "must be a list of strings, got " + describe(v));
        }
        for (JsonNode e : v) {
            if (!e.isTextual()) {
                throw error(key, "must be a list of strings, found " + describe(e));
            }
            out.add(e.asText());
        }
        return out;
    }

    /**
     * Declares every key this table may have and refuses any other at once, before values are
     * checked, so a typo is reported as itself rather than as a missing key.
     */
    public void expectKeys(String... keys) {
        read.addAll(List.of(keys));
        rejectUnknown();
    }

    /** Refuses keys nobody asked for, suggesting the nearest accepted one. */
    public void rejectUnknown() {
        Iterator<Map.Entry<String, JsonNode>> it = node.fields();
        while (it.hasNext()) {
            String key = it.next().getKey();
            if (!read.contains(key)) {
                String near = nearest(key);
                throw fail("unknown key '" + key + "'" + (near != null ? " (did you mean '" + near + "'?)" : "")
                        + "; this table accepts: " + String.join(", ", read));
            }
        }
    }

    private String nearest(String key) {
        String best = null;
        int bestDistance = 3; // farther than two edits is not a typo
        for (String k : read) {
            int d = editDistance(key, k);
            if (d < bestDistance) {
                bestDistance = d;
                best = k;
            }
        }
        return best;
    }

    private static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /** An error about one key of this table. */
    public ErrnoException error(String key, String problem) {
        return fail("key '" + key + "' " + problem);
    }

    /** An error about this table. */
    public ErrnoException fail(String problem) {
        return ErrnoException.withMessage(Errno.EINVAL, "config", file, file + ": " + where + ": " + problem);
    }

    private JsonNode get(String key) {
        read.add(key);
        JsonNode v = node.get(key);
        return v == null || v.isNull() ? null : v;
    }

    static String describe(JsonNode v) {
        if (v.isTextual()) {
            return "the string \"" + v.asText() + "\"";
        }
        if (v.isArray()) {
            return "a list";
        }
        if (v.isObject()) {
            return "a table";
        }
        if (v.isBoolean()) {
            return "the boolean " + v.asText();
        }
        return (v.isIntegralNumber() ? "the integer " : "the number ") + v.asText();
    }
}
