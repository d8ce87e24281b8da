package org.orionos.host.lvm.metadata;

import java.util.List;

/**
 * The result of reading a VG from its PVs: the copy with the highest seqno that passed every
 * check, every valid copy, and what was wrong with the others.
 *
 * @param used     the copy the VG was taken from
 * @param copies   all valid copies of this VG, in device and area order
 * @param problems one line per damaged, stale or missing copy or PV (empty when all agree)
 */
public record VolumeGroupRead(MetadataCopy used, List<MetadataCopy> copies, List<String> problems) {

    public VolumeGroupRead {
        copies = List.copyOf(copies);
        problems = List.copyOf(problems);
    }

    public VolumeGroupMetadata vg() {
        return used.text().vg();
    }
}
