package org.orionos.host.raid;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

import org.orionos.bindings.Errno;
import org.orionos.host.bdev.BdevCallback;
import org.orionos.host.bdev.BdevOp;
import org.orionos.host.bdev.BdevRequest;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.IoContext;

/**
 * Serves an array's registered device ({@code front}) through other views of its members once its
 * geometry changed or is changing, as md's raid5 does with {@code reshape_progress}:
 *
 * <ul>
 * <li>forwarding: every request goes to {@code next} (after a takeover such as RAID1 to RAID5,
 *     or once a reshape finished while the host runs), from any reactor;</li>
 * <li>reshaping: on one reactor ({@code home}), array bytes below {@code pos} go to {@code next}
 *     (new geometry), bytes at or above the window end to {@code prev} (old geometry); a request
 *     touching the window being moved, or straddling {@code pos}, waits (parked) until the window
 *     has moved past it. FLUSH goes to {@code next}, whose members include every old member.</li>
 * </ul>
 *
 * <p>Closing a window waits for every request admitted before it (counted by epoch: the counter
 * of the previous epoch drains to zero), so the reshape never copies a range a request is still
 * writing. Switching from forwarding to reshaping waits for forwarded requests the same way
 * ({@link #fwdStarted}/{@link #fwdFinished}). Nothing here allocates per request: children come
 * from the reactor's request pool; the parked queue grows once to the queue depth.
 */
final class ReshapeRouter implements BdevCallback {
    /** backendLong of a child forwarded outside reshaping (counted in fwdFinished, not by epoch). */
    private static final long FORWARDED = 2;

    private final IoContext home;
    private volatile RaidBdev prev;
    private volatile RaidBdev next;
    /** Reshaping (home reactor routes by position) rather than forwarding everything to next. */
    private volatile boolean reshaping;
    /** Array bytes below which next holds the data; volatile for status readers. */
    private volatile long pos;
    /** Forwarded children started and finished (any reactor); equal when none is in flight. */
    private final AtomicLong fwdStarted = new AtomicLong();
    private final AtomicLong fwdFinished = new AtomicLong();

    // ---- home reactor only
    /** End of the window being moved ([pos, windowEnd)); equal to pos when no window is closed. */
    private long windowEnd;
    private int epoch;
    private final long[] inflight = new long[2];
    private final ArrayDeque<BdevRequest> parked = new ArrayDeque<>(64);
    private CompletableFuture<Void> drained;
    /** Non-zero once the reshape stopped for good in this run: straddling requests fail with it instead of waiting. */
    private int stopped;
    /** Every request parks (a change of geometry is being set up). */
    private boolean quiesced = true;

    /** A router that parks everything until {@link #reshape} or {@link #release}: installing it quiesces the front. */
    ReshapeRouter(IoContext home) {
        this.home = home;
        this.reshaping = true;
    }

    long position() {
        return pos;
    }

    RaidBdev next() {
        return next;
    }

    IoContext home() {
        return home;
    }

    /** From the front's doSubmit, on the reactor the request came from. */
    void submit(RaidBdev front, BdevRequest r) {
        if (!reshaping) {
            // Counted before the mode is read again (both volatile/atomic): a switch to reshaping that
            // then sees fwdStarted == fwdFinished knows no forwarded request is still in flight.
            fwdStarted.incrementAndGet();
            if (!reshaping) {
                BdevRequest c = r.context().forward(r, this);
                c.backendLong = FORWARDED;
                next.submit(c);
                return;
            }
            fwdFinished.incrementAndGet();
        }
        if (r.context() != home) {
            front.handoff(r, home); // comes back through front.submit on home, then route()
            return;
        }
        route(r);
    }

    /** Home reactor: sends {@code r} to the geometry holding its range, or parks it. */
    private void route(BdevRequest r) {
        if (!reshaping) {
            fwdStarted.incrementAndGet();
            BdevRequest c = home.forward(r, this);
            c.backendLong = FORWARDED;
            next.submit(c);
            return;
        }
        long a = r.offset();
        long b = a + r.length();
        if (quiesced) {
            parked.add(r);
        } else if (r.op() == BdevOp.FLUSH || b <= pos) {
            send(next, r);
        } else if (a >= windowEnd && prev != null) {
            send(prev, r);
        } else if (stopped != 0 && windowEnd == pos) {
            r.completeDeferred(stopped); // straddles a position no reshape will move past in this run
        } else {
            parked.add(r);
        }
    }

    private void send(BlockDevice d, BdevRequest r) {
        int e = epoch & 1;
        inflight[e]++;
        BdevRequest c = home.forward(r, this);
        c.backendLong = e;
        d.submit(c);
    }

    @Override
    public void onComplete(BdevRequest c, int st) {
        BdevRequest up = c.forwardedFor();
        long tag = c.backendLong;
        c.release();
        if (tag == FORWARDED) {
            fwdFinished.incrementAndGet();
        } else {
            // Home reactor: children sent while reshaping complete where they were submitted.
            inflight[(int) tag]--;
            CompletableFuture<Void> d = drained;
            if (d != null && inflight[(epoch - 1) & 1] == 0) {
                drained = null;
                d.complete(null);
            }
        }
        up.complete(st);
    }

    // ------------------------------------------------------------------------------ reshape side (worker thread)

    /** Whether every forwarded request has completed (reshaping must be set first). */
    boolean forwardsIdle() {
        // finished first: a count read before started can only be lower, so equality means none in flight.
        long f = fwdFinished.get();
        return fwdStarted.get() == f;
    }

    /** Stops forwarding: from now on requests go through home; wait for {@link #forwardsIdle()}, then {@link #park()}. */
    void stopForwarding() {
        reshaping = true;
    }

    /** Parks every new request; completes (on home) once every request routed before has completed. */
    CompletableFuture<Void> park() {
        CompletableFuture<Void> f = new CompletableFuture<>();
        home.reactor().execute(() -> {
            quiesced = true;
            epoch++;
            if (inflight[(epoch - 1) & 1] == 0) {
                f.complete(null);
            } else {
                drained = f;
            }
        });
        return f;
    }

    /**
     * Closes the window [pos, end): requests touching it park; completes (on home) when every
     * request admitted before has completed.
     */
    CompletableFuture<Void> closeWindow(long end) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        home.reactor().execute(() -> {
            windowEnd = end;
            epoch++;
            if (inflight[(epoch - 1) & 1] == 0) {
                f.complete(null);
            } else {
                drained = f;
            }
        });
        return f;
    }

    /** Starts (or continues) a reshape at {@code at}: below it {@code newer}, above it {@code older}; parked requests go on. */
    CompletableFuture<Void> reshape(RaidBdev older, RaidBdev newer, long at) {
        return onHome(() -> {
            prev = older;
            next = newer;
            pos = at;
            windowEnd = at;
            stopped = 0;
            quiesced = false;
        });
    }

    /** The window moved: new data below {@code to}; parked requests are routed again. */
    CompletableFuture<Void> advance(long to) {
        return onHome(() -> {
            pos = to;
            windowEnd = to;
        });
    }

    /**
     * The reshape stopped early (an I/O error, or the array closes): requests keep being served
     * where the data is, and those straddling the position (or parked) fail with EIO rather than
     * wait for a window that will not move in this run.
     */
    CompletableFuture<Void> stop() {
        return onHome(() -> {
            windowEnd = pos;
            stopped = -Errno.EIO;
        });
    }

    /** Everything to {@code newer} from now on, from any reactor; parked requests go there too. */
    CompletableFuture<Void> release(RaidBdev newer) {
        return onHome(() -> {
            next = newer;
            prev = null;
            pos = Long.MAX_VALUE;
            windowEnd = Long.MAX_VALUE;
            quiesced = false;
            reshaping = false;
        });
    }

    /** Runs {@code change} on the home reactor, then routes the parked requests again. */
    private CompletableFuture<Void> onHome(Runnable change) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        home.reactor().execute(() -> {
            change.run();
            reroute();
            f.complete(null);
        });
        return f;
    }

    private void reroute() {
        for (int n = parked.size(); n > 0; n--) {
            route(parked.poll());
        }
    }
}
