package org.orionos.host.config;

import java.util.List;
import java.util.Optional;

/**
 * A validated stack description. {@code bdevs} are in build order: every device comes after the
 * devices it consumes.
 *
 * @param source where it was read from (a path, or {@code <embedded default>})
 */
public record OrionConfig(String source, List<BdevSpec> bdevs) {

    public Optional<BdevSpec> bdev(String name) {
        return bdevs.stream().filter(b -> b.name().equals(name)).findFirst();
    }

    /** True when a device needs SQE128/CQE32 rings on the reactors (NVMe passthrough). */
    public boolean needsBigRingEntries() {
        return bdevs.stream().anyMatch(b -> b instanceof BdevSpec.Nvme || b instanceof BdevSpec.NvmeMultipath);
    }
}
