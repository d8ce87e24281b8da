package org.orionos.host.config;

import java.util.List;

/**
 * An {@code [[lvm]]} table: a volume group to open from its PVs (block devices of the config)
 * and the logical volumes to activate as block devices named {@code vg/lv}.
 *
 * <pre>
 * [[lvm]]
 * vg = "vg0"
 * pvs = ["disk0", "disk1"]     # every PV of the VG, by [[bdev]] name
 * volumes = ["lv0"]            # optional; default: every linear/striped/raid/thin volume
 * activation_mode = "degraded" # optional, lvm2's --activationmode: "complete" (default) opens
 *                              # the VG only with every PV; "degraded" opens it with PVs missing,
 *                              # raid volumes then run without the images on them
 * </pre>
 */
public record LvmSpec(String vg, List<String> pvs, List<String> volumes, boolean degraded) {
    public LvmSpec(String vg, List<String> pvs, List<String> volumes) {
        this(vg, pvs, volumes, false);
    }

    public LvmSpec {
        pvs = List.copyOf(pvs);
        volumes = List.copyOf(volumes);
    }
}
