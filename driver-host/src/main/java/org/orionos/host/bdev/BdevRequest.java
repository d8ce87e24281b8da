package org.orionos.host.bdev;

import java.lang.foreign.MemorySegment;

import org.orionos.bindings.Errno;
import org.orionos.uring.Completion;

/**
 * One block-device I/O: a pooled, reusable object owned by one reactor's {@link IoContext}.
 * Nothing is allocated per I/O: the caller takes a request from its context's pool, fills it
 * with one of the {@code prepare} methods, submits it, and releases it in (or after) the callback.
 *
 * <p>Data is either a contiguous off-heap {@code buffer} at {@code bufferOffset} (an offset rather
 * than a slice, so splitting creates no segment objects), or a native {@code struct iovec} array.
 * Offsets and lengths are bytes and must be multiples of the device's block size.
 */
public final class BdevRequest {
    // ---- what the caller sets
    int op;
    long offset;
    long length;
    int flags;
    MemorySegment buffer;
    long bufferOffset;
    MemorySegment iov;
    int iovCount;
    BdevCallback callback;
    long cookie;

    // ---- results
    int status;
    long extentLength;
    int extentFlags;

    // ---- owned by the core
    final IoContext context;
    BlockDevice device;
    BdevRequest parent;
    int childrenPending;
    int childrenStatus;
    boolean inFlight;
    /** Submitted through {@link BlockDevice#submit}: counted in its context's per-device in-flight count. */
    boolean counted;
    /** Intrusive link: the pool's free list, or the context's deferred-completion queue. */
    BdevRequest next;

    /** Set by {@link IoContext#forward}: the layer above's request this one serves. */
    BdevRequest upstream;

    /** A kernel timespec for timers on this request (allocated once, on first use). */
    MemorySegment timespec;

    /** This request's own iovec array when it is a split piece of a vectored request (reused). */
    MemorySegment ownIov;

    /** Scratch for the backend serving this request (e.g. a wrapped request, a timer slot). */
    public Object backendRef;
    /** Scratch for the backend serving this request. */
    public long backendLong;

    /**
     * The io_uring completion handler of this request, created once with the request: a backend
     * passes it to {@code Ring.acquire}, and the completion reaches the serving device's
     * {@link BlockDevice#ringCompleted} with this request, without a lookup or allocation.
     */
    public final Completion ringCompletion;

    BdevRequest(IoContext context) {
        this.context = context;
        this.ringCompletion = (res, cqeFlags, cookie) -> device.ringCompleted(this, res, cqeFlags, cookie);
    }

    /** Reads {@code length} bytes at {@code offset} into {@code buffer} at {@code bufferOffset}. */
    public BdevRequest prepareRead(long offset, long length, MemorySegment buffer, long bufferOffset) {
        return prepare(BdevOp.READ, offset, length, 0, buffer, bufferOffset);
    }

    /** Writes {@code length} bytes at {@code offset} from {@code buffer} at {@code bufferOffset}. */
    public BdevRequest prepareWrite(long offset, long length, MemorySegment buffer, long bufferOffset, int flags) {
        return prepare(BdevOp.WRITE, offset, length, flags, buffer, bufferOffset);
    }

    /** Vectored read or write through a native {@code struct iovec[iovCount]}. */
    public BdevRequest prepareVectored(int op, long offset, long length, MemorySegment iov, int iovCount, int flags) {
        prepare(op, offset, length, flags, null, 0);
        this.iov = iov;
        this.iovCount = iovCount;
        return this;
    }

    /** FLUSH, TRIM, WRITE_ZEROES or BLOCK_STATUS: operations without a data buffer. */
    public BdevRequest prepareNoData(int op, long offset, long length, int flags) {
        return prepare(op, offset, length, flags, null, 0);
    }

    private BdevRequest prepare(int op, long offset, long length, int flags, MemorySegment buffer, long bufferOffset) {
        this.op = op;
        this.offset = offset;
        this.length = length;
        this.flags = flags;
        this.buffer = buffer;
        this.bufferOffset = bufferOffset;
        this.iov = null;
        this.iovCount = 0;
        this.status = 0;
        this.extentLength = 0;
        this.extentFlags = 0;
        return this;
    }

    /** The request this one was forwarded for ({@link IoContext#forward}), or null. */
    public BdevRequest forwardedFor() {
        return upstream;
    }

    /** Sets the completion callback and an opaque caller value. */
    public BdevRequest callback(BdevCallback callback, long cookie) {
        this.callback = callback;
        this.cookie = cookie;
        return this;
    }

    public int op() {
        return op;
    }

    public long offset() {
        return offset;
    }

    public long length() {
        return length;
    }

    public int flags() {
        return flags;
    }

    public boolean fua() {
        return (flags & BdevOp.FLAG_FUA) != 0;
    }

    public MemorySegment buffer() {
        return buffer;
    }

    public long bufferOffset() {
        return bufferOffset;
    }

    public MemorySegment iov() {
        return iov;
    }

    public int iovCount() {
        return iovCount;
    }

    public long cookie() {
        return cookie;
    }

    public int status() {
        return status;
    }

    public IoContext context() {
        return context;
    }

    /** BLOCK_STATUS result: length of the first extent. */
    public long extentLength() {
        return extentLength;
    }

    /** BLOCK_STATUS result: {@link BdevOp#EXTENT_HOLE} / {@link BdevOp#EXTENT_ZERO} bits. */
    public int extentFlags() {
        return extentFlags;
    }

    /** Backends report a BLOCK_STATUS answer here before completing. */
    public void setExtent(long length, int flags) {
        this.extentLength = length;
        this.extentFlags = flags;
    }

    /**
     * Completes the request now. For backends completing from an io_uring completion (already on
     * the reactor, outside any submit call).
     */
    public void complete(int status) {
        inFlight = false;
        if (counted) {
            counted = false;
            context.deviceFinished(device);
        }
        this.status = status;
        BdevRequest p = parent;
        if (p != null) {
            p.childCompleted(this, status);
            return;
        }
        BdevCallback cb = callback;
        cb.onComplete(this, status);
    }

    /**
     * Completes the request on the next turn of the reactor loop. For backends that finish inside
     * {@code submit} (memory, null, errors found at submission): callers never see their callback
     * run inside their own submit call.
     */
    public void completeDeferred(int status) {
        this.status = status;
        context.defer(this);
    }

    private void childCompleted(BdevRequest child, int st) {
        if (st < 0 && childrenStatus == 0) {
            childrenStatus = st; // the first failure wins, as a block layer reports one error per bio
        }
        child.parent = null;
        child.release();
        if (--childrenPending == 0) {
            complete(childrenStatus);
        }
    }

    /** Returns the request to its context's pool. Only the reactor that owns it may call this. */
    public void release() {
        if (inFlight) {
            throw new IllegalStateException("request released while in flight: " + this);
        }
        buffer = null;
        iov = null;
        callback = null;
        device = null;
        backendRef = null;
        upstream = null;
        context.recycle(this);
    }

    @Override
    public String toString() {
        return BdevOp.name(op) + " " + offset + "+" + length + (device != null ? " on " + device.name() : "")
                + (status < 0 ? " status " + Errno.name(status) : "");
    }
}
