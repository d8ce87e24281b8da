package org.orionos.host.lvm.metadata;

import java.util.List;

/**
 * A volume group as its text metadata describes it: identity, sequence number, extent size and
 * the PVs and LVs in it.
 *
 * @param seqno         incremented by every committed change; the highest valid copy wins
 * @param extentSize    sectors per extent (8192 = 4 MiB, lvm2's default)
 * @param extra         VG settings and sections this model does not interpret, written back unchanged
 */
public record VolumeGroupMetadata(String name, LvmUuid id, long seqno, String format, List<String> status,
                                  List<String> flags, long extentSize, long maxLv, long maxPv,
                                  long metadataCopies, List<PhysicalVolumeMetadata> physicalVolumes,
                                  List<LogicalVolumeMetadata> logicalVolumes, List<ConfigNode> extra) {

    /** Status lvm2 gives a new VG. */
    public static final List<String> RESIZEABLE_READ_WRITE = List.of("RESIZEABLE", "READ", "WRITE");

    public VolumeGroupMetadata {
        status = List.copyOf(status);
        flags = List.copyOf(flags);
        physicalVolumes = List.copyOf(physicalVolumes);
        logicalVolumes = List.copyOf(logicalVolumes);
        extra = List.copyOf(extra);
    }

    /** The same VG with another seqno. */
    public VolumeGroupMetadata withSeqno(long newSeqno) {
        return new VolumeGroupMetadata(name, id, newSeqno, format, status, flags, extentSize, maxLv, maxPv,
                metadataCopies, physicalVolumes, logicalVolumes, extra);
    }

    /** The same VG with another list of LVs. */
    public VolumeGroupMetadata withLogicalVolumes(List<LogicalVolumeMetadata> lvs) {
        return new VolumeGroupMetadata(name, id, seqno, format, status, flags, extentSize, maxLv, maxPv,
                metadataCopies, physicalVolumes, lvs, extra);
    }

    public PhysicalVolumeMetadata physicalVolume(String pvName) {
        for (PhysicalVolumeMetadata pv : physicalVolumes) {
            if (pv.name().equals(pvName)) {
                return pv;
            }
        }
        return null;
    }

    public LogicalVolumeMetadata logicalVolume(String lvName) {
        for (LogicalVolumeMetadata lv : logicalVolumes) {
            if (lv.name().equals(lvName)) {
                return lv;
            }
        }
        return null;
    }

    /** Extents in all PVs. */
    public long extentCount() {
        long n = 0;
        for (PhysicalVolumeMetadata pv : physicalVolumes) {
            n += pv.peCount();
        }
        return n;
    }
}
