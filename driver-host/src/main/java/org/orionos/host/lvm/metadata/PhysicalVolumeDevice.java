package org.orionos.host.lvm.metadata;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;

/** A device carrying an LVM2 PV label, with its metadata areas. Does not own the {@link MetadataIo}. */
public final class PhysicalVolumeDevice {

    private final MetadataIo io;
    private PvLabel label;
    private final List<MetadataArea> areas;

    private PhysicalVolumeDevice(MetadataIo io, PvLabel label) {
        this.io = io;
        this.label = label;
        List<MetadataArea> list = new ArrayList<>();
        int i = 1;
        for (DiskLocation d : label.metadataAreas()) {
            list.add(new MetadataArea(io, d, i++));
        }
        this.areas = List.copyOf(list);
    }

    /** Reads the label; throws ENODEV when the device has none, EBADMSG when it is damaged. */
    public static PhysicalVolumeDevice open(MetadataIo io) {
        PvLabel label = readLabel(io);
        if (label == null) {
            throw new ErrnoException(Errno.ENODEV, "read LVM2 PV label", io.name(),
                    "no LABELONE in the first 4 sectors: the device is not a PV (run pvcreate)");
        }
        return new PhysicalVolumeDevice(io, label);
    }

    /** The label, or null when the first 4 sectors hold none. */
    public static PvLabel readLabel(MetadataIo io) {
        int len = PvLabel.SCAN_SECTORS * PvLabel.SECTOR_SIZE;
        if (io.size() < len) {
            return null;
        }
        ByteBuffer head = ByteBuffer.allocate(len);
        io.read(0, head);
        return PvLabel.find(head.flip(), io.name());
    }

    /** Writes a label sector in place (e.g. to set PV_EXT_USED) and remembers it. */
    public void writeLabel(PvLabel newLabel) {
        io.write((long) newLabel.sector() * PvLabel.SECTOR_SIZE, newLabel.encode());
        this.label = newLabel;
    }

    public MetadataIo io() {
        return io;
    }

    public PvLabel label() {
        return label;
    }

    public List<MetadataArea> areas() {
        return areas;
    }
}
