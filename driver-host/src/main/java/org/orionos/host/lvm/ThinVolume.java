package org.orionos.host.lvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.orionos.bindings.Errno;
import org.orionos.host.bdev.BdevCallback;
import org.orionos.host.bdev.BdevOp;
import org.orionos.host.bdev.BdevRequest;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.Capability;
import org.orionos.host.bdev.IoContext;

/**
 * A thin volume as a block device: requests (split by the core at chunk boundaries) look their
 * chunk up in the device's {@link ThinMap} and go to the pool's data volume.
 *
 * <ul>
 * <li>Read of an unmapped chunk: zeros, no I/O.
 * <li>Write to a chunk mapped only here: straight through.
 * <li>Write to an unmapped chunk: take the entry ({@link ThinMap#BUSY}), allocate a chunk, zero
 *     it unless the write covers it whole, write, then publish the mapping. With no free chunk
 *     the entry is restored; if chunks are held for a commit the write asks for it and retries
 *     every millisecond for up to a second, else (or then) it fails with ENOSPC.
 * <li>Write to a chunk shared with a snapshot: the same, but the new chunk starts as a copy of
 *     the old one (read into a pooled bounce buffer, written out), and publishing drops one
 *     reference to the old chunk.
 * <li>Trim or write-zeroes of a whole chunk: unmap it. A partial trim does nothing (trim is advisory);
 *     a partial write-zeroes is a write.
 * <li>FLUSH, and FUA writes once written: complete after the pool's next metadata commit.
 * </ul>
 * A request meeting a BUSY entry retries after 20 µs on a ring timer. Nothing is allocated per
 * I/O except a map page on the first write into each 4096-chunk range.
 *
 * <p>From its lookup until it completes (or parks on a timer) a request is counted in the pool's
 * grace period ({@link ThinPool#enter}), so a chunk it found mapped is not reused under it even
 * if a trim, a commit and another volume's write happen meanwhile.
 */
@SuppressWarnings("restricted") // zero-fills iovec targets given as raw addresses
public final class ThinVolume extends BlockDevice implements BdevCallback {
    private static final int PASS = 0;
    private static final int ZERO = 1;
    private static final int COPY_READ = 2;
    private static final int COPY_WRITE = 3;
    private static final int NEW_WRITE = 4;
    private static final long RETRY = 1;
    private static final long GATE = 2;
    /** Bit of {@code backendLong} holding the request's grace slot; the rest is the step's scratch. */
    private static final long SLOT = 1L << 62;
    /** Waits of 1 ms for a commit to free held chunks before a write gives up with ENOSPC. */
    private static final long SPACE_RETRIES = 1000;
    private static final MemorySegment EVERYTHING = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    private static final long ZEROS_BYTES = 64 << 10;
    private static final MemorySegment ZEROS = Arena.global().allocate(ZEROS_BYTES, 4096);

    private final String vgName;
    private final String lvName;
    private final ThinPool pool;
    private final ThinMap map;
    private final long chunk;
    private final int shift;
    private final boolean readOnly;
    /** Set while a snapshot or merge changes this device's map: new requests wait at the gate. */
    private volatile boolean suspended;

    ThinVolume(String deviceName, String vgName, String lvName, ThinPool pool, ThinMap map, int blockSize,
               boolean readOnly) {
        super(deviceName, blockSize, map.virtualChunks * pool.chunkBytes / blockSize,
                Capability.READ | Capability.WRITE | Capability.FLUSH | Capability.FUA | Capability.TRIM
                        | Capability.ALLOCATION_STATUS | (pool.data.has(Capability.WRITE_ZEROES) ? Capability.WRITE_ZEROES : 0),
                pool.chunkBytes, 0);
        this.vgName = vgName;
        this.lvName = lvName;
        this.pool = pool;
        this.map = map;
        this.chunk = pool.chunkBytes;
        this.shift = pool.chunkShift;
        this.readOnly = readOnly;
    }

    public boolean readOnly() {
        return readOnly;
    }

    /** Announces the new size to claimers (the VG has resized the map while the device was quiesced). */
    void setSize(long bytes) {
        announceResize(bytes / blockSize());
    }

    /** Holds new requests (except FLUSH) at the gate; the caller then drains those past it. */
    void suspend() {
        suspended = true;
    }

    void resume() {
        suspended = false;
    }

    public String vgName() {
        return vgName;
    }

    public String lvName() {
        return lvName;
    }

    long deviceId() {
        return map.id;
    }

    /** Per-reactor count of requests accepted and not completed, so removal can drain them. */
    private static final class Channel {
        int inFlight;
        final ThinPool.Readers readers;

        Channel(ThinPool.Readers readers) {
            this.readers = readers;
        }
    }

    @Override
    protected Object createChannel(IoContext context) {
        return new Channel(pool.readers(context));
    }

    /** Counts {@code r} into the pool's grace period; its slot goes into {@link #SLOT}. */
    private void enter(BdevRequest r) {
        int s = pool.enter(((Channel) channel(r.context())).readers);
        r.backendLong = s == 0 ? r.backendLong & ~SLOT : r.backendLong | SLOT;
    }

    /** Counts {@code r} out: from here on it uses no chunk it looked up. */
    private void leave(BdevRequest r) {
        pool.exit(((Channel) channel(r.context())).readers, (r.backendLong & SLOT) != 0 ? 1 : 0);
    }

    /** The step's scratch value in {@code backendLong} (a retry count or the new chunk). */
    private static long scratch(BdevRequest r) {
        return r.backendLong & ~SLOT;
    }

    private static void setScratch(BdevRequest r, long v) {
        r.backendLong = (r.backendLong & SLOT) | v;
    }

    int inFlight(IoContext ctx) {
        return ((Channel) channel(ctx)).inFlight;
    }

    @Override
    protected void doSubmit(BdevRequest r) {
        gate(r);
    }

    /**
     * Counts the request in, unless the device is suspended: then it waits on a timer, uncounted,
     * so a drain can finish. The check and the count happen in one reactor turn, so a drain's
     * task, which runs between turns, sees every request that passed the check.
     */
    private void gate(BdevRequest r) {
        if (suspended && r.op() != BdevOp.FLUSH) {
            if (!r.context().startTimer(r, 100, GATE)) {
                r.completeDeferred(-Errno.EAGAIN);
            }
            return;
        }
        ((Channel) channel(r.context())).inFlight++;
        r.backendLong = 0; // counts this request's waits for space (see write)
        if (readOnly && r.op() != BdevOp.READ && r.op() != BdevOp.FLUSH) {
            finish(r, -Errno.EROFS, true);
            return;
        }
        serve(r);
    }

    private void serve(BdevRequest r) {
        if (r.op() == BdevOp.FLUSH) {
            ((Channel) channel(r.context())).inFlight--;
            pool.completeAfterCommit(r, 0);
            return;
        }
        enter(r);
        switch (r.op()) {
            case BdevOp.READ -> read(r);
            case BdevOp.WRITE -> write(r);
            case BdevOp.BLOCK_STATUS -> blockStatus(r);
            case BdevOp.WRITE_ZEROES, BdevOp.TRIM -> {
                boolean whole = (r.offset() & (chunk - 1)) == 0 && r.length() == chunk;
                if (whole) {
                    unmap(r);
                } else if (r.op() == BdevOp.TRIM) {
                    done(r, 0, true);
                } else {
                    write(r);
                }
            }
            default -> done(r, -Errno.EOPNOTSUPP, true);
        }
    }

    private void done(BdevRequest r, int status, boolean deferred) {
        leave(r);
        finish(r, status, deferred);
    }

    /** Completes a request that is not counted in the grace period. */
    private void finish(BdevRequest r, int status, boolean deferred) {
        ((Channel) channel(r.context())).inFlight--;
        if (deferred) {
            r.completeDeferred(status);
        } else {
            r.complete(status);
        }
    }

    private void read(BdevRequest r) {
        long off = r.offset();
        long d = ThinMap.chunkOf(map.get(off >>> shift));
        if (d < 0) {
            zeroFill(r);
            done(r, 0, true);
            return;
        }
        BdevRequest down = r.context().forward(r, this).callback(this, PASS);
        passDown(r, down, (d << shift) + (off & (chunk - 1)));
    }

    /**
     * Allocation status from the map alone: the run of chunks from the offset that are all
     * unmapped (a hole reading zeros) or all mapped (data), up to the requested length.
     */
    private void blockStatus(BdevRequest r) {
        long off = r.offset();
        long end = off + r.length();
        boolean hole = ThinMap.chunkOf(map.get(off >>> shift)) < 0;
        long at = ((off >>> shift) + 1) << shift;
        while (at < end && (ThinMap.chunkOf(map.get(at >>> shift)) < 0) == hole) {
            at += chunk;
        }
        r.setExtent(Math.min(at, end) - off, hole ? BdevOp.EXTENT_HOLE | BdevOp.EXTENT_ZERO : 0);
        done(r, 0, true);
    }

    private void passDown(BdevRequest r, BdevRequest down, long dataOff) {
        long len = r.length();
        int op = r.op();
        int flags = r.flags();
        if (op == BdevOp.READ || op == BdevOp.WRITE) {
            if (r.buffer() != null) {
                if (op == BdevOp.READ) {
                    down.prepareRead(dataOff, len, r.buffer(), r.bufferOffset());
                } else {
                    down.prepareWrite(dataOff, len, r.buffer(), r.bufferOffset(), flags);
                }
            } else {
                down.prepareVectored(op, dataOff, len, r.iov(), r.iovCount(), flags);
            }
        } else {
            down.prepareNoData(op, dataOff, len, flags);
        }
        pool.data.submit(down);
    }

    private void zeroFill(BdevRequest r) {
        long len = r.length();
        if (r.buffer() != null) {
            for (long at = 0; at < len; at += ZEROS_BYTES) {
                MemorySegment.copy(ZEROS, 0, r.buffer(), r.bufferOffset() + at, Math.min(ZEROS_BYTES, len - at));
            }
            return;
        }
        MemorySegment iov = r.iov();
        long left = len;
        for (int i = 0; i < r.iovCount() && left > 0; i++) {
            long n = Math.min(iovLen(iov, i), left);
            long base = iovBase(iov, i);
            for (long at = 0; at < n; at += ZEROS_BYTES) {
                MemorySegment.copy(ZEROS, 0, EVERYTHING, base + at, Math.min(ZEROS_BYTES, n - at));
            }
            left -= n;
        }
    }

    private void retry(BdevRequest r) {
        leave(r); // counted in again when the timer serves it
        if (!r.context().startTimer(r, 20, RETRY)) {
            finish(r, -Errno.EAGAIN, true); // the ring is full: the caller may resubmit
        }
    }

    @Override
    protected void ringCompleted(BdevRequest r, int res, int cqeFlags, long cookie) {
        if (cookie == GATE) {
            gate(r);
        } else {
            serve(r); // the retry timer fired
        }
    }

    private void write(BdevRequest r) {
        long off = r.offset();
        long vc = off >>> shift;
        while (true) {
            long e = map.get(vc);
            if ((e & ThinMap.BUSY) != 0) {
                retry(r);
                return;
            }
            long d = ThinMap.chunkOf(e);
            if (d < 0 && r.op() == BdevOp.WRITE_ZEROES) {
                done(r, 0, true); // an unmapped chunk reads as zeros already
                return;
            }
            if (d >= 0 && !pool.shared(d)) {
                BdevRequest down = r.context().forward(r, this).callback(this, PASS);
                passDown(r, down, (d << shift) + (off & (chunk - 1)));
                return;
            }
            if (!map.compareAndSet(vc, e, e | ThinMap.BUSY)) {
                continue;
            }
            long n = pool.allocate();
            if (n < 0) {
                map.set(vc, e);
                // Chunks freed since the last commit become free once it lands (and no request
                // uses them any more): wait for that, up to ~1 s, counted out meanwhile.
                setScratch(r, scratch(r) + 1);
                if (scratch(r) <= SPACE_RETRIES && pool.commitToFree()) {
                    leave(r);
                    if (!r.context().startTimer(r, 1000, RETRY)) {
                        finish(r, -Errno.ENOSPC, true);
                    }
                    return;
                }
                done(r, -Errno.ENOSPC, true);
                return;
            }
            setScratch(r, n);
            boolean whole = (off & (chunk - 1)) == 0 && r.length() == chunk;
            if (whole) {
                userWrite(r);
            } else if (d < 0) {
                BdevRequest down = r.context().forward(r, this).callback(this, ZERO);
                if (pool.zeroChunk == null) {
                    down.prepareNoData(BdevOp.WRITE_ZEROES, n << shift, chunk, 0);
                } else {
                    down.prepareWrite(n << shift, chunk, pool.zeroChunk, 0, 0); // the data volume cannot write zeroes
                }
                pool.data.submit(down);
            } else {
                MemorySegment bounce = r.context().buffers().allocate(chunk);
                r.backendRef = bounce;
                BdevRequest down = r.context().forward(r, this).callback(this, COPY_READ);
                down.prepareRead(d << shift, chunk, bounce, 0);
                pool.data.submit(down);
            }
            return;
        }
    }

    /** The caller's write (or write-zeroes) into the newly allocated chunk. */
    private void userWrite(BdevRequest r) {
        BdevRequest down = r.context().forward(r, this).callback(this, NEW_WRITE);
        long n = scratch(r);
        long dataOff = (n << shift) + (r.offset() & (chunk - 1));
        if (r.op() == BdevOp.WRITE) {
            if (r.buffer() != null) {
                down.prepareWrite(dataOff, r.length(), r.buffer(), r.bufferOffset(), 0);
            } else {
                down.prepareVectored(BdevOp.WRITE, dataOff, r.length(), r.iov(), r.iovCount(), 0);
            }
        } else {
            down.prepareNoData(BdevOp.WRITE_ZEROES, dataOff, r.length(), 0);
        }
        pool.data.submit(down);
    }

    private void unmap(BdevRequest r) {
        long vc = r.offset() >>> shift;
        while (true) {
            long e = map.get(vc);
            if ((e & ThinMap.BUSY) != 0) {
                retry(r);
                return;
            }
            long d = ThinMap.chunkOf(e);
            if (d < 0) {
                done(r, 0, true);
                return;
            }
            if (map.compareAndSet(vc, e, 0)) {
                pool.decref(d);
                pool.markDirty();
                done(r, 0, true);
                return;
            }
        }
    }

    /** Provisioning failed: the new chunk goes back and the entry returns to its old value. */
    private void abandon(BdevRequest r, int status) {
        long vc = r.offset() >>> shift;
        pool.unallocate(scratch(r));
        map.set(vc, map.get(vc) & ~ThinMap.BUSY);
        done(r, status, false);
    }

    @Override
    public void onComplete(BdevRequest down, int status) {
        BdevRequest up = down.forwardedFor();
        int step = (int) down.cookie();
        down.release();
        switch (step) {
            case PASS -> {
                if (status == 0 && up.op() == BdevOp.WRITE && up.fua()) {
                    leave(up);
                    ((Channel) channel(up.context())).inFlight--;
                    pool.completeAfterCommit(up, 0); // the chunk's mapping may not be committed yet
                } else {
                    done(up, status, false);
                }
            }
            case ZERO -> {
                if (status < 0) {
                    abandon(up, status);
                } else {
                    userWrite(up);
                }
            }
            case COPY_READ -> {
                if (status < 0) {
                    up.context().buffers().release((MemorySegment) up.backendRef);
                    up.backendRef = null;
                    abandon(up, status);
                    return;
                }
                BdevRequest w = up.context().forward(up, this).callback(this, COPY_WRITE);
                w.prepareWrite(scratch(up) << shift, chunk, (MemorySegment) up.backendRef, 0, 0);
                pool.data.submit(w);
            }
            case COPY_WRITE -> {
                up.context().buffers().release((MemorySegment) up.backendRef);
                up.backendRef = null;
                if (status < 0) {
                    abandon(up, status);
                } else {
                    userWrite(up);
                }
            }
            case NEW_WRITE -> {
                if (status < 0) {
                    abandon(up, status);
                    return;
                }
                long vc = up.offset() >>> shift;
                long old = ThinMap.chunkOf(map.get(vc));
                map.set(vc, scratch(up) + 1); // publishes the data written above and clears BUSY
                if (old >= 0) {
                    pool.decref(old);
                }
                pool.markDirty();
                if (up.fua()) {
                    leave(up);
                    ((Channel) channel(up.context())).inFlight--;
                    pool.completeAfterCommit(up, 0);
                } else {
                    done(up, 0, false);
                }
            }
            default -> throw new IllegalStateException("step " + step);
        }
    }

    @Override
    public String toString() {
        return name() + " (thin LV " + vgName + "/" + lvName + ", device " + map.id + ", " + sizeBytes() + " bytes)";
    }
}
