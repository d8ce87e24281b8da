package org.orionos.host.lvm.metadata;

/** One entry in a section of LVM2's text format: a {@link ConfigSetting} or a nested {@link ConfigSection}. */
public sealed interface ConfigNode permits ConfigSetting, ConfigSection {

    /** The key or section name. */
    String name();

    /** The 1-based line the entry started on in the parsed text, or 0 for built entries. */
    int line();
}
