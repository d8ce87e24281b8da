package org.orionos.host.lvm.metadata;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;

/**
 * The LVM2 PV label: one 512-byte sector among the first four of the device (lvm2 writes sector 1).
 * All integers little-endian.
 * <pre>
 * label_header (32 bytes)
 *   0  id[8]        "LABELONE"
 *   8  sector_xl    u64  number of the sector holding this label
 *  16  crc_xl       u32  LVM2 CRC of bytes 20..511 of the sector
 *  20  offset_xl    u32  offset of the pv_header from the label start: 32
 *  24  type[8]      "LVM2 001"
 * pv_header (at 32)
 *   0  pv_uuid[32]  id without dashes
 *  32  device_size_xl u64 bytes
 *  40  disk_locn[]  data areas, ending with {0,0}; then metadata areas, ending with {0,0}
 * pv_header_extension (right after the lists)
 *   0  version      u32  2
 *   4  flags        u32  PV_EXT_USED (1) once the PV belongs to a VG
 *   8  disk_locn[]  bootloader areas, ending with {0,0}
 * </pre>
 *
 * @param sector           sector of the device the label is in (0..3)
 * @param pvId             the PV's id
 * @param deviceSize       bytes
 * @param dataAreas        lvm2 writes one: {pe_start bytes, 0}
 * @param metadataAreas    0, 1 or 2 areas; each starts with an {@link MdaHeader}
 * @param extensionVersion 0 when the label has no extension (old lvm2), else 2
 */
public record PvLabel(int sector, LvmUuid pvId, long deviceSize, List<DiskLocation> dataAreas,
                      List<DiskLocation> metadataAreas, int extensionVersion, int extensionFlags,
                      List<DiskLocation> bootloaderAreas) {

    public static final int SECTOR_SIZE = 512;
    /** lvm2 looks for the label in the first four sectors. */
    public static final int SCAN_SECTORS = 4;
    /** The sector lvm2 writes the label to. */
    public static final int DEFAULT_SECTOR = 1;
    public static final String LABEL_ID = "LABELONE";
    public static final String LABEL_TYPE = "LVM2 001";
    /** Where the label checksum starts: everything after crc_xl. */
    public static final int CRC_START = 20;
    static final int PV_HEADER_OFFSET = 32;
    public static final int EXTENSION_VERSION = 2;
    /** pv_header_extension flag: the PV is in a VG. */
    public static final int PV_EXT_USED = 0x1;

    public PvLabel {
        dataAreas = List.copyOf(dataAreas);
        metadataAreas = List.copyOf(metadataAreas);
        bootloaderAreas = List.copyOf(bootloaderAreas);
    }

    /** The same label with other extension flags. */
    public PvLabel withExtensionFlags(int flags) {
        return new PvLabel(sector, pvId, deviceSize, dataAreas, metadataAreas, extensionVersion, flags, bootloaderAreas);
    }

    /** The 512-byte label sector, with its checksum. */
    public ByteBuffer encode() {
        ByteBuffer b = ByteBuffer.allocate(SECTOR_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.put(LABEL_ID.getBytes(StandardCharsets.US_ASCII));
        b.putLong(sector);
        b.putInt(0);
        b.putInt(PV_HEADER_OFFSET);
        b.put(LABEL_TYPE.getBytes(StandardCharsets.US_ASCII));
        b.put(pvId.chars().getBytes(StandardCharsets.US_ASCII));
        b.putLong(deviceSize);
        putList(b, dataAreas);
        putList(b, metadataAreas);
        if (extensionVersion != 0) {
            b.putInt(extensionVersion);
            b.putInt(extensionFlags);
            putList(b, bootloaderAreas);
        }
        b.putInt(16, Lvm2Crc.update(Lvm2Crc.INITIAL, b.array(), CRC_START, SECTOR_SIZE - CRC_START));
        return b.clear();
    }

    private static void putList(ByteBuffer b, List<DiskLocation> list) {
        for (DiskLocation d : list) {
            b.putLong(d.offset()).putLong(d.size());
        }
        b.putLong(0).putLong(0);
    }

    /**
     * Finds and decodes the label in the first {@link #SCAN_SECTORS} sectors.
     *
     * @param head   at least the first 2048 bytes of the device
     * @param device the device, for error messages
     * @return the label, or null when no sector starts with LABELONE
     * @throws ErrnoException EBADMSG when a LABELONE sector is damaged (bad checksum, sector
     *                        number, type or layout)
     */
    public static PvLabel find(ByteBuffer head, String device) {
        ByteBuffer b = head.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        byte[] id = LABEL_ID.getBytes(StandardCharsets.US_ASCII);
        for (int s = 0; s < SCAN_SECTORS; s++) {
            int base = s * SECTOR_SIZE;
            boolean match = true;
            for (int i = 0; i < id.length; i++) {
                if (b.get(base + i) != id[i]) {
                    match = false;
                    break;
                }
            }
            if (match) {
                return decode(b.slice(base, SECTOR_SIZE).order(ByteOrder.LITTLE_ENDIAN), s, device);
            }
        }
        return null;
    }

    private static PvLabel decode(ByteBuffer b, int sectorIndex, String device) {
        String where = device + " label sector " + sectorIndex;
        byte[] raw = new byte[SECTOR_SIZE];
        b.get(0, raw);
        int stored = b.getInt(16);
        int computed = Lvm2Crc.update(Lvm2Crc.INITIAL, raw, CRC_START, SECTOR_SIZE - CRC_START);
        if (stored != computed) {
            throw corrupt(where, String.format("label checksum 0x%08x does not match its contents (0x%08x)",
                    stored, computed));
        }
        long sectorXl = b.getLong(8);
        if (sectorXl != sectorIndex) {
            throw corrupt(where, "label says it is in sector " + sectorXl);
        }
        String type = new String(raw, 24, 8, StandardCharsets.US_ASCII);
        if (!LABEL_TYPE.equals(type)) {
            throw corrupt(where, "label type \"" + type + "\" is not \"" + LABEL_TYPE + "\"");
        }
        int offset = b.getInt(20);
        if (offset < PV_HEADER_OFFSET || offset > SECTOR_SIZE - 40) {
            throw corrupt(where, "pv_header offset " + offset + " is outside the sector");
        }
        LvmUuid pvId;
        try {
            pvId = new LvmUuid(new String(raw, offset, LvmUuid.LENGTH, StandardCharsets.US_ASCII));
        } catch (IllegalArgumentException e) {
            throw corrupt(where, e.getMessage());
        }
        long deviceSize = b.getLong(offset + 32);
        int[] pos = {offset + 40};
        List<DiskLocation> data = readList(b, pos, where);
        List<DiskLocation> mdas = readList(b, pos, where);
        int extVersion = 0;
        int extFlags = 0;
        List<DiskLocation> boot = List.of();
        if (pos[0] + 8 <= SECTOR_SIZE) {
            extVersion = b.getInt(pos[0]);
            if (extVersion != 0) {
                extFlags = b.getInt(pos[0] + 4);
                pos[0] += 8;
                boot = readList(b, pos, where);
            }
        }
        return new PvLabel(sectorIndex, pvId, deviceSize, data, mdas, extVersion, extFlags, boot);
    }

    private static List<DiskLocation> readList(ByteBuffer b, int[] pos, String where) {
        List<DiskLocation> out = new ArrayList<>();
        while (true) {
            if (pos[0] + DiskLocation.BYTES > SECTOR_SIZE) {
                throw corrupt(where, "disk location list runs past the end of the label sector");
            }
            long off = b.getLong(pos[0]);
            long size = b.getLong(pos[0] + 8);
            pos[0] += DiskLocation.BYTES;
            if (off == 0) {
                return out;
            }
            out.add(new DiskLocation(off, size));
        }
    }

    static ErrnoException corrupt(String where, String what) {
        return new ErrnoException(Errno.EBADMSG, "read LVM2 PV label", where,
                what + "; the PV is damaged: restore it with pvcreate --restorefile or vgcfgrestore");
    }
}
