package org.orionos.host.lvm.metadata;

/**
 * Writes sections in LVM2's text format, the way lvm2 lays out its on-disk copy: no indentation,
 * one setting per line, a blank line before each subsection, lists on one line, strings
 * double-quoted with '"' and '\' escaped.
 */
public final class ConfigWriter {

    private ConfigWriter() {
    }

    /** Writes {@code name { ... }} and everything in it. */
    public static void writeSection(StringBuilder out, ConfigSection section) {
        out.append(section.name()).append(" {\n");
        writeBody(out, section);
        out.append("}\n");
    }

    /** Writes the entries of a section without its braces (for a document's top level). */
    public static void writeBody(StringBuilder out, ConfigSection section) {
        for (ConfigNode n : section.children()) {
            if (n instanceof ConfigSection s) {
                out.append('\n');
                writeSection(out, s);
            } else if (n instanceof ConfigSetting s) {
                out.append(s.name()).append(" = ");
                writeValue(out, s.value());
                out.append('\n');
            }
        }
    }

    public static void writeValue(StringBuilder out, ConfigValue value) {
        switch (value) {
            case ConfigValue.Str s -> quote(out, s.value());
            case ConfigValue.Int i -> out.append(i.value());
            case ConfigValue.Real r -> out.append(r.text());
            case ConfigValue.Array a -> {
                out.append('[');
                for (int i = 0; i < a.items().size(); i++) {
                    if (i > 0) {
                        out.append(", ");
                    }
                    writeValue(out, a.items().get(i));
                }
                out.append(']');
            }
        }
    }

    /** Appends {@code s} double-quoted, escaping '"' and '\' with a backslash as lvm2 does. */
    public static void quote(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\');
            }
            out.append(c);
        }
        out.append('"');
    }
}
