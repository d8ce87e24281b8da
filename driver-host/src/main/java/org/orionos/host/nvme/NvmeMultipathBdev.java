package org.orionos.host.nvme;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.bdev.BdevCallback;
import org.orionos.host.bdev.BdevRequest;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.IoContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One NVMe namespace reached through several controllers of its subsystem (each path a
 * /dev/ngXnY of one controller, the kernel's own multipath off: nvme_core.multipath=N), as one
 * {@link BlockDevice}. Each request goes down one path chosen by the policy; a request that fails
 * with a path-class error (device gone, transport/path status, I/O error while the controller is
 * being torn down) marks that path failed and is re-driven on the next usable path, so the layer
 * above sees no error as long as one path works. A prober thread re-opens failed paths whose node
 * is back (after a controller reset or PCI rescan) and returns them to service: failback.
 *
 * <p>Policies: {@code round-robin}; {@code least-queue-depth} (fewest requests in flight on this
 * reactor); {@code priority} (the first usable path in configuration order).
 */
public final class NvmeMultipathBdev extends BlockDevice implements BdevCallback {
    private static final Logger LOG = LoggerFactory.getLogger(NvmeMultipathBdev.class);

    /** How requests are spread over the usable paths. */
    public enum Policy {
        ROUND_ROBIN, LEAST_QUEUE_DEPTH, PRIORITY;

        /** From the config spelling: round-robin, least-queue-depth, priority. */
        public static Policy parse(String s) {
            return switch (s) {
                case "round-robin" -> ROUND_ROBIN;
                case "least-queue-depth" -> LEAST_QUEUE_DEPTH;
                case "priority" -> PRIORITY;
                default -> throw new IllegalArgumentException("policy must be round-robin, least-queue-depth or priority, got "
                        + s);
            };
        }
    }

    private final Path[] nodes;
    private final AtomicReferenceArray<NvmeNamespaceBdev> paths;
    /** 1 = usable. Written by reactors (failover) and the prober (failback). */
    private final AtomicIntegerArray up;
    private final AtomicLongArray served;
    private final AtomicLongArray failovers;
    private final Policy policy;
    private final ScheduledExecutorService prober;
    private final List<NvmeNamespaceBdev> retired = new ArrayList<>();

    /** Per-reactor: requests in flight per path and the round-robin cursor. */
    private static final class Channel {
        final int[] inFlight;
        int next;

        Channel(int n) {
            inFlight = new int[n];
        }
    }

    private NvmeMultipathBdev(String name, Path[] nodes, NvmeNamespaceBdev[] opened, Policy policy, int caps,
                              long maxTransfer) {
        super(name, opened[0].blockSize(), opened[0].blockCount(), caps, 0, maxTransfer);
        this.nodes = nodes;
        this.paths = new AtomicReferenceArray<>(opened);
        this.up = new AtomicIntegerArray(nodes.length);
        this.served = new AtomicLongArray(nodes.length);
        this.failovers = new AtomicLongArray(nodes.length);
        for (int i = 0; i < nodes.length; i++) {
            up.set(i, 1);
        }
        this.policy = policy;
        this.prober = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "orion-nvme-mpath-" + name);
            t.setDaemon(true);
            return t;
        });
        prober.scheduleWithFixedDelay(this::probe, 500, 500, TimeUnit.MILLISECONDS);
    }

    /** Opens every path; they must show the same namespace geometry. */
    public static NvmeMultipathBdev open(String name, List<Path> nodes, Policy policy) {
        if (nodes.size() < 2) {
            throw ErrnoException.withMessage(Errno.EINVAL, "open", name, "nvme " + name
                    + ": multipath needs at least two paths; give one path with `path` instead");
        }
        NvmeNamespaceBdev[] opened = new NvmeNamespaceBdev[nodes.size()];
        try {
            for (int i = 0; i < opened.length; i++) {
                opened[i] = NvmeNamespaceBdev.open(name + ".path" + i, nodes.get(i));
                if (i > 0 && (opened[i].blockSize() != opened[0].blockSize()
                        || opened[i].blockCount() != opened[0].blockCount())) {
                    throw ErrnoException.withMessage(Errno.EINVAL, "open", name, "nvme " + name + ": " + nodes.get(i)
                            + " is not the same namespace as " + nodes.get(0) + " (" + opened[i].blockCount() + "x"
                            + opened[i].blockSize() + " vs " + opened[0].blockCount() + "x" + opened[0].blockSize() + ")");
                }
            }
        } catch (RuntimeException e) {
            for (NvmeNamespaceBdev b : opened) {
                if (b != null) {
                    b.close();
                }
            }
            throw e;
        }
        int caps = opened[0].capabilities();
        long max = opened[0].maxTransfer();
        for (NvmeNamespaceBdev b : opened) {
            caps &= b.capabilities();
            max = Math.min(max, b.maxTransfer());
        }
        return new NvmeMultipathBdev(name, nodes.toArray(Path[]::new), opened, policy, caps, max);
    }

    public int pathCount() {
        return nodes.length;
    }

    public boolean isUp(int path) {
        return up.get(path) == 1;
    }

    /** Requests completed successfully through {@code path}. */
    public long served(int path) {
        return served.get(path);
    }

    /** Times {@code path} was failed and its request re-driven elsewhere. */
    public long failovers(int path) {
        return failovers.get(path);
    }

    public Policy policy() {
        return policy;
    }

    @Override
    protected Object createChannel(IoContext context) {
        return new Channel(nodes.length);
    }

    @Override
    protected void doSubmit(BdevRequest r) {
        Channel ch = (Channel) channel(r.context());
        int p = choose(ch, -1);
        if (p < 0) {
            r.completeDeferred(-Errno.ENODEV); // every path is down
            return;
        }
        send(ch, r, p, 0);
    }

    /** A usable path by policy, skipping {@code avoid}; -1 when none. */
    private int choose(Channel ch, int avoid) {
        int n = nodes.length;
        switch (policy) {
            case PRIORITY -> {
                for (int i = 0; i < n; i++) {
                    if (i != avoid && up.get(i) == 1) {
                        return i;
                    }
                }
            }
            case LEAST_QUEUE_DEPTH -> {
                int best = -1;
                for (int i = 0; i < n; i++) {
                    if (i != avoid && up.get(i) == 1 && (best < 0 || ch.inFlight[i] < ch.inFlight[best])) {
                        best = i;
                    }
                }
                return best;
            }
            default -> {
                for (int k = 0; k < n; k++) {
                    int i = (ch.next + k) % n;
                    if (i != avoid && up.get(i) == 1) {
                        ch.next = (i + 1) % n;
                        return i;
                    }
                }
            }
        }
        return -1;
    }

    /** Sends {@code up}'s work down path {@code p}; cookie packs the path and the attempt number. */
    private void send(Channel ch, BdevRequest upReq, int p, int attempt) {
        BdevRequest down = upReq.context().forward(upReq, this);
        down.callback(this, (long) attempt << 16 | p);
        ch.inFlight[p]++;
        paths.get(p).submit(down);
    }

    @Override
    public void onComplete(BdevRequest down, int status) {
        BdevRequest upReq = down.forwardedFor();
        int p = (int) (down.cookie() & 0xffff);
        int attempt = (int) (down.cookie() >>> 16);
        down.release();
        Channel ch = (Channel) channel(upReq.context());
        ch.inFlight[p]--;
        if (status == 0) {
            served.incrementAndGet(p);
            upReq.complete(0);
            return;
        }
        if (isPathError(status) && attempt < 2 * nodes.length) {
            if (up.compareAndSet(p, 1, 0)) {
                failovers.incrementAndGet(p);
                LOG.warn("{}: path {} ({}) failed with {}; failing over", name(), p, nodes[p], Errno.name(status));
            }
            int q = choose(ch, p);
            if (q < 0) {
                q = choose(ch, -1);
            }
            if (q >= 0) {
                send(ch, upReq, q, attempt + 1);
                return;
            }
            // No usable path now: wait for the prober rather than failing the I/O.
            final int a = attempt + 1;
            upReq.context().reactor().execute(() -> retryLater(upReq, a, System.nanoTime()));
            return;
        }
        upReq.complete(status);
    }

    /** Re-drives a request once a path is back, for up to 10 s (queue_if_no_path with a limit). */
    private void retryLater(BdevRequest upReq, int attempt, long since) {
        Channel ch = (Channel) channel(upReq.context());
        int q = choose(ch, -1);
        if (q >= 0) {
            send(ch, upReq, q, 0);
        } else if (System.nanoTime() - since > TimeUnit.SECONDS.toNanos(10)) {
            upReq.complete(-Errno.ENODEV);
        } else {
            upReq.context().reactor().execute(() -> retryLater(upReq, attempt, since));
        }
    }

    /** Errors that say "this path", not "this data": the kernel's path-class completions. */
    private static boolean isPathError(int status) {
        return status == -Errno.ENODEV || status == -Errno.ENXIO || status == -Errno.ENOTCONN
                || status == -Errno.EIO || status == -Errno.EINTR || status == -Errno.EAGAIN
                || status == -Errno.ETIMEDOUT || status == -Errno.ECONNRESET || status == -Errno.EBADF
                || status == -Errno.EBADFD || status == -125; // ECANCELED
    }

    /** Prober: re-opens failed paths whose node is back and puts them in service again. */
    private void probe() {
        for (int i = 0; i < nodes.length; i++) {
            if (up.get(i) == 1 || !Files.exists(nodes[i])) {
                continue;
            }
            try {
                NvmeNamespaceBdev fresh = NvmeNamespaceBdev.open(name() + ".path" + i, nodes[i]);
                if (fresh.blockCount() != blockCount() || fresh.blockSize() != blockSize()) {
                    fresh.close();
                    continue;
                }
                NvmeNamespaceBdev old = paths.getAndSet(i, fresh);
                synchronized (retired) {
                    retired.add(old); // its fd may still be named by a late completion: closed with the device
                }
                up.set(i, 1);
                LOG.info("{}: path {} ({}) is back; failing back", name(), i, nodes[i]);
            } catch (RuntimeException e) {
                LOG.debug("{}: path {} still down: {}", name(), i, e.getMessage());
            }
        }
    }

    @Override
    public void close() {
        prober.shutdownNow();
        for (int i = 0; i < nodes.length; i++) {
            paths.get(i).close();
        }
        synchronized (retired) {
            retired.forEach(NvmeNamespaceBdev::close);
            retired.clear();
        }
    }
}
