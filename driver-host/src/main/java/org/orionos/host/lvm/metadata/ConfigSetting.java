package org.orionos.host.lvm.metadata;

/** {@code name = value} inside a section. */
public record ConfigSetting(String name, ConfigValue value, int line) implements ConfigNode {

    public ConfigSetting(String name, ConfigValue value) {
        this(name, value, 0);
    }
}
