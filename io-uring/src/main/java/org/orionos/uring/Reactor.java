package org.orionos.uring;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.bindings.Libc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.orionos.bindings.uapi.EventfdH.EFD_CLOEXEC;
import static org.orionos.bindings.uapi.IoUringH.IORING_ASYNC_CANCEL_ALL;
import static org.orionos.bindings.uapi.IoUringH.IORING_ASYNC_CANCEL_ANY;
import static org.orionos.bindings.uapi.IoUringH.IORING_OP_ASYNC_CANCEL;
import static org.orionos.bindings.uapi.IoUringH.IORING_OP_READ;

/**
 * One thread that owns one {@link Ring} and loops: run posted tasks, submit, wait, reap and run
 * completion handlers. State that belongs to a reactor is touched only on its thread, so the data
 * path takes no locks.
 *
 * <p>Other threads {@link #execute} tasks: they go into an MPSC queue and, only when the reactor
 * may be asleep in io_uring_enter, a write to an eventfd wakes it; the eventfd is read by an SQE
 * on the reactor's own ring, so waiting for I/O and for tasks is one syscall.
 *
 * <p>{@link #close()} cancels every in-flight operation (ASYNC_CANCEL ANY|ALL), waits for their
 * completions, closes ring and eventfd, and ends the thread.
 */
public final class Reactor implements Executor, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Reactor.class);
    private static final int TASK_BUDGET = 1024;
    private static final long DRAIN_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);

    private static final VarHandle SLEEPING;
    private static final VarHandle WAKE_PENDING;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            SLEEPING = l.findVarHandle(Reactor.class, "sleeping", int.class);
            WAKE_PENDING = l.findVarHandle(Reactor.class, "wakePending", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The thread type, so {@link #current()} is a field read instead of a ThreadLocal lookup. */
    private static final class ReactorThread extends Thread {
        final Reactor reactor;

        ReactorThread(Reactor r, String name) {
            super(null, r::run, name);
            this.reactor = r;
            setDaemon(true);
        }
    }

    private final int id;
    private final String name;
    private final RingConfig config;
    private final int cpu;
    private final ReactorThread thread;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final CompletableFuture<Void> started = new CompletableFuture<>();
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();

    private LoopHook[] hooks = new LoopHook[0];

    /** 1 while the reactor may block in enter: posters must then write the eventfd. */
    @SuppressWarnings("unused") // accessed through SLEEPING
    private volatile int sleeping;
    /** 1 once a poster wrote the eventfd and the reactor has not consumed it: one write per sleep. */
    @SuppressWarnings("unused") // accessed through WAKE_PENDING
    private volatile int wakePending;
    private volatile boolean closing;

    private Ring ring;
    private int eventFd = -1;
    private Arena arena;
    private MemorySegment eventBuf;
    private final Completion onWake = (res, flags, cookie) -> wakeCompleted(res);
    private long loops;
    private long sleeps;
    /** Busy-poll window before sleeping, 0 = off; see {@link #busyPoll}. */
    private volatile long spinNanos;
    private volatile long spinMaxNanos;
    /** The adapted window (see {@link #busyPoll(long, long)}); written by the reactor thread only. */
    private volatile long spinWindow;
    /** System.nanoTime by which the loop runs its hooks again though nothing completed; reactor thread only. */
    private long hookDeadline = Long.MAX_VALUE;

    private Reactor(int id, String name, RingConfig config, int cpu) {
        this.id = id;
        this.name = name;
        this.config = config.requiring(IORING_OP_READ, IORING_OP_ASYNC_CANCEL);
        this.cpu = cpu;
        this.thread = new ReactorThread(this, name);
    }

    /**
     * Starts a reactor thread and creates its ring on it (SINGLE_ISSUER makes the creating thread
     * the only submitter). {@code cpu} &lt; 0: not pinned. Throws the ring's setup error.
     */
    public static Reactor start(int id, String name, RingConfig config, int cpu) {
        Reactor r = new Reactor(id, name, config, cpu);
        r.thread.start();
        try {
            r.started.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw e;
        }
        return r;
    }

    public static Reactor start(String name, RingConfig config) {
        return start(0, name, config, -1);
    }

    /** The reactor running the calling thread, or null. */
    public static Reactor current() {
        return Thread.currentThread() instanceof ReactorThread t ? t.reactor : null;
    }

    public boolean isInReactor() {
        return Thread.currentThread() == thread;
    }

    public int id() {
        return id;
    }

    public String name() {
        return name;
    }

    /** The ring; use it only on this reactor's thread. */
    public Ring ring() {
        return ring;
    }

    public boolean isClosing() {
        return closing;
    }

    /**
     * Busy-polls for up to {@code nanos} after each turn of the loop that found nothing to do
     * before sleeping in io_uring_enter (0: sleep at once). Worth it when peers answer within
     * microseconds (a client on the same machine); it costs at most that much CPU per sleep.
     */
    public void busyPoll(long nanos) {
        busyPoll(nanos, nanos);
    }

    /**
     * Busy-polls as {@link #busyPoll(long)}, with a window that adapts between {@code nanos} and
     * {@code maxNanos}: it doubles after each sleep that ended sooner than {@code maxNanos} (a longer
     * poll would have caught that wake-up, and waking a sleeping thread costs a context switch and,
     * on an idle virtual CPU, an exit to the hypervisor) and halves after each longer sleep. A
     * client with one request in flight whose round trip is a little over {@code nanos} thus finds
     * the reactor awake; an idle reactor costs {@code nanos} per wake-up as before.
     */
    public void busyPoll(long nanos, long maxNanos) {
        if (nanos < 0 || maxNanos < nanos) {
            throw new IllegalArgumentException("busy-poll window must be 0 <= window <= max, got " + nanos + " and "
                    + maxNanos + " ns");
        }
        spinMaxNanos = maxNanos;
        spinNanos = nanos;
    }

    /** The configured (shortest) busy-poll window in nanoseconds (0: off). */
    public long busyPollNanos() {
        return spinNanos;
    }

    /** The current busy-poll window in nanoseconds, between the configured one and its maximum. */
    public long busyPollWindowNanos() {
        return Math.min(Math.max(spinWindow, spinNanos), spinMaxNanos);
    }

    /** Times the reactor blocked in io_uring_enter waiting for work (diagnostics). */
    public long sleeps() {
        return sleeps;
    }

    /** Loop iterations so far (diagnostics). */
    public long loops() {
        return loops;
    }

    /** Runs {@code task} on the reactor thread, in posting order. */
    @Override
    public void execute(Runnable task) {
        Objects.requireNonNull(task, "task");
        if (terminated.isDone()) {
            throw new java.util.concurrent.RejectedExecutionException(name + " is closed");
        }
        tasks.offer(task);
        // The offer (a CAS, a full fence) is ordered before this load; the reactor sets sleeping
        // before re-checking the queue. Either it sees our task or we see it sleeping.
        if (!isInReactor() && (int) SLEEPING.getVolatile(this) == 1 && WAKE_PENDING.compareAndSet(this, 0, 1)) {
            wake();
        }
    }

    /** Runs {@code fn} on the reactor and returns its result to the caller (off the data path). */
    public <T> CompletableFuture<T> call(Supplier<T> fn) {
        CompletableFuture<T> f = new CompletableFuture<>();
        execute(() -> {
            try {
                f.complete(fn.get());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f;
    }

    /** The 8-byte value 1 every wake-up writes; only read by write(2), so one shared copy serves all threads. */
    private static final MemorySegment ONE = Arena.global().allocate(JAVA_LONG);

    static {
        ONE.set(JAVA_LONG, 0, 1L);
    }

    private void wake() {
        long r = Libc.write(eventFd, ONE, 8);
        if (r != 8 && r != -Errno.EBADF) {
            LOG.error("{}: eventfd wake failed: {}", name, Errno.name((int) -r));
        }
    }

    /**
     * Work a layer above the ring runs every turn of the loop, after completions were reaped:
     * deferred completions, submissions that met a full ring. Runs on the reactor thread only.
     */
    @FunctionalInterface
    public interface LoopHook {
        /** Does one round of work; returns true while work remains, so the loop must not sleep. */
        boolean run();

        /**
         * The loop found nothing to do (and busy-polled, if on, without result) and is about to
         * sleep: a hook releases what it held back for a batch. True if that made work.
         */
        default boolean idle() {
            return false;
        }
    }

    /**
     * Asks the loop to run its hooks again by {@code nanoTime} (System.nanoTime) even if nothing
     * completes by then, while it busy-polls; a loop that goes to sleep calls {@link LoopHook#idle}
     * first instead. Holds until the next turn runs the hooks: a hook that still needs it asks
     * again. Reactor thread only.
     */
    public void runHooksBy(long nanoTime) {
        if (hookDeadline == Long.MAX_VALUE || nanoTime - hookDeadline < 0) {
            hookDeadline = nanoTime;
        }
    }

    /** Adds a loop hook; call on this reactor's thread (hooks are plain, unsynchronized state). */
    public void addLoopHook(LoopHook hook) {
        if (!isInReactor()) {
            throw new IllegalStateException("loop hooks are added on the reactor's own thread");
        }
        hooks = java.util.Arrays.copyOf(hooks, hooks.length + 1);
        hooks[hooks.length - 1] = hook;
    }

    /** Removes a loop hook added by {@link #addLoopHook}; reactor thread only. */
    public void removeLoopHook(LoopHook hook) {
        if (!isInReactor()) {
            throw new IllegalStateException("loop hooks are removed on the reactor's own thread");
        }
        for (int i = 0; i < hooks.length; i++) {
            if (hooks[i] == hook) {
                LoopHook[] n = new LoopHook[hooks.length - 1];
                System.arraycopy(hooks, 0, n, 0, i);
                System.arraycopy(hooks, i + 1, n, i, hooks.length - i - 1);
                hooks = n;
                return;
            }
        }
    }

    /** Runs every hook's {@link LoopHook#run} or, when the loop is about to sleep, its {@link LoopHook#idle}. */
    private boolean runHooks(boolean idle) {
        boolean busy = false;
        LoopHook[] hs = hooks;
        for (LoopHook h : hs) {
            try {
                busy |= idle ? h.idle() : h.run();
            } catch (Throwable e) {
                LOG.error("{}: loop hook {} failed", name, h, e);
            }
        }
        return busy;
    }

    // ---------------------------------------------------------------- the loop

    private void run() {
        try {
            if (cpu >= 0) {
                pin(cpu);
            }
            arena = Arena.ofConfined();
            eventBuf = arena.allocate(8, 8);
            ring = Ring.open(config).name(name);
            eventFd = Libc.eventfd(0, EFD_CLOEXEC);
            if (eventFd < 0) {
                ring.close();
                throw new ErrnoException(-eventFd, "eventfd", name);
            }
        } catch (RuntimeException | Error e) {
            if (arena != null) {
                arena.close();
            }
            terminated.complete(null);
            started.completeExceptionally(e);
            return;
        }
        started.complete(null);
        try {
            armWake();
            loop();
            drain();
        } catch (Throwable t) {
            LOG.error("{}: reactor loop died", name, t);
        } finally {
            shutdownResources();
            terminated.complete(null);
        }
    }

    private void pin(int c) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment mask = a.allocate(128, 8); // cpu_set_t: 1024 bits
            mask.set(JAVA_LONG, 8L * (c / 64), 1L << (c % 64));
            int r = Libc.schedSetaffinity(0, mask);
            ErrnoException.check(r, "sched_setaffinity(cpu " + c + ")", name);
        }
    }

    private void armWake() {
        Sqe s = ring.acquire(onWake, 0);
        if (s != null) {
            // A blocking eventfd: io_uring polls it instead of failing with EAGAIN.
            s.read(eventFd, eventBuf.address(), 8, -1);
        } else {
            LOG.error("{}: no slot to arm the wake-up read", name);
        }
    }

    private void wakeCompleted(int res) {
        // Clear before re-arming: a poster that sees 0 writes again and the new read sees it.
        WAKE_PENDING.setVolatile(this, 0);
        if (!closing) {
            if (res < 0 && res != -Errno.ECANCELED) {
                LOG.warn("{}: wake-up read failed: {}", name, Errno.name(-res));
            }
            armWake();
        }
    }

    private int runTasks() {
        int n = 0;
        Runnable t;
        while (n < TASK_BUDGET && (t = tasks.poll()) != null) {
            n++;
            try {
                t.run();
            } catch (Throwable e) {
                LOG.error("{}: task {} failed", name, t, e);
            }
        }
        return n;
    }

    private void loop() {
        Ring r = ring;
        while (!closing) {
            loops++;
            runTasks();
            r.reap();
            hookDeadline = Long.MAX_VALUE; // hooks that still need one set it again
            boolean hooksBusy = runHooks(false);
            if (closing) {
                break;
            }
            if (hooksBusy || !tasks.isEmpty()) {
                int s = r.submit();
                if (s < 0 && s != -Errno.EINTR) {
                    backoff(s);
                }
                continue;
            }
            if (spinNanos > 0 && spin(r)) {
                continue;
            }
            if (runHooks(true)) {
                continue;
            }
            // Announce sleep, then look again: a task posted before this store is seen below,
            // one posted after it sees sleeping == 1 and writes the eventfd.
            SLEEPING.setVolatile(this, 1);
            if (!tasks.isEmpty()) {
                SLEEPING.setOpaque(this, 0);
                continue;
            }
            sleeps++;
            boolean adapt = spinMaxNanos > spinNanos && spinNanos > 0;
            long slept = adapt ? System.nanoTime() : 0;
            int s = r.submitAndWait(1);
            SLEEPING.setOpaque(this, 0);
            if (adapt) {
                adaptSpin(System.nanoTime() - slept);
            }
            if (s < 0 && s != -Errno.EINTR && s != -Errno.ETIME) {
                backoff(s);
            }
        }
    }

    private void adaptSpin(long sleptNanos) {
        long w = busyPollWindowNanos();
        spinWindow = sleptNanos < spinMaxNanos ? Math.min(2 * w, spinMaxNanos) : Math.max(w / 2, spinNanos);
    }

    /**
     * Submits what is queued, then watches the CQ, the kernel's task-run flag and the task queue
     * for up to the busy-poll window: true as soon as one has work. Waking a sleeping thread costs a
     * context switch and, on an idle (virtual) CPU, a halt exit; a peer that answers within
     * microseconds is served without either.
     */
    private boolean spin(Ring r) {
        int s = r.submit();
        if (s < 0 && s != -Errno.EINTR) {
            backoff(s);
        }
        long deadline = System.nanoTime() + busyPollWindowNanos();
        int clockMask = hookDeadline != Long.MAX_VALUE ? 7 : 63;
        int i = 0;
        while (!closing) {
            if (r.completionsPending()) {
                // Runs deferred task work (GETEVENTS), so the reap that follows sees its CQEs.
                s = r.submit();
                if (s < 0 && s != -Errno.EINTR) {
                    backoff(s);
                }
                return true;
            }
            if (!tasks.isEmpty()) {
                return true;
            }
            Thread.onSpinWait();
            // The clock is read every 64 turns (8 with a hook deadline): cheap next to the loads above.
            if ((++i & clockMask) == 0) {
                long now = System.nanoTime();
                if (hookDeadline != Long.MAX_VALUE && now - hookDeadline >= 0) {
                    hookDeadline = Long.MAX_VALUE;
                    return true;
                }
                if (now - deadline >= 0) {
                    return false;
                }
            }
        }
        return true;
    }

    private void backoff(int err) {
        if (err == -Errno.EBUSY || err == -Errno.EAGAIN) {
            ring.reap(); // the kernel wants completions consumed before it takes more submissions
            return;
        }
        LOG.error("{}: io_uring_enter failed: {}", name, Errno.name(-err));
    }

    /** Cancels everything in flight and waits until each operation's final completion arrived. */
    private void drain() {
        Ring r = ring;
        runTasks();
        long deadline = System.nanoTime() + DRAIN_TIMEOUT_NANOS;
        int[] cancels = new int[1];
        Completion cancelDone = (res, flags, cookie) -> cancels[0]--;
        while (true) {
            r.reap();
            // Hooks may hold deferred completions of cancelled work: let them finish it.
            runHooks(false);
            runHooks(true);
            if (r.inFlight() == 0) {
                break;
            }
            // One ANY|ALL cancel at a time; another once it completed and something is still in
            // flight (a handler submitted again, or an operation was past the point of cancelling).
            if (cancels[0] == 0) {
                Sqe s = r.acquire(cancelDone, 0);
                if (s != null) {
                    s.cancel(0, IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL);
                    cancels[0]++;
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                LOG.error("{}: {} operations still in flight after {} s; closing the ring anyway", name, r.inFlight(),
                        TimeUnit.NANOSECONDS.toSeconds(DRAIN_TIMEOUT_NANOS));
                break;
            }
            r.submitAndWait(1, Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)));
            runTasks();
        }
    }

    private void shutdownResources() {
        if (ring != null) {
            ring.close();
        }
        if (eventFd >= 0) {
            Libc.close(eventFd);
        }
        if (arena != null) {
            arena.close();
        }
        // Tasks posted after the drain never run; they are dropped with a note.
        int dropped = 0;
        while (tasks.poll() != null) {
            dropped++;
        }
        if (dropped > 0) {
            LOG.warn("{}: {} tasks posted during shutdown were dropped", name, dropped);
        }
    }

    /**
     * Stops the reactor: cancels and drains in-flight operations, closes its ring and eventfd
     * and waits for the thread to end (unless called on the reactor itself).
     */
    @Override
    public void close() {
        if (!terminated.isDone()) {
            closing = true;
            if (!isInReactor()) {
                // Wake it from its wait; its loop notices closing.
                if (WAKE_PENDING.compareAndSet(this, 0, 1)) {
                    wake();
                }
            }
        }
        if (!isInReactor()) {
            terminated.join();
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Completes when the thread has released everything. */
    public CompletableFuture<Void> terminated() {
        return terminated;
    }

    @Override
    public String toString() {
        return name + (cpu >= 0 ? "@cpu" + cpu : "");
    }
}
