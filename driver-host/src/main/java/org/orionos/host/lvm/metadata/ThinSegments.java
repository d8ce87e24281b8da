package org.orionos.host.lvm.metadata;

import java.util.List;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;

/**
 * Orion's thin pools and thin volumes in LVM2 metadata. They are laid out as lvm2 lays out its
 * own: a visible pool LV {@code P} whose one segment names two hidden linear LVs, {@code P_tdata}
 * (the data chunks) and {@code P_tmeta} (the mappings), and thin LVs whose segment names the pool
 * and a device id. The segment types are {@value #POOL_TYPE} and {@value #THIN_TYPE}, not lvm2's
 * {@code thin-pool}/{@code thin}, because the mappings on {@code P_tmeta} are orion's format
 * (see {@code org.orionos.host.lvm.ThinPoolMetadata}), not dm-thin's btrees: lvm2 reads such a VG,
 * lists these LVs with segment type "orion-thin-pool"/"orion-thin" and attribute {@code X}
 * (unknown), warns "Unrecognised segment type", and refuses to activate or change them, instead of
 * handing dm-thin a metadata device it would misread.
 *
 * <pre>
 * pool {                          thin0 {
 *   segment1 {                      segment1 {
 *     type = "orion-thin-pool"        type = "orion-thin"
 *     metadata = "pool_tmeta"         thin_pool = "pool"
 *     pool = "pool_tdata"             device_id = 1
 *     chunk_size = 128   # sectors    origin = "base"   # a snapshot's origin, when it has one
 *   }                               }
 * }                               }
 * </pre>
 */
public final class ThinSegments {

    public static final String POOL_TYPE = "orion-thin-pool";
    public static final String THIN_TYPE = "orion-thin";
    /** 64 KiB, lvm2's default thin-pool chunk. */
    public static final long DEFAULT_CHUNK_SECTORS = 128;

    /** A pool segment decoded: its sub-LV names and chunk size in sectors. */
    public record Pool(String metadataLv, String dataLv, long chunkSectors) {
    }

    /** A thin segment decoded. */
    public record Thin(String pool, long deviceId, String origin) {
    }

    private ThinSegments() {
    }

    static OtherSegment pool(long extents, String metadataLv, String dataLv, long chunkSectors) {
        return new OtherSegment(0, extents, POOL_TYPE, List.of(
                new ConfigSetting("metadata", ConfigValue.of(metadataLv)),
                new ConfigSetting("pool", ConfigValue.of(dataLv)),
                new ConfigSetting("chunk_size", ConfigValue.of(chunkSectors))));
    }

    static OtherSegment thin(long extents, String pool, long deviceId, String origin) {
        if (origin == null) {
            return new OtherSegment(0, extents, THIN_TYPE, List.of(
                    new ConfigSetting("thin_pool", ConfigValue.of(pool)),
                    new ConfigSetting("device_id", ConfigValue.of(deviceId))));
        }
        return new OtherSegment(0, extents, THIN_TYPE, List.of(
                new ConfigSetting("thin_pool", ConfigValue.of(pool)),
                new ConfigSetting("device_id", ConfigValue.of(deviceId)),
                new ConfigSetting("origin", ConfigValue.of(origin))));
    }

    /** The pool segment of {@code lv}, or null when it is not an orion thin pool. */
    public static Pool poolOf(LogicalVolumeMetadata lv) {
        if (lv.segments().size() != 1 || !(lv.segments().get(0) instanceof OtherSegment o)
                || !POOL_TYPE.equals(o.type())) {
            return null;
        }
        return new Pool(str(lv, o, "metadata"), str(lv, o, "pool"), num(lv, o, "chunk_size"));
    }

    /** The thin segment of {@code lv}, or null when it is not an orion thin volume. */
    public static Thin thinOf(LogicalVolumeMetadata lv) {
        if (lv.segments().size() != 1 || !(lv.segments().get(0) instanceof OtherSegment o)
                || !THIN_TYPE.equals(o.type())) {
            return null;
        }
        String origin = null;
        for (ConfigNode n : o.body()) {
            if (n instanceof ConfigSetting s && s.name().equals("origin") && s.value() instanceof ConfigValue.Str v) {
                origin = v.value();
            }
        }
        return new Thin(str(lv, o, "thin_pool"), num(lv, o, "device_id"), origin);
    }

    private static String str(LogicalVolumeMetadata lv, OtherSegment o, String key) {
        for (ConfigNode n : o.body()) {
            if (n instanceof ConfigSetting s && s.name().equals(key) && s.value() instanceof ConfigValue.Str v) {
                return v.value();
            }
        }
        throw new ErrnoException(Errno.EBADMSG, "read LV " + lv.name(), null, "its " + o.type()
                + " segment lacks the string " + key);
    }

    private static long num(LogicalVolumeMetadata lv, OtherSegment o, String key) {
        for (ConfigNode n : o.body()) {
            if (n instanceof ConfigSetting s && s.name().equals(key) && s.value() instanceof ConfigValue.Int v) {
                return v.value();
            }
        }
        throw new ErrnoException(Errno.EBADMSG, "read LV " + lv.name(), null, "its " + o.type()
                + " segment lacks the integer " + key);
    }
}
