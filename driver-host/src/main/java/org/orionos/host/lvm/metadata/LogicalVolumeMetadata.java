package org.orionos.host.lvm.metadata;

import java.util.List;

/**
 * A logical volume: its identity and its segments, ordered by {@link LvSegment#startExtent()}
 * and contiguous from extent 0.
 *
 * @param creationTime seconds since the epoch, or -1 when absent
 * @param creationHost host name, or null when absent
 * @param extra        settings this model does not interpret, written back unchanged
 */
public record LogicalVolumeMetadata(String name, LvmUuid id, List<String> status, List<String> flags,
                                    long creationTime, String creationHost, List<LvSegment> segments,
                                    List<ConfigNode> extra) {

    /** Status lvm2 gives a new visible read-write volume. */
    public static final List<String> READ_WRITE_VISIBLE = List.of("READ", "WRITE", "VISIBLE");

    public LogicalVolumeMetadata {
        status = List.copyOf(status);
        flags = List.copyOf(flags);
        segments = List.copyOf(segments);
        extra = List.copyOf(extra);
    }

    /** Logical extents in the volume. */
    public long extentCount() {
        long n = 0;
        for (LvSegment s : segments) {
            n += s.extentCount();
        }
        return n;
    }
}
