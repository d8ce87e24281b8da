package org.orionos.host.lvm.metadata;

import java.util.List;

/**
 * A PV as the VG metadata describes it ({@code pvN { ... }} in {@code physical_volumes}).
 *
 * @param name    key inside the VG (pv0, pv1, ...), what segments refer to
 * @param id      the PV's id, equal to the one in its label
 * @param device  the device path last seen, a hint only (lvm2 finds PVs by id)
 * @param devSize device size in 512-byte sectors
 * @param peStart first sector of extent 0
 * @param peCount number of extents
 * @param extra   settings this model does not interpret, written back unchanged
 */
public record PhysicalVolumeMetadata(String name, LvmUuid id, String device, List<String> status,
                                     List<String> flags, long devSize, long peStart, long peCount,
                                     List<ConfigNode> extra) {

    /** Status of a PV that extents may be allocated from. */
    public static final List<String> ALLOCATABLE = List.of("ALLOCATABLE");

    public PhysicalVolumeMetadata {
        status = List.copyOf(status);
        flags = List.copyOf(flags);
        extra = List.copyOf(extra);
    }
}
