package org.orionos.host.bdev;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.ToIntFunction;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.bdev.backend.DelayBdev;
import org.orionos.host.bdev.backend.ErrorBdev;
import org.orionos.host.bdev.backend.FileBdev;
import org.orionos.host.bdev.backend.MemoryBdev;
import org.orionos.host.bdev.backend.NullBdev;
import org.orionos.host.config.BdevSpec;
import org.orionos.host.config.LvmSpec;
import org.orionos.host.lvm.LvmActivation;
import org.orionos.host.config.OrionConfig;
import org.orionos.host.config.RaidSpec;
import org.orionos.host.raid.MdArray;
import org.orionos.host.nvme.NvmeMultipathBdev;
import org.orionos.host.nvme.NvmeNamespaceBdev;
import org.orionos.uring.Reactor;
import org.orionos.uring.ReactorGroup;
import org.orionos.uring.RingConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The block-device layer of a running host: the reactors, one {@link IoContext} per reactor, the
 * device registry, and the stack built from a config. {@link #close()} drains in-flight I/O,
 * flushes every device and closes everything.
 */
public final class BdevHost implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BdevHost.class);
    /** Registered buffer region per reactor. */
    public static final long DEFAULT_BUFFER_BYTES = 64L << 20;

    private final ReactorGroup reactors;
    private final IoContext[] contexts;
    private final BdevRegistry registry = new BdevRegistry();
    private final BdevClient client = new BdevClient(this);
    private final List<BlockDevice> buildOrder = new ArrayList<>();
    /** Volume groups and other stacks opened from the config; closed after their devices. */
    private final List<AutoCloseable> stacked = new ArrayList<>();
    private volatile boolean closed;

    private BdevHost(ReactorGroup reactors, IoContext[] contexts) {
        this.reactors = reactors;
        this.contexts = contexts;
    }

    /** Starts {@code n} reactors (one per core when {@code n <= 0}) with an IoContext each. */
    public static BdevHost start(int n, long bufferBytesPerReactor) {
        return start(n, bufferBytesPerReactor, false);
    }

    /**
     * As {@link #start(int, long)}; {@code bigEntries} sets the reactors' rings up with SQE128/CQE32,
     * which NVMe passthrough (URING_CMD) needs. They cost twice the SQ/CQ memory and cache lines
     * for every other operation too, so they are on only when a configured device needs them.
     */
    public static BdevHost start(int n, long bufferBytesPerReactor, boolean bigEntries) {
        int count = n > 0 ? n : Runtime.getRuntime().availableProcessors();
        RingConfig rc = RingConfig.defaults();
        if (bigEntries) {
            rc = rc.withBigEntries(true, true);
        }
        ReactorGroup group = ReactorGroup.start("orion-reactor", count, rc, false);
        IoContext[] ctx = new IoContext[count];
        try {
            for (int i = 0; i < count; i++) {
                Reactor r = group.get(i);
                ctx[i] = r.call(() -> new IoContext(r, bufferBytesPerReactor)).get(30, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            group.close();
            throw new IllegalStateException("cannot start the block-device layer's reactors: " + e.getMessage(), e);
        }
        return new BdevHost(group, ctx);
    }

    public BdevRegistry registry() {
        return registry;
    }

    /**
     * Hot-removes a device while the host runs: claimers are told and new I/O fails with ENODEV
     * ({@link BdevRegistry#remove}); then, once the I/O already in flight to it has completed on
     * every reactor, its per-reactor channels are released and it is closed. A device whose I/O
     * does not drain within {@code timeoutMillis} is left open (closing it could let a late
     * operation reach a reused descriptor) and the call fails with ETIMEDOUT.
     */
    public BlockDevice remove(String name, boolean force, long timeoutMillis) {
        BlockDevice d = registry.remove(name, force);
        String stuck = awaitDrained(ctx -> ctx.inFlight(d), timeoutMillis);
        if (stuck != null) {
            throw ErrnoException.withMessage(Errno.ETIMEDOUT, "remove", name, "block device '" + name
                    + "' was removed but is left open: " + stuck + ". Check the device underneath it; restarting "
                    + "the host releases it");
        }
        for (int i = 0; i < contexts.length; i++) {
            IoContext ctx = contexts[i];
            try {
                reactors.get(i).call(() -> {
                    ctx.dropChannel(d);
                    return null;
                }).get(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw ErrnoException.withMessage(Errno.EINTR, "remove", name, "interrupted while releasing block device '"
                        + name + "': it was removed but is left open; restarting the host releases it");
            } catch (ExecutionException | TimeoutException e) {
                throw ErrnoException.withMessage(Errno.ETIMEDOUT, "remove", name, "reactor " + i + " did not release block "
                        + "device '" + name + "' (" + e + "): it was removed but is left open; restarting the host releases it");
            }
        }
        synchronized (buildOrder) {
            buildOrder.remove(d);
        }
        d.close();
        LOG.info("bdev {}: removed", name);
        return d;
    }

    public int reactorCount() {
        return contexts.length;
    }

    public IoContext context(int i) {
        return contexts[i];
    }

    public ReactorGroup reactors() {
        return reactors;
    }

    /** Creates every device of {@code config}, bases first. On failure, what was built is closed again. */
    public void build(OrionConfig config) {
        List<BlockDevice> made = new ArrayList<>();
        try {
            for (BdevSpec spec : config.bdevs()) {
                BlockDevice d = create(spec);
                registry.add(d);
                made.add(d);
                LOG.info("bdev {}: {}", d.name(), describe(d));
            }
        } catch (RuntimeException e) {
            for (int i = made.size() - 1; i >= 0; i--) {
                BlockDevice d = made.get(i);
                registry.remove(d.name(), true);
                d.close();
            }
            throw e;
        }
        synchronized (buildOrder) {
            buildOrder.addAll(made);
        }
        for (LvmSpec spec : config.lvm()) {
            LvmActivation a = LvmActivation.activate(this, spec);
            synchronized (buildOrder) {
                buildOrder.addAll(a.volumes());
                stacked.add(a);
            }
        }
    }

    /** The VGs the config activated ({@code [[lvm]]}), for the management socket's LVM operations. */
    public List<LvmActivation> lvmActivations() {
        synchronized (buildOrder) {
            return stacked.stream().filter(LvmActivation.class::isInstance).map(LvmActivation.class::cast).toList();
        }
    }

    private BlockDevice create(BdevSpec spec) {
        return switch (spec) {
            case BdevSpec.Memory m -> new MemoryBdev(m.name(), m.size(), m.blockSize());
            case BdevSpec.Null n -> new NullBdev(n.name(), n.size(), n.blockSize());
            case BdevSpec.File f -> FileBdev.open(f.name(), f.path(), f.size(), f.blockSize(), f.direct());
            case BdevSpec.Error e -> new ErrorBdev(e.name(), registry.get(e.base()));
            case BdevSpec.Delay d -> new DelayBdev(d.name(), registry.get(d.base()), d.readLatencyMicros(),
                    d.writeLatencyMicros(), d.flushLatencyMicros());
            case BdevSpec.Nvme v -> NvmeNamespaceBdev.open(v.name(), v.path());
            case RaidSpec r -> MdArray.open(this, r).bdev();
            case BdevSpec.NvmeMultipath m -> NvmeMultipathBdev.open(m.name(), m.paths(),
                    NvmeMultipathBdev.Policy.parse(m.policy()));
        };
    }

    /** One line for people: what the device is, its size, block size and capabilities. */
    public static String describe(BlockDevice d) {
        String what = switch (d) {
            case FileBdev f -> (f.isBlockDevice() ? "block device " : "file ") + f.path()
                    + (f.isDirect() ? " (O_DIRECT)" : " (buffered)");
            case MemoryBdev m -> "memory";
            case NullBdev n -> "null";
            case ErrorBdev e -> "error injection over " + e.base().name();
            case DelayBdev x -> "delay";
            case NvmeMultipathBdev m -> "NVMe namespace over " + m.pathCount() + " paths (" + m.policy() + ")";
            case NvmeNamespaceBdev v -> "NVMe namespace " + v.nsid() + " at " + v.path() + " (io_uring passthrough)";
            default -> d.getClass().getSimpleName();
        };
        return what + ", " + d.sizeBytes() + " bytes, block " + d.blockSize() + ", "
                + Capability.describe(d.capabilities());
    }

    /** Off-hot-path access: futures over single requests; one client per host, so calls spread over the reactors. */
    public BdevClient client() {
        return client;
    }

    /** Drains, flushes and closes devices (top of the stack first), then stops the reactors. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<BlockDevice> order;
        synchronized (buildOrder) {
            order = new ArrayList<>(buildOrder);
        }
        // Pooled requests and direct accesses (which take no request): a closed memory device is unmapped.
        String stuck = awaitDrained(ctx -> Math.max(ctx.outstanding(), ctx.inFlightTotal()), 30_000);
        if (stuck != null) {
            LOG.warn("closing devices although {}", stuck);
        }
        BdevClient c = client();
        for (int i = order.size() - 1; i >= 0; i--) {
            BlockDevice d = order.get(i);
            if (d.has(Capability.FLUSH) && !d.isRemoved()) {
                try {
                    c.flush(d).get(30, TimeUnit.SECONDS);
                } catch (Exception e) {
                    LOG.warn("{}: flush at shutdown failed: {}", d.name(), e.getMessage());
                }
            }
        }
        for (int i = order.size() - 1; i >= 0; i--) {
            BlockDevice d = order.get(i);
            try {
                registry.remove(d.name(), true);
            } catch (ErrnoException e) {
                LOG.debug("{}: already removed", d.name());
            }
            d.close();
        }
        for (int i = stacked.size() - 1; i >= 0; i--) {
            try {
                stacked.get(i).close();
            } catch (Exception e) {
                LOG.warn("closing {} failed: {}", stacked.get(i), e.getMessage());
            }
        }
        for (int i = 0; i < contexts.length; i++) {
            IoContext ctx = contexts[i];
            try {
                reactors.get(i).call(() -> {
                    ctx.close();
                    return null;
                }).get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.warn("reactor {}: closing its I/O context failed: {}", i, e.getMessage());
            }
        }
        reactors.close();
    }

    /**
     * Polls each reactor (management path) until {@code left} is 0 there. Returns null when all
     * drained, else what was still in flight where the deadline passed (a reactor that does not
     * answer counts as stuck).
     */
    private String awaitDrained(ToIntFunction<IoContext> left, long timeoutMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        for (int i = 0; i < contexts.length; i++) {
            IoContext ctx = contexts[i];
            while (true) {
                int n;
                try {
                    n = reactors.get(i).call(() -> left.applyAsInt(ctx)).get(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return "interrupted while waiting for reactor " + i;
                } catch (ExecutionException | TimeoutException e) {
                    return "reactor " + i + " did not answer (" + e + ")";
                }
                if (n == 0) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    return n + " I/Os still in flight on reactor " + i + " after " + timeoutMillis + " ms";
                }
                try {
                    Thread.sleep(2);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return "interrupted while waiting for reactor " + i;
                }
            }
        }
        return null;
    }

    /** Checks a buffer handed to the futures API. */
    static void checkBuffer(MemorySegment buf, long length) {
        if (buf.byteSize() < length) {
            throw ErrnoException.withMessage(Errno.EINVAL, "io", "buffer",
                    "buffer of " + buf.byteSize() + " bytes is smaller than the " + length + " bytes requested");
        }
    }
}
