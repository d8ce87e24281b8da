package org.orionos.host.lvm.metadata;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;

/**
 * Reads a VG from the metadata areas of its PVs as lvm2 does: every area's header and committed
 * copy is checked (checksums, magic, bounds, text syntax); the highest valid seqno wins; damaged
 * copies are reported, never silently used.
 */
public final class VolumeGroupReader {

    private VolumeGroupReader() {
    }

    /**
     * @param devices the PVs to look at
     * @param vgName  the VG to read, or null for the only VG on these devices
     * @throws ErrnoException ENOENT when no valid copy exists (the message lists every damaged
     *                        copy and why), EINVAL when the devices hold several VGs and none was named
     */
    public static VolumeGroupRead read(List<PhysicalVolumeDevice> devices, String vgName) {
        List<MetadataCopy> copies = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (PhysicalVolumeDevice pv : devices) {
            for (MetadataArea area : pv.areas()) {
                try {
                    MdaHeader h = area.readHeader();
                    RawLocation slot = h.committed();
                    if (slot.isEmpty() || (slot.flags() & RawLocation.IGNORED) != 0) {
                        continue;
                    }
                    String text = area.readText(slot);
                    MetadataText parsed = MetadataText.parse(text, area.describe());
                    if (vgName == null || vgName.equals(parsed.vg().name())) {
                        copies.add(new MetadataCopy(area, slot, parsed));
                    }
                } catch (ErrnoException e) {
                    problems.add(e.getMessage());
                }
            }
        }
        Set<String> ids = new HashSet<>();
        for (MetadataCopy c : copies) {
            ids.add(c.text().vg().id().chars());
        }
        if (ids.size() > 1) {
            throw new ErrnoException(Errno.EINVAL, "read VG", names(devices),
                    "the devices hold " + ids.size() + " different VGs; name the one to read");
        }
        MetadataCopy best = null;
        for (MetadataCopy c : copies) {
            if (best == null || c.seqno() > best.seqno()) {
                best = c;
            }
        }
        if (best == null) {
            throw new ErrnoException(Errno.ENOENT, "read VG" + (vgName != null ? " " + vgName : ""), names(devices),
                    problems.isEmpty() ? "no metadata area holds VG metadata"
                            : "no valid metadata copy: " + String.join("; ", problems));
        }
        for (MetadataCopy c : copies) {
            if (c.seqno() != best.seqno()) {
                problems.add(c.area().describe() + " holds stale seqno " + c.seqno() + " (using " + best.seqno() + ")");
            }
        }
        Set<String> present = new HashSet<>();
        for (PhysicalVolumeDevice pv : devices) {
            present.add(pv.label().pvId().chars());
        }
        for (PhysicalVolumeMetadata pv : best.text().vg().physicalVolumes()) {
            if (!present.contains(pv.id().chars())) {
                problems.add("PV " + pv.name() + " (" + pv.id() + ", last seen as " + pv.device() + ") is missing");
            }
        }
        return new VolumeGroupRead(best, copies, problems);
    }

    private static String names(List<PhysicalVolumeDevice> devices) {
        List<String> n = new ArrayList<>();
        for (PhysicalVolumeDevice d : devices) {
            n.add(d.io().name());
        }
        return String.join(",", n);
    }
}
