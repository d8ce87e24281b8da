package org.orionos.host.lvm.metadata;

import java.util.List;

/**
 * A value in LVM2's text configuration format: a double-quoted string, a 64-bit integer, a
 * floating-point number (kept as written) or a list of values.
 */
public sealed interface ConfigValue {

    /** What this kind of value is called in error messages. */
    String kind();

    /** A string value, unescaped. */
    record Str(String value) implements ConfigValue {
        @Override
        public String kind() {
            return "string";
        }
    }

    /** An integer value. */
    record Int(long value) implements ConfigValue {
        @Override
        public String kind() {
            return "integer";
        }
    }

    /** A floating-point value, kept as its text so that it writes back unchanged. */
    record Real(String text) implements ConfigValue {
        @Override
        public String kind() {
            return "number";
        }
    }

    /** A list {@code [a, b, ...]}; lvm2 uses flat lists of strings and integers. */
    record Array(List<ConfigValue> items) implements ConfigValue {
        public Array {
            items = List.copyOf(items);
        }

        @Override
        public String kind() {
            return "list";
        }
    }

    static ConfigValue of(String s) {
        return new Str(s);
    }

    static ConfigValue of(long v) {
        return new Int(v);
    }

    static ConfigValue strings(List<String> values) {
        return new Array(values.stream().map(Str::new).map(ConfigValue.class::cast).toList());
    }
}
