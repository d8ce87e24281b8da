package org.orionos.host.lvm.metadata;

import java.util.Objects;

/**
 * {@code name = value} inside a section. Equality compares name and value only: the line is
 * where it was parsed from, not part of the metadata.
 */
public record ConfigSetting(String name, ConfigValue value, int line) implements ConfigNode {

    public ConfigSetting(String name, ConfigValue value) {
        this(name, value, 0);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConfigSetting s && name.equals(s.name) && value.equals(s.value);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, value);
    }
}
