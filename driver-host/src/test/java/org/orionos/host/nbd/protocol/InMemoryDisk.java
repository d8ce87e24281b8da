package org.orionos.host.nbd.protocol;

import java.util.Arrays;

/**
 * TEST ONLY: a byte array with a per-64-KiB allocation map, standing in for the block-device layer
 * so real NBD clients can exercise the protocol code (allocation status makes base:allocation and
 * OFFSET_HOLE replies meaningful).
 */
final class InMemoryDisk {
    static final int CHUNK = 64 * 1024;

    final byte[] data;
    private final boolean[] allocated;

    InMemoryDisk(int size) {
        data = new byte[size];
        allocated = new boolean[(size + CHUNK - 1) / CHUNK];
    }

    long size() {
        return data.length;
    }

    boolean allocatedAt(long offset) {
        return allocated[(int) (offset / CHUNK)];
    }

    /** Marks the chunks touched by a write as allocated. */
    void markWritten(long offset, long length) {
        if (length == 0) {
            return;
        }
        for (long c = offset / CHUNK; c <= (offset + length - 1) / CHUNK; c++) {
            allocated[(int) c] = true;
        }
    }

    /** Zeroes a range; chunks it fully covers become holes unless {@code keepAllocated}. */
    void zero(long offset, long length, boolean keepAllocated) {
        Arrays.fill(data, (int) offset, (int) (offset + length), (byte) 0);
        if (keepAllocated) {
            markWritten(offset, length);
            return;
        }
        long first = (offset + CHUNK - 1) / CHUNK;
        long end = (offset + length) / CHUNK;
        for (long c = first; c < end; c++) {
            allocated[(int) c] = false;
        }
    }

    /** End of the run of chunks with the same allocation state as {@code offset}, capped at {@code limit}. */
    long runEnd(long offset, long limit) {
        boolean a = allocatedAt(offset);
        long p = (offset / CHUNK + 1) * CHUNK;
        while (p < limit && allocatedAt(p) == a) {
            p += CHUNK;
        }
        return Math.min(p, limit);
    }
}
