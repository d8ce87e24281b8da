package org.orionos.host.lvm;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.orionos.host.lvm.metadata.ExtentAllocator;
import org.orionos.host.lvm.metadata.LogicalVolumeMetadata;
import org.orionos.host.lvm.metadata.LvSegment;
import org.orionos.host.lvm.metadata.PhysicalVolumeMetadata;
import org.orionos.host.lvm.metadata.StripedSegment;
import org.orionos.host.lvm.metadata.RaidSegments;
import org.orionos.host.lvm.metadata.ThinSegments;
import org.orionos.host.lvm.metadata.VolumeGroupMetadata;

/**
 * {@code pvs}, {@code vgs} and {@code lvs} tables with lvm2's default columns, attribute
 * letters and size display: {@code --units h} (the default) prints two decimals in the largest
 * binary unit, with {@code <} when the exact value is smaller than shown (lvm2 rounds up);
 * {@code b}, {@code s}, {@code k}, {@code m}, {@code g}, {@code t} print in that unit.
 */
public final class LvmReport {
    private final char units;
    private final boolean suffix;
    private final boolean headings;

    public LvmReport(String units, boolean noSuffix, boolean noHeadings) {
        this.units = units == null || units.isEmpty() ? 'h' : Character.toLowerCase(units.charAt(0));
        if ("hbskmgt".indexOf(this.units) < 0) {
            throw new IllegalArgumentException("--units takes h, b, s, k, m, g or t, got " + units);
        }
        this.suffix = !noSuffix;
        this.headings = !noHeadings;
    }

    /** A size as lvm2 prints it in the chosen units. */
    public String size(long bytes) {
        if (units == 'b') {
            return bytes + (suffix ? "B" : "");
        }
        if (units == 's') {
            return (bytes / 512) + (suffix ? "S" : "");
        }
        String names = "bkmgtpe";
        int shift;
        if (units == 'h') {
            shift = 0;
            while (shift < 60 && bytes >= (1L << (shift + 10))) {
                shift += 10;
            }
            if (shift == 0 && bytes == 0) {
                return "0 ";
            }
        } else {
            shift = 10 * names.indexOf(units);
        }
        long unit = 1L << shift;
        long hundredths = (bytes * 100 + unit - 1) / unit; // up, as lvm2 rounds
        boolean exact = hundredths * unit == bytes * 100;
        String num = String.format(Locale.ROOT, "%d.%02d", hundredths / 100, hundredths % 100);
        return (exact || units != 'h' ? "" : "<") + num + (suffix ? String.valueOf(names.charAt(shift / 10)) : "");
    }

    public String pvs(LvmScan scan) {
        List<String[]> rows = new ArrayList<>();
        for (LvmScan.Pv pv : scan.pvs()) {
            VolumeGroupMetadata vg = pv.vg();
            if (vg == null) {
                String s = size(pv.label().deviceSize());
                rows.add(new String[] {pv.path().toString(), "", "lvm2", "---", s, s});
                continue;
            }
            PhysicalVolumeMetadata meta = vg.physicalVolumes().stream()
                    .filter(p -> p.id().equals(pv.label().pvId())).findFirst().orElse(null);
            if (meta == null) {
                continue;
            }
            long ext = vg.extentSize() * 512;
            long used = usedExtents(vg, meta.name());
            rows.add(new String[] {pv.path().toString(), vg.name(), "lvm2",
                    meta.status().contains("ALLOCATABLE") ? "a--" : "---",
                    size(meta.peCount() * ext), size((meta.peCount() - used) * ext)});
        }
        return table(new String[] {"PV", "VG", "Fmt", "Attr", "PSize", "PFree"}, rows);
    }

    /** Column headings of {@link #vgs}. */
    public static final String[] VG_HEADER = {"VG", "#PV", "#LV", "#SN", "Attr", "VSize", "VFree"};
    /** Column headings of {@link #lvs}. */
    public static final String[] LV_HEADER = {"LV", "VG", "Attr", "LSize", "Pool", "Origin", "Data%", "Meta%", "Move",
        "Log", "Cpy%Sync", "Convert"};

    public String vgs(LvmScan scan) {
        return table(VG_HEADER, vgRows(scan.vgs()));
    }

    public String lvs(LvmScan scan) {
        return table(LV_HEADER, lvRows(scan.vgs()));
    }

    /** The rows of {@link #vgs} for these VGs (a running host reports its active ones). */
    public List<String[]> vgRows(List<VolumeGroupMetadata> vgs) {
        List<String[]> rows = new ArrayList<>();
        for (VolumeGroupMetadata vg : vgs) {
            long ext = vg.extentSize() * 512;
            rows.add(new String[] {vg.name(), String.valueOf(vg.physicalVolumes().size()),
                    String.valueOf(visibleLvs(vg).size()), "0", "wz--n-", size(vg.extentCount() * ext),
                    size(new ExtentAllocator(vg).freeExtents() * ext)});
        }
        return rows;
    }

    /** The rows of {@link #lvs} for these VGs. */
    public List<String[]> lvRows(List<VolumeGroupMetadata> vgs) {
        return lvRows(vgs, n -> null);
    }

    /**
     * The rows of {@link #lvs}, with a running host's view: {@code live} gives the block device
     * {@code vg/lv} the host serves (or null), shown active ('a') and, when claimed, open ('o').
     */
    public List<String[]> lvRows(List<VolumeGroupMetadata> vgs,
                                 java.util.function.Function<String, org.orionos.host.bdev.BlockDevice> live) {
        List<String[]> rows = new ArrayList<>();
        for (VolumeGroupMetadata vg : vgs) {
            long ext = vg.extentSize() * 512;
            for (LogicalVolumeMetadata lv : visibleLvs(vg)) {
                ThinSegments.Thin thin = ThinSegments.thinOf(lv);
                rows.add(new String[] {lv.name(), vg.name(), attr(vg, lv, live.apply(vg.name() + "/" + lv.name())),
                    size(lv.extentCount() * ext),
                    thin == null ? "" : thin.pool(), thin == null || thin.origin() == null ? "" : thin.origin(),
                    "", "", "", "", "", ""});
            }
        }
        return rows;
    }

    /** The VGs of the offline scan not in {@code skip} (those a running host reports). */
    public static List<VolumeGroupMetadata> except(LvmScan scan, java.util.Collection<String> skip) {
        return scan.vgs().stream().filter(v -> !skip.contains(v.name())).toList();
    }

    private static List<LogicalVolumeMetadata> visibleLvs(VolumeGroupMetadata vg) {
        return vg.logicalVolumes().stream().filter(l -> l.status().contains("VISIBLE")).toList();
    }

    /**
     * lvm2's 10 attribute letters; 'a' when the kernel has it mapped. Orion's thin pools and thin
     * volumes get lvm2's type letters 't' and 'V', and target type 't' (thin) at position 7; raid
     * volumes 'r' (or 'R' without initial sync) and target type 'r'.
     */
    private static String attr(VolumeGroupMetadata vg, LogicalVolumeMetadata lv, org.orionos.host.bdev.BlockDevice live) {
        boolean pool = ThinSegments.poolOf(lv) != null;
        boolean thin = ThinSegments.thinOf(lv) != null;
        boolean raid = RaidSegments.raidOf(lv) != null;
        // lvm2: 'r' a raid volume, 'R' one created without its initial sync (--nosync); target type 'r'.
        char type = pool ? 't' : thin ? 'V' : raid ? (lv.status().contains(RaidSegments.NOTSYNCED) ? 'R' : 'r') : '-';
        char target = pool || thin ? 't' : raid ? 'r' : '-';
        char perm = lv.status().contains("WRITE") ? 'w' : 'r';
        char alloc = 'i';
        String mapper = vg.name().replace("-", "--") + "-" + lv.name().replace("-", "--");
        char active = live != null || Files.exists(Path.of("/dev/mapper", mapper)) ? 'a' : '-';
        char open = live != null && !live.claims().isEmpty() ? 'o' : '-';
        return "" + type + perm + alloc + '-' + active + open + target + "---";
    }

    static long usedExtents(VolumeGroupMetadata vg, String pvName) {
        long n = 0;
        for (LogicalVolumeMetadata lv : vg.logicalVolumes()) {
            for (LvSegment seg : lv.segments()) {
                if (seg instanceof StripedSegment st) {
                    for (var a : st.stripes()) {
                        if (a.pvName().equals(pvName)) {
                            n += st.extentsPerStripe();
                        }
                    }
                }
            }
        }
        return n;
    }

    /** Two-space indented columns like lvm2, counts and sizes right-aligned. */
    public String table(String[] header, List<String[]> body) {
        List<String[]> rows = new ArrayList<>();
        rows.add(header);
        rows.addAll(body);
        int cols = rows.get(0).length;
        int[] w = new int[cols];
        for (String[] r : rows) {
            for (int i = 0; i < cols; i++) {
                w[i] = Math.max(w[i], r[i].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (int k = headings ? 0 : 1; k < rows.size(); k++) {
            String[] r = rows.get(k);
            StringBuilder line = new StringBuilder("  ");
            for (int i = 0; i < cols; i++) {
                String v = r[i];
                String h = rows.get(0)[i];
                boolean right = k > 0 && (h.startsWith("#") || h.endsWith("Size") || h.endsWith("Free"));
                String pad = " ".repeat(w[i] - v.length());
                line.append(right ? pad + v : v + pad);
                if (i < cols - 1) {
                    line.append(' ');
                }
            }
            sb.append(line.toString().stripTrailing()).append('\n');
        }
        return sb.toString();
    }
}
