package org.orionos.host.lvm.metadata;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;

/**
 * A named section {@code name { ... }} of LVM2's text format, holding settings and subsections in
 * their written order (the order is kept so that metadata written back reads the same). The
 * typed getters throw an {@link ErrnoException} (EBADMSG) naming the section path, the line and
 * what was expected.
 */
public final class ConfigSection implements ConfigNode {

    private final String name;
    private final int line;
    private final String path;
    private final String source;
    private final List<ConfigNode> children = new ArrayList<>();

    /**
     * @param name   section name (empty for the root of a document)
     * @param line   1-based line it starts on, 0 when built in memory
     * @param parent enclosing section, or null for a root
     * @param source what the text came from (device and area, file), for error messages
     */
    public ConfigSection(String name, int line, ConfigSection parent, String source) {
        this.name = name;
        this.line = line;
        this.source = source;
        this.path = parent == null || parent.path.isEmpty() ? name : parent.path + "/" + name;
    }

    /** A fresh in-memory section, not attached anywhere. */
    public static ConfigSection create(String name) {
        return new ConfigSection(name, 0, null, "memory");
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int line() {
        return line;
    }

    /** Slash-separated names from the root, e.g. {@code vg0/logical_volumes/lv0}. */
    public String path() {
        return path;
    }

    /** Where the text came from, for error messages. */
    public String source() {
        return source;
    }

    public List<ConfigNode> children() {
        return Collections.unmodifiableList(children);
    }

    /** Appends a node; settings and sections keep the order they are added in. */
    public ConfigSection add(ConfigNode node) {
        children.add(node);
        return this;
    }

    public ConfigSection set(String key, ConfigValue value) {
        return add(new ConfigSetting(key, value));
    }

    public ConfigSection set(String key, String value) {
        return set(key, new ConfigValue.Str(value));
    }

    public ConfigSection set(String key, long value) {
        return set(key, new ConfigValue.Int(value));
    }

    /** Adds a new empty subsection and returns it. */
    public ConfigSection addSection(String childName) {
        ConfigSection s = new ConfigSection(childName, 0, this, source);
        children.add(s);
        return s;
    }

    /** The first child node with this name, or null. */
    public ConfigNode find(String key) {
        for (ConfigNode n : children) {
            if (n.name().equals(key)) {
                return n;
            }
        }
        return null;
    }

    public boolean has(String key) {
        return find(key) != null;
    }

    /** The subsections, in order. */
    public List<ConfigSection> sections() {
        List<ConfigSection> out = new ArrayList<>();
        for (ConfigNode n : children) {
            if (n instanceof ConfigSection s) {
                out.add(s);
            }
        }
        return out;
    }

    /** The named subsection; throws if missing. */
    public ConfigSection section(String key) {
        ConfigNode n = find(key);
        if (n instanceof ConfigSection s) {
            return s;
        }
        throw error(n, "expected section '" + key + " { ... }'", n == null ? "nothing" : "a setting");
    }

    /** The named subsection or null when absent. */
    public ConfigSection optionalSection(String key) {
        ConfigNode n = find(key);
        if (n == null) {
            return null;
        }
        return section(key);
    }

    /** The value of a setting; throws if missing or a section. */
    public ConfigValue value(String key) {
        ConfigNode n = find(key);
        if (n instanceof ConfigSetting s) {
            return s.value();
        }
        throw error(n, "expected setting '" + key + " = ...'", n == null ? "nothing" : "a section");
    }

    public String string(String key) {
        ConfigValue v = value(key);
        if (v instanceof ConfigValue.Str s) {
            return s.value();
        }
        throw error(find(key), "expected a string for '" + key + "'", v.kind());
    }

    public String optionalString(String key, String dflt) {
        return has(key) ? string(key) : dflt;
    }

    public long integer(String key) {
        ConfigValue v = value(key);
        if (v instanceof ConfigValue.Int i) {
            return i.value();
        }
        throw error(find(key), "expected an integer for '" + key + "'", v.kind());
    }

    public long optionalInteger(String key, long dflt) {
        return has(key) ? integer(key) : dflt;
    }

    /** A list of strings, e.g. {@code status = ["READ", "WRITE"]}. */
    public List<String> strings(String key) {
        ConfigValue v = value(key);
        if (!(v instanceof ConfigValue.Array a)) {
            throw error(find(key), "expected a list of strings for '" + key + "'", v.kind());
        }
        List<String> out = new ArrayList<>(a.items().size());
        for (ConfigValue item : a.items()) {
            if (!(item instanceof ConfigValue.Str s)) {
                throw error(find(key), "expected only strings in list '" + key + "'", item.kind());
            }
            out.add(s.value());
        }
        return out;
    }

    public List<String> optionalStrings(String key) {
        return has(key) ? strings(key) : List.of();
    }

    /** Equal when names and entries (in order) are: where it was parsed from does not count. */
    @Override
    public boolean equals(Object o) {
        return o instanceof ConfigSection s && name.equals(s.name) && children.equals(s.children);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + children.hashCode();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        ConfigWriter.writeSection(sb, this);
        return sb.toString();
    }

    /** An error about this section or one of its entries, naming source, line and path. */
    public ErrnoException error(ConfigNode at, String expected, String found) {
        int l = at != null && at.line() > 0 ? at.line() : line;
        String where = (l > 0 ? "line " + l + ", " : "") + "section '" + (path.isEmpty() ? "(top level)" : path) + "'";
        return new ErrnoException(Errno.EBADMSG, "read LVM2 text metadata", source,
                where + ": " + expected + ", found " + found);
    }
}
