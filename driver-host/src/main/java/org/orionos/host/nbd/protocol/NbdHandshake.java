package org.orionos.host.nbd.protocol;

import static org.orionos.host.nbd.protocol.NbdWire.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The server side of the fixed-newstyle handshake, as a pure state machine fed bytes.
 *
 * <p>It owns no socket: the transport feeds received bytes to {@link #onInput}, sends what
 * {@link #output()} holds and reports it with {@link #consumeOutput}, then looks at
 * {@link #state()}:
 * <ul>
 *   <li>{@code NEGOTIATING}: keep feeding input.</li>
 *   <li>{@code START_TLS}: flush the output in clear text, install a {@link TlsFilter}, feed
 *       decrypted bytes from then on and call {@link #tlsEstablished()} when TLS is up.</li>
 *   <li>{@code TRANSMISSION}: flush the output, then serve requests with {@link #transmission()};
 *       bytes {@link #onInput} did not consume belong to the transmission phase.</li>
 *   <li>{@code CLOSED}: flush the output (if any), then close; {@link #closeReason()} says why.</li>
 * </ul>
 *
 * <p>Limits (a client exceeding them is treated as hostile, per the spec's denial-of-service
 * allowance): option data above {@link #MAX_OPTION_DATA} is not buffered but discarded and
 * answered with ERR_TOO_BIG, above {@link #MAX_OPTION_DISCARD} the connection is closed; more
 * than {@link #MAX_OPTIONS} options close it; {@link #onInput} stops consuming while more than
 * {@link #OUTPUT_BACKPRESSURE} bytes of replies wait to be sent. No input, however malformed,
 * makes a method throw: it yields an option error or a clean close decision.
 *
 * <p>Not thread-safe: one connection, one thread at a time.
 */
public final class NbdHandshake {

    /** Where the connection stands after the last call. */
    public enum State { NEGOTIATING, START_TLS, TRANSMISSION, CLOSED }

    /** Largest option payload buffered and parsed (the longest legal GO is 4096 + 10 bytes). */
    public static final int MAX_OPTION_DATA = 64 * 1024;
    /** Largest option payload discarded (answered ERR_TOO_BIG) rather than closing. */
    public static final long MAX_OPTION_DISCARD = 16L << 20;
    /** Options per connection before the client is deemed abusive. */
    public static final int MAX_OPTIONS = 4096;
    /** Pending reply bytes above which input is not consumed until the transport sends them. */
    public static final int OUTPUT_BACKPRESSURE = 256 * 1024;

    /** Id given to base:allocation by SET_META_CONTEXT; any nonzero value would do. */
    public static final int ALLOCATION_CONTEXT_ID = 1;

    private static final byte[] BASE_ALLOCATION = CONTEXT_BASE_ALLOCATION.getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BASE_NAMESPACE = "base:".getBytes(StandardCharsets.US_ASCII);

    private enum Phase { CLIENT_FLAGS, OPTION_HEADER, OPTION_DATA, DISCARD }

    private final ExportCatalog catalog;
    private final TlsMode listenerTls;
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);

    private State state = State.NEGOTIATING;
    private Phase phase = Phase.CLIENT_FLAGS;
    private final byte[] in = new byte[OPTION_HEADER_SIZE + MAX_OPTION_DATA];
    private int inLength;
    private int inNeeded = 4;
    private long discardRemaining;
    private int option;
    private int optionsSeen;

    private byte[] out = new byte[4096];
    private int outStart;
    private int outEnd;

    private boolean fixedNewstyle;
    private boolean noZeroes;
    private boolean tls;
    private boolean structured;
    private boolean extended;
    private boolean shuttingDown;
    /** Export named by the last successful SET_META_CONTEXT that selected base:allocation. */
    private NbdExport contextExport;

    private TransmissionParams transmission;
    private String closeReason;

    /**
     * Starts a connection: the greeting is queued in {@link #output()} at once.
     *
     * @param catalog exports and the listener's TLS policy
     */
    public NbdHandshake(ExportCatalog catalog) {
        this.catalog = catalog;
        TlsMode mode = catalog.tlsMode();
        this.listenerTls = mode == null ? TlsMode.OFF : mode;
        putU64(NBDMAGIC);
        putU64(IHAVEOPT);
        putU16(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES);
    }

    public State state() {
        return state;
    }

    /** The agreement once {@link #state()} is TRANSMISSION, else null. */
    public TransmissionParams transmission() {
        return transmission;
    }

    /** Why the connection is to be closed once {@link #state()} is CLOSED, else null. */
    public String closeReason() {
        return closeReason;
    }

    /** True while reply bytes wait in {@link #output()}. */
    public boolean hasOutput() {
        return outEnd > outStart;
    }

    /** The reply bytes to send next (a view, valid until the next call on this object). */
    public MemorySegment output() {
        return MemorySegment.ofArray(out).asSlice(outStart, outEnd - outStart);
    }

    /** Reports that the first {@code n} bytes of {@link #output()} were sent. */
    public void consumeOutput(long n) {
        if (n < 0 || n > outEnd - outStart) {
            throw new IllegalArgumentException("consumed " + n + " of " + (outEnd - outStart) + " pending bytes");
        }
        outStart += (int) n;
        if (outStart == outEnd) {
            outStart = 0;
            outEnd = 0;
        }
    }

    /**
     * Server shutdown has begun: further options (but ABORT) are answered with ERR_SHUTDOWN, as
     * the spec asks, so the client disconnects softly.
     */
    public void beginShutdown() {
        shuttingDown = true;
    }

    /**
     * The transport finished the TLS handshake after {@link State#START_TLS}. Negotiation resumes
     * over TLS with all earlier negotiated state forgotten, as the spec requires.
     */
    public void tlsEstablished() {
        if (state != State.START_TLS) {
            throw new IllegalStateException("tlsEstablished() in state " + state);
        }
        tls = true;
        structured = false;
        extended = false;
        contextExport = null;
        state = State.NEGOTIATING;
    }

    /**
     * Feeds received bytes.
     *
     * @param src    received bytes
     * @param length how many bytes of {@code src}, from offset 0, are valid
     * @return how many were consumed; fewer than {@code length} when the state left NEGOTIATING
     *     (the rest belongs to the next phase) or when replies must be sent first
     */
    public long onInput(MemorySegment src, long length) {
        long pos = 0;
        while (pos < length && state == State.NEGOTIATING && outEnd - outStart <= OUTPUT_BACKPRESSURE) {
            if (phase == Phase.DISCARD) {
                long n = Math.min(discardRemaining, length - pos);
                pos += n;
                discardRemaining -= n;
                if (discardRemaining == 0) {
                    phase = Phase.OPTION_HEADER;
                    inNeeded = OPTION_HEADER_SIZE;
                    reply(option, REP_ERR_TOO_BIG, "option data exceeds the server's 64 KiB limit");
                }
                continue;
            }
            int n = (int) Math.min(inNeeded - inLength, length - pos);
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, pos, in, inLength, n);
            pos += n;
            inLength += n;
            if (inLength == inNeeded) {
                frameComplete();
            }
        }
        return pos;
    }

    private void frameComplete() {
        switch (phase) {
            case CLIENT_FLAGS -> {
                int flags = getU32(0);
                inLength = 0;
                if ((flags & ~KNOWN_CLIENT_FLAGS) != 0) {
                    close("client sent unknown client flags 0x" + Integer.toHexString(flags));
                    return;
                }
                fixedNewstyle = (flags & FLAG_C_FIXED_NEWSTYLE) != 0;
                noZeroes = (flags & FLAG_C_NO_ZEROES) != 0;
                phase = Phase.OPTION_HEADER;
                inNeeded = OPTION_HEADER_SIZE;
            }
            case OPTION_HEADER -> {
                long magic = getU64(0);
                option = getU32(8);
                long dataLength = Integer.toUnsignedLong(getU32(12));
                if (magic != IHAVEOPT) {
                    close("option magic 0x" + Long.toHexString(magic) + " is not IHAVEOPT");
                    return;
                }
                if (++optionsSeen > MAX_OPTIONS) {
                    close("more than " + MAX_OPTIONS + " options");
                    return;
                }
                if (option == OPT_EXPORT_NAME && dataLength > MAX_STRING) {
                    close("EXPORT_NAME with a " + dataLength + "-byte name (the limit is 4096)");
                    return;
                }
                if (dataLength > MAX_OPTION_DATA) {
                    if (dataLength > MAX_OPTION_DISCARD) {
                        // Streaming that much at an option is abuse, not a client mistake.
                        close("option " + option + " carries " + dataLength + " bytes of data");
                        return;
                    }
                    inLength = 0;
                    phase = Phase.DISCARD;
                    discardRemaining = dataLength;
                    return;
                }
                inNeeded = OPTION_HEADER_SIZE + (int) dataLength;
                phase = Phase.OPTION_DATA;
                if (dataLength == 0) {
                    frameComplete();
                }
            }
            case OPTION_DATA -> {
                int dataLength = inNeeded - OPTION_HEADER_SIZE;
                inLength = 0;
                inNeeded = OPTION_HEADER_SIZE;
                phase = Phase.OPTION_HEADER;
                handleOption(option, dataLength);
            }
            case DISCARD -> throw new AssertionError("discard is handled in onInput");
        }
    }

    private void handleOption(int opt, int len) {
        if (opt == OPT_ABORT) {
            // Any data with ABORT is ignored, as the spec asks.
            reply(opt, REP_ACK, null);
            close("client aborted the negotiation");
            return;
        }
        if (shuttingDown) {
            if (opt == OPT_EXPORT_NAME) {
                close("server is shutting down");
            } else {
                reply(opt, REP_ERR_SHUTDOWN, "server is shutting down");
            }
            return;
        }
        if (listenerTls == TlsMode.REQUIRED && !tls && opt != OPT_STARTTLS) {
            if (opt == OPT_EXPORT_NAME) {
                close("EXPORT_NAME before STARTTLS on a TLS-only listener");
            } else {
                reply(opt, REP_ERR_TLS_REQD, "this server requires TLS: send NBD_OPT_STARTTLS first");
            }
            return;
        }
        switch (opt) {
            case OPT_EXPORT_NAME -> exportName(len);
            case OPT_LIST -> list(len);
            case OPT_STARTTLS -> startTls(len);
            case OPT_INFO, OPT_GO -> infoOrGo(opt, len);
            case OPT_STRUCTURED_REPLY -> structuredReply(len);
            case OPT_LIST_META_CONTEXT, OPT_SET_META_CONTEXT -> metaContext(opt, len);
            case OPT_EXTENDED_HEADERS -> extendedHeaders(len);
            default -> reply(opt, REP_ERR_UNSUP, "option not supported");
        }
    }

    private void exportName(int len) {
        String name = string(OPTION_HEADER_SIZE, len);
        NbdExport export = name == null ? null : catalog.find(name);
        if (export == null) {
            close("EXPORT_NAME for an unknown or malformed export name");
            return;
        }
        if (export.tls() == TlsMode.REQUIRED && !tls) {
            close("EXPORT_NAME for TLS-only export " + export.name() + " without TLS");
            return;
        }
        if (extended) {
            // The EXPORT_NAME reply predates extended headers; a client that asked for them must use GO.
            close("EXPORT_NAME after extended headers were negotiated");
            return;
        }
        if (requiresBlockSize(export)) {
            close("export " + export.name() + " requires block size negotiation, which EXPORT_NAME cannot do");
            return;
        }
        int flags = export.transmissionFlags(structured || extended);
        putU64(export.size());
        putU16(flags);
        if (!noZeroes) {
            ensure(EXPORT_NAME_ZEROES);
            Arrays.fill(out, outEnd, outEnd + EXPORT_NAME_ZEROES, (byte) 0);
            outEnd += EXPORT_NAME_ZEROES;
        }
        enterTransmission(export, flags, false);
    }

    private void list(int len) {
        if (len != 0) {
            reply(OPT_LIST, REP_ERR_INVALID, "NBD_OPT_LIST carries no data");
            return;
        }
        for (NbdExport e : catalog.list()) {
            if (e.tls() == TlsMode.REQUIRED && !tls) {
                continue; // the spec lets SELECTIVETLS hide TLS-only exports from clear-text clients
            }
            byte[] name = e.name().getBytes(StandardCharsets.UTF_8);
            byte[] desc = e.description().getBytes(StandardCharsets.UTF_8);
            replyHeader(OPT_LIST, REP_SERVER, 4 + name.length + desc.length);
            putU32(name.length);
            putBytes(name);
            putBytes(desc);
        }
        reply(OPT_LIST, REP_ACK, null);
    }

    private void startTls(int len) {
        if (len != 0) {
            reply(OPT_STARTTLS, REP_ERR_INVALID, "NBD_OPT_STARTTLS carries no data");
        } else if (tls) {
            reply(OPT_STARTTLS, REP_ERR_INVALID, "TLS is already running");
        } else if (listenerTls == TlsMode.OFF || !fixedNewstyle) {
            reply(OPT_STARTTLS, REP_ERR_POLICY, "TLS is not offered on this listener");
        } else {
            reply(OPT_STARTTLS, REP_ACK, null);
            state = State.START_TLS;
        }
    }

    private void structuredReply(int len) {
        if (len != 0) {
            reply(OPT_STRUCTURED_REPLY, REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY carries no data");
        } else if (extended) {
            // No way back to compact headers once extended ones are agreed (qemu answers the same).
            reply(OPT_STRUCTURED_REPLY, REP_ERR_EXT_HEADER_REQD, "extended headers are already negotiated");
        } else if (structured) {
            reply(OPT_STRUCTURED_REPLY, REP_ERR_INVALID, "structured replies are already negotiated");
        } else {
            structured = true;
            reply(OPT_STRUCTURED_REPLY, REP_ACK, null);
        }
    }

    private void extendedHeaders(int len) {
        if (len != 0) {
            reply(OPT_EXTENDED_HEADERS, REP_ERR_INVALID, "NBD_OPT_EXTENDED_HEADERS carries no data");
        } else if (extended) {
            reply(OPT_EXTENDED_HEADERS, REP_ERR_INVALID, "extended headers are already negotiated");
        } else {
            extended = true;
            reply(OPT_EXTENDED_HEADERS, REP_ACK, null);
        }
    }

    private void infoOrGo(int opt, int len) {
        final int d = OPTION_HEADER_SIZE;
        if (len < 6) {
            reply(opt, REP_ERR_INVALID, "option data shorter than 6 bytes");
            return;
        }
        long nameLength = Integer.toUnsignedLong(getU32(d));
        if (nameLength > len - 6) {
            reply(opt, REP_ERR_INVALID, "export name length exceeds the option data");
            return;
        }
        int nl = (int) nameLength;
        int infoCount = getU16(d + 4 + nl);
        if (6L + nl + 2L * infoCount != len) {
            reply(opt, REP_ERR_INVALID, "information request count does not match the option length");
            return;
        }
        String name = string(d + 4, nl);
        if (name == null) {
            reply(opt, REP_ERR_INVALID, "export name is not a valid string (UTF-8, no NUL, at most 4096 bytes)");
            return;
        }
        boolean wantName = false;
        boolean wantDescription = false;
        boolean wantBlockSize = false;
        for (int i = 0; i < infoCount; i++) {
            switch (getU16(d + 6 + nl + 2 * i)) {
                case INFO_NAME -> wantName = true;
                case INFO_DESCRIPTION -> wantDescription = true;
                case INFO_BLOCK_SIZE -> wantBlockSize = true;
                default -> { } // INFO_EXPORT is always sent; unknown types are ignored
            }
        }
        NbdExport export = catalog.find(name);
        if (export == null) {
            reply(opt, REP_ERR_UNKNOWN, "no such export");
            return;
        }
        if (export.tls() == TlsMode.REQUIRED && !tls) {
            if (listenerTls == TlsMode.OFF) {
                reply(opt, REP_ERR_POLICY, "export requires TLS, which this listener does not offer");
            } else {
                reply(opt, REP_ERR_TLS_REQD, "export requires TLS: send NBD_OPT_STARTTLS first");
            }
            return;
        }
        BlockSizeConstraints bs = export.blockSize();
        boolean nonDefault = !bs.equals(BlockSizeConstraints.DEFAULT);
        if (opt == OPT_GO && !wantBlockSize && requiresBlockSize(export)) {
            infoBlockSize(opt, bs); // saves the client a round trip, as the spec suggests
            reply(opt, REP_ERR_BLOCK_SIZE_REQD, "export requires the client to request NBD_INFO_BLOCK_SIZE");
            return;
        }
        int flags = export.transmissionFlags(structured || extended);
        replyHeader(opt, REP_INFO, 12);
        putU16(INFO_EXPORT);
        putU64(export.size());
        putU16(flags);
        if (wantName) {
            byte[] n = export.name().getBytes(StandardCharsets.UTF_8);
            replyHeader(opt, REP_INFO, 2 + n.length);
            putU16(INFO_NAME);
            putBytes(n);
        }
        if (wantDescription && !export.description().isEmpty()) {
            byte[] n = export.description().getBytes(StandardCharsets.UTF_8);
            replyHeader(opt, REP_INFO, 2 + n.length);
            putU16(INFO_DESCRIPTION);
            putBytes(n);
        }
        // Unrequested constraints are still sent when they differ from the defaults: the spec
        // allows it and they are enforced either way.
        if (wantBlockSize || nonDefault) {
            infoBlockSize(opt, bs);
        }
        reply(opt, REP_ACK, null);
        if (opt == OPT_GO) {
            enterTransmission(export, flags, wantBlockSize);
        }
    }

    private void infoBlockSize(int opt, BlockSizeConstraints bs) {
        replyHeader(opt, REP_INFO, 14);
        putU16(INFO_BLOCK_SIZE);
        putU32(bs.minimum());
        putU32(bs.preferred());
        putU32(bs.maximum());
    }

    private static boolean requiresBlockSize(NbdExport export) {
        return export.requireBlockSize() && !export.blockSize().equals(BlockSizeConstraints.DEFAULT);
    }

    private void metaContext(int opt, int len) {
        final int d = OPTION_HEADER_SIZE;
        boolean set = opt == OPT_SET_META_CONTEXT;
        if (set) {
            contextExport = null; // SET replaces the selection even when it fails
        }
        if (!structured && !extended) {
            reply(opt, REP_ERR_INVALID, "negotiate structured replies before metadata contexts");
            return;
        }
        if (len < 8) {
            reply(opt, REP_ERR_INVALID, "option data shorter than 8 bytes");
            return;
        }
        long nameLength = Integer.toUnsignedLong(getU32(d));
        if (nameLength > len - 8) {
            reply(opt, REP_ERR_INVALID, "export name length exceeds the option data");
            return;
        }
        int nl = (int) nameLength;
        String name = string(d + 4, nl);
        if (name == null) {
            reply(opt, REP_ERR_INVALID, "export name is not a valid string (UTF-8, no NUL, at most 4096 bytes)");
            return;
        }
        long queries = Integer.toUnsignedLong(getU32(d + 4 + nl));
        int p = 8 + nl;
        if (queries > (len - p) / 4) {
            reply(opt, REP_ERR_INVALID, "query count exceeds the option data");
            return;
        }
        // Validate the whole list before acting on any of it.
        boolean matchAllocation = !set && queries == 0;
        for (long i = 0; i < queries; i++) {
            if (p + 4 > len) {
                reply(opt, REP_ERR_INVALID, "query list is truncated");
                return;
            }
            long ql = Integer.toUnsignedLong(getU32(d + p));
            if (ql > len - p - 4) {
                reply(opt, REP_ERR_INVALID, "query length exceeds the option data");
                return;
            }
            if (ql > MAX_STRING) {
                reply(opt, REP_ERR_INVALID, "query longer than 4096 bytes");
                return;
            }
            int q = d + p + 4;
            if (equalsAt(q, (int) ql, BASE_ALLOCATION) || (!set && equalsAt(q, (int) ql, BASE_NAMESPACE))) {
                matchAllocation = true;
            }
            // Other namespaces and unknown base: leaves are ignored, as the spec requires.
            p += 4 + (int) ql;
        }
        if (p != len) {
            reply(opt, REP_ERR_INVALID, "trailing bytes after the query list");
            return;
        }
        NbdExport export = catalog.find(name);
        if (export == null) {
            reply(opt, REP_ERR_UNKNOWN, "no such export");
            return;
        }
        if (matchAllocation && export.has(NbdExport.Feature.ALLOCATION_STATUS)) {
            replyHeader(opt, REP_META_CONTEXT, 4 + BASE_ALLOCATION.length);
            putU32(set ? ALLOCATION_CONTEXT_ID : 0); // LIST replies carry id 0 (reserved)
            putBytes(BASE_ALLOCATION);
            if (set) {
                contextExport = export;
            }
        }
        reply(opt, REP_ACK, null);
    }

    private void enterTransmission(NbdExport export, int flags, boolean blockSizeAgreed) {
        // Block status needs the contexts to have been chosen for this very export.
        int ctx = contextExport != null && contextExport.name().equals(export.name()) ? ALLOCATION_CONTEXT_ID : 0;
        transmission = new TransmissionParams(export, flags, structured || extended, extended, ctx,
                blockSizeAgreed, tls);
        state = State.TRANSMISSION;
    }

    private void close(String reason) {
        closeReason = reason;
        state = State.CLOSED;
    }

    // ---- parsing helpers over the option buffer

    /** Decodes a protocol string, or null if it is too long, not UTF-8 or contains NUL. */
    private String string(int off, int len) {
        if (len > MAX_STRING) {
            return null;
        }
        for (int i = off; i < off + len; i++) {
            if (in[i] == 0) {
                return null;
            }
        }
        try {
            return utf8.reset().decode(ByteBuffer.wrap(in, off, len)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private boolean equalsAt(int off, int len, byte[] expected) {
        return len == expected.length && Arrays.equals(in, off, off + len, expected, 0, len);
    }

    private int getU16(int off) {
        return ((in[off] & 0xff) << 8) | (in[off + 1] & 0xff);
    }

    private int getU32(int off) {
        return (getU16(off) << 16) | getU16(off + 2);
    }

    private long getU64(int off) {
        return ((long) getU32(off) << 32) | Integer.toUnsignedLong(getU32(off + 4));
    }

    // ---- output helpers

    private void reply(int opt, int type, String message) {
        byte[] m = message == null ? new byte[0] : message.getBytes(StandardCharsets.UTF_8);
        replyHeader(opt, type, m.length);
        putBytes(m);
    }

    private void replyHeader(int opt, int type, int length) {
        putU64(OPTION_REPLY_MAGIC);
        putU32(opt);
        putU32(type);
        putU32(length);
    }

    private void ensure(int n) {
        if (outEnd + n <= out.length) {
            return;
        }
        int live = outEnd - outStart;
        if (outStart > 0 && live + n <= out.length) {
            System.arraycopy(out, outStart, out, 0, live);
        } else {
            out = Arrays.copyOfRange(out, outStart, outStart + Math.max(out.length * 2, live + n));
        }
        outStart = 0;
        outEnd = live;
    }

    private void putU16(int v) {
        ensure(2);
        out[outEnd++] = (byte) (v >>> 8);
        out[outEnd++] = (byte) v;
    }

    private void putU32(int v) {
        putU16(v >>> 16);
        putU16(v);
    }

    private void putU64(long v) {
        putU32((int) (v >>> 32));
        putU32((int) v);
    }

    private void putBytes(byte[] b) {
        ensure(b.length);
        System.arraycopy(b, 0, out, outEnd, b.length);
        outEnd += b.length;
    }
}
