package org.orionos.host.lvm.metadata;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;

/**
 * Consistency checks run before any VG version is written, so orion never commits metadata that
 * lvm2 would reject or misread: unique names and ids, extents inside their PVs, no extent mapped
 * twice, contiguous segments.
 */
public final class VolumeGroupChecks {

    private VolumeGroupChecks() {
    }

    /** Every problem found, one line each; empty when the VG is consistent. */
    public static List<String> problems(VolumeGroupMetadata vg) {
        List<String> out = new ArrayList<>();
        if (vg.extentSize() < 8 || Long.bitCount(vg.extentSize()) != 1) {
            out.add("extent_size " + vg.extentSize() + " is not a power of two of at least 8 sectors");
        }
        if (vg.physicalVolumes().isEmpty()) {
            out.add("the VG has no PVs");
        }
        Set<String> names = new HashSet<>();
        Set<String> ids = new HashSet<>();
        for (PhysicalVolumeMetadata pv : vg.physicalVolumes()) {
            if (!names.add(pv.name())) {
                out.add("PV key " + pv.name() + " appears twice");
            }
            if (!ids.add(pv.id().chars())) {
                out.add("PV id " + pv.id() + " appears twice");
            }
            long end = pv.peStart() + pv.peCount() * vg.extentSize();
            if (pv.devSize() > 0 && end > pv.devSize()) {
                out.add("PV " + pv.name() + ": pe_start " + pv.peStart() + " + " + pv.peCount() + " extents ends at sector "
                        + end + ", past dev_size " + pv.devSize());
            }
        }
        Set<String> lvNames = new HashSet<>();
        for (LogicalVolumeMetadata lv : vg.logicalVolumes()) {
            if (!lvNames.add(lv.name())) {
                out.add("LV " + lv.name() + " appears twice");
            }
            if (!ids.add(lv.id().chars())) {
                out.add("LV " + lv.name() + ": id " + lv.id() + " is already used");
            }
            if (lv.segments().isEmpty()) {
                out.add("LV " + lv.name() + " has no segments");
            }
            long next = 0;
            for (LvSegment seg : lv.segments()) {
                if (seg.startExtent() != next) {
                    out.add("LV " + lv.name() + ": segment at extent " + seg.startExtent() + " should start at " + next);
                }
                next = seg.startExtent() + seg.extentCount();
                if (seg instanceof StripedSegment st) {
                    for (StripeArea a : st.stripes()) {
                        if (vg.physicalVolume(a.pvName()) == null) {
                            out.add("LV " + lv.name() + ": segment refers to unknown PV " + a.pvName());
                        }
                    }
                }
            }
        }
        if (out.isEmpty()) {
            try {
                new ExtentAllocator(vg);
            } catch (ErrnoException e) {
                out.add(e.getMessage());
            }
        }
        return out;
    }

    /** Throws EINVAL listing every problem, before anything is written. */
    public static void require(VolumeGroupMetadata vg) {
        List<String> p = problems(vg);
        if (!p.isEmpty()) {
            throw new ErrnoException(Errno.EINVAL, "check VG " + vg.name() + " seqno " + vg.seqno(), null,
                    "refusing to write inconsistent metadata: " + String.join("; ", p));
        }
    }
}
