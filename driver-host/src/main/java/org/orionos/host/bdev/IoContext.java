package org.orionos.host.bdev;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.orionos.bindings.uapi.SocketH.Iovec;
import org.orionos.uring.Reactor;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The block-device layer's state on one reactor (SPDK's I/O channel): the request pool, the
 * deferred-completion queue, each device's per-reactor channel and the buffer pool. Touched only
 * by the reactor's thread, so nothing here is locked.
 */
public final class IoContext {
    final Reactor reactor;
    final Thread thread;
    private final Arena arena = Arena.ofShared();
    private final BufferPool buffers;

    private BdevRequest free;
    private int created;
    private int outstanding;
    private BdevRequest deferredHead;
    private BdevRequest deferredTail;
    private static final int FILE_SLOTS = 256;
    private boolean[] fileSlotsUsed;
    private BdevRequest waitingHead;
    private BdevRequest waitingTail;
    private final Reactor.LoopHook hook;
    private Object[] channels = new Object[16];
    private BlockDevice[] channelOwners = new BlockDevice[16];
    /** Requests submitted to each device (by device id) from this reactor and not yet completed. */
    private int[] deviceInFlight = new int[16];

    /**
     * Creates the context of {@code reactor}; must run on that reactor's thread.
     *
     * @param bufferBytes size of the reactor's registered buffer region
     */
    public IoContext(Reactor reactor, long bufferBytes) {
        if (!reactor.isInReactor()) {
            throw new IllegalStateException("an IoContext is created on its reactor's thread");
        }
        this.reactor = reactor;
        this.thread = Thread.currentThread();
        this.buffers = new BufferPool(reactor, bufferBytes);
        this.hook = this::runLoopWork;
        reactor.addLoopHook(hook);
    }

    private boolean runLoopWork() {
        if (waitingHead != null) {
            retryWaiting();
        }
        if (deferredHead != null) {
            runDeferred();
        }
        return deferredHead != null || waitingHead != null;
    }

    /**
     * A backend found the ring full (no SQE or completion slot): the request is resubmitted to
     * its device after the next reap, in order.
     */
    public void waitForRing(BdevRequest r) {
        r.next = null;
        if (waitingTail == null) {
            waitingHead = r;
        } else {
            waitingTail.next = r;
        }
        waitingTail = r;
    }

    private void retryWaiting() {
        BdevRequest r = waitingHead;
        BdevRequest last = waitingTail;
        waitingHead = null;
        waitingTail = null;
        while (r != null) {
            BdevRequest next = r == last ? null : r.next;
            r.next = null;
            r.device.resume(r); // already checked and split: straight back to the backend
            r = next;
        }
    }

    public Reactor reactor() {
        return reactor;
    }

    public BufferPool buffers() {
        return buffers;
    }

    /** A request from the pool; the pool grows only while the number in flight reaches a new high. */
    public BdevRequest request() {
        outstanding++;
        BdevRequest r = free;
        if (r == null) {
            created++;
            return new BdevRequest(this);
        }
        free = r.next;
        r.next = null;
        return r;
    }

    /**
     * A request for {@code base} doing what {@code parent} asks (same operation, range, flags and
     * data), completing into {@code callback}; {@link BdevRequest#forwardedFor()} leads back to it.
     * Layers that pass I/O down (error injection, delay, caches) use this.
     */
    public BdevRequest forward(BdevRequest parent, BdevCallback callback) {
        BdevRequest c = request();
        c.op = parent.op;
        c.offset = parent.offset;
        c.length = parent.length;
        c.flags = parent.flags;
        c.buffer = parent.buffer;
        c.bufferOffset = parent.bufferOffset;
        c.iov = parent.iov;
        c.iovCount = parent.iovCount;
        c.status = 0;
        c.extentLength = 0;
        c.extentFlags = 0;
        c.callback = callback;
        c.cookie = 0;
        c.upstream = parent;
        return c;
    }

    /**
     * Starts a TIMEOUT on this reactor's ring that completes {@code r} into its device's
     * {@link BlockDevice#ringCompleted} with {@code cookie} after {@code micros}. The timespec
     * lives in the request (the kernel reads it at submission, which may come later than now).
     * Returns false when the ring is full; the caller then retries later or skips the delay.
     */
    public boolean startTimer(BdevRequest r, long micros, long cookie) {
        org.orionos.uring.Sqe s = reactor.ring().acquire(r.ringCompletion, cookie);
        if (s == null) {
            return false;
        }
        MemorySegment ts = r.timespec;
        if (ts == null) {
            ts = arena.allocate(16, 8);
            r.timespec = ts;
        }
        ts.set(JAVA_LONG, 0, micros / 1_000_000);
        ts.set(JAVA_LONG, 8, (micros % 1_000_000) * 1000);
        s.timeout(ts.address(), 0, 0);
        return true;
    }

    /** Requests ever created by this context (a steady-state workload stops growing it). */
    public int requestsCreated() {
        return created;
    }

    void recycle(BdevRequest r) {
        outstanding--;
        r.next = free;
        free = r;
    }

    /** Requests taken from the pool and not yet released: 0 once all I/O here has drained. */
    public int outstanding() {
        return outstanding;
    }

    /** Queues a completion for the next turn of the loop, so callbacks never nest inside submit. */
    void defer(BdevRequest r) {
        r.next = null;
        if (deferredTail == null) {
            deferredHead = r;
        } else {
            deferredTail.next = r;
        }
        deferredTail = r;
    }

    /** Whether completions are waiting: the reactor must not sleep. */
    public boolean hasDeferred() {
        return deferredHead != null;
    }

    /**
     * Runs the completions queued so far (not those their callbacks queue: those wait for the
     * next turn, so a callback that resubmits cannot starve the ring).
     */
    public int runDeferred() {
        BdevRequest r = deferredHead;
        BdevRequest last = deferredTail;
        deferredHead = null;
        deferredTail = null;
        int n = 0;
        while (r != null) {
            BdevRequest next = r == last ? null : r.next;
            r.next = null;
            r.complete(r.status);
            n++;
            r = next;
        }
        return n;
    }

    void deviceStarted(BlockDevice device) {
        int id = device.id();
        if (id >= deviceInFlight.length) {
            deviceInFlight = java.util.Arrays.copyOf(deviceInFlight, Math.max(id + 1, deviceInFlight.length * 2));
        }
        deviceInFlight[id]++;
    }

    void deviceFinished(BlockDevice device) {
        deviceInFlight[device.id()]--;
    }

    /** Requests submitted to {@code device} from this reactor that have not completed yet. */
    public int inFlight(BlockDevice device) {
        int id = device.id();
        return id < deviceInFlight.length ? deviceInFlight[id] : 0;
    }

    /** I/Os (requests and direct accesses) submitted from this reactor to any device and not yet done. */
    public int inFlightTotal() {
        int n = 0;
        for (int c : deviceInFlight) {
            n += c;
        }
        return n;
    }

    /** Lets {@code device} release its channel here (after a hot removal drained its I/O). */
    public void dropChannel(BlockDevice device) {
        int id = device.id();
        if (id < channelOwners.length && channelOwners[id] == device) {
            Object ch = channels[id];
            channels[id] = null;
            channelOwners[id] = null;
            device.destroyChannel(this, ch);
        }
    }

    Object channel(BlockDevice device) {
        int id = device.id();
        if (id >= channels.length) {
            int n = Math.max(id + 1, channels.length * 2);
            channels = java.util.Arrays.copyOf(channels, n);
            channelOwners = java.util.Arrays.copyOf(channelOwners, n);
        }
        if (channelOwners[id] != device) {
            channels[id] = device.createChannel(this);
            channelOwners[id] = device;
        }
        return channels[id];
    }

    /** Builds {@code child}'s iovec array covering {@code len} bytes from {@code rel} into the parent's. */
    void sliceIov(BdevRequest parent, long rel, long len, BdevRequest child) {
        MemorySegment src = parent.iov;
        int n = parent.iovCount;
        int i = 0;
        long skip = rel;
        while (i < n && skip >= BlockDevice.iovLen(src, i)) {
            skip -= BlockDevice.iovLen(src, i);
            i++;
        }
        int first = i;
        long need = len + skip;
        while (i < n && need > 0) {
            need -= BlockDevice.iovLen(src, i);
            i++;
        }
        int count = i - first;
        MemorySegment dst = childIov(child, count);
        long remaining = len;
        for (int k = 0; k < count; k++) {
            long base = BlockDevice.iovBase(src, first + k);
            long l = BlockDevice.iovLen(src, first + k);
            if (k == 0) {
                base += skip;
                l -= skip;
            }
            l = Math.min(l, remaining);
            dst.set(JAVA_LONG, k * Iovec.SIZE + Iovec.IOV_BASE, base);
            dst.set(JAVA_LONG, k * Iovec.SIZE + Iovec.IOV_LEN, l);
            remaining -= l;
        }
        child.iov = dst;
        child.iovCount = count;
    }

    /** A request's own iovec array, grown (rarely) to {@code count} entries and then reused. */
    private MemorySegment childIov(BdevRequest child, int count) {
        MemorySegment own = child.ownIov;
        if (own == null || own.byteSize() < count * Iovec.SIZE) {
            own = arena.allocate(Math.max(8, Integer.highestOneBit(count) * 2L) * Iovec.SIZE, 8);
            child.ownIov = own;
        }
        return own;
    }

    /**
     * Registers {@code fd} in this reactor's fixed-file table and returns its slot, or -1 when
     * the table is unavailable or full (the caller then uses the plain fd).
     */
    public int registerFile(int fd) {
        if (fileSlotsUsed == null) {
            try {
                reactor.ring().registerFilesSparse(FILE_SLOTS);
                fileSlotsUsed = new boolean[FILE_SLOTS];
            } catch (org.orionos.bindings.ErrnoException e) {
                fileSlotsUsed = new boolean[0];
            }
        }
        for (int i = 0; i < fileSlotsUsed.length; i++) {
            if (!fileSlotsUsed[i]) {
                try {
                    reactor.ring().updateFiles(i, fd);
                } catch (org.orionos.bindings.ErrnoException e) {
                    return -1;
                }
                fileSlotsUsed[i] = true;
                return i;
            }
        }
        return -1;
    }

    /** Empties a slot from {@link #registerFile}. */
    public void unregisterFile(int slot) {
        if (slot >= 0 && fileSlotsUsed != null && slot < fileSlotsUsed.length && fileSlotsUsed[slot]) {
            reactor.ring().updateFiles(slot, -1);
            fileSlotsUsed[slot] = false;
        }
    }

    /** Frees the context's memory; call on the reactor thread when it stops serving I/O. */
    public void close() {
        reactor.removeLoopHook(hook);
        buffers.close();
        arena.close();
    }
}
