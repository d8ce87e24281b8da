package org.orionos.host.lvm.metadata;

import java.util.ArrayList;
import java.util.List;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;

/**
 * Parses LVM2's text configuration format, the one its metadata is written in:
 * <pre>
 * document := entry*
 * entry    := name '=' value | name '{' entry* '}'
 * value    := string | integer | float | '[' (value (',' value)* ','?)? ']'
 * string   := '"' chars, where \" and \\ stand for " and \ '"'  |  "'" chars without escapes "'"
 * comment  := '#' to end of line
 * </pre>
 * Names are runs of characters other than white space and {@code {}[]=,"'#}. Errors throw an
 * {@link ErrnoException} (EBADMSG) naming the source, the line and what was expected.
 */
public final class ConfigParser {

    private final String text;
    private final String source;
    private int pos;
    private int line = 1;

    private ConfigParser(String text, String source) {
        this.text = text;
        this.source = source;
    }

    /**
     * Parses a whole document into an unnamed root section.
     *
     * @param source what the text came from, used in error messages (a device and area, a file)
     */
    public static ConfigSection parse(String text, String source) {
        ConfigParser p = new ConfigParser(text, source);
        ConfigSection root = new ConfigSection("", 1, null, source);
        p.body(root, false);
        return root;
    }

    private void body(ConfigSection section, boolean braced) {
        while (true) {
            skipBlank();
            if (pos >= text.length()) {
                if (braced) {
                    throw fail("expected '}' closing section '" + section.path() + "' (opened on line "
                            + section.line() + ")", "end of text");
                }
                return;
            }
            char c = text.charAt(pos);
            if (c == '}') {
                if (!braced) {
                    throw fail("expected a setting or section name", "'}' without a matching '{'");
                }
                pos++;
                return;
            }
            int startLine = line;
            String name = word();
            if (name.isEmpty()) {
                throw fail("expected a setting or section name", describeHere());
            }
            skipBlank();
            if (pos < text.length() && text.charAt(pos) == '{') {
                pos++;
                ConfigSection child = new ConfigSection(name, startLine, section, source);
                section.add(child);
                body(child, true);
            } else if (pos < text.length() && text.charAt(pos) == '=') {
                pos++;
                section.add(new ConfigSetting(name, value(name), startLine));
            } else {
                throw fail("expected '=' or '{' after '" + name + "'", describeHere());
            }
        }
    }

    private ConfigValue value(String key) {
        skipBlank();
        if (pos >= text.length()) {
            throw fail("expected a value for '" + key + "'", "end of text");
        }
        char c = text.charAt(pos);
        if (c == '"' || c == '\'') {
            return new ConfigValue.Str(string(c));
        }
        if (c == '[') {
            pos++;
            List<ConfigValue> items = new ArrayList<>();
            while (true) {
                skipBlank();
                if (pos >= text.length()) {
                    throw fail("expected ']' closing the list for '" + key + "'", "end of text");
                }
                if (text.charAt(pos) == ']') {
                    pos++;
                    return new ConfigValue.Array(items);
                }
                ConfigValue item = value(key);
                if (item instanceof ConfigValue.Array) {
                    throw fail("expected a string or number inside the list for '" + key + "'", "a nested list");
                }
                items.add(item);
                skipBlank();
                if (pos < text.length() && text.charAt(pos) == ',') {
                    pos++;
                } else if (pos < text.length() && text.charAt(pos) != ']') {
                    throw fail("expected ',' or ']' in the list for '" + key + "'", describeHere());
                }
            }
        }
        String w = word();
        if (w.isEmpty()) {
            throw fail("expected a value (string, number or list) for '" + key + "'", describeHere());
        }
        if (w.matches("[-+]?[0-9]+")) {
            try {
                return new ConfigValue.Int(Long.parseLong(w));
            } catch (NumberFormatException e) {
                throw fail("expected a 64-bit integer for '" + key + "'", "'" + w + "'");
            }
        }
        if (w.matches("[-+]?[0-9]*\\.[0-9]+([eE][-+]?[0-9]+)?|[-+]?[0-9]+[eE][-+]?[0-9]+")) {
            return new ConfigValue.Real(w);
        }
        throw fail("expected a value (string, number or list) for '" + key + "'", "'" + w + "'");
    }

    private String string(char quote) {
        int startLine = line;
        pos++;
        StringBuilder sb = new StringBuilder();
        while (pos < text.length()) {
            char c = text.charAt(pos++);
            if (c == quote) {
                return sb.toString();
            }
            // As lvm2: inside double quotes only \" and \\ are escapes, any other backslash is kept;
            // single-quoted strings have no escapes at all.
            if (quote == '"' && c == '\\' && pos < text.length()
                    && (text.charAt(pos) == '"' || text.charAt(pos) == '\\')) {
                c = text.charAt(pos++);
            }
            if (c == '\n') {
                line++;
            }
            sb.append(c);
        }
        line = startLine;
        throw fail("expected a closing " + quote + " for the string starting on line " + startLine, "end of text");
    }

    private String word() {
        int start = pos;
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (Character.isWhitespace(c) || "{}[]=,\"'#".indexOf(c) >= 0 || c == 0) {
                break;
            }
            pos++;
        }
        return text.substring(start, pos);
    }

    private void skipBlank() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c == '\n') {
                line++;
                pos++;
            } else if (c == '#') {
                while (pos < text.length() && text.charAt(pos) != '\n') {
                    pos++;
                }
            } else if (Character.isWhitespace(c)) {
                pos++;
            } else if (c == 0 && text.substring(pos).chars().allMatch(ch -> ch == 0)) {
                // The on-disk copy ends in a NUL that its size includes: treat trailing NULs as the end.
                pos = text.length();
            } else {
                return;
            }
        }
    }

    private String describeHere() {
        if (pos >= text.length()) {
            return "end of text";
        }
        char c = text.charAt(pos);
        return c == 0 ? "a NUL byte" : "'" + c + "'";
    }

    private ErrnoException fail(String expected, String found) {
        return new ErrnoException(Errno.EBADMSG, "parse LVM2 text metadata", source,
                "line " + line + ": " + expected + ", found " + found);
    }
}
