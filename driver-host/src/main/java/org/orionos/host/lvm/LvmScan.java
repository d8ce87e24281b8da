package org.orionos.host.lvm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.lvm.metadata.FileMetadataIo;
import org.orionos.host.lvm.metadata.PhysicalVolumeDevice;
import org.orionos.host.lvm.metadata.PhysicalVolumeFormatter;
import org.orionos.host.lvm.metadata.PvLabel;
import org.orionos.host.lvm.metadata.VolumeGroupMetadata;
import org.orionos.host.lvm.metadata.VolumeGroupRead;
import org.orionos.host.lvm.metadata.VolumeGroupReader;

/**
 * What the offline tools see on a set of devices, as lvm2's scan does: each device's PV label
 * (if any) and the VG its metadata names. Devices are either given ({@code --devices}, files
 * allowed) or every block device in {@code /proc/partitions}; they are opened read-only and a
 * device that cannot be opened or read is skipped.
 */
public final class LvmScan {

    /** One device with an LVM2 label. {@code vg} is null for an orphan PV (in no VG). */
    public record Pv(Path path, PvLabel label, VolumeGroupMetadata vg, List<String> problems) {
        /** Bytes of extents space: from pe_start to the end of the data area. */
        public long dataBytes() {
            return PhysicalVolumeFormatter.dataEnd(label) - label.dataAreas().get(0).offset();
        }
    }

    private final List<Pv> pvs;

    private LvmScan(List<Pv> pvs) {
        this.pvs = pvs;
    }

    /** Scans {@code devices}, or the system's block devices when the list is empty. */
    public static LvmScan of(List<Path> devices) {
        List<Path> candidates = devices.isEmpty() ? systemBlockDevices() : devices;
        List<Pv> found = new ArrayList<>();
        for (Path p : candidates) {
            FileMetadataIo io;
            try {
                io = FileMetadataIo.open(p, false);
            } catch (ErrnoException e) {
                if (!devices.isEmpty()) {
                    throw e;
                }
                continue;
            }
            try {
                PvLabel label = PhysicalVolumeDevice.readLabel(io);
                if (label == null) {
                    continue;
                }
                PhysicalVolumeDevice pv = PhysicalVolumeDevice.open(io);
                VolumeGroupMetadata vg = null;
                List<String> problems = List.of();
                if ((label.extensionFlags() & PvLabel.PV_EXT_USED) != 0 || !pv.areas().isEmpty()) {
                    try {
                        VolumeGroupRead read = VolumeGroupReader.read(List.of(pv), null);
                        vg = read.vg();
                        problems = read.problems();
                    } catch (ErrnoException e) {
                        problems = List.of(e.getMessage());
                    }
                }
                found.add(new Pv(p, label, vg, problems));
            } catch (ErrnoException e) {
                if (!devices.isEmpty()) {
                    throw e;
                }
            } finally {
                io.close();
            }
        }
        // Several PVs of one VG may carry copies of different seqno: every PV reports the newest.
        Map<String, VolumeGroupMetadata> newest = new LinkedHashMap<>();
        for (Pv pv : found) {
            if (pv.vg() != null) {
                newest.merge(pv.vg().id().chars(), pv.vg(), (a, b) -> a.seqno() >= b.seqno() ? a : b);
            }
        }
        List<Pv> out = new ArrayList<>();
        for (Pv pv : found) {
            out.add(pv.vg() == null ? pv : new Pv(pv.path(), pv.label(), newest.get(pv.vg().id().chars()), pv.problems()));
        }
        return new LvmScan(out);
    }

    private static List<Path> systemBlockDevices() {
        List<Path> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/partitions"))) {
                String[] f = line.trim().split("\\s+");
                if (f.length == 4 && f[0].matches("\\d+")) {
                    Path dev = Path.of("/dev", f[3]);
                    if (Files.exists(dev)) {
                        out.add(dev);
                    }
                }
            }
        } catch (IOException e) {
            throw new ErrnoException(Errno.EIO, "scan block devices", "/proc/partitions", e.getMessage());
        }
        return out;
    }

    public List<Pv> pvs() {
        return pvs;
    }

    /** Every VG seen, newest metadata each, in scan order. */
    public List<VolumeGroupMetadata> vgs() {
        Map<String, VolumeGroupMetadata> m = new LinkedHashMap<>();
        for (Pv pv : pvs) {
            if (pv.vg() != null) {
                m.putIfAbsent(pv.vg().id().chars(), pv.vg());
            }
        }
        return List.copyOf(m.values());
    }

    public Pv pv(Path path) {
        for (Pv pv : pvs) {
            if (pv.path().equals(path)) {
                return pv;
            }
        }
        return null;
    }

    /** The devices holding VG {@code name}; ENOENT naming the VGs seen when there is none. */
    public List<Path> devicesOf(String name) {
        List<Path> out = new ArrayList<>();
        for (Pv pv : pvs) {
            if (pv.vg() != null && pv.vg().name().equals(name)) {
                out.add(pv.path());
            }
        }
        if (out.isEmpty()) {
            List<String> names = vgs().stream().map(VolumeGroupMetadata::name).toList();
            throw new ErrnoException(Errno.ENOENT, "find VG " + name, null, "no PV holds a VG of that name; found "
                    + (names.isEmpty() ? "no VGs" : String.join(", ", names))
                    + " (name the devices with --devices when they are files)");
        }
        return out;
    }
}
