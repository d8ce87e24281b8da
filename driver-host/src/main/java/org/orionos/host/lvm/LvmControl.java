package org.orionos.host.lvm;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.control.ControlHandler;
import org.orionos.host.lvm.metadata.LogicalVolumeMetadata;
import org.orionos.host.lvm.metadata.RaidSegments;
import org.orionos.host.lvm.metadata.ThinSegments;
import org.orionos.host.lvm.metadata.VolumeGroupMetadata;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The LVM operations a running host answers on its management socket, acting on the VGs it has
 * active ({@code [[lvm]]}): {@code lvm.active}, {@code lvm.vgs}, {@code lvm.lvs},
 * {@code lvm.lvcreate}, {@code lvm.lvresize}, {@code lvm.lvremove}. New volumes are activated and
 * registered as block devices {@code vg/lv}; a resize of an active volume is announced to its
 * claimers (an NBD export's new connections see the new size).
 */
public final class LvmControl {
    private static final ObjectMapper JSON = new ObjectMapper();

    private LvmControl() {}

    public static Map<String, ControlHandler> handlers(BdevHost host) {
        Map<String, ControlHandler> h = new LinkedHashMap<>();
        h.put("lvm.active", args -> {
            ObjectNode r = JSON.createObjectNode();
            ArrayNode a = r.putArray("vgs");
            for (LvmActivation x : host.lvmActivations()) {
                a.add(x.volumeGroup().name());
            }
            return r;
        });
        h.put("lvm.vgs", args -> rows(report(args).vgRows(metadata(host))));
        h.put("lvm.lvs", args -> rows(report(args).lvRows(metadata(host), n -> host.registry().find(n).orElse(null))));
        h.put("lvm.lvcreate", args -> lvcreate(host, args));
        h.put("lvm.lvresize", args -> lvresize(host, args));
        h.put("lvm.lvremove", args -> lvremove(host, args));
        return h;
    }

    private static LvmReport report(ObjectNode args) {
        return new LvmReport(args.path("units").asText("h"), args.path("nosuffix").asBoolean(false), false);
    }

    private static List<VolumeGroupMetadata> metadata(BdevHost host) {
        List<VolumeGroupMetadata> out = new ArrayList<>();
        for (LvmActivation x : host.lvmActivations()) {
            out.add(x.volumeGroup().metadata());
        }
        return out;
    }

    private static JsonNode rows(List<String[]> rows) {
        ObjectNode r = JSON.createObjectNode();
        ArrayNode a = r.putArray("rows");
        for (String[] row : rows) {
            ArrayNode x = a.addArray();
            for (String c : row) {
                x.add(c);
            }
        }
        return r;
    }

    private static VolumeGroup vg(BdevHost host, String name) {
        for (LvmActivation x : host.lvmActivations()) {
            if (x.volumeGroup().name().equals(name)) {
                return x.volumeGroup();
            }
        }
        throw new ErrnoException(Errno.ENOENT, "lvm", name, "this host has no VG " + name + " active");
    }

    private static String text(ObjectNode args, String key) {
        JsonNode n = args.get(key);
        if (n == null || n.isNull() || n.asText().isEmpty()) {
            throw new IllegalArgumentException("missing argument " + key);
        }
        return n.asText();
    }

    private static JsonNode lvcreate(BdevHost host, ObjectNode args) {
        VolumeGroup g = vg(host, text(args, "vg"));
        String name = text(args, "name");
        String type = text(args, "type");
        long ext = g.metadata().extentSize() * 512;
        long extents = args.path("extents").asLong(0);
        if (extents == 0 && args.path("size_bytes").asLong(0) > 0) {
            extents = (args.path("size_bytes").asLong() + ext - 1) / ext;
        }
        switch (type) {
            case "snapshot" -> g.snapshot(text(args, "origin"), name, args.path("read_only").asBoolean(false));
            case "thin" -> g.createThin(name, text(args, "pool"), args.path("virtual_bytes").asLong());
            case "thin-pool" -> {
                long chunk = args.path("chunk_sectors").asLong();
                long metaBytes = args.path("meta_bytes").asLong(0);
                if (metaBytes == 0) {
                    metaBytes = 2 * (4096 + 2 * 24 * (extents * ext / (chunk * 512)) + 4096);
                }
                g.createThinPool(name, extents, Math.max(1, (metaBytes + ext - 1) / ext), chunk);
            }
            case "striped" -> g.createStriped(name, extents, args.path("stripes").asInt(), args.path("stripe_sectors").asLong());
            case "linear" -> g.createLinear(name, extents);
            default -> {
                if (!RaidSegments.TYPES.contains(type)) {
                    throw new ErrnoException(Errno.EOPNOTSUPP, "lvcreate --type " + type, g.name(), "orion creates "
                            + "linear, striped, raid1, raid5, raid6, thin-pool and thin volumes and thin snapshots");
                }
                g.createRaid(name, type, args.path("images").asInt(), extents, args.path("stripe_sectors").asLong(
                        LvmRaid.DEFAULT_STRIPE_SECTORS), args.path("region_sectors").asLong(LvmRaid.DEFAULT_REGION_SECTORS),
                        args.path("nosync").asBoolean(false));
            }
        }
        ObjectNode r = JSON.createObjectNode();
        if (!type.equals("thin-pool")) {
            BlockDevice d = g.activateAny(name, g.name() + "/" + name);
            host.registry().add(d);
            r.put("bdev", d.name());
            r.put("size_bytes", d.sizeBytes());
        }
        return r;
    }

    /** {@code size} or {@code extents}: lvm2's [+|-]N[unit] for -L, [+|-]N for -l. */
    private static JsonNode lvresize(BdevHost host, ObjectNode args) {
        VolumeGroup g = vg(host, text(args, "vg"));
        String lvName = text(args, "lv");
        LogicalVolumeMetadata lv = g.metadata().logicalVolume(lvName);
        if (lv == null) {
            throw new ErrnoException(Errno.ENOENT, "lvresize", g.name() + "/" + lvName, "no such LV");
        }
        long now = lv.extentCount();
        long wanted = wantedExtents(g.metadata().extentSize() * 512, now,
                args.path("size").asText(""), args.path("extents").asText(""));
        LogicalVolumeMetadata next = g.resize(lvName, wanted, args.path("force").asBoolean(false));
        ObjectNode r = JSON.createObjectNode();
        r.put("from_extents", now);
        r.put("to_extents", next.extentCount());
        BlockDevice d = host.registry().find(g.name() + "/" + lvName).orElse(null);
        if (d != null) {
            r.put("size_bytes", d.sizeBytes());
        }
        return r;
    }

    /**
     * The extent count lvresize asks for: {@code size} ([+|-]N with lvm2's units, megabytes when
     * bare, rounded up to whole extents) or {@code extents} ([+|-]N); exactly one is non-empty.
     */
    public static long wantedExtents(long extentBytes, long now, String size, String extents) {
        if (size.isEmpty() == extents.isEmpty()) {
            throw new IllegalArgumentException("give the new size with exactly one of -L [+|-]SIZE or -l [+|-]EXTENTS");
        }
        String spec = size.isEmpty() ? extents : size;
        int sign = spec.startsWith("+") ? 1 : spec.startsWith("-") ? -1 : 0;
        String num = sign != 0 ? spec.substring(1) : spec;
        long amount = !size.isEmpty() ? (parseSize(num, 'm') + extentBytes - 1) / extentBytes : Long.parseLong(num);
        return sign == 0 ? amount : now + sign * amount;
    }

    /** lvm2 sizes: a number with an optional unit (b s k m g t p, any case); bare numbers are {@code defaultUnit}. */
    public static long parseSize(String text, char defaultUnit) {
        String t = text.trim();
        int end = 0;
        while (end < t.length() && (Character.isDigit(t.charAt(end)) || t.charAt(end) == '.')) {
            end++;
        }
        if (end == 0) {
            throw new IllegalArgumentException("not a size: " + text);
        }
        double v = Double.parseDouble(t.substring(0, end));
        String unit = t.substring(end).toLowerCase(java.util.Locale.ROOT);
        char u = unit.isEmpty() ? defaultUnit : unit.charAt(0);
        long mult = switch (u) {
            case 'b' -> 1;
            case 's' -> 512;
            case 'k' -> 1L << 10;
            case 'm' -> 1L << 20;
            case 'g' -> 1L << 30;
            case 't' -> 1L << 40;
            case 'p' -> 1L << 50;
            default -> throw new IllegalArgumentException("unknown unit in " + text + "; use b, s, k, m, g, t or p");
        };
        return (long) Math.ceil(v * mult);
    }

    private static JsonNode lvremove(BdevHost host, ObjectNode args) {
        VolumeGroup g = vg(host, text(args, "vg"));
        String lvName = text(args, "lv");
        String dev = g.name() + "/" + lvName;
        if (host.registry().find(dev).isPresent()) {
            host.registry().remove(dev, false); // refuses while an export or a layer uses it
        }
        g.remove(lvName);
        LogicalVolumeMetadata gone = g.metadata().logicalVolume(lvName);
        ObjectNode r = JSON.createObjectNode();
        r.put("removed", gone == null);
        r.put("thin", gone != null && ThinSegments.thinOf(gone) != null);
        return r;
    }
}
