package org.orionos.host.nbd.server;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.orionos.bindings.Errno;
import org.orionos.bindings.Libc;
import org.orionos.bindings.uapi.SocketH.Iovec;
import org.orionos.bindings.uapi.SocketH.Msghdr;
import org.orionos.host.bdev.BdevCallback;
import org.orionos.host.bdev.BdevOp;
import org.orionos.host.bdev.BdevRequest;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.BufferPool;
import org.orionos.host.bdev.IoContext;
import org.orionos.host.nbd.protocol.ExtentList;
import org.orionos.host.nbd.protocol.NbdError;
import org.orionos.host.nbd.protocol.NbdHandshake;
import org.orionos.host.nbd.protocol.NbdRequest;
import org.orionos.host.nbd.protocol.ReplyEncoder;
import org.orionos.host.nbd.protocol.RequestDecoder;
import org.orionos.host.nbd.protocol.TlsFilter;
import org.orionos.host.nbd.protocol.TransmissionParams;
import org.orionos.uring.Completion;
import org.orionos.uring.Ring;
import org.orionos.uring.Sqe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.orionos.bindings.uapi.SocketH.IPPROTO_TCP;
import static org.orionos.bindings.uapi.SocketH.MSG_NOSIGNAL;
import static org.orionos.bindings.uapi.SocketH.MSG_WAITALL;
import static org.orionos.bindings.uapi.SocketH.SHUT_RD;
import static org.orionos.bindings.uapi.SocketH.SHUT_RDWR;
import static org.orionos.bindings.uapi.SocketH.TCP_NODELAY;
import static org.orionos.host.nbd.protocol.NbdWire.*;

/**
 * One client connection, driven entirely by completions on one reactor: no thread of its own,
 * no lock, no allocation per request once running.
 *
 * <p>Receive: one RECV at a time into {@link #rx}; the handshake consumes it until transmission,
 * then {@link RequestDecoder} decodes headers in place. A WRITE's payload bytes that arrived with
 * the headers are moved once into a pool buffer; the rest is received straight into that buffer,
 * which then is the write's source. Send: completed requests join a FIFO of replies; one SENDMSG at
 * a time gathers as many as fit in {@link #IOV_MAX} iovecs: each reply is its header (in a small
 * per-slot area) plus, for reads, the pool buffer the device read into, so read data is never
 * copied in Java. Partial sends resume mid-reply.
 *
 * <p>Zero copy from and to memory devices ({@link BlockDevice#directAccess}): a READ's reply is
 * sent straight from the device's memory and a WRITE's payload is received (or moved from rx)
 * straight into it, with no pool buffer and no block-device request. Why that is as safe as the
 * buffered path: the kernel copies the reply's bytes into the socket inside the SENDMSG, before the
 * client can see the reply, so only a write the client sent while the read was still unanswered
 * can change what it reads, and such a pair may be ordered either way (or mixed, as on a disk).
 * A write's payload is visible to other readers while it arrives; it overlaps them only when they
 * are in flight together. A client that drops the connection mid-payload leaves part of an
 * unacknowledged write in the device, which NBD allows (the range's contents are unspecified
 * until a write is acknowledged), and only ever inside the range the header named, which was
 * checked first. Each direct access counts as I/O in flight to the device until its reply was
 * sent or its payload has landed (or the connection is gone), so a hot removal, which closes the
 * device once its I/O drained, never unmaps memory a RECV or SENDMSG still uses.
 *
 * <p>Bounds: at most {@link #SLOTS} requests and {@link #MAX_BUFFERED} bytes of data buffers per
 * connection. When either is reached the connection stops decoding (and so receiving) until
 * replies have been sent: a client that stops reading stalls only itself.
 *
 * <p>Teardown: a hard close shuts the socket down (failing the pending RECV/SEND), waits for every
 * block-device request still in flight, then frees buffers and closes the fd.
 */
final class NbdConnection implements Completion, BdevCallback {
    private static final Logger LOG = LoggerFactory.getLogger(NbdConnection.class);

    static final int SLOTS = 128;
    static final int RX_SIZE = 128 * 1024;
    /**
     * A WRITE payload with at least this many bytes still to come is received straight into its
     * buffer; a smaller rest comes through {@link #rx} with the headers that follow it, which saves
     * a receive round trip per small write at the price of one small copy.
     */
    static final int DIRECT_PAYLOAD = 64 * 1024;
    static final long MAX_BUFFERED = 64L << 20;
    static final int IOV_MAX = 64;
    /**
     * On a Unix socket, a SENDMSG of at least this many bytes goes to io_uring's worker thread
     * (IOSQE_ASYNC). Such a send proceeds in send-buffer-sized steps (about 200 KiB by default),
     * each waiting for the client to read the last: inline, every step is a poll wake-up of the
     * reactor; on a worker it is one blocking send on another core while the reactor goes on
     * receiving and executing. Measured with 1 MiB reads at QD8: 1.3-2x the bandwidth at the same
     * CPU per byte. Not on TCP: there the same hand-off cost ~20% more CPU per byte for no gain
     * (loopback TCP autotunes its send buffer up to MiBs), nor for small sends (4 KiB reads cost
     * 1.4x more CPU per I/O with every send handed off). Nor when the reactor busy-polls: then a
     * step's poll wake-up finds it awake and costs no context switch, while the hand-off still
     * wakes a worker (1M reads at QD8, alternating: 1.23x and 1.40x nbdkit inline against 1.14x
     * and 1.11x handed off). See {@link #bigUnixTransfer}.
     */
    static final long ASYNC_SEND_BYTES = 256 * 1024;
    /**
     * On a Unix socket, a WRITE payload with at least this much still to come is received by
     * io_uring's worker thread (IOSQE_ASYNC), for the mirror-image reason: the client's send
     * buffer lets about 200 KiB through at a time, so inline a 1 MiB payload costs the reactor
     * about five poll wake-ups (measured: 5.1 poll arms and 5.6 context switches per 1 MiB write);
     * on a worker it is one blocking MSG_WAITALL receive on the other core. Not on TCP: there the
     * payload is mostly queued already when its RECV is issued (0.28 poll arms per 1 MiB write).
     * Nor when the reactor busy-polls, as for sends (1M writes at QD8: 1.14x and 1.21x nbdkit
     * inline against 0.91x and 0.92x handed off).
     */
    static final long ASYNC_PAYLOAD_BYTES = 256 * 1024;
    /** A held reply leaves after this long even if the client keeps sending. */
    static final long MAX_HOLD_NANOS = 200_000;
    private static final int SLOT_HEADER = 64;
    private static final int TX_STAGE = 16 * 1024;
    /** Extents per BLOCK_STATUS reply; the reply (at most 2088 bytes) fits one 4 KiB buffer. */
    private static final int MAX_EXTENTS = 128;
    /** CACHE reads the range through a buffer of this size. */
    private static final int CACHE_CHUNK = 1 << 20;

    // Ring operation cookies.
    private static final long OP_RECV = 1;
    private static final long OP_SEND = 2;
    private static final long OP_PAYLOAD = 3;
    private static final long OP_HS_SEND = 4;
    private static final long OP_TLS_SEND = 5;

    private enum Phase { HANDSHAKE, TLS_HANDSHAKE, TRANSMISSION, CLOSING, CLOSED }

    private final ConnectionShard shard;
    private final NbdServer server;
    private final NbdListener listener;
    private final Ring ring;
    private final IoContext ctx;
    private final BufferPool pool;
    private final int fd;
    private final boolean unixSocket;
    private final long id;
    private final NbdStats stats = new NbdStats();
    private final Arena arena = Arena.ofConfined();

    private final MemorySegment rx;
    private final long rxAddr;
    private int rxStart;
    private int rxEnd;

    private final MemorySegment headers;
    private final long headersAddr;
    private final MemorySegment msghdr;
    private final MemorySegment iov;
    private final long iovAddr;
    private MemorySegment txStage;

    private int fileIndex = -1;
    private int opFd;
    private boolean fixed;

    private Phase phase = Phase.HANDSHAKE;
    private NbdHandshake handshake;
    private TlsSession tls;
    private ServerExport export;
    private BlockDevice device;
    private RequestDecoder decoder;
    private ReplyEncoder encoder;
    private int contextId;
    private int headerSize;
    private final NbdRequest nr = new NbdRequest();

    private boolean recvPending;
    private boolean sendPending;
    private boolean wantRecv;
    private boolean wantSend;
    private boolean wantPayload;
    boolean queuedForRing;
    boolean dirty;
    private boolean paused;
    private boolean draining;
    /** Stopping an adopted (kernel) socket: serve on until idle, then shut the read side. */
    private boolean quiesce;
    /** The read side is shut: what the peer queued before is still read, then EOF. */
    private boolean inputShut;
    private long discard;
    /** Slot whose WRITE payload is being received into its buffer, or -1. */
    private int payloadSlot = -1;
    /** The payload of {@link #payloadSlot} arrives through rx (TLS, or a small rest), not by a direct RECV. */
    private boolean payloadViaRx;
    /** Where that payload lands: the slot's pool buffer, or the device's own memory (direct write). */
    private MemorySegment payloadDst;
    private long payloadDstOffset;
    private int inflightBdev;
    private long buffered;
    private String closeReason;

    // Request slots, structure-of-arrays.
    private final int[] freeSlots = new int[SLOTS];
    private int freeTop;
    private final int[] sType = new int[SLOTS];
    private final int[] sFlags = new int[SLOTS];
    private final long[] sCookie = new long[SLOTS];
    private final long[] sOffset = new long[SLOTS];
    private final long[] sLength = new long[SLOTS];
    private final long[] sPos = new long[SLOTS];
    private final long[] sStart = new long[SLOTS];
    private final MemorySegment[] sBuffer = new MemorySegment[SLOTS];
    private final long[] sHdrAddr = new long[SLOTS];
    private final int[] sHdrLen = new int[SLOTS];
    private final long[] sDataAddr = new long[SLOTS];
    private final long[] sDataLen = new long[SLOTS];
    private final long[] sSent = new long[SLOTS];
    private final boolean[] sBusy = new boolean[SLOTS];
    /** The slot holds a direct access to the device's memory (ended by {@link #endDirect}). */
    private final boolean[] sDirect = new boolean[SLOTS];
    private final int[] sNext = new int[SLOTS];
    private final ExtentList[] sExtents = new ExtentList[SLOTS];
    private int readyHead = -1;
    private int readyTail = -1;
    /** Replies queued (from readyHead) and their bytes, sent or not. */
    private int readyCount;
    private long readyBytes;
    private final ReplyBatcher batcher = new ReplyBatcher();
    /** Holding replies since {@link #heldSince} (System.nanoTime); the shard's bookkeeping. */
    boolean held;
    /** In the shard's held queue (possibly a stale entry, dropped when reached). */
    boolean inHeldQueue;
    long heldSince;
    /** When the newest request was decoded (System.nanoTime). */
    long lastRequestNanos;

    NbdConnection(ConnectionShard shard, NbdServer server, NbdListener listener, int fd, long id) {
        this.shard = shard;
        this.server = server;
        this.listener = listener;
        this.ring = shard.reactor().ring();
        this.ctx = shard.context();
        this.pool = ctx.buffers();
        this.fd = fd;
        // An adopted socket (no listener) is the kernel's end of a socketpair: AF_UNIX too.
        this.unixSocket = listener == null || listener.bound().address().isUnix();
        this.opFd = fd;
        this.id = id;
        this.rx = arena.allocate(RX_SIZE, 64);
        this.rxAddr = rx.address();
        this.headers = arena.allocate((long) SLOTS * SLOT_HEADER, 64);
        this.headersAddr = headers.address();
        this.msghdr = arena.allocate(Msghdr.LAYOUT);
        this.iov = arena.allocate(IOV_MAX * Iovec.SIZE, 8);
        this.iovAddr = iov.address();
        msghdr.set(JAVA_LONG, Msghdr.MSG_IOV, iovAddr);
        for (int i = 0; i < SLOTS; i++) {
            freeSlots[i] = SLOTS - 1 - i;
            sHdrAddr[i] = headersAddr + (long) i * SLOT_HEADER;
        }
        freeTop = SLOTS;
    }

    long id() {
        return id;
    }

    NbdStats stats() {
        return stats;
    }

    ServerExport export() {
        return export;
    }

    @Override
    public String toString() {
        return "nbd connection " + id + " on " + (listener != null ? listener.bound() : "an adopted socket")
                + (export != null ? " export " + export.name() : "");
    }

    // ---------------------------------------------------------------- start

    void start() {
        MemorySegment one = arena.allocate(JAVA_INT);
        one.set(JAVA_INT, 0, 1);
        if (!unixSocket) {
            // Replies are complete messages: waiting for more (Nagle) only adds latency.
            Libc.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, one, 4);
        }
        registerSocket();
        handshake = new NbdHandshake(listener.catalog());
        driveHandshake();
    }

    /**
     * Starts an adopted socket (no listener) straight in transmission with {@code p}: its peer
     * already knows the export's parameters (the kernel, told by netlink).
     */
    void startTransmission(TransmissionParams p) {
        registerSocket();
        handshake = null;
        enterTransmission(p);
    }

    private void registerSocket() {
        fileIndex = ctx.registerFile(fd);
        if (fileIndex >= 0) {
            opFd = fileIndex;
            fixed = true;
        }
    }

    // ---------------------------------------------------------------- ring plumbing

    private Sqe sqe(long op) {
        Sqe s = ring.acquire(this, op);
        if (s == null) {
            return null;
        }
        return s;
    }

    private void waitForRing() {
        shard.waitForRing(this);
    }

    /** Called by the shard after the ring had no room: repeats what was refused. */
    void retryRing() {
        if (phase == Phase.CLOSED) {
            return;
        }
        if (wantPayload) {
            wantPayload = false;
            if (payloadSlot >= 0 && phase == Phase.TRANSMISSION) { // not for a payload given up meanwhile
                postPayloadRecv();
            }
        }
        if (wantRecv) {
            wantRecv = false;
            postRecv();
        }
        if (wantSend) {
            wantSend = false;
            if (phase == Phase.HANDSHAKE || phase == Phase.TLS_HANDSHAKE) {
                driveHandshake();
            } else {
                flush();
            }
        }
    }

    private void postRecv() {
        if (recvPending || phase == Phase.CLOSING || phase == Phase.CLOSED) {
            return;
        }
        if (tls != null) {
            tlsPostRecv();
            return;
        }
        compactRx();
        int room = RX_SIZE - rxEnd;
        if (room == 0) {
            return; // full of unprocessed bytes: processing frees room first
        }
        Sqe s = sqe(OP_RECV);
        if (s == null) {
            wantRecv = true;
            waitForRing();
            return;
        }
        s.recv(opFd, rxAddr + rxEnd, room, 0);
        if (fixed) {
            s.fixedFile();
        }
        recvPending = true;
    }

    private void compactRx() {
        if (rxStart == rxEnd) {
            rxStart = 0;
            rxEnd = 0;
        } else if (rxStart > 0 && RX_SIZE - rxEnd < RX_SIZE / 4) {
            MemorySegment.copy(rx, rxStart, rx, 0, rxEnd - rxStart);
            rxEnd -= rxStart;
            rxStart = 0;
        }
    }

    @Override
    public void complete(int res, int flags, long op) {
        if (op == OP_RECV) {
            recvPending = false;
            onRecv(res);
        } else if (op == OP_SEND) {
            sendPending = false;
            onSend(res);
        } else if (op == OP_PAYLOAD) {
            recvPending = false;
            onPayload(res);
        } else if (op == OP_HS_SEND) {
            sendPending = false;
            onHandshakeSent(res);
        } else if (op == OP_TLS_SEND) {
            sendPending = false;
            tlsOnSent(res);
        }
        if (phase == Phase.CLOSING) {
            maybeFinish();
        }
    }

    private void onRecv(int res) {
        if (phase == Phase.CLOSING) {
            return;
        }
        if (res <= 0) {
            if (res == -Errno.EINTR || res == -Errno.EAGAIN) {
                postRecv();
                return;
            }
            if (res == 0 && inputShut) {
                inputEnded();
                return;
            }
            closeHard(res == 0 ? "client closed the connection" : "receive failed: " + Errno.name(res));
            return;
        }
        if (tls != null) {
            tlsReceived(res);
            return;
        }
        rxEnd += res;
        if (phase == Phase.TRANSMISSION && payloadSlot >= 0) {
            feedPayloadFromRx();
            return;
        }
        afterInput();
    }

    /** New plaintext bytes are in rx[rxStart..rxEnd). */
    private void afterInput() {
        switch (phase) {
            case HANDSHAKE -> driveHandshake();
            case TRANSMISSION -> process();
            default -> { }
        }
    }

    // ---------------------------------------------------------------- handshake

    private void driveHandshake() {
        if (phase != Phase.HANDSHAKE) {
            return;
        }
        NbdHandshake hs = handshake;
        while (rxStart < rxEnd && hs.state() == NbdHandshake.State.NEGOTIATING) {
            long n = hs.onInput(rx.asSlice(rxStart, rxEnd - rxStart), rxEnd - rxStart);
            rxStart += (int) n;
            if (n == 0) {
                break; // replies must be sent before it takes more
            }
        }
        if (hs.hasOutput()) {
            if (!sendPending) {
                sendHandshakeOutput();
            }
            return; // the send's completion drives us again
        }
        if (sendPending) {
            return;
        }
        switch (hs.state()) {
            case NEGOTIATING -> postRecv();
            case TRANSMISSION -> enterTransmission(hs.transmission());
            case START_TLS -> startTls();
            case CLOSED -> closeHard("handshake ended: " + hs.closeReason());
        }
    }

    private void sendHandshakeOutput() {
        if (txStage == null) {
            txStage = arena.allocate(TX_STAGE, 64);
        }
        MemorySegment out = handshake.output();
        int n = (int) Math.min(out.byteSize(), TX_STAGE);
        MemorySegment.copy(out, 0, txStage, 0, n);
        if (tls != null) {
            tlsSendApp(txStage, n);
            return;
        }
        Sqe s = sqe(OP_HS_SEND);
        if (s == null) {
            wantSend = true;
            waitForRing();
            return;
        }
        s.send(opFd, txStage.address(), n, MSG_NOSIGNAL);
        if (fixed) {
            s.fixedFile();
        }
        sendPending = true;
    }

    private void onHandshakeSent(int res) {
        if (phase == Phase.CLOSING) {
            return;
        }
        if (res < 0) {
            closeHard("send failed during the handshake: " + Errno.name(res));
            return;
        }
        handshake.consumeOutput(res);
        driveHandshake();
    }

    private void enterTransmission(TransmissionParams p) {
        ServerExport e = server.exportNamed(p.export().name());
        if (e == null) {
            closeHard("export " + p.export().name() + " went away during the handshake");
            return;
        }
        export = e;
        device = e.device();
        decoder = new RequestDecoder(p);
        encoder = new ReplyEncoder(p);
        contextId = p.allocationContextId();
        headerSize = decoder.headerSize();
        phase = Phase.TRANSMISSION;
        handshake = null;
        e.attach(this);
        if (server.isStopping()) {
            draining = true;
        }
        LOG.debug("{}: transmission ({} replies{})", this, p.extendedHeaders() ? "extended" : p.structuredReplies()
                ? "structured" : "simple", p.tls() ? ", TLS" : "");
        process();
    }

    // ---------------------------------------------------------------- TLS (see TlsSession)

    private void startTls() {
        TlsFilter.Factory f = server.tlsFactory();
        if (f == null) {
            closeHard("STARTTLS accepted but no TLS credentials are configured");
            return;
        }
        tls = new TlsSession(f.newServerFilter(), arena);
        phase = Phase.TLS_HANDSHAKE;
        // Bytes after STARTTLS that the handshake left unread are the client's first TLS records.
        if (rxEnd > rxStart) {
            tls.injectNet(rx, rxStart, rxEnd - rxStart);
        }
        rxStart = 0;
        rxEnd = 0;
        tlsPump();
    }

    /** Runs the TLS handshake until it is complete, then resumes negotiation over TLS. */
    private void tlsPump() {
        if (phase != Phase.TLS_HANDSHAKE) {
            return;
        }
        TlsSession t = tls;
        // Feed what arrived, emit what the engine wants to say.
        int r = t.unwrapInto(rx, rxEnd, RX_SIZE);
        if (r < 0) {
            closeHard("TLS handshake failed: " + t.failure());
            return;
        }
        rxEnd += r;
        if (t.filter().wantsWrap() && !sendPending) {
            int w = t.wrapHandshake();
            if (w < 0) {
                closeHard("TLS handshake failed: " + t.failure());
                return;
            }
            if (w > 0) {
                tlsSendNet(w);
                return;
            }
        }
        if (t.filter().handshakeComplete() && !sendPending && !t.filter().wantsWrap()) {
            phase = Phase.HANDSHAKE;
            handshake.tlsEstablished();
            LOG.debug("{}: TLS established", this);
            driveHandshake();
            return;
        }
        if (!sendPending) {
            postRecv();
        }
    }

    private void tlsPostRecv() {
        if (phase != Phase.TLS_HANDSHAKE && tls.hasBufferedNet()) {
            // Records already received may hold more plaintext than rx had room for.
            compactRx();
            int r = tls.unwrapInto(rx, rxEnd, RX_SIZE);
            if (r < 0) {
                closeHard("TLS failure: " + tls.failure());
                return;
            }
            if (r > 0) {
                rxEnd += r;
                if (phase == Phase.TRANSMISSION && payloadSlot >= 0) {
                    feedPayloadFromRx();
                } else {
                    afterInput();
                }
                return;
            }
        }
        Sqe s = sqe(OP_RECV);
        if (s == null) {
            wantRecv = true;
            waitForRing();
            return;
        }
        s.recv(opFd, tls.netInAddress(), tls.netInRoom(), 0);
        if (fixed) {
            s.fixedFile();
        }
        recvPending = true;
    }

    private void tlsReceived(int n) {
        tls.netReceived(n);
        if (phase == Phase.TLS_HANDSHAKE) {
            tlsPump();
            return;
        }
        compactRx();
        int r = tls.unwrapInto(rx, rxEnd, RX_SIZE);
        if (r < 0) {
            closeHard("TLS failure: " + tls.failure());
            return;
        }
        rxEnd += r;
        if (tls.closed()) {
            closeHard("client closed the TLS session");
            return;
        }
        if (phase == Phase.TRANSMISSION && payloadSlot >= 0) {
            feedPayloadFromRx();
            return;
        }
        if (r == 0 && rxStart == rxEnd) {
            postRecv(); // a partial record: need more bytes
            return;
        }
        afterInput();
    }

    /** Encrypts {@code n} plaintext bytes from {@code src} and sends them (handshake replies). */
    private void tlsSendApp(MemorySegment src, int n) {
        int w = tls.wrap(src.address(), n);
        if (w < 0) {
            closeHard("TLS failure: " + tls.failure());
            return;
        }
        tls.pendingAppBytes = tls.lastConsumed();
        tlsSendNet(w);
    }

    private void tlsSendNet(int n) {
        Sqe s = sqe(OP_TLS_SEND);
        if (s == null) {
            wantSend = true;
            waitForRing();
            return;
        }
        s.send(opFd, tls.netOutAddress(), n, MSG_NOSIGNAL | MSG_WAITALL);
        if (fixed) {
            s.fixedFile();
        }
        tls.netOutPending = n;
        sendPending = true;
    }

    private void tlsOnSent(int res) {
        if (phase == Phase.CLOSING) {
            return;
        }
        if (res < 0) {
            closeHard("send failed: " + Errno.name(res));
            return;
        }
        if (res < tls.netOutPending) {
            // Partial: the rest of the record is sent before anything else.
            tls.netOutSent(res);
            tlsSendNet(tls.netOutPending);
            return;
        }
        tls.netOutSent(res);
        long app = tls.pendingAppBytes;
        tls.pendingAppBytes = 0;
        switch (phase) {
            case TLS_HANDSHAKE -> tlsPump();
            case HANDSHAKE -> {
                handshake.consumeOutput(app);
                driveHandshake();
            }
            case TRANSMISSION -> {
                advanceSent(app);
                afterSend();
            }
            default -> { }
        }
    }

    // ---------------------------------------------------------------- transmission: decode

    private void process() {
        while (phase == Phase.TRANSMISSION && payloadSlot < 0) {
            if (discard > 0) {
                int n = (int) Math.min(discard, rxEnd - rxStart);
                rxStart += n;
                discard -= n;
                if (discard > 0) {
                    break;
                }
                continue;
            }
            if (draining) {
                break;
            }
            if (rxEnd - rxStart < headerSize) {
                break;
            }
            if (freeTop == 0) {
                paused = true;
                break;
            }
            int verdict = decoder.decode(rx, rxStart, nr);
            if (verdict == RequestDecoder.EXECUTE && needsBuffer(nr.type) && buffered > 0
                    && buffered + nr.length > MAX_BUFFERED) {
                paused = true; // decoded again once earlier replies freed their buffers
                break;
            }
            rxStart += headerSize;
            if (verdict == RequestDecoder.DISCONNECT) {
                closeHard("malformed request (" + nr + "): lost framing");
                return;
            }
            if (verdict == RequestDecoder.SOFT_DISCONNECT) {
                draining = true;
                LOG.debug("{}: client disconnects (NBD_CMD_DISC)", this);
                break;
            }
            int slot = takeSlot();
            if (verdict == RequestDecoder.REJECT) {
                stats.rejected++;
                stats.errors++;
                discard = nr.payloadLength;
                replyError(slot, nr.error);
                continue;
            }
            execute(slot);
        }
        if (phase != Phase.TRANSMISSION) {
            return;
        }
        if (payloadSlot < 0 ? !paused && !draining || discard > 0 : payloadViaRx) {
            postRecv(); // (a payload that arrives through rx needs a RECV too)
        }
        maybeDrained();
        markDirty();
    }

    private static boolean needsBuffer(int type) {
        return type == CMD_READ || type == CMD_WRITE;
    }

    private int takeSlot() {
        int s = freeSlots[--freeTop];
        sType[s] = nr.type;
        sFlags[s] = nr.flags;
        sCookie[s] = nr.cookie;
        sOffset[s] = nr.offset;
        sLength[s] = nr.length;
        sStart[s] = lastRequestNanos = System.nanoTime();
        sDataAddr[s] = 0;
        sDataLen[s] = 0;
        sSent[s] = 0;
        sNext[s] = -1;
        return s;
    }

    private void execute(int slot) {
        long off = nr.offset;
        long len = nr.length;
        int flags = nr.flags;
        switch (nr.type) {
            case CMD_READ -> {
                stats.reads++;
                if (len == 0) {
                    replyOk(slot);
                    return;
                }
                MemorySegment m = device.directAccess(ctx, BdevOp.READ, off, len);
                if (m != null) {
                    sDirect[slot] = true; // until the reply has been sent
                    // The reply is sent straight from the device: the kernel copies it into the socket.
                    replyRead(slot, m.address() + off);
                    return;
                }
                MemorySegment b = allocate(slot, len);
                submit(slot, ctx.request().prepareRead(off, len, b, 0));
            }
            case CMD_WRITE -> {
                stats.writes++;
                if (len == 0) {
                    replyOk(slot);
                    return;
                }
                // The payload goes straight into the device when it is memory, else into a pool buffer.
                MemorySegment dst = device.directAccess(ctx, BdevOp.WRITE, off, len);
                long dstOff = off;
                if (dst != null) {
                    sDirect[slot] = true; // until the whole payload has landed
                } else {
                    dst = allocate(slot, len);
                    dstOff = 0;
                }
                int have = (int) Math.min(len, rxEnd - rxStart);
                MemorySegment.copy(rx, rxStart, dst, dstOff, have);
                rxStart += have;
                sPos[slot] = have;
                if (have < len) {
                    payloadSlot = slot;
                    payloadDst = dst;
                    payloadDstOffset = dstOff;
                    payloadViaRx = tls != null || len - have < DIRECT_PAYLOAD;
                    if (!payloadViaRx) {
                        postPayloadRecv();
                    }
                    return;
                }
                payloadArrived(slot);
            }
            case CMD_FLUSH -> {
                stats.flushes++;
                submit(slot, ctx.request().prepareNoData(BdevOp.FLUSH, 0, 0, 0));
            }
            case CMD_TRIM -> {
                stats.trims++;
                if (len == 0) {
                    replyOk(slot);
                    return;
                }
                submit(slot, ctx.request().prepareNoData(BdevOp.TRIM, off, len, fua(flags)));
            }
            case CMD_WRITE_ZEROES -> {
                stats.zeroes++;
                if (len == 0) {
                    replyOk(slot);
                    return;
                }
                int f = fua(flags);
                if ((flags & CMD_FLAG_NO_HOLE) != 0) {
                    f |= BdevOp.FLAG_NO_HOLE;
                }
                if ((flags & CMD_FLAG_FAST_ZERO) != 0) {
                    f |= BdevOp.FLAG_NO_FALLBACK;
                }
                submit(slot, ctx.request().prepareNoData(BdevOp.WRITE_ZEROES, off, len, f));
            }
            case CMD_CACHE -> {
                stats.caches++;
                if (len == 0) {
                    replyOk(slot);
                    return;
                }
                MemorySegment b = allocate(slot, Math.min(len, CACHE_CHUNK));
                sPos[slot] = off;
                submit(slot, ctx.request().prepareRead(off, Math.min(len, b.byteSize()), b, 0));
            }
            case CMD_BLOCK_STATUS -> {
                stats.blockStatus++;
                ExtentList x = sExtents[slot];
                if (x == null) {
                    x = new ExtentList(MAX_EXTENTS);
                    sExtents[slot] = x;
                }
                x.clear();
                if (len == 0) {
                    // No range was asked: describe the block at the offset (the wire forbids empty extents).
                    len = Math.min(device.blockSize(), device.sizeBytes() - off);
                    sLength[slot] = len;
                    if (len <= 0) {
                        replyError(slot, NbdError.EINVAL);
                        return;
                    }
                }
                sPos[slot] = off;
                submit(slot, ctx.request().prepareNoData(BdevOp.BLOCK_STATUS, off, len, 0));
            }
            default -> replyError(slot, NbdError.EINVAL);
        }
    }

    private static int fua(int nbdFlags) {
        return (nbdFlags & CMD_FLAG_FUA) != 0 ? BdevOp.FLAG_FUA : 0;
    }

    private MemorySegment allocate(int slot, long len) {
        MemorySegment b = pool.allocate(len);
        sBuffer[slot] = b;
        buffered += b.byteSize();
        return b;
    }

    private void releaseBuffer(int slot) {
        MemorySegment b = sBuffer[slot];
        if (b != null) {
            sBuffer[slot] = null;
            buffered -= b.byteSize();
            pool.release(b);
        }
    }

    private void endDirect(int slot) {
        if (sDirect[slot]) {
            sDirect[slot] = false;
            device.directDone(ctx);
        }
    }

    private void submit(int slot, BdevRequest r) {
        r.callback(this, slot);
        sBusy[slot] = true;
        inflightBdev++;
        device.submit(r);
    }

    /** A WRITE's payload is complete: done if it landed in the device, else written from its buffer. */
    private void payloadArrived(int slot) {
        stats.bytesWritten += sLength[slot];
        if (sDirect[slot]) {
            // The payload landed in the device's memory, as durable as it gets (FUA included).
            endDirect(slot);
            replyOk(slot);
            return;
        }
        submit(slot, ctx.request().prepareWrite(sOffset[slot], sLength[slot], sBuffer[slot], 0, fua(sFlags[slot])));
    }

    // ---------------------------------------------------------------- WRITE payload

    private void postPayloadRecv() {
        int slot = payloadSlot;
        Sqe s = sqe(OP_PAYLOAD);
        if (s == null) {
            wantPayload = true;
            waitForRing();
            return;
        }
        long got = sPos[slot];
        long rest = sLength[slot] - got;
        // WAITALL: one completion for the whole remainder in the common case.
        s.recv(opFd, payloadDst.address() + payloadDstOffset + got, (int) rest, MSG_WAITALL);
        if (fixed) {
            s.fixedFile();
        }
        if (bigUnixTransfer(rest, ASYNC_PAYLOAD_BYTES)) {
            s.async();
        }
        recvPending = true;
    }

    /** True when a transfer of {@code bytes} goes to io_uring's worker (IOSQE_ASYNC). */
    private boolean bigUnixTransfer(long bytes, long threshold) {
        return unixSocket && bytes >= threshold && shard.reactor().busyPollNanos() == 0;
    }

    private void onPayload(int res) {
        if (phase == Phase.CLOSING) {
            return;
        }
        if (res <= 0) {
            if (res == -Errno.EINTR || res == -Errno.EAGAIN) {
                postPayloadRecv();
                return;
            }
            if (res == 0 && inputShut) {
                inputEnded();
                return;
            }
            closeHard(res == 0 ? "client closed the connection inside a write payload"
                    : "receive failed: " + Errno.name(res));
            return;
        }
        int slot = payloadSlot;
        sPos[slot] += res;
        if (sPos[slot] < sLength[slot]) {
            postPayloadRecv();
            return;
        }
        payloadSlot = -1;
        payloadDst = null;
        payloadArrived(slot);
        process();
    }

    /** The payload continues in rx (decrypted TLS stream, or a small rest received with what follows). */
    private void feedPayloadFromRx() {
        int slot = payloadSlot;
        long need = sLength[slot] - sPos[slot];
        int have = (int) Math.min(need, rxEnd - rxStart);
        MemorySegment.copy(rx, rxStart, payloadDst, payloadDstOffset + sPos[slot], have);
        rxStart += have;
        sPos[slot] += have;
        if (sPos[slot] < sLength[slot]) {
            postRecv();
            return;
        }
        payloadSlot = -1;
        payloadDst = null;
        payloadArrived(slot);
        process();
    }

    // ---------------------------------------------------------------- completions

    @Override
    public void onComplete(BdevRequest r, int status) {
        int slot = (int) r.cookie();
        long extentLength = r.extentLength();
        int extentFlags = r.extentFlags();
        long done = r.length();
        r.release();
        inflightBdev--;
        sBusy[slot] = false;
        if (phase == Phase.CLOSING) {
            releaseSlot(slot);
            maybeFinish();
            return;
        }
        if (status < 0) {
            stats.errors++;
            releaseBuffer(slot);
            replyError(slot, NbdError.fromErrno(status));
            markDirty();
            return;
        }
        switch (sType[slot]) {
            case CMD_READ -> replyRead(slot, sBuffer[slot].address());
            case CMD_CACHE -> {
                long next = sPos[slot] + done;
                long end = sOffset[slot] + sLength[slot];
                if (next < end) {
                    sPos[slot] = next;
                    MemorySegment b = sBuffer[slot];
                    submit(slot, ctx.request().prepareRead(next, Math.min(end - next, b.byteSize()), b, 0));
                    return;
                }
                releaseBuffer(slot);
                replyOk(slot);
            }
            case CMD_BLOCK_STATUS -> {
                ExtentList x = sExtents[slot];
                int st = ((extentFlags & BdevOp.EXTENT_HOLE) != 0 ? STATE_HOLE : 0)
                        | ((extentFlags & BdevOp.EXTENT_ZERO) != 0 ? STATE_ZERO : 0);
                long len = Math.max(Math.min(extentLength, sOffset[slot] + sLength[slot] - sPos[slot]), 0);
                boolean added = len > 0 && x.add(len, st);
                long next = sPos[slot] + (added ? len : 0);
                long end = sOffset[slot] + sLength[slot];
                if (added && next < end && (sFlags[slot] & CMD_FLAG_REQ_ONE) == 0 && x.count() < MAX_EXTENTS) {
                    sPos[slot] = next;
                    submit(slot, ctx.request().prepareNoData(BdevOp.BLOCK_STATUS, next, end - next, 0));
                    return;
                }
                if (x.count() == 0) {
                    stats.errors++;
                    replyError(slot, NbdError.EIO);
                } else {
                    replyBlockStatus(slot);
                }
            }
            case CMD_WRITE -> {
                releaseBuffer(slot);
                replyOk(slot);
            }
            default -> replyOk(slot);
        }
        markDirty();
    }

    // ---------------------------------------------------------------- replies

    private void replyOk(int slot) {
        sHdrLen[slot] = encoder.ok(headers, sHdrAddr[slot] - headersAddr, sCookie[slot], sOffset[slot]);
        ready(slot);
    }

    private void replyError(int slot, int nbdError) {
        sHdrLen[slot] = encoder.error(headers, sHdrAddr[slot] - headersAddr, sCookie[slot], sOffset[slot], nbdError,
                null);
        ready(slot);
    }

    /** Queues a READ's reply: its header, then {@code length} bytes at {@code data} (pool buffer or device). */
    private void replyRead(int slot, long data) {
        long len = sLength[slot];
        stats.bytesRead += len;
        // One data chunk for the whole read (always valid, also under DF), marked final.
        sHdrLen[slot] = encoder.readData(headers, sHdrAddr[slot] - headersAddr, sCookie[slot], sOffset[slot],
                sOffset[slot], len, true);
        sDataAddr[slot] = data;
        sDataLen[slot] = len;
        ready(slot);
    }

    private void replyBlockStatus(int slot) {
        ExtentList x = sExtents[slot];
        MemorySegment b = allocate(slot, encoder.blockStatusSize(x.count()));
        int n = encoder.blockStatus(b, 0, sCookie[slot], sOffset[slot], contextId, x, true);
        sHdrAddr[slot] = b.address();
        sHdrLen[slot] = n;
        ready(slot);
    }

    private void ready(int slot) {
        readyCount++;
        readyBytes += sHdrLen[slot] + sDataLen[slot];
        sNext[slot] = -1;
        if (readyTail < 0) {
            readyHead = slot;
        } else {
            sNext[readyTail] = slot;
        }
        readyTail = slot;
    }

    private void markDirty() {
        if (!dirty && readyHead >= 0 && !sendPending) {
            dirty = true;
            shard.markDirty(this);
        }
    }

    // ---------------------------------------------------------------- send

    /**
     * The shard calls this once per loop turn while replies are queued: sends them (true), or holds
     * them back (false) for a fuller SENDMSG, as {@link ReplyBatcher} decides.
     */
    boolean flushOrHold() {
        dirty = false;
        if (!sendPending && phase == Phase.TRANSMISSION && !batcher.sendNow(readyCount, readyBytes)) {
            return false;
        }
        flush();
        return true;
    }

    /** The shard ends a hold before its batch filled. */
    void releaseHeld() {
        if (readyCount == 0 || sendPending) {
            return; // the replies left after a send completed, or leave when the one in flight does
        }
        batcher.holdExpired(readyCount);
        flush();
    }

    /** Sends as many queued replies as one SENDMSG can gather. */
    void flush() {
        dirty = false;
        if (sendPending || readyHead < 0 || phase != Phase.TRANSMISSION) {
            return;
        }
        if (tls != null) {
            tlsFlush();
            return;
        }
        int n = 0;
        long bytes = 0;
        long p = iovAddr;
        for (int s = readyHead; s >= 0 && n <= IOV_MAX - 2; s = sNext[s]) {
            long skip = sSent[s];
            int hl = sHdrLen[s];
            if (skip < hl) {
                iov.set(JAVA_LONG, p + Iovec.IOV_BASE - iovAddr, sHdrAddr[s] + skip);
                iov.set(JAVA_LONG, p + Iovec.IOV_LEN - iovAddr, hl - skip);
                bytes += hl - skip;
                p += Iovec.SIZE;
                n++;
                skip = 0;
            } else {
                skip -= hl;
            }
            if (sDataLen[s] > skip) {
                iov.set(JAVA_LONG, p + Iovec.IOV_BASE - iovAddr, sDataAddr[s] + skip);
                iov.set(JAVA_LONG, p + Iovec.IOV_LEN - iovAddr, sDataLen[s] - skip);
                bytes += sDataLen[s] - skip;
                p += Iovec.SIZE;
                n++;
            }
        }
        Sqe sq = sqe(OP_SEND);
        if (sq == null) {
            wantSend = true;
            waitForRing();
            return;
        }
        msghdr.set(JAVA_LONG, Msghdr.MSG_IOVLEN, n);
        stats.sends++;
        sq.sendmsg(opFd, msghdr.address(), MSG_NOSIGNAL | MSG_WAITALL);
        if (fixed) {
            sq.fixedFile();
        }
        if (bigUnixTransfer(bytes, ASYNC_SEND_BYTES)) {
            sq.async();
        }
        sendPending = true;
    }

    private void onSend(int res) {
        if (phase == Phase.CLOSING) {
            return;
        }
        if (res < 0) {
            if (res == -Errno.EINTR || res == -Errno.EAGAIN) {
                flush();
                return;
            }
            closeHard("send failed: " + Errno.name(res));
            return;
        }
        advanceSent(res);
        afterSend();
    }

    /** Retires {@code bytes} of sent reply data from the head of the queue. */
    private void advanceSent(long bytes) {
        long now = 0;
        while (bytes > 0 && readyHead >= 0) {
            int s = readyHead;
            long rem = sHdrLen[s] + sDataLen[s] - sSent[s];
            if (bytes < rem) {
                sSent[s] += bytes;
                return;
            }
            bytes -= rem;
            if (now == 0) {
                now = System.nanoTime();
            }
            // Latency until the reply left, including any wait for a batch or for socket room.
            long lat = now - sStart[s];
            stats.latencyNanos += lat;
            if (lat > stats.maxLatencyNanos) {
                stats.maxLatencyNanos = lat;
            }
            readyCount--;
            readyBytes -= sHdrLen[s] + sDataLen[s];
            readyHead = sNext[s];
            if (readyHead < 0) {
                readyTail = -1;
            }
            releaseSlot(s);
        }
    }

    private void afterSend() {
        if (phase != Phase.TRANSMISSION) {
            return;
        }
        if (paused) {
            paused = false;
            process(); // may queue more replies and mark dirty
        } else {
            maybeDrained();
        }
        if (readyHead >= 0) {
            flush();
        }
    }

    private void releaseSlot(int s) {
        releaseBuffer(s);
        endDirect(s);
        sHdrAddr[s] = headersAddr + (long) s * SLOT_HEADER;
        freeSlots[freeTop++] = s;
    }

    // ---------------------------------------------------------------- TLS send path

    private void tlsFlush() {
        // Encrypt from the head of the queue into the session's network buffer until it is full.
        long consumed = 0;
        int produced = 0;
        for (int s = readyHead; s >= 0; s = sNext[s]) {
            long skip = sSent[s];
            long want;
            if (skip < sHdrLen[s]) {
                int w = tls.wrap(sHdrAddr[s] + skip, (int) (sHdrLen[s] - skip));
                if (w < 0) {
                    closeHard("TLS failure: " + tls.failure());
                    return;
                }
                produced += w;
                consumed += tls.lastConsumed();
                if (tls.lastConsumed() < sHdrLen[s] - skip) {
                    break;
                }
                skip = 0;
            } else {
                skip -= sHdrLen[s];
            }
            want = sDataLen[s] - skip;
            if (want > 0) {
                int w = tls.wrap(sDataAddr[s] + skip, (int) Math.min(want, Integer.MAX_VALUE));
                if (w < 0) {
                    closeHard("TLS failure: " + tls.failure());
                    return;
                }
                produced += w;
                consumed += tls.lastConsumed();
                if (tls.lastConsumed() < want) {
                    break;
                }
            }
            if (tls.netOutFull()) {
                break;
            }
        }
        if (produced == 0) {
            return;
        }
        tls.pendingAppBytes = consumed;
        tlsSendNet(produced);
    }

    // ---------------------------------------------------------------- shutdown and teardown

    /** Server stop: finish what is in flight, take no new requests, then close. On the reactor. */
    void beginShutdown() {
        switch (phase) {
            case HANDSHAKE -> {
                handshake.beginShutdown();
                if (!recvPending && !sendPending) {
                    closeHard("server is shutting down");
                }
            }
            case TLS_HANDSHAKE -> closeHard("server is shutting down");
            case TRANSMISSION -> {
                if (listener == null && !draining) {
                    quiesce = true; // the kernel's socket: see maybeQuiet
                } else {
                    draining = true;
                }
                maybeDrained();
            }
            default -> { }
        }
    }

    /**
     * Server stop, after a grace for {@link #beginShutdown}'s quiesce: take no more requests,
     * answer those read, then close. On the reactor.
     */
    void stopReading() {
        if (phase == Phase.TRANSMISSION && !draining) {
            quiesce = false;
            draining = true;
            maybeDrained();
        }
    }

    /**
     * Quiesce of an adopted kernel socket. Requests the kernel has sent but that are never answered
     * stay in flight there until its request timeout, then are resent, so a stop answers all of them
     * first: it serves on until nothing is unanswered or unread, then shuts the socket's read side.
     * From then on the kernel's next send fails, which makes it mark the connection dead and hold its
     * new requests for the next host (dead_conn_timeout); bytes it queued before are still read and
     * answered, then the RECV returns EOF and the connection closes. A request whose payload was cut
     * by the shutdown is not answered: its send failed, so the kernel resends it on the next connection.
     */
    private void maybeQuiet() {
        if (quiesce && !inputShut && phase == Phase.TRANSMISSION && payloadSlot < 0 && discard == 0
                && inflightBdev == 0 && readyHead < 0 && !sendPending && freeTop == SLOTS && rxStart == rxEnd) {
            inputShut = true;
            Libc.shutdown(fd, SHUT_RD); // wakes the pending RECV: EOF, or what the kernel queued before
        }
    }

    /** EOF after {@link #maybeQuiet} shut the read side: answer what was read, then close. */
    private void inputEnded() {
        if (payloadSlot >= 0) {
            // The kernel's send of this payload failed; it resends the whole request later.
            int s = payloadSlot;
            payloadSlot = -1;
            payloadDst = null;
            releaseSlot(s);
        }
        discard = 0;
        quiesce = false;
        draining = true;
        maybeDrained();
    }

    private void maybeDrained() {
        maybeQuiet();
        if (phase == Phase.TRANSMISSION && draining && payloadSlot < 0 && discard == 0 && inflightBdev == 0
                && readyHead < 0 && !sendPending && freeTop == SLOTS) {
            closeHard("disconnected after draining");
        }
    }

    /** Closes now: pending socket operations fail, block I/O in flight completes first. */
    void closeHard(String reason) {
        if (phase == Phase.CLOSING || phase == Phase.CLOSED) {
            return;
        }
        closeReason = reason;
        phase = Phase.CLOSING;
        LOG.debug("{}: closing: {}", this, reason);
        // Wakes the pending RECV (returns 0) and fails the pending SEND; the fd stays ours until finish.
        Libc.shutdown(fd, SHUT_RDWR);
        maybeFinish();
    }

    private void maybeFinish() {
        if (phase != Phase.CLOSING || recvPending || sendPending || inflightBdev > 0) {
            return;
        }
        phase = Phase.CLOSED;
        // Nothing is pending on the socket any more: the kernel no longer touches any slot's memory.
        for (int s = 0; s < SLOTS; s++) {
            releaseBuffer(s);
            endDirect(s);
        }
        readyHead = readyTail = -1;
        readyCount = 0;
        readyBytes = 0;
        if (fileIndex >= 0) {
            ctx.unregisterFile(fileIndex);
            fileIndex = -1;
        }
        Libc.close(fd);
        if (tls != null) {
            tls.dispose();
        }
        arena.close();
        shard.closed(this);
        server.connectionClosed(this, closeReason);
    }

    boolean isClosed() {
        return phase == Phase.CLOSED;
    }
}
