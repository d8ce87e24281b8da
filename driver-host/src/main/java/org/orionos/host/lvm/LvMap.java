package org.orionos.host.lvm;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.lvm.metadata.LogicalVolumeMetadata;
import org.orionos.host.lvm.metadata.LvSegment;
import org.orionos.host.lvm.metadata.PhysicalVolumeMetadata;
import org.orionos.host.lvm.metadata.StripeArea;
import org.orionos.host.lvm.metadata.StripedSegment;
import org.orionos.host.lvm.metadata.VolumeGroupMetadata;

/**
 * The byte mapping of one logical volume, immutable, built once per metadata version from its
 * linear and striped segments: the data path looks a request up here (a binary search over
 * segment starts, then arithmetic) and allocates nothing. A resize builds a new map and swaps it.
 *
 * <p>Within a segment of {@code n} stripes of {@code chunk} bytes, LV byte {@code rel} (relative
 * to the segment start) lies in chunk {@code c = rel / chunk}, on stripe {@code c % n}, at
 * {@code (c / n) * chunk + rel % chunk} bytes into that stripe's area (dm-stripe's layout).
 */
final class LvMap {
    /** LV byte offset where each segment starts; a final entry holds the LV's size. */
    final long[] start;
    /** Bytes per chunk, or 0 for a linear segment. */
    final long[] chunk;
    final BlockDevice[][] devices;
    /** Byte offset on the PV of each stripe's first extent. */
    final long[][] base;
    /** Every PV this volume maps to, once each (flush goes to all). */
    final BlockDevice[] allDevices;
    /** Bytes every segment start and chunk size is a multiple of: no request crossing none spans two PV pieces. */
    final long boundary;
    /**
     * While pvmove copies bytes {@code [moveLo, moveHi)} of stripe area {@code moveStripe} of
     * segment {@code moveSeg} (offsets relative to that area's start on its PV; a linear segment
     * has one area), writes there also go to {@code moveDev} at {@code moveBase + (rel - moveLo)};
     * {@code moveSeg} is -1 otherwise.
     */
    final int moveSeg;
    final int moveStripe;
    final long moveLo;
    final long moveHi;
    final BlockDevice moveDev;
    final long moveBase;

    private LvMap(long[] start, long[] chunk, BlockDevice[][] devices, long[][] base, BlockDevice[] all, long boundary,
                  int moveSeg, int moveStripe, long moveLo, long moveHi, BlockDevice moveDev, long moveBase) {
        this.start = start;
        this.chunk = chunk;
        this.devices = devices;
        this.base = base;
        this.allDevices = all;
        this.boundary = boundary;
        this.moveSeg = moveSeg;
        this.moveStripe = moveStripe;
        this.moveLo = moveLo;
        this.moveHi = moveHi;
        this.moveDev = moveDev;
        this.moveBase = moveBase;
    }

    /** This map with writes to bytes {@code [lo, hi)} of one stripe area mirrored to {@code dev} at {@code base} (pvmove). */
    LvMap withMove(int seg, int stripe, long lo, long hi, BlockDevice dev, long base) {
        BlockDevice[] all = allDevices;
        if (!java.util.Arrays.asList(all).contains(dev)) {
            all = java.util.Arrays.copyOf(all, all.length + 1);
            all[all.length - 1] = dev;
        }
        return new LvMap(start, chunk, devices, this.base, all, boundary, seg, stripe, lo, hi, dev, base);
    }

    /**
     * Builds the map of {@code lv}, resolving PV names of {@code vg} to the devices in {@code pvs}
     * (keyed by the VG's PV name). Throws when a segment is of a type orion cannot map yet.
     */
    static LvMap of(VolumeGroupMetadata vg, LogicalVolumeMetadata lv, Map<String, BlockDevice> pvs) {
        long extentBytes = vg.extentSize() * 512;
        int n = lv.segments().size();
        long[] start = new long[n + 1];
        long[] chunk = new long[n];
        BlockDevice[][] devs = new BlockDevice[n][];
        long[][] base = new long[n][];
        List<BlockDevice> all = new ArrayList<>();
        long boundary = extentBytes;
        for (int i = 0; i < n; i++) {
            LvSegment seg = lv.segments().get(i);
            if (!(seg instanceof StripedSegment st)) {
                throw new ErrnoException(Errno.EOPNOTSUPP, "activate " + vg.name() + "/" + lv.name(), null,
                        "segment " + (i + 1) + " is of type " + seg.type() + "; orion maps linear, striped, raid1, "
                                + "raid5 and raid6 volumes and its own thin volumes (not lvm2's legacy mirror, raid0, "
                                + "raid4 or raid10 segments, nor dm-thin pools)");
            }
            start[i] = seg.startExtent() * extentBytes;
            int stripes = st.stripeCount();
            chunk[i] = stripes == 1 ? 0 : st.stripeSize() * 512;
            if (stripes > 1) {
                boundary = gcd(boundary, chunk[i]);
            }
            devs[i] = new BlockDevice[stripes];
            base[i] = new long[stripes];
            for (int s = 0; s < stripes; s++) {
                StripeArea a = st.stripes().get(s);
                PhysicalVolumeMetadata pv = vg.physicalVolume(a.pvName());
                BlockDevice d = pvs.get(a.pvName());
                if (pv == null || d == null) {
                    throw new ErrnoException(Errno.ENODEV, "activate " + vg.name() + "/" + lv.name(), a.pvName(),
                            "the PV this volume maps to is missing; find its device and open the VG with it");
                }
                devs[i][s] = d;
                base[i][s] = pv.peStart() * 512 + a.startExtent() * extentBytes;
                if (!all.contains(d)) {
                    all.add(d);
                }
            }
        }
        start[n] = lv.extentCount() * extentBytes;
        return new LvMap(start, chunk, devs, base, all.toArray(BlockDevice[]::new), boundary, -1, 0, 0, 0, null, 0);
    }

    private static long gcd(long a, long b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    long size() {
        return start[start.length - 1];
    }

    /** Index of the segment holding LV byte {@code off}, or -1 past the end. */
    int segment(long off) {
        int lo = 0;
        int hi = start.length - 2;
        if (off < 0 || off >= start[hi + 1]) {
            return -1;
        }
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (start[mid] <= off) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }
}
