package org.orionos.host.nbd.server;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.orionos.bindings.Errno;
import org.orionos.host.nbd.protocol.TlsFilter;

/**
 * A connection's TLS byte streams around a {@link TlsFilter}: received ciphertext waiting to be
 * decrypted ({@code netIn}) and encrypted records waiting to be sent ({@code netOut}), both native
 * so the ring reads and writes them directly. Used by {@link NbdConnection} only, on its reactor.
 */
@SuppressWarnings("restricted") // a view of all memory, to hand reply bytes at raw addresses to the engine
final class TlsSession {
    private static final MemorySegment EVERYTHING = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    /** Room for a few full TLS records (16 KiB payload plus overhead each). */
    private static final int NET_IN = 64 * 1024;
    private static final int NET_OUT = 256 * 1024;
    /** Leave room for one more full record before calling the engine again. */
    private static final int RECORD_ROOM = 17 * 1024 + 512;

    private final TlsFilter filter;
    private final MemorySegment netIn;
    private final MemorySegment netOut;
    private int inStart;
    private int inEnd;
    private int outStart;
    private int outEnd;
    private long lastConsumed;
    private String failure;
    private boolean closed;

    /** Plaintext bytes covered by the records in flight (retired when they are sent). */
    long pendingAppBytes;
    /** Record bytes handed to the SEND in flight. */
    int netOutPending;

    TlsSession(TlsFilter filter, Arena arena) {
        this.filter = filter;
        this.netIn = arena.allocate(NET_IN, 64);
        this.netOut = arena.allocate(NET_OUT, 64);
    }

    TlsFilter filter() {
        return filter;
    }

    String failure() {
        return failure;
    }

    /** The peer sent close_notify. */
    boolean closed() {
        return closed;
    }

    long netInAddress() {
        if (inStart == inEnd) {
            inStart = inEnd = 0;
        } else if (inStart > 0) {
            MemorySegment.copy(netIn, inStart, netIn, 0, inEnd - inStart);
            inEnd -= inStart;
            inStart = 0;
        }
        return netIn.address() + inEnd;
    }

    int netInRoom() {
        return NET_IN - inEnd;
    }

    void netReceived(int n) {
        inEnd += n;
    }

    /** Adds received bytes that arrived before this session existed. */
    void injectNet(MemorySegment src, int offset, int length) {
        MemorySegment.copy(src, offset, netIn, netInAddress() - netIn.address(), length);
        inEnd += length;
    }

    boolean hasBufferedNet() {
        return inEnd > inStart;
    }

    /**
     * Decrypts buffered records into {@code app[appEnd..appCap)}. Returns plaintext bytes
     * produced, or -1 on a TLS failure ({@link #failure()} says why).
     */
    int unwrapInto(MemorySegment app, int appEnd, int appCap) {
        int total = 0;
        while (true) {
            int room = appCap - appEnd - total;
            long r = filter.unwrap(netIn.asSlice(inStart, inEnd - inStart), inEnd - inStart,
                    app.asSlice(appEnd + total, room));
            if (r < 0) {
                failure = r == -Errno.ESHUTDOWN ? "peer closed the TLS session" : "TLS error (" + Errno.name((int) r) + ")";
                if (r == -Errno.ESHUTDOWN) {
                    closed = true;
                    return total;
                }
                return -1;
            }
            long c = TlsFilter.consumed(r);
            long p = TlsFilter.produced(r);
            inStart += (int) c;
            total += (int) p;
            if (c == 0 && p == 0) {
                return total;
            }
            if (filter.wantsWrap() && !filter.handshakeComplete()) {
                return total; // the handshake must answer before reading on
            }
        }
    }

    /**
     * Encrypts up to {@code len} bytes at {@code address} into the output records; returns record
     * bytes produced (see {@link #lastConsumed()} for plaintext taken), or -1 on failure.
     */
    int wrap(long address, int len) {
        lastConsumed = 0;
        int produced = 0;
        while (lastConsumed < len && NET_OUT - outEnd >= RECORD_ROOM) {
            long r = filter.wrap(EVERYTHING.asSlice(address + lastConsumed, len - lastConsumed), len - lastConsumed,
                    netOut.asSlice(outEnd, NET_OUT - outEnd));
            if (r < 0) {
                failure = "TLS error (" + Errno.name((int) r) + ")";
                return -1;
            }
            long c = TlsFilter.consumed(r);
            long p = TlsFilter.produced(r);
            if (c == 0 && p == 0) {
                break;
            }
            lastConsumed += c;
            outEnd += (int) p;
            produced += (int) p;
        }
        return produced;
    }

    /** Produces handshake records the engine wants to send; returns their length, or -1. */
    int wrapHandshake() {
        int produced = 0;
        while (filter.wantsWrap() && NET_OUT - outEnd >= RECORD_ROOM) {
            long r = filter.wrap(MemorySegment.NULL, 0, netOut.asSlice(outEnd, NET_OUT - outEnd));
            if (r < 0) {
                failure = "TLS handshake error (" + Errno.name((int) r) + ")";
                return -1;
            }
            long p = TlsFilter.produced(r);
            if (p == 0) {
                break;
            }
            outEnd += (int) p;
            produced += (int) p;
        }
        return produced;
    }

    long lastConsumed() {
        return lastConsumed;
    }

    boolean netOutFull() {
        return NET_OUT - outEnd < RECORD_ROOM;
    }

    long netOutAddress() {
        return netOut.address() + outStart;
    }

    void netOutSent(int n) {
        outStart += n;
        netOutPending -= n;
        if (outStart == outEnd) {
            outStart = outEnd = 0;
        }
    }

    void dispose() {
        filter.closeOutbound();
    }
}
