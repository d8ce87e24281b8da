package org.orionos.host.bdev.backend;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.bindings.Libc;
import org.orionos.host.bdev.BdevOp;
import org.orionos.host.bdev.BdevRequest;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.Capability;

import static org.orionos.bindings.uapi.MmanH.MADV_DONTNEED;
import static org.orionos.bindings.uapi.MmanH.MAP_ANONYMOUS;
import static org.orionos.bindings.uapi.MmanH.MAP_NORESERVE;
import static org.orionos.bindings.uapi.MmanH.MAP_PRIVATE;
import static org.orionos.bindings.uapi.MmanH.PROT_READ;
import static org.orionos.bindings.uapi.MmanH.PROT_WRITE;

/**
 * An off-heap memory device. The whole size is one anonymous {@code MAP_NORESERVE} mapping, so
 * the kernel allocates memory page by page on first write: a 1 TiB thin device costs nothing until
 * written, unwritten ranges read as zeros (the zero page), and trim hands pages back with
 * MADV_DONTNEED. A bitmap of 64 KiB chunks, updated lock-free, answers allocation status.
 * Reactors access it concurrently with no lock, like a disk: overlapping writes race as they would there.
 * The mapping is offered for zero-copy access ({@link #directAccess}): the NBD server receives
 * write payloads into it and sends read replies from it.
 */
@SuppressWarnings("restricted") // wraps an mmap'd address range into a segment
public final class MemoryBdev extends BlockDevice {
    /** Allocation-status granularity. */
    public static final long CHUNK = 64 * 1024;
    private static final long PAGE = 4096;
    private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);
    /** All of the address space, so iovec copies need no segment object per entry. */
    private static final MemorySegment EVERYTHING = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    private static final MemorySegment ZEROS = Arena.global().allocate(CHUNK, PAGE);

    private final MemorySegment memory;
    private final Arena arena = Arena.ofShared();
    private final long[] written;

    public MemoryBdev(String name, long sizeBytes, int blockSize) {
        super(name, blockSize, sizeBytes / blockSize,
                Capability.READ | Capability.WRITE | Capability.FLUSH | Capability.FUA | Capability.TRIM
                        | Capability.WRITE_ZEROES | Capability.ALLOCATION_STATUS | Capability.SHARED_FLUSH,
                0, 0);
        long mapped = (sizeBytes + PAGE - 1) & -PAGE;
        long addr = Libc.mmap(0, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (addr < 0) {
            throw new ErrnoException((int) -addr, "mmap " + mapped + " bytes", name,
                    "the address space or overcommit policy refused a memory device of this size");
        }
        this.memory = MemorySegment.ofAddress(addr).reinterpret(mapped, arena, s -> Libc.munmap(s.address(), s.byteSize()));
        long chunks = (sizeBytes + CHUNK - 1) / CHUNK;
        this.written = new long[(int) ((chunks + 63) >>> 6)];
    }

    @Override
    protected void doSubmit(BdevRequest r) {
        long off = r.offset();
        long len = r.length();
        switch (r.op()) {
            case BdevOp.READ -> {
                if (r.buffer() != null) {
                    MemorySegment.copy(memory, off, r.buffer(), r.bufferOffset(), len);
                } else {
                    copyIov(r, off, false);
                }
            }
            case BdevOp.WRITE -> {
                if (r.buffer() != null) {
                    MemorySegment.copy(r.buffer(), r.bufferOffset(), memory, off, len);
                } else {
                    copyIov(r, off, true);
                }
                markWritten(off, len);
            }
            case BdevOp.TRIM, BdevOp.WRITE_ZEROES -> zeroRange(off, len, (r.flags() & BdevOp.FLAG_NO_HOLE) == 0);
            case BdevOp.BLOCK_STATUS -> blockStatus(r, off, len);
            case BdevOp.FLUSH -> {
                // Memory is as durable as it gets: nothing to do.
            }
            default -> {
                r.completeDeferred(-Errno.EOPNOTSUPP);
                return;
            }
        }
        r.completeDeferred(0);
    }

    @Override
    protected MemorySegment directMemory() {
        return memory;
    }

    @Override
    protected void directWritten(long offset, long length) {
        markWritten(offset, length);
    }

    private void copyIov(BdevRequest r, long off, boolean toDevice) {
        MemorySegment iov = r.iov();
        long pos = off;
        long left = r.length();
        for (int i = 0; i < r.iovCount() && left > 0; i++) {
            long n = Math.min(iovLen(iov, i), left);
            long user = iovBase(iov, i);
            if (toDevice) {
                MemorySegment.copy(EVERYTHING, user, memory, pos, n);
            } else {
                MemorySegment.copy(memory, pos, EVERYTHING, user, n);
            }
            pos += n;
            left -= n;
        }
    }

    /** Zeros a range; whole pages are returned to the kernel (when holes are allowed), edges are filled. */
    private void zeroRange(long off, long len, boolean punch) {
        long end = off + len;
        long firstPage = (off + PAGE - 1) & -PAGE;
        long lastPage = end & -PAGE;
        if (punch && firstPage < lastPage) {
            fillZeros(off, firstPage - off);
            int rc = Libc.madvise(memory.address() + firstPage, lastPage - firstPage, MADV_DONTNEED);
            if (rc < 0) {
                fillZeros(firstPage, lastPage - firstPage);
            }
            fillZeros(lastPage, end - lastPage);
        } else {
            fillZeros(off, len);
        }
        // Only chunks wholly inside the range become holes; partly covered ones keep data.
        long c0 = (off + CHUNK - 1) / CHUNK;
        long c1 = end / CHUNK;
        if (end == sizeBytes()) {
            c1 = (end + CHUNK - 1) / CHUNK;
        }
        for (long c = c0; c < c1; c++) {
            WORDS.getAndBitwiseAnd(written, (int) (c >>> 6), ~(1L << (c & 63)));
        }
        if (!punch) {
            markWritten(off, len);
        }
    }

    private void fillZeros(long off, long len) {
        for (long done = 0; done < len; ) {
            long n = Math.min(CHUNK, len - done);
            MemorySegment.copy(ZEROS, 0, memory, off + done, n);
            done += n;
        }
    }

    private void markWritten(long off, long len) {
        long c0 = off / CHUNK;
        long c1 = (off + len - 1) / CHUNK;
        for (long c = c0; c <= c1; c++) {
            int w = (int) (c >>> 6);
            long bit = 1L << (c & 63);
            // Plain read first: rewrites of allocated chunks (the common case) skip the atomic.
            if (((long) WORDS.getOpaque(written, w) & bit) == 0) {
                WORDS.getAndBitwiseOr(written, w, bit);
            }
        }
    }

    private boolean isWritten(long chunk) {
        return ((long) WORDS.getOpaque(written, (int) (chunk >>> 6)) & (1L << (chunk & 63))) != 0;
    }

    private void blockStatus(BdevRequest r, long off, long len) {
        long end = off + len;
        long c = off / CHUNK;
        boolean state = isWritten(c);
        long pos = Math.min(end, (c + 1) * CHUNK);
        while (pos < end && isWritten(pos / CHUNK) == state) {
            pos = Math.min(end, pos + CHUNK);
        }
        r.setExtent(pos - off, state ? 0 : BdevOp.EXTENT_HOLE | BdevOp.EXTENT_ZERO);
    }

    /** Bytes in chunks that hold written data (allocation-status view, 64 KiB granularity). */
    public long allocatedBytes() {
        long chunks = 0;
        for (long w : written) {
            chunks += Long.bitCount(w);
        }
        return chunks * CHUNK;
    }

    @Override
    public void close() {
        arena.close();
    }
}
