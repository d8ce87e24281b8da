package org.orionos.host.config;

import java.util.List;
import java.util.Optional;

/**
 * A validated stack description. {@code bdevs} are in build order: every device comes after the
 * devices it consumes.
 *
 * @param lvm    volume groups to open after the block devices, in file order
 * @param source where it was read from (a path, or {@code <embedded default>})
 * @param nbd    the NBD server's listeners and exports ({@link NbdSpec#NONE} when absent)
 */
public record OrionConfig(String source, List<BdevSpec> bdevs, NbdSpec nbd, List<LvmSpec> lvm) {

    public OrionConfig {
        bdevs = List.copyOf(bdevs);
        lvm = List.copyOf(lvm);
    }

    /** A stack of block devices only. */
    public OrionConfig(String source, List<BdevSpec> bdevs) {
        this(source, bdevs, NbdSpec.NONE, List.of());
    }

    /** A stack with an NBD server and no volume groups. */
    public OrionConfig(String source, List<BdevSpec> bdevs, NbdSpec nbd) {
        this(source, bdevs, nbd, List.of());
    }

    public Optional<BdevSpec> bdev(String name) {
        return bdevs.stream().filter(b -> b.name().equals(name)).findFirst();
    }

    /** True when a device needs SQE128/CQE32 rings on the reactors (NVMe passthrough). */
    public boolean needsBigRingEntries() {
        return bdevs.stream().anyMatch(b -> b instanceof BdevSpec.Nvme || b instanceof BdevSpec.NvmeMultipath);
    }
}
