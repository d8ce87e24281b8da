package org.orionos.host.lvm.metadata;

/**
 * One segment of a logical volume: the logical extents {@code [startExtent, startExtent +
 * extentCount)} of the volume and how they map, written as {@code segmentN { ... }}.
 */
public sealed interface LvSegment permits StripedSegment, OtherSegment {

    /** First logical extent of the volume this segment covers. */
    long startExtent();

    /** Number of logical extents covered. */
    long extentCount();

    /** lvm2's segment type name, see {@link SegmentTypes}. */
    String type();
}
