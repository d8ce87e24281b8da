package org.orionos.host.lvm.metadata;

import java.util.List;

/**
 * A segment of a type this model does not interpret yet (mirror, raid*, thin-pool, thin, ...):
 * everything after {@code type} is kept as parsed so that the VG writes back unchanged.
 */
public record OtherSegment(long startExtent, long extentCount, String type, List<ConfigNode> body)
        implements LvSegment {

    public OtherSegment {
        body = List.copyOf(body);
    }
}
