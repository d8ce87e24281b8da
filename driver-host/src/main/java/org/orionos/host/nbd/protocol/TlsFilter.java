package org.orionos.host.nbd.protocol;

import java.lang.foreign.MemorySegment;

/**
 * The transport hook TLS plugs into after NBD_OPT_STARTTLS (the engine itself, JSSE's SSLEngine,
 * lives with the transport, not here).
 *
 * <p>Sequence: the handshake replies ACK to STARTTLS and enters {@link NbdHandshake.State#START_TLS};
 * the transport sends every pending output byte in clear text, then asks its
 * {@link Factory} for a filter and from then on passes every received byte through
 * {@link #unwrap} before {@link NbdHandshake#onInput} (and later the request decoder) sees it, and
 * every byte to send through {@link #wrap}. Once {@link #handshakeComplete()} is true the transport
 * calls {@link NbdHandshake#tlsEstablished()}; if the TLS handshake fails the connection is closed
 * (the spec leaves no way back to clear text).
 *
 * <p>Results are packed longs so the data path allocates nothing: see {@link #consumed(long)} and
 * {@link #produced(long)}; a negative result is a negative errno (EPROTO for a TLS failure).
 */
public interface TlsFilter {

    /** Creates the server side of one connection's TLS session. */
    interface Factory {
        TlsFilter newServerFilter();
    }

    /**
     * Decrypts network bytes.
     *
     * @return bytes of {@code net} consumed and bytes written to {@code app}, packed; or -errno
     */
    long unwrap(MemorySegment net, long netLength, MemorySegment app);

    /**
     * Encrypts application bytes (or produces handshake records when {@code appLength} is 0).
     *
     * @return bytes of {@code app} consumed and bytes written to {@code net}, packed; or -errno
     */
    long wrap(MemorySegment app, long appLength, MemorySegment net);

    /** True once the TLS handshake has finished and application data flows. */
    boolean handshakeComplete();

    /** True while the engine has handshake records to send (call {@link #wrap} with no data). */
    boolean wantsWrap();

    /** Starts an orderly TLS close (close_notify); further {@link #wrap} calls emit it. */
    void closeOutbound();

    /** Packs a wrap/unwrap result; both halves must be below 2^31. */
    static long result(long consumed, long produced) {
        return (consumed << 32) | produced;
    }

    static long consumed(long result) {
        return result >>> 32;
    }

    static long produced(long result) {
        return result & 0xffff_ffffL;
    }
}
