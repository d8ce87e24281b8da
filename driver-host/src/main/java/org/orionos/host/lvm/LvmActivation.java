package org.orionos.host.lvm;

import java.util.ArrayList;
import java.util.List;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.config.LvmSpec;
import org.orionos.host.lvm.metadata.LogicalVolumeMetadata;
import org.orionos.host.lvm.metadata.RaidSegments;
import org.orionos.host.lvm.metadata.StripedSegment;
import org.orionos.host.lvm.metadata.ThinSegments;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An {@code [[lvm]]} table of the config brought up on a host: the VG opened from its PV block
 * devices and the chosen volumes registered as block devices named {@code vg/lv}, so exports and
 * layers find them by name. Closing deregisters nothing (the host closes the devices) and releases
 * the PVs.
 */
public final class LvmActivation implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LvmActivation.class);

    private final VolumeGroup vg;
    private final List<BlockDevice> volumes;
    private final VgLock lock;

    private LvmActivation(VolumeGroup vg, List<BlockDevice> volumes, VgLock lock) {
        this.vg = vg;
        this.volumes = List.copyOf(volumes);
        this.lock = lock;
    }

    /** Opens and activates; on failure nothing stays registered or claimed. */
    public static LvmActivation activate(BdevHost host, LvmSpec spec) {
        List<BlockDevice> pvs = new ArrayList<>();
        for (String name : spec.pvs()) {
            pvs.add(host.registry().get(name));
        }
        VolumeGroup vg;
        try {
            vg = VolumeGroup.open(host, pvs, spec.degraded());
        } catch (ErrnoException e) {
            if (e.errno() != Errno.ENODEV) {
                throw e;
            }
            throw ErrnoException.withMessage(Errno.ENODEV, "activate VG " + spec.vg(), String.join(",", spec.pvs()),
                    e.getMessage() + ". Add the PV's device to [[bdev]] and this [[lvm]] table's pvs, or set "
                    + "activation_mode = \"degraded\" in the [[lvm]] table for VG " + spec.vg() + " to run its raid "
                    + "volumes without the images on missing PVs (lvm2's --activationmode degraded; no metadata "
                    + "change is possible until the PV is back)");
        }
        List<BlockDevice> made = new ArrayList<>();
        VgLock lock = null;
        try {
            if (!vg.name().equals(spec.vg())) {
                throw new ErrnoException(Errno.EINVAL, "activate VG " + spec.vg(), String.join(",", spec.pvs()),
                        "these devices hold VG " + vg.name() + ", not " + spec.vg());
            }
            // While this host runs, offline orion lvm commands on the VG are refused: one writer.
            lock = VgLock.acquire(vg.name(), "the orion host with pid " + ProcessHandle.current().pid());
            List<String> names = new ArrayList<>(spec.volumes());
            boolean chosen = !names.isEmpty();
            if (!chosen) {
                for (LogicalVolumeMetadata lv : vg.metadata().logicalVolumes()) {
                    boolean mappable = lv.segments().stream().allMatch(s -> s instanceof StripedSegment)
                            || ThinSegments.thinOf(lv) != null || RaidSegments.raidOf(lv) != null;
                    if (lv.status().contains("VISIBLE") && mappable) {
                        names.add(lv.name());
                    }
                }
            }
            for (String lv : names) {
                BlockDevice v;
                try {
                    v = vg.activateAny(lv, vg.name() + "/" + lv);
                } catch (ErrnoException e) {
                    if (chosen || !spec.degraded()) {
                        throw e;
                    }
                    // Degraded and not asked for by name: a volume a missing PV takes down stays inactive.
                    LOG.warn("VG {} (degraded): {}/{} not activated: {}", vg.name(), vg.name(), lv, e.getMessage());
                    continue;
                }
                host.registry().add(v);
                made.add(v);
                LOG.info("bdev {}: logical volume, {} bytes, block {}", v.name(), v.sizeBytes(), v.blockSize());
            }
        } catch (RuntimeException e) {
            for (BlockDevice v : made) {
                host.registry().remove(v.name(), true);
            }
            vg.close();
            if (lock != null) {
                lock.close();
            }
            throw e;
        }
        return new LvmActivation(vg, made, lock);
    }

    public VolumeGroup volumeGroup() {
        return vg;
    }

    public List<BlockDevice> volumes() {
        return volumes;
    }

    @Override
    public void close() {
        try {
            vg.close();
        } finally {
            lock.close();
        }
    }

    @Override
    public String toString() {
        return "VG " + vg.name();
    }
}
