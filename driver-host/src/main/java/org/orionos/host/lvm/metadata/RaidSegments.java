package org.orionos.host.lvm.metadata;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;

/**
 * RAID logical volumes in LVM2's own layout, which both tools read. A visible LV {@code L} has
 * one segment of type {@code raid1}, {@code raid5} (lvm2's name for {@code raid5_ls}),
 * {@code raid6} (for {@code raid6_zr}) or another raid5/6 layout, naming per image a pair of
 * hidden linear LVs: {@code L_rmeta_N} (one extent: dm-raid's superblock at byte 0 and its
 * write-intent bitmap at 4 KiB) and {@code L_rimage_N} (the member's data from its byte 0):
 *
 * <pre>
 * segment1 {
 *   start_extent = 0
 *   extent_count = 30        # LV extents: images' extents x data images
 *   type = "raid5"
 *   device_count = 4
 *   region_size = 4096       # sectors per bitmap region
 *   stripe_size = 128        # sectors per chunk (parity levels only)
 *   raids = ["L_rmeta_0", "L_rimage_0", "L_rmeta_1", "L_rimage_1", ...]
 * }
 * </pre>
 *
 * A segment without {@code _rmeta_} names (lvm2 allows images without metadata) or with
 * {@code data_offset} (reshape space) is read, but orion maps only images whose data starts at
 * their byte 0. LV status {@code NOTSYNCED} is lvm2's mark of {@code --nosync}.
 */
public final class RaidSegments {

    /** lvm2's status word for an LV created with {@code --nosync} (dm-raid then skips the initial resync). */
    public static final String NOTSYNCED = "NOTSYNCED";
    /** Types read and written here; lvm2's {@code raid5}/{@code raid6} are its {@code raid5_ls}/{@code raid6_zr}. */
    public static final Set<String> TYPES = Set.of(SegmentTypes.RAID1, SegmentTypes.RAID5, SegmentTypes.RAID5_LS,
            SegmentTypes.RAID5_LA, SegmentTypes.RAID5_RS, SegmentTypes.RAID5_RA, SegmentTypes.RAID5_N,
            SegmentTypes.RAID6, SegmentTypes.RAID6_ZR, SegmentTypes.RAID6_NR, SegmentTypes.RAID6_NC);

    /**
     * A raid segment decoded.
     *
     * @param stripeSectors sectors per chunk (0 for raid1)
     * @param metaLvs       per image its rmeta LV name, or null when the image has none
     * @param dataOffset    sectors of reshape space before each image's data (lvm2's {@code data_offset}), 0 normally
     */
    public record Raid(String type, long regionSectors, long stripeSectors, List<String> metaLvs, List<String> imageLvs,
                       long dataOffset) {

        public Raid {
            metaLvs = java.util.Collections.unmodifiableList(new ArrayList<>(metaLvs));
            imageLvs = List.copyOf(imageLvs);
        }

        /** Images (md members). */
        public int devices() {
            return imageLvs.size();
        }

        /** Images holding P or Q rather than data in each stripe (0 for raid1). */
        public int parityDevices() {
            return parityDevicesOf(type);
        }
    }

    private RaidSegments() {
    }

    /** 1 for raid5 layouts, 2 for raid6 layouts, 0 for raid1. */
    public static int parityDevicesOf(String type) {
        return type.startsWith("raid6") ? 2 : type.startsWith("raid5") ? 1 : 0;
    }

    /** The hidden sub-LV names lvm2 gives image {@code i} of {@code lv}. */
    public static String metaName(String lv, int i) {
        return lv + "_rmeta_" + i;
    }

    public static String imageName(String lv, int i) {
        return lv + "_rimage_" + i;
    }

    /** Whether {@code name} is one of lvm2's raid sub-LV names. */
    public static boolean isSubLvName(String name) {
        return name.matches(".*_r(meta|image)_[0-9]+");
    }

    static OtherSegment segment(long extents, String type, long regionSectors, long stripeSectors, int devices,
                                String lv) {
        List<String> raids = new ArrayList<>();
        for (int i = 0; i < devices; i++) {
            raids.add(metaName(lv, i));
            raids.add(imageName(lv, i));
        }
        List<ConfigNode> body = new ArrayList<>();
        body.add(new ConfigSetting("device_count", ConfigValue.of(devices)));
        body.add(new ConfigSetting("region_size", ConfigValue.of(regionSectors)));
        if (stripeSectors > 0) {
            body.add(new ConfigSetting("stripe_size", ConfigValue.of(stripeSectors)));
        }
        body.add(new ConfigSetting("raids", ConfigValue.strings(raids)));
        return new OtherSegment(0, extents, type, body);
    }

    /** The raid segment of {@code lv}, or null when {@code lv} is not a one-segment raid1/5/6 volume. */
    public static Raid raidOf(LogicalVolumeMetadata lv) {
        if (lv.segments().size() != 1 || !(lv.segments().get(0) instanceof OtherSegment o) || !TYPES.contains(o.type())) {
            return null;
        }
        long devices = -1;
        long region = 0;
        long stripe = 0;
        long dataOffset = 0;
        List<String> raids = null;
        for (ConfigNode n : o.body()) {
            if (!(n instanceof ConfigSetting s)) {
                continue;
            }
            switch (s.name()) {
                case "device_count" -> devices = num(lv, s);
                case "region_size" -> region = num(lv, s);
                case "stripe_size" -> stripe = num(lv, s);
                case "data_offset" -> dataOffset = num(lv, s);
                case "raids" -> {
                    if (!(s.value() instanceof ConfigValue.Array a)) {
                        throw bad(lv, "raids is not a list");
                    }
                    raids = new ArrayList<>();
                    for (ConfigValue v : a.items()) {
                        if (!(v instanceof ConfigValue.Str str)) {
                            throw bad(lv, "raids holds a non-string");
                        }
                        raids.add(str.value());
                    }
                }
                default -> {
                }
            }
        }
        if (devices < 2 || raids == null) {
            throw bad(lv, "a raid segment needs device_count >= 2 and a raids list");
        }
        // lvm2's reader: each image may be preceded by its _rmeta_ LV.
        List<String> metas = new ArrayList<>();
        List<String> images = new ArrayList<>();
        for (int i = 0; i < raids.size(); i++) {
            String meta = null;
            if (raids.get(i).contains("_rmeta_")) {
                meta = raids.get(i++);
            }
            if (i >= raids.size()) {
                throw bad(lv, "raids ends with a metadata LV and no image");
            }
            metas.add(meta);
            images.add(raids.get(i));
        }
        if (images.size() != devices) {
            throw bad(lv, "device_count is " + devices + " but raids names " + images.size() + " images");
        }
        int parity = parityDevicesOf(o.type());
        if (parity > 0 && (stripe < 8 || Long.bitCount(stripe) != 1)) {
            throw bad(lv, "a " + o.type() + " segment needs a power-of-two stripe_size of at least 8 sectors");
        }
        if (devices < parity + 2) {
            throw bad(lv, o.type() + " needs at least " + (parity + 2) + " images, the segment has " + devices);
        }
        return new Raid(o.type(), region, parity > 0 ? stripe : 0, metas, images, dataOffset);
    }

    private static long num(LogicalVolumeMetadata lv, ConfigSetting s) {
        if (s.value() instanceof ConfigValue.Int v) {
            return v.value();
        }
        throw bad(lv, s.name() + " is not an integer");
    }

    private static ErrnoException bad(LogicalVolumeMetadata lv, String why) {
        return new ErrnoException(Errno.EBADMSG, "read LV " + lv.name(), null, "its raid segment: " + why);
    }
}
