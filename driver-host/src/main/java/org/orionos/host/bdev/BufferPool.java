package org.orionos.host.bdev;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.orionos.bindings.ErrnoException;
import org.orionos.uring.Reactor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A reactor's I/O buffers: 4 KiB-aligned off-heap segments in power-of-two classes from 4 KiB
 * to 32 MiB, carved from one region registered with the reactor's ring as fixed buffer 0, so
 * backends can use READ_FIXED/WRITE_FIXED. Buffers are carved once and then recycled through
 * per-class free stacks: steady-state I/O allocates nothing. When the region is used up, further
 * buffers come from an unregistered arena (still aligned and recycled) and one line is logged.
 */
public final class BufferPool {
    private static final Logger LOG = LoggerFactory.getLogger(BufferPool.class);
    public static final int MIN_SHIFT = 12;
    public static final int MAX_SHIFT = 25;
    public static final long ALIGNMENT = 4096;
    /** The fixed-buffer index of the registered region. */
    public static final int FIXED_INDEX = 0;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment region;
    private final long regionStart;
    private final long regionEnd;
    private final boolean registered;
    private long carved;
    private boolean overflowLogged;
    private final MemorySegment[][] freeStacks = new MemorySegment[MAX_SHIFT - MIN_SHIFT + 1][];
    private final int[] freeCounts = new int[MAX_SHIFT - MIN_SHIFT + 1];

    BufferPool(Reactor reactor, long regionBytes) {
        long size = Math.max(ALIGNMENT, (regionBytes + ALIGNMENT - 1) & -ALIGNMENT);
        this.region = arena.allocate(size, ALIGNMENT);
        this.regionStart = region.address();
        this.regionEnd = regionStart + size;
        boolean ok;
        try {
            reactor.ring().registerBuffers(region);
            ok = true;
        } catch (ErrnoException e) {
            LOG.warn("{}: cannot register {} bytes of I/O buffers with io_uring ({}); using unregistered buffers",
                    reactor.name(), size, e.getMessage());
            ok = false;
        }
        this.registered = ok;
        for (int i = 0; i < freeStacks.length; i++) {
            freeStacks[i] = new MemorySegment[16];
        }
    }

    /** A buffer of at least {@code size} bytes (at most 32 MiB), 4 KiB-aligned. */
    public MemorySegment allocate(long size) {
        int cls = sizeClass(size);
        int n = freeCounts[cls];
        if (n > 0) {
            MemorySegment s = freeStacks[cls][--n];
            freeStacks[cls][n] = null;
            freeCounts[cls] = n;
            return s;
        }
        long bytes = 1L << (cls + MIN_SHIFT);
        if (carved + bytes <= region.byteSize()) {
            MemorySegment s = region.asSlice(carved, bytes);
            carved += bytes;
            return s;
        }
        if (!overflowLogged) {
            overflowLogged = true;
            LOG.info("registered I/O buffer region ({} bytes) is fully carved; further buffers are unregistered",
                    region.byteSize());
        }
        return arena.allocate(bytes, ALIGNMENT);
    }

    /** Returns a buffer from {@link #allocate}. */
    public void release(MemorySegment buffer) {
        int cls = sizeClass(buffer.byteSize());
        MemorySegment[] stack = freeStacks[cls];
        int n = freeCounts[cls];
        if (n == stack.length) {
            stack = java.util.Arrays.copyOf(stack, n * 2);
            freeStacks[cls] = stack;
        }
        stack[n] = buffer;
        freeCounts[cls] = n + 1;
    }

    /** Whether {@code address..address+length} lies in the registered region (usable with *_FIXED ops). */
    public boolean isFixed(long address, long length) {
        return registered && address >= regionStart && address + length <= regionEnd;
    }

    static int sizeClass(long size) {
        if (size <= 0 || size > (1L << MAX_SHIFT)) {
            throw new IllegalArgumentException("buffer size must be 1 byte to 32 MiB, got " + size);
        }
        int shift = 64 - Long.numberOfLeadingZeros(size - 1);
        return Math.max(shift, MIN_SHIFT) - MIN_SHIFT;
    }

    void close() {
        arena.close();
    }
}
