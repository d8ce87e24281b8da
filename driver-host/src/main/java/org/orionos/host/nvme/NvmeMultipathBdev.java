package org.orionos.host.nvme;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.stream.Stream;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.bindings.Libc;
import org.orionos.host.bdev.BdevCallback;
import org.orionos.host.bdev.BdevRequest;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.IoContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.orionos.bindings.uapi.FcntlH.O_CLOEXEC;
import static org.orionos.bindings.uapi.FcntlH.O_RDONLY;
import static org.orionos.bindings.uapi.NvmeIoctlH.NVME_IOCTL_ID;

/**
 * One NVMe namespace reached through several controllers of its subsystem (each path a
 * /dev/ngXnY of one controller, the kernel's own multipath off: nvme_core.multipath=N), as one
 * {@link BlockDevice}. All paths must show the same subsystem NQN and namespace id: that pair, not
 * a node name, is the namespace's identity.
 *
 * <p>Each request goes down one usable path chosen by the policy. A request that fails with a
 * path error (the controller is gone or being reset: ENODEV, ENXIO, ENOTCONN, EINTR, ECANCELED,
 * ETIMEDOUT, EBADF...) marks that path failed and is re-driven on another path. EIO is ambiguous
 * (a lost controller or a media error): the request is retried on a path that has not failed it;
 * if another path then serves it, the first path is failed, and if every path says EIO the error
 * is the data's and goes up. When no path is usable, requests wait on their reactor (not failed)
 * for up to {@link #NO_PATH_WAIT_NANOS}.
 *
 * <p>Failback: a prober thread looks every {@value #PROBE_MILLIS} ms for a namespace node of the
 * same subsystem NQN and namespace id for each failed path: its old node if it exists again,
 * otherwise any /dev/ngXnY no other path holds (a controller that returns after a PCI rescan gets
 * a new instance number, so a new node name). The fresh device takes the path's place under a new
 * generation number, so a late error from the replaced device cannot fail the new one; the
 * replaced device is retired (its registered file slots and descriptor released once its last
 * command completes). The prober also fails a path whose node disappeared before any I/O noticed.
 *
 * <p>Policies: {@code round-robin}; {@code least-queue-depth} (fewest requests in flight on this
 * reactor); {@code priority} (the first usable path in configuration order).
 */
public final class NvmeMultipathBdev extends BlockDevice implements BdevCallback {
    private static final Logger LOG = LoggerFactory.getLogger(NvmeMultipathBdev.class);
    /** How long a request waits for any path to become usable before it fails with ENODEV. */
    public static final long NO_PATH_WAIT_NANOS = TimeUnit.SECONDS.toNanos(30);
    static final int PROBE_MILLIS = 200;
    private static final int MAX_PATHS = 16;

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

    private final String subsysNqn;
    private final int nsid;
    private final AtomicReferenceArray<Path> nodes;
    private final AtomicReferenceArray<NvmeNamespaceBdev> paths;
    /**
     * Per path: generation (bits 1..31) and usable bit (bit 0), in one int so a reactor's
     * "fail path p if it is still generation g" is a single compare-and-set against the prober's swap.
     */
    private final AtomicIntegerArray state;
    private final AtomicLongArray served;
    private final AtomicLongArray failovers;
    private final AtomicLongArray failbacks;
    private final Policy policy;
    private final ScheduledExecutorService prober;
    private final List<IoContext> contexts = new ArrayList<>();
    /** Devices replaced on failback; each closes itself once drained, and here again on close. */
    private final List<NvmeNamespaceBdev> retired = new ArrayList<>();

    /** Per-reactor: requests in flight per path, the round-robin cursor, requests waiting for a path. */
    private static final class Channel {
        final IoContext context;
        final int[] inFlight;
        final ArrayDeque<BdevRequest> waiting = new ArrayDeque<>(64);
        int next;

        Channel(IoContext context, int n) {
            this.context = context;
            this.inFlight = new int[n];
        }
    }

    private NvmeMultipathBdev(String name, String nqn, NvmeNamespaceBdev[] opened, Policy policy, int caps,
                              long maxTransfer) {
        super(name, opened[0].blockSize(), opened[0].blockCount(), caps, 0, maxTransfer);
        this.subsysNqn = nqn;
        this.nsid = opened[0].nsid();
        int n = opened.length;
        this.nodes = new AtomicReferenceArray<>(n);
        this.paths = new AtomicReferenceArray<>(opened);
        this.state = new AtomicIntegerArray(n);
        this.served = new AtomicLongArray(n);
        this.failovers = new AtomicLongArray(n);
        this.failbacks = new AtomicLongArray(n);
        for (int i = 0; i < n; i++) {
            nodes.set(i, opened[i].path());
            state.set(i, 1); // generation 0, usable
        }
        this.policy = policy;
        this.prober = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "orion-nvme-mpath-" + name);
            t.setDaemon(true);
            return t;
        });
        prober.scheduleWithFixedDelay(this::probe, PROBE_MILLIS, PROBE_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Opens every path; they must be one namespace: same subsystem NQN, namespace id and geometry. */
    public static NvmeMultipathBdev open(String name, List<Path> nodes, Policy policy) {
        if (nodes.size() < 2 || nodes.size() > MAX_PATHS) {
            throw ErrnoException.withMessage(Errno.EINVAL, "open", name, "nvme " + name + ": multipath takes 2 to "
                    + MAX_PATHS + " paths, got " + nodes.size() + "; give one path with `path` instead");
        }
        NvmeNamespaceBdev[] opened = new NvmeNamespaceBdev[nodes.size()];
        String nqn = null;
        try {
            for (int i = 0; i < opened.length; i++) {
                opened[i] = NvmeNamespaceBdev.open(name + ".path" + i, nodes.get(i));
                String q = subsysNqn(opened[i].path());
                if (i == 0) {
                    nqn = q;
                } else if (!nqn.equals(q) || opened[i].nsid() != opened[0].nsid()
                        || opened[i].blockSize() != opened[0].blockSize()
                        || opened[i].blockCount() != opened[0].blockCount()) {
                    throw ErrnoException.withMessage(Errno.EINVAL, "open", name, "nvme " + name + ": " + nodes.get(i)
                            + " (subsystem " + q + ", nsid " + opened[i].nsid() + ", " + opened[i].blockCount() + "x"
                            + opened[i].blockSize() + ") is not the namespace " + nodes.get(0) + " reaches (subsystem "
                            + nqn + ", nsid " + opened[0].nsid() + ", " + opened[0].blockCount() + "x"
                            + opened[0].blockSize() + "); all paths must be one namespace of one subsystem");
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
        return new NvmeMultipathBdev(name, nqn, opened, policy, caps, max);
    }

    /** The subsystem NQN of the controller behind namespace node {@code node}, from sysfs. */
    static String subsysNqn(Path node) {
        Path ctrl = NvmeController.controllerOf(node);
        Path p = Path.of("/sys/class/nvme", ctrl.getFileName().toString(), "subsysnqn");
        try {
            return Files.readString(p).strip();
        } catch (IOException e) {
            throw ErrnoException.withMessage(Errno.ENODEV, "multipath", node.toString(), "cannot read " + p
                    + " for " + node + ": " + e.getMessage());
        }
    }

    public int pathCount() {
        return paths.length();
    }

    public boolean isUp(int path) {
        return (state.get(path) & 1) == 1;
    }

    /** The namespace node path {@code path} uses now (it changes when a controller returns under a new name). */
    public Path node(int path) {
        return nodes.get(path);
    }

    /** Requests completed successfully through {@code path}. */
    public long served(int path) {
        return served.get(path);
    }

    /** Times {@code path} was failed (its requests re-driven elsewhere). */
    public long failovers(int path) {
        return failovers.get(path);
    }

    /** Times {@code path} was found again and put back into service. */
    public long failbacks(int path) {
        return failbacks.get(path);
    }

    public Policy policy() {
        return policy;
    }

    public String subsystemNqn() {
        return subsysNqn;
    }

    public int nsid() {
        return nsid;
    }

    @Override
    protected Object createChannel(IoContext context) {
        synchronized (contexts) {
            contexts.add(context);
        }
        return new Channel(context, paths.length());
    }

    @Override
    protected void doSubmit(BdevRequest r) {
        route((Channel) channel(r.context()), r, 0, 0);
    }

    /** Sends {@code r} down a usable path not in {@code avoid}; waits for a path when none is usable. */
    private void route(Channel ch, BdevRequest r, int attempt, int avoid) {
        int p = choose(ch, avoid);
        if (p < 0 && avoid != 0) {
            p = choose(ch, 0);
        }
        if (p < 0) {
            r.backendLong = System.nanoTime(); // waiting since
            ch.waiting.addLast(r);
            return;
        }
        int st = state.get(p);
        // Cookie: path | attempt << 8 | paths that answered EIO << 16 | the path's generation << 32.
        long cookie = p | (long) attempt << 8 | (long) avoid << 16 | (long) (st >>> 1) << 32;
        BdevRequest down = r.context().forward(r, this);
        down.callback(this, cookie);
        ch.inFlight[p]++;
        paths.get(p).submit(down);
    }

    /** A usable path by policy, skipping those whose bit is set in {@code avoid}; -1 when none. */
    private int choose(Channel ch, int avoid) {
        int n = paths.length();
        switch (policy) {
            case PRIORITY -> {
                for (int i = 0; i < n; i++) {
                    if ((avoid & 1 << i) == 0 && isUp(i)) {
                        return i;
                    }
                }
            }
            case LEAST_QUEUE_DEPTH -> {
                int best = -1;
                for (int i = 0; i < n; i++) {
                    if ((avoid & 1 << i) == 0 && isUp(i) && (best < 0 || ch.inFlight[i] < ch.inFlight[best])) {
                        best = i;
                    }
                }
                return best;
            }
            default -> {
                for (int k = 0; k < n; k++) {
                    int i = (ch.next + k) % n;
                    if ((avoid & 1 << i) == 0 && isUp(i)) {
                        ch.next = (i + 1) % n;
                        return i;
                    }
                }
            }
        }
        return -1;
    }

    @Override
    public void onComplete(BdevRequest down, int status) {
        BdevRequest upReq = down.forwardedFor();
        long cookie = down.cookie();
        down.release();
        int p = (int) (cookie & 0xff);
        int attempt = (int) (cookie >>> 8 & 0xff);
        int eioPaths = (int) (cookie >>> 16 & 0xffff);
        int generation = (int) (cookie >>> 32);
        Channel ch = (Channel) channel(upReq.context());
        ch.inFlight[p]--;
        if (status == 0) {
            served.incrementAndGet(p);
            // Another path failed this very request with EIO while this one served it: that path is bad.
            for (int m = eioPaths; m != 0; m &= m - 1) {
                int q = Integer.numberOfTrailingZeros(m);
                failPath(q, state.get(q) >>> 1, "answered EIO for a request path " + p + " served");
            }
            upReq.complete(0);
        } else if (status == -Errno.EIO && attempt < 2 * paths.length()) {
            int tried = eioPaths | 1 << p;
            if (choose(ch, tried) >= 0) {
                route(ch, upReq, attempt + 1, tried);
            } else {
                upReq.complete(status); // every usable path says EIO: the data's error, not a path's
            }
        } else if (isPathError(status) && attempt < 2 * paths.length()) {
            failPath(p, generation, "failed with " + Errno.name(status));
            route(ch, upReq, attempt + 1, eioPaths & ~(1 << p));
        } else {
            upReq.complete(status);
        }
        if (!ch.waiting.isEmpty()) {
            drainWaiting(ch);
        }
    }

    /** Marks path {@code p} unusable if it still is generation {@code generation} (not already replaced). */
    private void failPath(int p, int generation, String why) {
        if (state.compareAndSet(p, generation << 1 | 1, generation << 1)) {
            failovers.incrementAndGet(p);
            LOG.warn("{}: path {} ({}) {}; failing over", name(), p, nodes.get(p), why);
        }
    }

    /** Errors that say "this path", not "this data": the kernel's completions for a lost or resetting controller. */
    private static boolean isPathError(int status) {
        return status == -Errno.ENODEV || status == -Errno.ENXIO || status == -Errno.ENOTCONN
                || status == -Errno.EINTR || status == -Errno.EAGAIN || status == -Errno.ETIMEDOUT
                || status == -Errno.ECONNRESET || status == -Errno.EBADF || status == -Errno.EBADFD
                || status == -Errno.ECANCELED;
    }

    /** Re-routes waiting requests while a path is usable; fails those that waited too long. */
    private void drainWaiting(Channel ch) {
        long now = System.nanoTime();
        for (int n = ch.waiting.size(); n > 0; n--) {
            BdevRequest r = ch.waiting.pollFirst();
            if (choose(ch, 0) >= 0) {
                route(ch, r, 0, 0);
            } else if (now - r.backendLong > NO_PATH_WAIT_NANOS) {
                LOG.warn("{}: no usable path for {} ms; failing {}", name(),
                        TimeUnit.NANOSECONDS.toMillis(NO_PATH_WAIT_NANOS), r);
                r.complete(-Errno.ENODEV);
            } else {
                ch.waiting.addLast(r);
            }
        }
    }

    /** Prober: fails paths whose node vanished, finds failed paths again, wakes waiting requests. */
    private void probe() {
        try {
            for (int i = 0; i < paths.length(); i++) {
                int st = state.get(i);
                if ((st & 1) == 1) {
                    if (!Files.exists(nodes.get(i))) {
                        failPath(i, st >>> 1, "disappeared");
                    }
                    continue;
                }
                Path node = findNode(i);
                if (node != null) {
                    failback(i, st, node);
                }
            }
            List<IoContext> ctxs;
            synchronized (contexts) {
                ctxs = List.copyOf(contexts);
            }
            for (IoContext c : ctxs) {
                c.reactor().execute(() -> {
                    Channel ch = (Channel) channel(c);
                    if (!ch.waiting.isEmpty()) {
                        drainWaiting(ch);
                    }
                });
            }
        } catch (RuntimeException e) {
            LOG.warn("{}: path prober: {}", name(), e.toString());
        }
    }

    /** Opens {@code node} as path {@code i} and swaps it in under the next generation. */
    private void failback(int i, int st, Path node) {
        NvmeNamespaceBdev fresh;
        try {
            fresh = NvmeNamespaceBdev.open(name() + ".path" + i, node);
        } catch (RuntimeException e) {
            LOG.debug("{}: path {}: {} not usable yet: {}", name(), i, node, e.getMessage());
            return;
        }
        if (fresh.blockCount() != blockCount() || fresh.blockSize() != blockSize() || fresh.nsid() != nsid) {
            LOG.warn("{}: {} has subsystem {} nsid {} but shows {}x{} bytes, not {}x{}; not using it", name(), node,
                    subsysNqn, fresh.nsid(), fresh.blockCount(), fresh.blockSize(), blockCount(), blockSize());
            fresh.close();
            return;
        }
        NvmeNamespaceBdev old = paths.getAndSet(i, fresh);
        nodes.set(i, node);
        // The new generation is published after the device: a reactor that sees the path usable sees the fresh device.
        state.set(i, ((st >>> 1) + 1) << 1 | 1);
        failbacks.incrementAndGet(i);
        LOG.info("{}: path {} is back as {} (subsystem {}, nsid {}); failing back", name(), i, node, subsysNqn, nsid);
        synchronized (retired) {
            retired.add(old);
        }
        old.retire();
    }

    /**
     * A namespace node of this subsystem and namespace id for failed path {@code i}: its own node
     * if present again, else one that no other path uses; null when there is none.
     */
    private Path findNode(int i) {
        Path own = nodes.get(i);
        if (Files.exists(own) && isOurs(own)) {
            return own;
        }
        List<Path> candidates;
        try (Stream<Path> s = Files.list(Path.of("/sys/class/nvme-generic"))) {
            candidates = s.map(p -> Path.of("/dev", p.getFileName().toString())).sorted().toList();
        } catch (IOException e) {
            return null;
        }
        for (Path c : candidates) {
            boolean taken = false;
            for (int j = 0; j < paths.length(); j++) {
                taken |= j != i && nodes.get(j).equals(c);
            }
            if (!taken && Files.exists(c) && isOurs(c)) {
                return c;
            }
        }
        return null;
    }

    /** Whether {@code node} is namespace {@link #nsid} of a controller in subsystem {@link #subsysNqn}. */
    private boolean isOurs(Path node) {
        try {
            if (!subsysNqn.equals(subsysNqn(node))) {
                return false;
            }
        } catch (RuntimeException e) {
            return false;
        }
        int fd = Libc.open(node.toString(), O_RDONLY | O_CLOEXEC, 0);
        if (fd < 0) {
            return false;
        }
        try {
            return Libc.ioctl(fd, NVME_IOCTL_ID, 0L) == nsid;
        } finally {
            Libc.close(fd);
        }
    }

    @Override
    public void close() {
        prober.shutdownNow();
        try {
            prober.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (int i = 0; i < paths.length(); i++) {
            paths.get(i).close();
        }
        synchronized (retired) {
            retired.forEach(NvmeNamespaceBdev::close);
            retired.clear();
        }
    }
}
