package org.orionos.host.nbd.protocol;

import static org.orionos.host.nbd.protocol.NbdWire.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Encodes transmission-phase replies into caller-provided memory, in the style the connection
 * negotiated: simple replies, structured reply chunks (20-byte headers), or extended reply chunks
 * (32-byte headers carrying the request's offset and a 64-bit payload length).
 *
 * <p>Every method writes at {@code dst[at..]} and returns the number of bytes written; the caller
 * sizes {@code dst} (the largest fixed frame is {@link #MAX_FIXED_REPLY} bytes plus an optional
 * message; block status needs {@link #blockStatusSize(int)}). Read data is never copied here: the
 * header methods for reads describe data the transport sends straight from the device buffer.
 * Nothing allocates.
 */
public final class ReplyEncoder {

    /** Bytes of the largest reply without data or message (an extended ERROR_OFFSET chunk). */
    public static final int MAX_FIXED_REPLY = EXTENDED_REPLY_HEADER_SIZE + 14;
    /** Longest extent a compact BLOCK_STATUS descriptor carries: 2^32 - 64 KiB, a multiple of any minimum block size. */
    static final long MAX_COMPACT_EXTENT = 0x1_0000_0000L - 65536;

    private final boolean structured;
    private final boolean extended;

    /** An encoder for the reply style the handshake agreed on. */
    public ReplyEncoder(TransmissionParams p) {
        this(p.structuredReplies(), p.extendedHeaders());
    }

    /**
     * @param structured structured replies negotiated
     * @param extended   extended headers negotiated (implies structured)
     */
    public ReplyEncoder(boolean structured, boolean extended) {
        this.structured = structured || extended;
        this.extended = extended;
    }

    public boolean structured() {
        return structured;
    }

    public boolean extended() {
        return extended;
    }

    /** Bytes of a chunk header on this connection (0 when only simple replies are allowed). */
    public int chunkHeaderSize() {
        return extended ? EXTENDED_REPLY_HEADER_SIZE : structured ? STRUCTURED_REPLY_HEADER_SIZE : 0;
    }

    /** A simple reply: 16 bytes (READ data, if any, follows it). */
    public static int simple(MemorySegment dst, long at, long cookie, int error) {
        dst.set(U32, at, SIMPLE_REPLY_MAGIC);
        dst.set(U32, at + 4, error);
        dst.set(U64, at + 8, cookie);
        return SIMPLE_REPLY_SIZE;
    }

    /**
     * A chunk header in this connection's style.
     *
     * @param requestOffset the request's offset (carried by extended headers only)
     * @param payloadLength bytes of payload that follow the header
     */
    public int chunkHeader(MemorySegment dst, long at, int flags, int type, long cookie, long requestOffset,
                           long payloadLength) {
        if (extended) {
            dst.set(U32, at, EXTENDED_REPLY_MAGIC);
            dst.set(U16, at + 4, (short) flags);
            dst.set(U16, at + 6, (short) type);
            dst.set(U64, at + 8, cookie);
            dst.set(U64, at + 16, requestOffset);
            dst.set(U64, at + 24, payloadLength);
            return EXTENDED_REPLY_HEADER_SIZE;
        }
        if (!structured) {
            throw new IllegalStateException("structured replies were not negotiated on this connection");
        }
        dst.set(U32, at, STRUCTURED_REPLY_MAGIC);
        dst.set(U16, at + 4, (short) flags);
        dst.set(U16, at + 6, (short) type);
        dst.set(U64, at + 8, cookie);
        dst.set(U32, at + 16, (int) payloadLength);
        return STRUCTURED_REPLY_HEADER_SIZE;
    }

    /**
     * The complete successful reply to a command without reply payload (everything but READ and
     * BLOCK_STATUS): a simple reply, or with extended headers a NONE chunk flagged DONE.
     */
    public int ok(MemorySegment dst, long at, long cookie, long requestOffset) {
        return extended ? none(dst, at, cookie, requestOffset) : simple(dst, at, cookie, 0);
    }

    /** A NONE chunk flagged DONE: ends a structured reply that sent its content already. */
    public int none(MemorySegment dst, long at, long cookie, long requestOffset) {
        return chunkHeader(dst, at, REPLY_FLAG_DONE, REPLY_TYPE_NONE, cookie, requestOffset, 0);
    }

    /**
     * The complete error reply to any command: a simple reply with the error, or an ERROR chunk
     * flagged DONE carrying the optional message (structured replies must be used for READ).
     *
     * @param message UTF-8 text for a person, or null; longer than 4096 bytes is cut
     */
    public int error(MemorySegment dst, long at, long cookie, long requestOffset, int nbdError,
                     MemorySegment message) {
        if (!structured) {
            return simple(dst, at, cookie, nbdError);
        }
        int ml = messageLength(message);
        int h = chunkHeader(dst, at, REPLY_FLAG_DONE, REPLY_TYPE_ERROR, cookie, requestOffset, 6 + ml);
        dst.set(U32, at + h, nbdError);
        dst.set(U16, at + h + 4, (short) ml);
        copyMessage(message, ml, dst, at + h + 6);
        return h + 6 + ml;
    }

    /**
     * An ERROR_OFFSET chunk: part of a structured reply failed at {@code errorOffset}.
     */
    public int errorOffset(MemorySegment dst, long at, long cookie, long requestOffset, int nbdError,
                           long errorOffset, MemorySegment message, boolean done) {
        int ml = messageLength(message);
        int h = chunkHeader(dst, at, done ? REPLY_FLAG_DONE : 0, REPLY_TYPE_ERROR_OFFSET, cookie, requestOffset,
                14 + ml);
        dst.set(U32, at + h, nbdError);
        dst.set(U16, at + h + 4, (short) ml);
        copyMessage(message, ml, dst, at + h + 6);
        dst.set(U64, at + h + 6 + ml, errorOffset);
        return h + 14 + ml;
    }

    /**
     * The header in front of read data: with simple replies the 16-byte reply that precedes the
     * whole read; otherwise an OFFSET_DATA chunk header plus its 8-byte offset, after which
     * {@code dataLength} bytes of data must follow.
     *
     * @param done mark the chunk final (only when no error can still be detected for it)
     */
    public int readData(MemorySegment dst, long at, long cookie, long requestOffset, long dataOffset,
                        long dataLength, boolean done) {
        if (!structured) {
            return simple(dst, at, cookie, 0);
        }
        int h = chunkHeader(dst, at, done ? REPLY_FLAG_DONE : 0, REPLY_TYPE_OFFSET_DATA, cookie, requestOffset,
                8 + dataLength);
        dst.set(U64, at + h, dataOffset);
        return h + 8;
    }

    /** An OFFSET_HOLE chunk: {@code holeLength} bytes at {@code holeOffset} read as zeroes. */
    public int readHole(MemorySegment dst, long at, long cookie, long requestOffset, long holeOffset,
                        int holeLength, boolean done) {
        int h = chunkHeader(dst, at, done ? REPLY_FLAG_DONE : 0, REPLY_TYPE_OFFSET_HOLE, cookie, requestOffset, 12);
        dst.set(U64, at + h, holeOffset);
        dst.set(U32, at + h + 8, holeLength);
        return h + 12;
    }

    /** Bytes {@link #blockStatus} needs for {@code extents} descriptors. */
    public int blockStatusSize(int extents) {
        return extended ? EXTENDED_REPLY_HEADER_SIZE + 8 + 16 * extents
                : STRUCTURED_REPLY_HEADER_SIZE + 4 + 8 * extents;
    }

    /**
     * A BLOCK_STATUS chunk (BLOCK_STATUS_EXT with extended headers) for one metadata context.
     * Compact descriptors hold 32-bit lengths: an extent longer than that is cut to
     * {@code 2^32 - 65536} bytes and ends the list (the spec lets a reply describe less).
     *
     * @param extents at least one extent
     */
    public int blockStatus(MemorySegment dst, long at, long cookie, long requestOffset, int contextId,
                           ExtentList extents, boolean done) {
        int n = extents.count();
        int flags = done ? REPLY_FLAG_DONE : 0;
        if (extended) {
            int h = chunkHeader(dst, at, flags, REPLY_TYPE_BLOCK_STATUS_EXT, cookie, requestOffset, 8 + 16L * n);
            long p = at + h;
            dst.set(U32, p, contextId);
            dst.set(U32, p + 4, n);
            p += 8;
            for (int i = 0; i < n; i++, p += 16) {
                dst.set(U64, p, extents.length(i));
                dst.set(U64, p + 8, Integer.toUnsignedLong(extents.flags(i)));
            }
            return (int) (p - at);
        }
        int fit = 0;
        while (fit < n && extents.length(fit) <= 0xffff_ffffL) {
            fit++;
        }
        int emitted = fit < n ? fit + 1 : n; // the first oversized extent is cut and ends the list
        int h = chunkHeader(dst, at, flags, REPLY_TYPE_BLOCK_STATUS, cookie, requestOffset, 4 + 8L * emitted);
        long p = at + h;
        dst.set(U32, p, contextId);
        p += 4;
        for (int i = 0; i < emitted; i++, p += 8) {
            long len = i < fit ? extents.length(i) : MAX_COMPACT_EXTENT;
            dst.set(U32, p, (int) len);
            dst.set(U32, p + 4, extents.flags(i));
        }
        return (int) (p - at);
    }

    private static int messageLength(MemorySegment message) {
        return message == null ? 0 : (int) Math.min(message.byteSize(), MAX_STRING);
    }

    private static void copyMessage(MemorySegment message, int length, MemorySegment dst, long at) {
        if (length > 0) {
            MemorySegment.copy(message, ValueLayout.JAVA_BYTE, 0, dst, ValueLayout.JAVA_BYTE, at, length);
        }
    }
}
