package org.orionos.uring;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.BitSet;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.bindings.Libc;
import org.orionos.bindings.uapi.IoUringH;
import org.orionos.bindings.uapi.IoUringH.IoUringCqe;
import org.orionos.bindings.uapi.IoUringH.IoUringGeteventsArg;
import org.orionos.bindings.uapi.IoUringH.IoUringParams;
import org.orionos.bindings.uapi.IoUringH.IoUringProbe;
import org.orionos.bindings.uapi.IoUringH.IoUringProbeOp;
import org.orionos.bindings.uapi.IoUringH.IoUringRsrcRegister;
import org.orionos.bindings.uapi.IoUringH.IoUringRsrcUpdate;
import org.orionos.bindings.uapi.IoUringH.IoUringRsrcUpdate2;
import org.orionos.bindings.uapi.IoUringH.IoUringSqe;
import org.orionos.bindings.uapi.IoUringH.KernelTimespec;
import org.orionos.bindings.uapi.SocketH.Iovec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.orionos.bindings.uapi.IoUringH.*;
import static org.orionos.bindings.uapi.MmanH.MAP_POPULATE;
import static org.orionos.bindings.uapi.MmanH.MAP_SHARED;
import static org.orionos.bindings.uapi.MmanH.PROT_READ;
import static org.orionos.bindings.uapi.MmanH.PROT_WRITE;

/**
 * One io_uring instance: the ring fd, its three mmaps, the probe result, registered buffers and
 * files, and a preallocated completion-slot table.
 *
 * <p>Use from one thread (the creator). Per operation: {@link #acquire} an {@link Sqe}, fill it,
 * and later {@link #submit()} / {@link #submitAndWait(int)}; {@link #reap()} dispatches
 * completions to their {@link Completion}. None of these allocate or throw: they return counts
 * or negative errnos. Setup and registration throw {@link ErrnoException}.
 *
 * <p>Back-pressure: {@code acquire} flushes a full SQ to the kernel itself and returns null only
 * when every completion slot is in use ({@link RingConfig#maxInFlight()}) or the kernel refused
 * the flush; the caller then reaps and retries. CQ overflow: the ring requires
 * IORING_FEAT_NODROP, so the kernel parks completions that do not fit; {@code reap} flushes that
 * backlog when IORING_SQ_CQ_OVERFLOW is set, so no completion is lost.
 */
@SuppressWarnings("restricted") // reinterpret() gives the kernel's mmapped rings their real size
public final class Ring implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Ring.class);

    /** Opcode table size for IORING_REGISTER_PROBE: opcodes are a u8. */
    private static final int PROBE_OPS = 256;

    /** Plain int access on ring memory with acquire/release modes. */
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private final RingConfig config;
    private final Arena arena = Arena.ofShared();
    private final int ringFd;
    private final int setupFlags;
    private final int features;
    private final BitSet supported = new BitSet(PROBE_OPS);
    private final Thread owner;

    // enter(2) target: the registered index with IORING_ENTER_REGISTERED_RING, or the plain fd.
    private int enterFd;
    private int enterFlags;

    // Mapping addresses stay non-final so the constructor's failure path can undo partial work.
    private long sqRingAddr;
    private long sqRingSize;
    private long cqRingAddr;
    private long cqRingSize;
    private long sqesAddr;
    private long sqesSize;

    private final MemorySegment sq;
    private final MemorySegment cq;
    private final MemorySegment sqes;
    private final long sqHead;
    private final long sqTail;
    private final long sqFlags;
    private final long sqDropped;
    private final int sqMask;
    private final int sqEntries;
    private final long cqHead;
    private final long cqTail;
    private final long cqOverflow;
    private final long cqCqes;
    private final int cqMask;
    private final int cqEntries;
    private final int sqeShift;
    private final int cqeShift;
    private final boolean sqPoll;
    private final boolean bigCqe;

    /** Next free SQE (ours, not yet visible to the kernel until {@link #flushSq()}). */
    private int sqeTail;
    /** Our copy of the CQ head; only we write the kernel's. */
    private int cqHeadLocal;

    // Completion slots: handler, cookie, generation; a LIFO free stack keeps hot slots in cache.
    private final Completion[] handlers;
    private final long[] cookies;
    private final int[] gens;
    private final int[] free;
    private int freeTop;
    private long lastUserData;

    // The CQE being dispatched, for bigCqe().
    private long currentCqe;

    private final Sqe sqe;
    private final MemorySegment waitArg;
    private final MemorySegment waitTs;

    private long staleCompletions;
    private boolean reaping;
    private boolean closed;
    private String name = "io_uring";

    /** Creates a ring on the calling thread, which becomes its only user. */
    public static Ring open(RingConfig config) {
        return new Ring(config);
    }

    private Ring(RingConfig cfg) {
        this.config = cfg;
        this.owner = Thread.currentThread();
        MemorySegment params = arena.allocate(IoUringParams.LAYOUT);
        int want = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CLAMP;
        int cqWanted = cfg.cqEntries() == 0 ? cfg.sqEntries() * 2 : cfg.cqEntries();
        want |= IORING_SETUP_CQSIZE;
        if (cfg.sqe128()) {
            want |= IORING_SETUP_SQE128;
        }
        if (cfg.cqe32()) {
            want |= IORING_SETUP_CQE32;
        }
        if (cfg.ioPoll()) {
            want |= IORING_SETUP_IOPOLL;
        }
        if (cfg.sqPoll()) {
            want |= IORING_SETUP_SQPOLL;
            params.set(JAVA_INT, IoUringParams.SQ_THREAD_IDLE, cfg.sqPollIdleMillis());
            if (cfg.sqPollCpu() >= 0) {
                want |= IORING_SETUP_SQ_AFF;
                params.set(JAVA_INT, IoUringParams.SQ_THREAD_CPU, cfg.sqPollCpu());
            }
        }
        // Most capable first; each fallback drops what an older kernel rejects with EINVAL.
        int[] attempts;
        if (cfg.singleIssuer() && !cfg.sqPoll()) {
            attempts = new int[] {
                want | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
                want | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
                want | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
                want,
            };
        } else if (cfg.sqPoll()) {
            attempts = new int[] {cfg.singleIssuer() ? want | IORING_SETUP_SINGLE_ISSUER : want, want};
        } else {
            attempts = new int[] {want | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG, want};
        }
        int fd = -Errno.EINVAL;
        int used = 0;
        for (int flags : attempts) {
            params.fill((byte) 0);
            params.set(JAVA_INT, IoUringParams.FLAGS, flags);
            params.set(JAVA_INT, IoUringParams.CQ_ENTRIES, cqWanted);
            if (cfg.sqPoll()) {
                params.set(JAVA_INT, IoUringParams.SQ_THREAD_IDLE, cfg.sqPollIdleMillis());
                params.set(JAVA_INT, IoUringParams.SQ_THREAD_CPU, Math.max(0, cfg.sqPollCpu()));
            }
            fd = Libc.ioUringSetup(cfg.sqEntries(), params);
            used = flags;
            if (fd != -Errno.EINVAL) {
                break;
            }
        }
        if (fd < 0) {
            arena.close();
            throw new ErrnoException(-fd, "io_uring_setup", cfg.toString(),
                    fd == -Errno.EPERM ? "io_uring may be disabled: check /proc/sys/kernel/io_uring_disabled"
                            : fd == -Errno.ENOMEM ? "raise RLIMIT_MEMLOCK or use fewer entries" : null);
        }
        this.ringFd = fd;
        this.setupFlags = used;
        this.features = IoUringParams.features(params);
        this.sqPoll = (used & IORING_SETUP_SQPOLL) != 0;
        this.bigCqe = (used & IORING_SETUP_CQE32) != 0;
        this.sqeShift = (used & IORING_SETUP_SQE128) != 0 ? 7 : 6;
        this.cqeShift = bigCqe ? 5 : 4;
        try {
            if ((features & IORING_FEAT_NODROP) == 0) {
                throw new ErrnoException(Errno.EOPNOTSUPP, "io_uring_setup", "IORING_FEAT_NODROP",
                        "this kernel may drop completions on CQ overflow; Orion needs Linux 5.5 or newer");
            }
            this.sqEntries = params.get(JAVA_INT, IoUringParams.SQ_ENTRIES);
            this.cqEntries = params.get(JAVA_INT, IoUringParams.CQ_ENTRIES);
            int sqArray = params.get(JAVA_INT, IoUringParams.SQ_OFF_ARRAY);
            long sqSize = sqArray + 4L * sqEntries;
            long cqSize = params.get(JAVA_INT, IoUringParams.CQ_OFF_CQES) + ((long) cqEntries << cqeShift);
            boolean single = (features & IORING_FEAT_SINGLE_MMAP) != 0;
            if (single) {
                sqSize = cqSize = Math.max(sqSize, cqSize);
            }
            this.sqRingSize = sqSize;
            this.sqRingAddr = map(sqSize, IORING_OFF_SQ_RING, "SQ ring");
            if (single) {
                this.cqRingSize = 0;
                this.cqRingAddr = sqRingAddr;
            } else {
                this.cqRingSize = cqSize;
                this.cqRingAddr = map(cqSize, IORING_OFF_CQ_RING, "CQ ring");
            }
            this.sqesSize = (long) sqEntries << sqeShift;
            this.sqesAddr = map(sqesSize, IORING_OFF_SQES, "SQE array");
            this.sq = MemorySegment.ofAddress(sqRingAddr).reinterpret(sqSize);
            this.cq = MemorySegment.ofAddress(cqRingAddr).reinterpret(cqSize);
            this.sqes = MemorySegment.ofAddress(sqesAddr).reinterpret(sqesSize);
            this.sqHead = params.get(JAVA_INT, IoUringParams.SQ_OFF_HEAD);
            this.sqTail = params.get(JAVA_INT, IoUringParams.SQ_OFF_TAIL);
            this.sqFlags = params.get(JAVA_INT, IoUringParams.SQ_OFF_FLAGS);
            this.sqDropped = params.get(JAVA_INT, IoUringParams.SQ_OFF_DROPPED);
            this.sqMask = sq.get(JAVA_INT, params.get(JAVA_INT, IoUringParams.SQ_OFF_RING_MASK));
            this.cqHead = params.get(JAVA_INT, IoUringParams.CQ_OFF_HEAD);
            this.cqTail = params.get(JAVA_INT, IoUringParams.CQ_OFF_TAIL);
            this.cqOverflow = params.get(JAVA_INT, IoUringParams.CQ_OFF_OVERFLOW);
            this.cqCqes = params.get(JAVA_INT, IoUringParams.CQ_OFF_CQES);
            this.cqMask = cq.get(JAVA_INT, params.get(JAVA_INT, IoUringParams.CQ_OFF_RING_MASK));
            // The SQ index array maps ring positions to SQEs; identity once, so only the tail moves.
            for (int i = 0; i < sqEntries; i++) {
                sq.set(JAVA_INT, sqArray + 4L * i, i);
            }
            this.sqeTail = sq.get(JAVA_INT, sqTail);
            this.cqHeadLocal = cq.get(JAVA_INT, cqHead);

            probe(cfg.requiredOps());

            int slots = cfg.maxInFlight() == 0 ? cqEntries : cfg.maxInFlight();
            this.handlers = new Completion[slots];
            this.cookies = new long[slots];
            this.gens = new int[slots];
            this.free = new int[slots];
            for (int i = 0; i < slots; i++) {
                free[i] = slots - 1 - i;
                gens[i] = 1;
            }
            this.freeTop = slots;
            this.sqe = new Sqe(sqes, sqeShift == 7);
            this.waitArg = arena.allocate(IoUringGeteventsArg.LAYOUT);
            this.waitTs = arena.allocate(KernelTimespec.LAYOUT);
            this.enterFd = ringFd;
            this.enterFlags = 0;
            if (cfg.registerRingFd()) {
                registerRingFd();
            }
        } catch (RuntimeException | Error e) {
            releaseMappings();
            Libc.close(ringFd);
            arena.close();
            throw e;
        }
    }

    private long map(long size, long offset, String what) {
        long addr = Libc.mmap(0, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ringFd, offset);
        if (addr < 0) {
            throw new ErrnoException((int) -addr, "mmap io_uring " + what, size + " bytes",
                    addr == -Errno.ENOMEM ? "raise RLIMIT_MEMLOCK or use fewer entries" : null);
        }
        return addr;
    }

    private void releaseMappings() {
        // Also the constructor's failure path: unmapped parts are still 0.
        if (sqesAddr > 0) {
            Libc.munmap(sqesAddr, sqesSize);
        }
        if (cqRingSize > 0 && cqRingAddr > 0) {
            Libc.munmap(cqRingAddr, cqRingSize);
        }
        if (sqRingAddr > 0) {
            Libc.munmap(sqRingAddr, sqRingSize);
        }
        sqesAddr = cqRingAddr = sqRingAddr = 0;
    }

    private void probe(int[] required) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(IoUringProbe.SIZE + PROBE_OPS * IoUringProbeOp.SIZE, 8);
            int r = Libc.ioUringRegister(ringFd, IORING_REGISTER_PROBE, p, PROBE_OPS);
            if (r < 0) {
                throw new ErrnoException(-r, "io_uring_register(PROBE)", name, "the kernel predates Linux 5.6");
            }
            int n = Byte.toUnsignedInt(p.get(ValueLayout.JAVA_BYTE, IoUringProbe.OPS_LEN));
            for (int i = 0; i < n; i++) {
                long op = IoUringProbe.OPS + i * IoUringProbeOp.SIZE;
                short f = p.get(ValueLayout.JAVA_SHORT, op + IoUringProbeOp.FLAGS);
                if ((f & IO_URING_OP_SUPPORTED) != 0) {
                    supported.set(Byte.toUnsignedInt(p.get(ValueLayout.JAVA_BYTE, op + IoUringProbeOp.OP)));
                }
            }
        }
        for (int op : required) {
            if (!supported.get(op)) {
                throw new ErrnoException(Errno.EOPNOTSUPP, "io_uring_setup", "opcode IORING_OP_" + IoUringH.opName(op),
                        "this kernel's io_uring lacks IORING_OP_" + IoUringH.opName(op)
                                + " (probe); upgrade the kernel or drop the feature that needs it");
            }
        }
    }

    private void registerRingFd() {
        MemorySegment upd = arena.allocate(IoUringRsrcUpdate.LAYOUT);
        upd.set(JAVA_INT, IoUringRsrcUpdate.OFFSET, -1); // let the kernel pick a free slot
        upd.set(JAVA_LONG, IoUringRsrcUpdate.DATA, ringFd);
        int r = Libc.ioUringRegister(ringFd, IORING_REGISTER_RING_FDS, upd, 1);
        if (r == 1) {
            enterFd = upd.get(JAVA_INT, IoUringRsrcUpdate.OFFSET);
            enterFlags = IORING_ENTER_REGISTERED_RING;
        } else {
            // Only an optimisation (the per-thread table holds 16): fall back to the plain fd.
            LOG.debug("io_uring ring fd registration unavailable ({}), using the plain fd", Errno.name(-r));
        }
    }

    // ---------------------------------------------------------------- facts

    public RingConfig config() {
        return config;
    }

    public int fd() {
        return ringFd;
    }

    /** IORING_SETUP_* flags the ring was created with (after fallbacks). */
    public int setupFlags() {
        return setupFlags;
    }

    /** IORING_FEAT_* bits the kernel reported. */
    public int features() {
        return features;
    }

    public int sqEntries() {
        return sqEntries;
    }

    public int cqEntries() {
        return cqEntries;
    }

    /** Whether the kernel's probe lists {@code opcode} as supported. */
    public boolean supports(int opcode) {
        return opcode >= 0 && supported.get(opcode);
    }

    /** Whether enter(2) goes through the registered ring fd. */
    public boolean ringFdRegistered() {
        return enterFlags != 0;
    }

    /** Completion slots in use (submitted or prepared, not yet finally completed). */
    public int inFlight() {
        return handlers.length - freeTop;
    }

    public int maxInFlight() {
        return handlers.length;
    }

    /** SQEs prepared but not yet made visible to the kernel. */
    public int pendingSubmissions() {
        return sqeTail - (int) INT.getAcquire(sq, sqHead);
    }

    /** Completions the kernel dropped (cq overflow counter; stays 0 with NODROP unless memory ran out). */
    public int droppedCompletions() {
        return (int) INT.getAcquire(cq, cqOverflow);
    }

    /** Whether the kernel holds completions that did not fit in the CQ (IORING_SQ_CQ_OVERFLOW). */
    public boolean cqOverflowPending() {
        return (sqFlagsAcquire() & IORING_SQ_CQ_OVERFLOW) != 0;
    }

    /**
     * Whether a {@link #submit()} + {@link #reap()} would dispatch something now: CQEs are in the
     * CQ, or the kernel holds completions (deferred task work, overflow) that the next enter posts.
     * Two loads, no syscall: what a busy-polling loop checks.
     */
    public boolean completionsPending() {
        // Acquire: pairs with the kernel's release of the CQ tail (as in reap()).
        return (int) INT.getAcquire(cq, cqTail) != cqHeadLocal
                || (sqFlagsAcquire() & (IORING_SQ_CQ_OVERFLOW | IORING_SQ_TASKRUN)) != 0;
    }

    /** Invalid SQEs the kernel skipped (sq dropped counter). */
    public int droppedSubmissions() {
        return (int) INT.getAcquire(sq, sqDropped);
    }

    /** Completions whose user_data named a released slot: always 0 unless something is broken. */
    public long staleCompletions() {
        return staleCompletions;
    }

    /** The user_data of the SQE most recently acquired: what {@link Sqe#cancel} takes. */
    public long lastUserData() {
        return lastUserData;
    }

    /** Names this ring in error messages. */
    public Ring name(String n) {
        this.name = n;
        return this;
    }

    public String name() {
        return name;
    }

    // ---------------------------------------------------------------- submission

    /**
     * The next SQE, zeroed, its user_data naming a slot that holds {@code handler} and
     * {@code cookie}. Flushes a full SQ to the kernel first. Returns null (back-pressure) when all
     * completion slots are in use or the kernel refused the flush; reap, then retry.
     */
    public Sqe acquire(Completion handler, long cookie) {
        if (freeTop == 0) {
            return null;
        }
        // Acquire: pairs with the kernel's release of the SQ head after it consumed entries,
        // so we never overwrite an SQE the kernel may still be reading.
        int head = (int) INT.getAcquire(sq, sqHead);
        if (sqeTail - head >= sqEntries) {
            int r = submit();
            head = (int) INT.getAcquire(sq, sqHead);
            if (r < 0 || sqeTail - head >= sqEntries) {
                return null;
            }
        }
        int slot = free[--freeTop];
        handlers[slot] = handler;
        cookies[slot] = cookie;
        long ud = ((long) gens[slot] << 32) | slot;
        lastUserData = ud;
        long base = (long) (sqeTail & sqMask) << sqeShift;
        sqeTail++;
        for (long o = 0, end = 1L << sqeShift; o < end; o += 8) {
            sqes.set(JAVA_LONG, base + o, 0L);
        }
        sqes.set(JAVA_LONG, base + IoUringSqe.USER_DATA, ud);
        sqe.bind(base);
        return sqe;
    }

    /** Makes prepared SQEs visible to the kernel; returns how many it has not consumed yet. */
    private int flushSq() {
        // Release: the SQE contents written above must be visible before the kernel sees the new
        // tail (the kernel's acquire of the tail pairs with this; SQPOLL reads it concurrently).
        INT.setRelease(sq, sqTail, sqeTail);
        return sqeTail - (int) INT.getAcquire(sq, sqHead);
    }

    private int sqFlagsAcquire() {
        // Acquire: flags the kernel publishes (CQ_OVERFLOW, TASKRUN) guard state we act on next.
        return (int) INT.getAcquire(sq, sqFlags);
    }

    /** Enter flags needed to flush overflowed CQEs or run deferred task work, else 0. */
    private int cqNeedsFlush() {
        return (sqFlagsAcquire() & (IORING_SQ_CQ_OVERFLOW | IORING_SQ_TASKRUN)) != 0 ? IORING_ENTER_GETEVENTS : 0;
    }

    /**
     * Hands prepared SQEs to the kernel without waiting. Returns the number submitted or a
     * negative errno (-EBUSY/-EAGAIN: reap completions, then retry).
     */
    public int submit() {
        int n = flushSq();
        if (sqPoll) {
            // Full fence: our tail store must be ordered before the load of the NEED_WAKEUP flag,
            // else the poller may sleep after missing the new tail while we miss its flag.
            VarHandle.fullFence();
            if ((sq.get(JAVA_INT, sqFlags) & IORING_SQ_NEED_WAKEUP) != 0) {
                int r = Libc.ioUringEnter(enterFd, n, 0, IORING_ENTER_SQ_WAKEUP | enterFlags, MemorySegment.NULL, 0);
                return r < 0 ? r : n;
            }
            return n;
        }
        int getEvents = cqNeedsFlush();
        if (n == 0 && getEvents == 0) {
            return 0;
        }
        return Libc.ioUringEnter(enterFd, n, 0, getEvents | enterFlags, MemorySegment.NULL, 0);
    }

    /**
     * Submits and waits until at least {@code minComplete} completions are in the CQ (they are
     * not dispatched: call {@link #reap()}). Returns the number submitted or a negative errno
     * (-EINTR: a signal; -EBUSY: reap first).
     */
    public int submitAndWait(int minComplete) {
        int n = flushSq();
        int flags = IORING_ENTER_GETEVENTS | enterFlags;
        if (sqPoll) {
            // Full fence: as in submit(), the tail store must precede reading NEED_WAKEUP.
            VarHandle.fullFence();
            if ((sq.get(JAVA_INT, sqFlags) & IORING_SQ_NEED_WAKEUP) != 0) {
                flags |= IORING_ENTER_SQ_WAKEUP;
            }
        }
        return Libc.ioUringEnter(enterFd, n, minComplete, flags, MemorySegment.NULL, 0);
    }

    /**
     * Like {@link #submitAndWait(int)} but returns after {@code timeoutNanos} at the latest
     * (-ETIME then). Needs IORING_FEAT_EXT_ARG (Linux 5.11).
     */
    public int submitAndWait(int minComplete, long timeoutNanos) {
        int n = flushSq();
        waitTs.set(JAVA_LONG, KernelTimespec.TV_SEC, timeoutNanos / 1_000_000_000L);
        waitTs.set(JAVA_LONG, KernelTimespec.TV_NSEC, timeoutNanos % 1_000_000_000L);
        waitArg.set(JAVA_LONG, IoUringGeteventsArg.TS, waitTs.address());
        int flags = IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG | enterFlags;
        if (sqPoll) {
            // Full fence: as in submit().
            VarHandle.fullFence();
            if ((sq.get(JAVA_INT, sqFlags) & IORING_SQ_NEED_WAKEUP) != 0) {
                flags |= IORING_ENTER_SQ_WAKEUP;
            }
        }
        return Libc.ioUringEnter(enterFd, n, minComplete, flags, waitArg, IoUringGeteventsArg.LAYOUT.byteSize());
    }

    // ---------------------------------------------------------------- completion

    /**
     * Dispatches every completion in the CQ to its handler, flushing the kernel's overflow
     * backlog as needed. Returns the number dispatched. Not re-entrant: a handler that calls
     * reap gets 0.
     */
    public int reap() {
        if (reaping) {
            return 0;
        }
        reaping = true;
        int n = 0;
        try {
            for (;;) {
                // Acquire: the kernel writes a CQE before its release store of the tail; this
                // load pairs with it so the CQE contents we read below are complete.
                int tail = (int) INT.getAcquire(cq, cqTail);
                int head = cqHeadLocal;
                while (head != tail) {
                    long e = cqCqes + ((long) (head & cqMask) << cqeShift);
                    long ud = cq.get(JAVA_LONG, e + IoUringCqe.USER_DATA);
                    int res = cq.get(JAVA_INT, e + IoUringCqe.RES);
                    int flags = cq.get(JAVA_INT, e + IoUringCqe.FLAGS);
                    head++;
                    if (bigCqe) {
                        // The slot is handed back below; keep its extra words for bigCqe().
                        big0 = cq.get(JAVA_LONG, e + IoUringCqe.BIG_CQE);
                        big1 = cq.get(JAVA_LONG, e + IoUringCqe.BIG_CQE + 8);
                    }
                    cqHeadLocal = head;
                    // Release: our reads of this CQE happen before the kernel may reuse its slot.
                    INT.setRelease(cq, cqHead, head);
                    dispatch(ud, res, flags);
                    n++;
                }
                if ((sqFlagsAcquire() & IORING_SQ_CQ_OVERFLOW) != 0) {
                    // The kernel holds completions that did not fit; GETEVENTS moves them into
                    // the CQ now that we freed space.
                    int r = Libc.ioUringEnter(enterFd, 0, 0, IORING_ENTER_GETEVENTS | enterFlags, MemorySegment.NULL, 0);
                    if (r < 0 && r != -Errno.EINTR && r != -Errno.EBUSY) {
                        return n;
                    }
                    if ((int) INT.getAcquire(cq, cqTail) != cqHeadLocal) {
                        continue;
                    }
                }
                return n;
            }
        } finally {
            reaping = false;
        }
    }

    private long big0;
    private long big1;

    /** Extra completion word {@code i} (0 or 1) of the CQE being dispatched, on a CQE32 ring. */
    public long bigCqe(int i) {
        return i == 0 ? big0 : big1;
    }

    private void dispatch(long ud, int res, int flags) {
        int slot = (int) ud;
        int gen = (int) (ud >>> 32);
        if (slot < 0 || slot >= handlers.length || gens[slot] != gen || handlers[slot] == null) {
            staleCompletions++;
            return;
        }
        Completion h = handlers[slot];
        long cookie = cookies[slot];
        if ((flags & IORING_CQE_F_MORE) == 0) {
            // Final completion: release the slot first so the handler can submit again at once;
            // the new generation makes any late duplicate of this user_data stale.
            handlers[slot] = null;
            gens[slot] = gen + 1 == 0 ? 1 : gen + 1;
            free[freeTop++] = slot;
        }
        try {
            h.complete(res, flags, cookie);
        } catch (RuntimeException | Error e) {
            // A failing handler must not take the ring's other completions with it.
            LOG.error("{}: completion handler {} failed (res={}, cookie={})", name, h, res, cookie, e);
        }
    }

    // ---------------------------------------------------------------- registration

    private MemorySegment iovecs(Arena a, MemorySegment[] bufs) {
        MemorySegment iov = a.allocate(Iovec.SIZE * Math.max(1, bufs.length), 8);
        for (int i = 0; i < bufs.length; i++) {
            MemorySegment b = bufs[i];
            iov.set(JAVA_LONG, Iovec.SIZE * i + Iovec.IOV_BASE, b == null ? 0 : b.address());
            iov.set(JAVA_LONG, Iovec.SIZE * i + Iovec.IOV_LEN, b == null ? 0 : b.byteSize());
        }
        return iov;
    }

    /** Registers {@code bufs} as fixed buffers 0..n-1 (null entries stay empty, updatable later). */
    public void registerBuffers(MemorySegment... bufs) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment reg = a.allocate(IoUringRsrcRegister.LAYOUT);
            reg.set(JAVA_INT, IoUringRsrcRegister.NR, bufs.length);
            reg.set(JAVA_LONG, IoUringRsrcRegister.DATA, iovecs(a, bufs).address());
            int r = Libc.ioUringRegister(ringFd, IORING_REGISTER_BUFFERS2, reg, (int) IoUringRsrcRegister.LAYOUT.byteSize());
            ErrnoException.check(r, "io_uring_register(BUFFERS2, " + bufs.length + " buffers)", name);
        }
    }

    /** An empty fixed-buffer table of {@code n} slots, filled with {@link #updateBuffers}. */
    public void registerBuffersSparse(int n) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment reg = a.allocate(IoUringRsrcRegister.LAYOUT);
            reg.set(JAVA_INT, IoUringRsrcRegister.NR, n);
            reg.set(JAVA_INT, IoUringRsrcRegister.FLAGS, IORING_RSRC_REGISTER_SPARSE);
            int r = Libc.ioUringRegister(ringFd, IORING_REGISTER_BUFFERS2, reg, (int) IoUringRsrcRegister.LAYOUT.byteSize());
            ErrnoException.check(r, "io_uring_register(BUFFERS2 sparse, " + n + " slots)", name);
        }
    }

    /** Replaces fixed buffers {@code offset..}; a null entry empties its slot. */
    public void updateBuffers(int offset, MemorySegment... bufs) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment u = a.allocate(IoUringRsrcUpdate2.LAYOUT);
            u.set(JAVA_INT, IoUringRsrcUpdate2.OFFSET, offset);
            u.set(JAVA_LONG, IoUringRsrcUpdate2.DATA, iovecs(a, bufs).address());
            u.set(JAVA_INT, IoUringRsrcUpdate2.NR, bufs.length);
            int r = Libc.ioUringRegister(ringFd, IORING_REGISTER_BUFFERS_UPDATE, u,
                    (int) IoUringRsrcUpdate2.LAYOUT.byteSize());
            ErrnoException.check(r, "io_uring_register(BUFFERS_UPDATE at " + offset + ")", name);
        }
    }

    public void unregisterBuffers() {
        int r = Libc.ioUringRegister(ringFd, IORING_UNREGISTER_BUFFERS, MemorySegment.NULL, 0);
        ErrnoException.check(r, "io_uring_register(UNREGISTER_BUFFERS)", name);
    }

    private static MemorySegment fdArray(Arena a, int[] fds) {
        MemorySegment s = a.allocate(4L * Math.max(1, fds.length), 4);
        for (int i = 0; i < fds.length; i++) {
            s.set(JAVA_INT, 4L * i, fds[i]);
        }
        return s;
    }

    /** Registers {@code fds} as fixed files 0..n-1 (-1 leaves a slot empty). */
    public void registerFiles(int... fds) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment reg = a.allocate(IoUringRsrcRegister.LAYOUT);
            reg.set(JAVA_INT, IoUringRsrcRegister.NR, fds.length);
            reg.set(JAVA_LONG, IoUringRsrcRegister.DATA, fdArray(a, fds).address());
            int r = Libc.ioUringRegister(ringFd, IORING_REGISTER_FILES2, reg, (int) IoUringRsrcRegister.LAYOUT.byteSize());
            ErrnoException.check(r, "io_uring_register(FILES2, " + fds.length + " files)", name);
        }
    }

    /** An empty fixed-file table of {@code n} slots. */
    public void registerFilesSparse(int n) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment reg = a.allocate(IoUringRsrcRegister.LAYOUT);
            reg.set(JAVA_INT, IoUringRsrcRegister.NR, n);
            reg.set(JAVA_INT, IoUringRsrcRegister.FLAGS, IORING_RSRC_REGISTER_SPARSE);
            int r = Libc.ioUringRegister(ringFd, IORING_REGISTER_FILES2, reg, (int) IoUringRsrcRegister.LAYOUT.byteSize());
            ErrnoException.check(r, "io_uring_register(FILES2 sparse, " + n + " slots)", name);
        }
    }

    /** Replaces fixed files {@code offset..}; -1 empties a slot. Returns the number updated. */
    public int updateFiles(int offset, int... fds) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment u = a.allocate(IoUringRsrcUpdate2.LAYOUT);
            u.set(JAVA_INT, IoUringRsrcUpdate2.OFFSET, offset);
            u.set(JAVA_LONG, IoUringRsrcUpdate2.DATA, fdArray(a, fds).address());
            u.set(JAVA_INT, IoUringRsrcUpdate2.NR, fds.length);
            int r = Libc.ioUringRegister(ringFd, IORING_REGISTER_FILES_UPDATE2, u,
                    (int) IoUringRsrcUpdate2.LAYOUT.byteSize());
            return ErrnoException.check(r, "io_uring_register(FILES_UPDATE2 at " + offset + ")", name);
        }
    }

    public void unregisterFiles() {
        int r = Libc.ioUringRegister(ringFd, IORING_UNREGISTER_FILES, MemorySegment.NULL, 0);
        ErrnoException.check(r, "io_uring_register(UNREGISTER_FILES)", name);
    }

    // ---------------------------------------------------------------- close

    /**
     * Unmaps and closes the ring. In-flight operations are cancelled by the kernel; memory they
     * use must outlive them, so drain first (the reactor does). The registered ring fd lives in
     * the creating thread's table, so a ring that registered one must be closed by that thread.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (enterFlags != 0) {
            if (Thread.currentThread() != owner) {
                throw new IllegalStateException(name + ": close from " + Thread.currentThread().getName()
                        + ", but the ring fd is registered with " + owner.getName() + "; close it there");
            }
            MemorySegment upd = arena.allocate(IoUringRsrcUpdate.LAYOUT);
            upd.set(JAVA_INT, IoUringRsrcUpdate.OFFSET, enterFd);
            int r = Libc.ioUringRegister(ringFd, IORING_UNREGISTER_RING_FDS, upd, 1);
            if (r != 1) {
                LOG.warn("{}: unregistering ring fd slot {} failed: {}", name, enterFd, Errno.name(-r));
            }
            enterFlags = 0;
        }
        closed = true;
        releaseMappings();
        Libc.close(ringFd);
        arena.close();
    }

    public boolean isClosed() {
        return closed;
    }

    @Override
    public String toString() {
        return name + "[fd=" + ringFd + ", sq=" + sqEntries + ", cq=" + cqEntries + ", flags=0x"
                + Integer.toHexString(setupFlags) + ", inFlight=" + inFlight() + "]";
    }
}
