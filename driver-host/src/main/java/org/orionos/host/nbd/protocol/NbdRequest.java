package org.orionos.host.nbd.protocol;

/**
 * One decoded request header: a mutable holder the transport reuses for every request on a
 * connection, so decoding allocates nothing.
 *
 * <p>Fields are set by {@link RequestDecoder#decode}; {@code length} is unsigned (a simple
 * header's 32-bit length is zero-extended).
 */
public final class NbdRequest {
    /** Command flags (NbdWire.CMD_FLAG_*). */
    public int flags;
    /** Command type (NbdWire.CMD_*). */
    public int type;
    /** Opaque client cookie, echoed in every reply. */
    public long cookie;
    /** Byte offset into the export. */
    public long offset;
    /** Effect length in bytes (for WRITE also the payload length). */
    public long length;
    /** Bytes of payload following the header that the transport must read (or discard). */
    public long payloadLength;
    /** For a rejected request, the NBD error to reply with; 0 otherwise. */
    public int error;

    @Override
    public String toString() {
        return "NbdRequest[type=" + type + ", flags=0x" + Integer.toHexString(flags) + ", cookie=" + cookie
                + ", offset=" + offset + ", length=" + Long.toUnsignedString(length)
                + ", payload=" + payloadLength + ", error=" + NbdError.name(error) + "]";
    }
}
