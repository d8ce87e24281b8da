package org.orionos.host.lvm.metadata;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;

/**
 * Writes a new PV label and empty metadata areas, in lvm2's default layout:
 * <pre>
 * 0      sector 0 (zeroed)            512  label (sector 1)     1024..4095 zeroed
 * 4096   metadata area 1 (peStart - 4096 bytes)
 * peStart (1 MiB) extents ...
 * end - 1 MiB  metadata area 2 (with metadataCopies = 2; aligned down to 1 MiB)
 * </pre>
 */
public final class PhysicalVolumeFormatter {

    /** lvm2's default data alignment and first extent: 1 MiB. */
    public static final long DEFAULT_PE_START = 1 << 20;
    /** Where lvm2 puts the first metadata area. */
    public static final long FIRST_MDA_OFFSET = 4096;

    /**
     * @param metadataCopies 0, 1 or 2 metadata areas ({@code --pvmetadatacopies})
     * @param peStart        byte offset of the first extent, a multiple of 4096 past the first area
     * @param id             the PV id, or null for a random one (when several devices are formatted
     *                       together only the first gets it)
     */
    public record Options(int metadataCopies, long peStart, LvmUuid id) {

        public Options {
            if (metadataCopies < 0 || metadataCopies > 2) {
                throw new IllegalArgumentException("--pvmetadatacopies must be 0, 1 or 2, got " + metadataCopies);
            }
            if (peStart % 4096 != 0 || peStart < FIRST_MDA_OFFSET + 4 * MdaHeader.SIZE) {
                throw new IllegalArgumentException("pe_start must be a multiple of 4096 leaving room for a metadata "
                        + "area, got " + peStart);
            }
        }

        /** One metadata area, extents from 1 MiB, random id: what plain {@code pvcreate} does. */
        public static Options defaults() {
            return new Options(1, DEFAULT_PE_START, null);
        }

        public Options withMetadataCopies(int copies) {
            return new Options(copies, peStart, id);
        }
    }

    private PhysicalVolumeFormatter() {
    }

    /** Formats {@code io} as an orphan PV (in no VG) and returns its label. */
    public static PvLabel format(MetadataIo io, Options options) {
        long size = io.size();
        long minSize = options.peStart() + (options.metadataCopies() == 2 ? 2 * options.peStart() : options.peStart());
        if (size < minSize) {
            throw new ErrnoException(Errno.ENOSPC, "pvcreate", io.name(), "the device has " + size
                    + " bytes; this layout needs at least " + minSize);
        }
        List<DiskLocation> mdas = new ArrayList<>();
        if (options.metadataCopies() >= 1) {
            mdas.add(new DiskLocation(FIRST_MDA_OFFSET, options.peStart() - FIRST_MDA_OFFSET));
        }
        if (options.metadataCopies() == 2) {
            long mdaSize = options.peStart();
            long start = (size - mdaSize) / options.peStart() * options.peStart();
            mdas.add(new DiskLocation(start, size - start));
        }
        LvmUuid id = options.id() != null ? options.id() : LvmUuid.random();
        PvLabel label = new PvLabel(PvLabel.DEFAULT_SECTOR, id, size,
                List.of(new DiskLocation(options.peStart(), 0)), mdas, PvLabel.EXTENSION_VERSION, 0, List.of());
        // Clear the 4 sectors lvm2 scans so no stale label in another sector can shadow this one.
        io.write(0, ByteBuffer.allocate(PvLabel.SCAN_SECTORS * PvLabel.SECTOR_SIZE));
        int i = 1;
        for (DiskLocation d : mdas) {
            new MetadataArea(io, d, i++).writeHeader(MdaHeader.empty(d.offset(), d.size()));
        }
        io.flush();
        // The label goes last: until it is durable the device is not a PV at all.
        io.write((long) label.sector() * PvLabel.SECTOR_SIZE, label.encode());
        io.flush();
        return label;
    }

    /** Bytes where extents may live: up to the second metadata area, or the end of the device. */
    public static long dataEnd(PvLabel label) {
        long end = label.deviceSize();
        long peStart = label.dataAreas().isEmpty() ? 0 : label.dataAreas().get(0).offset();
        for (DiskLocation d : label.metadataAreas()) {
            if (d.offset() > peStart && d.offset() < end) {
                end = d.offset();
            }
        }
        return end;
    }
}
