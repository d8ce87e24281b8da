package org.orionos.host.config;

import java.util.List;
import java.util.Optional;

/**
 * A validated stack description. {@code bdevs} are in build order: every device comes after the
 * devices it consumes.
 *
 * @param source where it was read from (a path, or {@code <embedded default>})
 * @param nbd    the NBD server's listeners and exports ({@link NbdSpec#NONE} when absent)
 */
public record OrionConfig(String source, List<BdevSpec> bdevs, NbdSpec nbd) {

    /** A stack without an NBD server. */
    public OrionConfig(String source, List<BdevSpec> bdevs) {
        this(source, bdevs, NbdSpec.NONE);
    }

    public Optional<BdevSpec> bdev(String name) {
        return bdevs.stream().filter(b -> b.name().equals(name)).findFirst();
    }
}
