package org.orionos.host.lvm.metadata;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;

/**
 * Finds free physical extents in a VG for new segments, first fit in PV order. Used extents are
 * those any striped segment maps (every other segment type reaches PVs through hidden striped
 * sub-volumes, as in lvm2). Refuses, before anything changes, when the extents are not there.
 */
public final class ExtentAllocator {

    /** A run of free extents on one PV. */
    public record FreeRange(String pvName, long start, long count) {
    }

    private final VolumeGroupMetadata vg;
    private final Map<String, List<long[]>> free = new LinkedHashMap<>();

    public ExtentAllocator(VolumeGroupMetadata vg) {
        this.vg = vg;
        Map<String, List<long[]>> used = new LinkedHashMap<>();
        for (PhysicalVolumeMetadata pv : vg.physicalVolumes()) {
            used.put(pv.name(), new ArrayList<>());
        }
        for (LogicalVolumeMetadata lv : vg.logicalVolumes()) {
            for (LvSegment seg : lv.segments()) {
                if (seg instanceof StripedSegment st) {
                    for (StripeArea a : st.stripes()) {
                        List<long[]> u = used.get(a.pvName());
                        if (u == null) {
                            throw new ErrnoException(Errno.EBADMSG, "allocate extents in VG " + vg.name(), lv.name(),
                                    "segment refers to unknown PV " + a.pvName());
                        }
                        u.add(new long[] {a.startExtent(), st.extentsPerStripe()});
                    }
                }
            }
        }
        for (PhysicalVolumeMetadata pv : vg.physicalVolumes()) {
            List<long[]> u = used.get(pv.name());
            u.sort((x, y) -> Long.compare(x[0], y[0]));
            List<long[]> f = new ArrayList<>();
            long at = 0;
            for (long[] r : u) {
                if (r[0] < at) {
                    throw new ErrnoException(Errno.EBADMSG, "allocate extents in VG " + vg.name(), pv.name(),
                            "extent " + r[0] + " is mapped twice");
                }
                if (r[0] > at) {
                    f.add(new long[] {at, r[0] - at});
                }
                at = r[0] + r[1];
            }
            if (at > pv.peCount()) {
                throw new ErrnoException(Errno.EBADMSG, "allocate extents in VG " + vg.name(), pv.name(),
                        "segments map extent " + (at - 1) + " beyond pe_count " + pv.peCount());
            }
            if (at < pv.peCount() && pv.status().contains("ALLOCATABLE")) {
                f.add(new long[] {at, pv.peCount() - at});
            }
            free.put(pv.name(), f);
        }
    }

    /** Free extents in the VG. */
    public long freeExtents() {
        long n = 0;
        for (List<long[]> f : free.values()) {
            for (long[] r : f) {
                n += r[1];
            }
        }
        return n;
    }

    /** Ranges for a linear volume of {@code extents}, possibly spanning PVs. */
    public List<FreeRange> linear(long extents) {
        if (extents <= 0 || extents > freeExtents()) {
            throw new ErrnoException(Errno.ENOSPC, "allocate " + extents + " extents", "VG " + vg.name(),
                    "the VG has " + freeExtents() + " free extents; add a PV (vgextend) or ask for less");
        }
        List<FreeRange> out = new ArrayList<>();
        long need = extents;
        for (Map.Entry<String, List<long[]>> e : free.entrySet()) {
            for (long[] r : e.getValue()) {
                if (need == 0) {
                    return out;
                }
                long take = Math.min(need, r[1]);
                out.add(new FreeRange(e.getKey(), r[0], take));
                need -= take;
            }
        }
        return out;
    }

    /** One contiguous range of {@code perStripe} extents on each of {@code stripes} different PVs. */
    public List<FreeRange> striped(long perStripe, int stripes) {
        List<FreeRange> out = new ArrayList<>();
        for (Map.Entry<String, List<long[]>> e : free.entrySet()) {
            for (long[] r : e.getValue()) {
                if (r[1] >= perStripe) {
                    out.add(new FreeRange(e.getKey(), r[0], perStripe));
                    break;
                }
            }
            if (out.size() == stripes) {
                return out;
            }
        }
        throw new ErrnoException(Errno.ENOSPC, "allocate " + stripes + " stripes of " + perStripe + " extents",
                "VG " + vg.name(), "only " + out.size() + " PVs have that many contiguous free extents");
    }

    /** The free ranges on PV {@code pvName}, lowest extent first (none when it is not allocatable). */
    public List<FreeRange> freeOn(String pvName) {
        List<FreeRange> out = new ArrayList<>();
        for (long[] r : free.getOrDefault(pvName, List.of())) {
            out.add(new FreeRange(pvName, r[0], r[1]));
        }
        return out;
    }
}
