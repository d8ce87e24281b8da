package org.orionos.host.nbd.protocol;

import static org.orionos.host.nbd.protocol.NbdWire.*;

import java.lang.foreign.MemorySegment;

/**
 * Decodes and validates transmission-phase request headers for one connection.
 *
 * <p>Everything that depends on the negotiation (which commands and flags are allowed, export
 * size, alignment, maximum length, header style) is folded into small tables at construction, so
 * {@link #decode} is a handful of loads, masks and compares, allocates nothing and never throws
 * for any input bytes.
 *
 * <p>Verdicts: {@link #EXECUTE} (valid: run it), {@link #REJECT} (reply with
 * {@link NbdRequest#error} after reading and discarding {@link NbdRequest#payloadLength} bytes),
 * {@link #DISCONNECT} (hard disconnect: the stream cannot be trusted, e.g. a wrong magic or a
 * payload above {@link NbdWire#MAX_PAYLOAD}), {@link #SOFT_DISCONNECT} (NBD_CMD_DISC: finish the
 * requests in flight, then close).
 *
 * <p>Errors follow the spec's advice: EINVAL for unknown commands, flags not valid for the
 * command or not negotiated, misalignment to the advertised minimum block size, lengths over the
 * maximum block size, and reads/trims/cache/block-status past the end; ENOSPC for writes and
 * write-zeroes past the end; EPERM for writes, trims and write-zeroes on a read-only export.
 */
public final class RequestDecoder {

    public static final int EXECUTE = 0;
    public static final int REJECT = 1;
    public static final int DISCONNECT = 2;
    public static final int SOFT_DISCONNECT = 3;

    // Per-command properties, indexed by command type (types above 15 are never enabled).
    private static final int P_RANGED = 1;        // offset+length address the export
    private static final int P_MUTATES = 1 << 1;  // refused on read-only exports
    private static final int P_ENOSPC = 1 << 2;   // past the end is ENOSPC, not EINVAL
    private static final int P_MAX_LEN = 1 << 3;  // length bounded by the maximum block size
    private static final int P_SOFT_MAX = 1 << 5; // bounded only for clients that agreed to the sizes
    private static final int P_NO_RANGE = 1 << 4; // offset and length must be zero (FLUSH)

    private static final int[] PROPS = new int[16];

    static {
        PROPS[CMD_READ] = P_RANGED | P_MAX_LEN;
        PROPS[CMD_WRITE] = P_RANGED | P_MUTATES | P_ENOSPC | P_MAX_LEN;
        PROPS[CMD_FLUSH] = P_NO_RANGE;
        PROPS[CMD_TRIM] = P_RANGED | P_MUTATES;
        PROPS[CMD_CACHE] = P_RANGED | P_SOFT_MAX;
        PROPS[CMD_WRITE_ZEROES] = P_RANGED | P_MUTATES | P_ENOSPC | P_SOFT_MAX;
        PROPS[CMD_BLOCK_STATUS] = P_RANGED;
    }

    private final int magic;
    private final int headerSize;
    private final boolean extended;
    private final long size;
    private final long alignMask;
    private final long maxLength;
    /** Properties that bound the length: payload commands always, others once sizes were agreed. */
    private final int cappedProps;
    /** Bit t set: command type t is enabled on this connection. */
    private final int enabled;
    /** Command flags accepted per command type. */
    private final int[] allowedFlags = new int[16];
    /** Bit t set: command type t is refused with EPERM. */
    private final int readOnlyMask;

    /** Tables for the connection the handshake agreed on. */
    public RequestDecoder(TransmissionParams p) {
        NbdExport e = p.export();
        int tf = p.transmissionFlags();
        this.extended = p.extendedHeaders();
        this.magic = extended ? EXTENDED_REQUEST_MAGIC : REQUEST_MAGIC;
        this.headerSize = p.requestHeaderSize();
        this.size = e.size();
        this.alignMask = e.blockSize().minimum() - 1L;
        this.maxLength = e.blockSize().maximum();
        // Without INFO_BLOCK_SIZE a client assumes an unlimited maximum for commands without
        // payload (the spec's default), so only READ/WRITE are bounded for it.
        this.cappedProps = P_MAX_LEN | (p.blockSizeAgreed() ? P_SOFT_MAX : 0);

        int en = 1 << CMD_READ | 1 << CMD_WRITE;
        if ((tf & FLAG_SEND_FLUSH) != 0) {
            en |= 1 << CMD_FLUSH;
        }
        if ((tf & FLAG_SEND_TRIM) != 0) {
            en |= 1 << CMD_TRIM;
        }
        if ((tf & FLAG_SEND_CACHE) != 0) {
            en |= 1 << CMD_CACHE;
        }
        if ((tf & FLAG_SEND_WRITE_ZEROES) != 0) {
            en |= 1 << CMD_WRITE_ZEROES;
        }
        if (p.structuredReplies() && p.allocationContextId() != 0) {
            en |= 1 << CMD_BLOCK_STATUS;
        }
        this.enabled = en;

        int fua = (tf & FLAG_SEND_FUA) != 0 ? CMD_FLAG_FUA : 0;
        for (int t = 0; t < 16; t++) {
            allowedFlags[t] = fua; // FUA is valid on every command once negotiated
        }
        if ((tf & FLAG_SEND_DF) != 0) {
            allowedFlags[CMD_READ] |= CMD_FLAG_DF;
        }
        if (extended) {
            allowedFlags[CMD_WRITE] |= CMD_FLAG_PAYLOAD_LEN; // redundant on WRITE, so harmless
        }
        allowedFlags[CMD_WRITE_ZEROES] |= CMD_FLAG_NO_HOLE
                | ((tf & FLAG_SEND_FAST_ZERO) != 0 ? CMD_FLAG_FAST_ZERO : 0);
        allowedFlags[CMD_BLOCK_STATUS] |= CMD_FLAG_REQ_ONE;
        this.readOnlyMask = e.readOnly() ? (1 << CMD_WRITE | 1 << CMD_TRIM | 1 << CMD_WRITE_ZEROES) : 0;
    }

    /** Bytes of one request header: 28, or 32 with extended headers. */
    public int headerSize() {
        return headerSize;
    }

    /**
     * Decodes the header at {@code offset} (the caller guarantees {@link #headerSize()} readable
     * bytes there) into {@code r} and validates it.
     *
     * @return the verdict: EXECUTE, REJECT, DISCONNECT or SOFT_DISCONNECT
     */
    public int decode(MemorySegment src, long offset, NbdRequest r) {
        int m = src.get(U32, offset);
        int flags = Short.toUnsignedInt(src.get(U16, offset + 4));
        int type = Short.toUnsignedInt(src.get(U16, offset + 6));
        long off = src.get(U64, offset + 16);
        long len = extended ? src.get(U64, offset + 24) : Integer.toUnsignedLong(src.get(U32, offset + 24));
        r.flags = flags;
        r.type = type;
        r.cookie = src.get(U64, offset + 8);
        r.offset = off;
        r.length = len;
        r.payloadLength = 0;
        r.error = 0;
        if (m != magic) {
            return DISCONNECT; // lost framing (or the other header style): nothing after is trustworthy
        }
        boolean payload = type == CMD_WRITE || (extended && (flags & CMD_FLAG_PAYLOAD_LEN) != 0);
        if (payload) {
            if (Long.compareUnsigned(len, MAX_PAYLOAD) > 0) {
                return DISCONNECT; // the spec allows dropping a client that sends an oversized payload
            }
            r.payloadLength = len;
        }
        if (type == CMD_DISC) {
            return SOFT_DISCONNECT;
        }
        int t = type & 15; // tables have 16 entries; larger types fail the type != t test
        if (type != t) {
            return reject(r, NbdError.EINVAL);
        }
        // Writes of any kind on a read-only export are EPERM even when not advertised, as the spec asks.
        if (((readOnlyMask >>> t) & 1) != 0) {
            return reject(r, NbdError.EPERM);
        }
        if (((enabled >>> t) & 1) == 0 || (flags & ~allowedFlags[t]) != 0 || (payload && t != CMD_WRITE)) {
            return reject(r, NbdError.EINVAL);
        }
        int props = PROPS[t];
        if ((props & P_NO_RANGE) != 0) {
            return (off | len) != 0 ? reject(r, NbdError.EINVAL) : EXECUTE;
        }
        // Unsigned: offset within the export and length within what is left after it.
        if (Long.compareUnsigned(off, size) > 0 || Long.compareUnsigned(len, size - off) > 0) {
            return reject(r, (props & P_ENOSPC) != 0 ? NbdError.ENOSPC : NbdError.EINVAL);
        }
        if (((off | len) & alignMask) != 0) {
            return reject(r, NbdError.EINVAL);
        }
        // Fast zero requests are exempt from the maximum, as the spec says.
        boolean capped = (props & cappedProps) != 0 && (flags & CMD_FLAG_FAST_ZERO) == 0;
        if (capped && len > maxLength) {
            return reject(r, NbdError.EINVAL);
        }
        return EXECUTE;
    }

    private static int reject(NbdRequest r, int error) {
        r.error = error;
        return REJECT;
    }
}
