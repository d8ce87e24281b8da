package org.orionos.host.bdev;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.bindings.uapi.SocketH.Iovec;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A block device: geometry, capabilities, claims, and asynchronous submission of pooled
 * {@link BdevRequest}s. The core (this class) checks every request and splits it at the
 * device's maximum transfer and optimal boundary, once, so backends only see requests that fit.
 *
 * <p>Submission happens on a reactor thread; the request completes on the same reactor. Backends
 * implement {@link #doSubmit}; per-reactor state lives in a channel object from
 * {@link #createChannel}, found through the request's context by device id (an array index).
 */
public abstract class BlockDevice {
    private static final AtomicInteger NEXT_ID = new AtomicInteger();

    private final int id = NEXT_ID.getAndIncrement();
    private final String name;
    private final int blockSize;
    private final int blockShift;
    /** Volatile: a layer may resize while I/O runs; every request is checked against the current size. */
    private volatile long blockCount;
    private final int capabilities;
    private final long optimalBoundary;
    private final long maxTransfer;
    private final List<Claim> claims = new ArrayList<>();
    private volatile boolean removed;

    /**
     * @param optimalBoundary bytes; I/O is split so no request crosses a multiple of it (0: none)
     * @param maxTransfer     bytes; larger reads and writes are split (0: no limit)
     */
    protected BlockDevice(String name, int blockSize, long blockCount, int capabilities, long optimalBoundary,
                          long maxTransfer) {
        if (Integer.bitCount(blockSize) != 1 || blockSize < 512) {
            throw new IllegalArgumentException(name + ": block size must be a power of two >= 512, got " + blockSize);
        }
        if (optimalBoundary % blockSize != 0 || maxTransfer % blockSize != 0) {
            throw new IllegalArgumentException(name + ": boundary and max transfer must be multiples of the block size");
        }
        this.name = name;
        this.blockSize = blockSize;
        this.blockShift = Integer.numberOfTrailingZeros(blockSize);
        this.blockCount = blockCount;
        this.capabilities = capabilities;
        this.optimalBoundary = optimalBoundary;
        this.maxTransfer = maxTransfer;
    }

    public final String name() {
        return name;
    }

    /** Small dense id, the index of this device's channel in each {@link IoContext}. */
    public final int id() {
        return id;
    }

    public final int blockSize() {
        return blockSize;
    }

    public final long blockCount() {
        return blockCount;
    }

    public final long sizeBytes() {
        return blockCount << blockShift;
    }

    public final int capabilities() {
        return capabilities;
    }

    public final boolean has(int capability) {
        return (capabilities & capability) == capability;
    }

    /** Bytes; 0 when the device has no preferred boundary. */
    public final long optimalBoundary() {
        return optimalBoundary;
    }

    /** Bytes; 0 when unlimited. */
    public final long maxTransfer() {
        return maxTransfer;
    }

    public final boolean isRemoved() {
        return removed;
    }

    /** Submits a prepared request. It completes later, on this reactor, through its callback. */
    public final void submit(BdevRequest r) {
        r.device = this;
        r.inFlight = true;
        r.counted = true;
        r.context.deviceStarted(this);
        int err = check(r);
        if (err != 0) {
            r.completeDeferred(err);
            return;
        }
        if (needsSplit(r)) {
            split(r);
            return;
        }
        doSubmit(r);
    }

    /** Serves a request that passed the core's checks and fits the device's limits. */
    protected abstract void doSubmit(BdevRequest r);

    /**
     * Zero-copy access, as SPDK's bdev zcopy: when the device's storage is memory the caller may
     * read or write in place, returns that memory (offsets are device offsets) for a READ or WRITE
     * of {@code [offset, offset + length)} that passes the same checks {@link #submit} makes; else
     * null, and the caller submits a request as usual (which then reports any error).
     *
     * <p>A non-null answer starts one direct access on {@code context}'s reactor (call it there),
     * counted like a request in flight, so a hot removal waits for it before it closes the device.
     * The caller ends it with {@link #directDone} once neither it nor the kernel on its behalf
     * (a RECV into it, a SEND from it) touches the memory any more.
     *
     * <p>Data is read or written when the caller copies it, not at this call: a read and an
     * overlapping write that are in flight together may see each other in part, as on a disk. A
     * WRITE is recorded as allocated here, before its data lands, so allocation status never
     * reports a hole that holds data.
     */
    public final MemorySegment directAccess(IoContext context, int op, long offset, long length) {
        MemorySegment m = directMemory();
        if (m == null || removed || (op != BdevOp.READ && op != BdevOp.WRITE)
                || (capabilities & Capability.requiredFor(op)) != Capability.requiredFor(op)) {
            return null;
        }
        long size = sizeBytes();
        if (offset < 0 || length <= 0 || ((offset | length) & (blockSize - 1)) != 0 || offset > size
                || length > size - offset) {
            return null;
        }
        if (op == BdevOp.WRITE) {
            directWritten(offset, length);
        }
        context.deviceStarted(this);
        return m;
    }

    /** Ends one access {@link #directAccess} started on {@code context} (on its reactor). */
    public final void directDone(IoContext context) {
        context.deviceFinished(this);
    }

    /** The device's storage as memory for {@link #directAccess}, or null (the default: none). */
    protected MemorySegment directMemory() {
        return null;
    }

    /** A direct WRITE of {@code [offset, offset + length)} is about to land (allocation tracking). */
    protected void directWritten(long offset, long length) {
    }

    /**
     * Continues a request that a backend parked with {@link IoContext#waitForRing} because the
     * ring was full. Backends with multi-step requests resume at the step that was refused.
     */
    protected void resume(BdevRequest r) {
        doSubmit(r);
    }

    /**
     * An io_uring completion for request {@code r}, submitted by this device with
     * {@link BdevRequest#ringCompletion}. Runs on the reactor.
     */
    protected void ringCompleted(BdevRequest r, int res, int cqeFlags, long cookie) {
        throw new IllegalStateException(name + " submitted no ring operation for " + r);
    }

    /** Per-reactor state for this device (registered fd, queue pair...); null when none is needed. */
    protected Object createChannel(IoContext context) {
        return null;
    }

    /**
     * Releases what {@link #createChannel} made for {@code context} (a registered file slot...).
     * Runs on that context's reactor after the device was removed and its I/O there drained.
     */
    protected void destroyChannel(IoContext context, Object channel) {
    }

    /** This device's channel on the request's reactor, created on first use there. */
    protected final Object channel(IoContext context) {
        return context.channel(this);
    }

    /** Releases the device's resources. Called once, after I/O has stopped. */
    public void close() {
    }

    private int check(BdevRequest r) {
        if (r.context.thread != Thread.currentThread()) {
            // A request belongs to its reactor's pools and channels; another thread would race them.
            throw new IllegalStateException(name + ": request submitted from " + Thread.currentThread().getName()
                    + " but owned by " + r.context.thread.getName());
        }
        if (removed) {
            return -Errno.ENODEV;
        }
        int op = r.op;
        if ((capabilities & Capability.requiredFor(op)) != Capability.requiredFor(op)) {
            return -Errno.EOPNOTSUPP;
        }
        if ((r.flags & BdevOp.FLAG_FUA) != 0 && (capabilities & Capability.FUA) == 0) {
            return -Errno.EOPNOTSUPP;
        }
        if (op == BdevOp.FLUSH) {
            return 0;
        }
        long off = r.offset;
        long len = r.length;
        if (off < 0 || len <= 0 || ((off | len) & (blockSize - 1)) != 0) {
            return -Errno.EINVAL;
        }
        long size = sizeBytes();
        if (off > size || len > size - off) {
            return op == BdevOp.WRITE || op == BdevOp.WRITE_ZEROES ? -Errno.ENOSPC : -Errno.EINVAL;
        }
        if (op == BdevOp.READ || op == BdevOp.WRITE) {
            MemorySegment b = r.buffer;
            if (b == null) {
                if (r.iov == null || r.iovCount <= 0 || r.iov.byteSize() < (long) r.iovCount * Iovec.SIZE) {
                    return -Errno.EFAULT;
                }
            } else if (!b.isNative() || r.bufferOffset < 0 || b.byteSize() - r.bufferOffset < len) {
                return -Errno.EFAULT;
            }
        }
        return 0;
    }

    private boolean needsSplit(BdevRequest r) {
        int op = r.op;
        if (op == BdevOp.FLUSH || op == BdevOp.BLOCK_STATUS) {
            return false;
        }
        if (maxTransfer > 0 && r.length > maxTransfer && (op == BdevOp.READ || op == BdevOp.WRITE)) {
            return true;
        }
        return optimalBoundary > 0 && (r.offset / optimalBoundary) != ((r.offset + r.length - 1) / optimalBoundary);
    }

    /** Cuts the request into children that each fit, submits them, and completes it when all did. */
    private void split(BdevRequest parent) {
        IoContext ctx = parent.context;
        boolean data = parent.op == BdevOp.READ || parent.op == BdevOp.WRITE;
        long limit = data && maxTransfer > 0 ? maxTransfer : Long.MAX_VALUE;
        long end = parent.offset + parent.length;
        int count = 0;
        for (long pos = parent.offset; pos < end; pos += pieceLength(pos, end, limit)) {
            count++;
        }
        parent.childrenPending = count;
        parent.childrenStatus = 0;
        long pos = parent.offset;
        // Children are submitted in order; the parent cannot complete before the last is submitted,
        // because every child completes through the deferred queue or a later ring completion.
        while (pos < end) {
            long len = pieceLength(pos, end, limit);
            BdevRequest child = ctx.request();
            child.op = parent.op;
            child.offset = pos;
            child.length = len;
            child.flags = parent.flags;
            child.status = 0;
            child.parent = parent;
            child.device = this;
            child.inFlight = true;
            child.callback = null;
            long rel = pos - parent.offset;
            if (parent.buffer != null) {
                child.buffer = parent.buffer;
                child.bufferOffset = parent.bufferOffset + rel;
                child.iov = null;
                child.iovCount = 0;
            } else if (parent.iov != null) {
                child.buffer = null;
                ctx.sliceIov(parent, rel, len, child);
            } else {
                child.buffer = null;
                child.iov = null;
                child.iovCount = 0;
            }
            pos += len;
            doSubmit(child);
        }
    }

    private long pieceLength(long pos, long end, long limit) {
        long len = Math.min(end - pos, limit);
        if (optimalBoundary > 0) {
            long toBoundary = optimalBoundary - (pos % optimalBoundary);
            len = Math.min(len, toBoundary);
        }
        return len;
    }

    // ---------------------------------------------------------------- claims (management path)

    /**
     * Claims this device for a consumer. Many readers may share it; only one writer may hold it.
     *
     * @param owner     who claims, for messages (e.g. {@code "raid md0"}, {@code "nbd export vol0"})
     * @param write     whether the consumer writes
     * @param onRemoval called when the device is hot-removed, so the consumer can fail over or stop
     * @throws ErrnoException EBUSY naming the current writer
     */
    public final Claim claim(String owner, boolean write, Runnable onRemoval) {
        return claim(owner, write, onRemoval, null);
    }

    /**
     * As {@link #claim(String, boolean, Runnable)}, and {@code onResize} is called after the device
     * changed its size ({@link #announceResize}), so a consumer (an NBD export) can tell its peer.
     */
    public final synchronized Claim claim(String owner, boolean write, Runnable onRemoval, Runnable onResize) {
        if (removed) {
            throw new ErrnoException(Errno.ENODEV, "claim by " + owner, name, "the device was removed");
        }
        if (write) {
            for (Claim c : claims) {
                if (c.write()) {
                    throw ErrnoException.withMessage(Errno.EBUSY, "claim", name, "block device '" + name
                            + "' is already claimed for writing by " + c.owner() + "; " + owner
                            + " cannot also write it. Release it first, or claim it read-only.");
                }
            }
        }
        Claim c = new Claim(this, owner, write, onRemoval, onResize);
        claims.add(c);
        return c;
    }

    final synchronized void release(Claim c) {
        claims.remove(c);
    }

    /** Current claims, for status output. */
    public final synchronized List<Claim> claims() {
        return List.copyOf(claims);
    }

    /**
     * Sets a new size (a volume grew or shrank while in use) and tells every claimer that asked.
     * Growing: the layer makes the new range serviceable before calling this. Shrinking: requests
     * past the new end fail from now on; the layer drains those already in flight before it
     * gives the space away.
     */
    protected final void announceResize(long newBlockCount) {
        if (newBlockCount < 0) {
            throw new IllegalArgumentException(name + ": negative size " + newBlockCount);
        }
        List<Claim> toTell;
        synchronized (this) {
            blockCount = newBlockCount;
            toTell = List.copyOf(claims);
        }
        for (Claim c : toTell) {
            c.notifyResized();
        }
    }

    /** Marks the device removed: new I/O fails with ENODEV, and every claimer is told. */
    public final void announceRemoval() {
        List<Claim> toTell;
        synchronized (this) {
            if (removed) {
                return;
            }
            removed = true;
            toTell = List.copyOf(claims);
        }
        for (Claim c : toTell) {
            c.notifyRemoved();
        }
    }

    /** Reads one iovec entry's base address, for backends walking vectored requests. */
    protected static long iovBase(MemorySegment iov, int i) {
        return iov.get(JAVA_LONG, i * Iovec.SIZE + Iovec.IOV_BASE);
    }

    /** Reads one iovec entry's length. */
    protected static long iovLen(MemorySegment iov, int i) {
        return iov.get(JAVA_LONG, i * Iovec.SIZE + Iovec.IOV_LEN);
    }

    @Override
    public String toString() {
        return name + " (" + blockCount + " x " + blockSize + " B, " + Capability.describe(capabilities) + ")";
    }
}
