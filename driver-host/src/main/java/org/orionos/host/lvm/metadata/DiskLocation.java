package org.orionos.host.lvm.metadata;

/**
 * {@code struct disk_locn}: a byte range on the PV, two little-endian u64 (offset, size). In the
 * PV header lists it names data areas (size 0 = to the end of the device), metadata areas and
 * bootloader areas; an all-zero entry ends each list.
 */
public record DiskLocation(long offset, long size) {

    /** Bytes one entry takes on disk. */
    public static final int BYTES = 16;
}
