package org.orionos.host.lvm.metadata;

/**
 * {@code struct raw_locn} (24 bytes, little-endian): where one copy of the text metadata lies in
 * the circular buffer of a metadata area.
 *
 * @param offset   bytes from the start of the metadata area (so at least 512, past the header)
 * @param size     bytes of text including its terminating NUL; the copy wraps to offset 512 when
 *                 {@code offset + size} passes the end of the area
 * @param checksum LVM2 CRC over those {@code size} bytes, in buffer order
 * @param flags    {@link #IGNORED} when the area is marked ignored ({@code pvchange --metadataignore})
 */
public record RawLocation(long offset, long size, int checksum, int flags) {

    public static final int BYTES = 24;
    /** RAW_LOCN_IGNORED: the area holds no current metadata by choice. */
    public static final int IGNORED = 0x1;
    public static final RawLocation NONE = new RawLocation(0, 0, 0, 0);

    /** True when the slot points at nothing. */
    public boolean isEmpty() {
        return offset == 0 && size == 0;
    }
}
