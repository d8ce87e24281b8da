package org.orionos.host.lvm;

import java.nio.ByteBuffer;

import org.orionos.host.lvm.metadata.MetadataIo;

/**
 * An in-memory device for unit tests. With a write budget it simulates a crash: once the budget
 * is spent every further write is dropped and reported with {@link Crash}, so the bytes are
 * exactly what a machine that lost power at that point would find.
 */
final class MemoryMetadataIo implements MetadataIo {

    /** Thrown at the simulated power loss. */
    static final class Crash extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Crash() {
            super("simulated crash");
        }
    }

    private final String name;
    private final byte[] bytes;
    /** Writes left before the crash; an array so devices of one machine can share it. */
    private long[] writeBudget = {Long.MAX_VALUE};
    private int writes;

    MemoryMetadataIo(String name, int size) {
        this.name = name;
        this.bytes = new byte[size];
    }

    /** Lets {@code n} more writes through, then crashes. */
    void crashAfterWrites(long n) {
        writeBudget = new long[] {n};
    }

    /** Makes this device draw on {@code budget}, shared with others: one crash for the whole machine. */
    void shareBudget(long[] budget) {
        writeBudget = budget;
    }

    void noCrash() {
        writeBudget = new long[] {Long.MAX_VALUE};
    }

    int writes() {
        return writes;
    }

    byte[] bytes() {
        return bytes;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long size() {
        return bytes.length;
    }

    @Override
    public void read(long offset, ByteBuffer dst) {
        int n = dst.remaining();
        dst.put(bytes, (int) offset, n);
    }

    @Override
    public void write(long offset, ByteBuffer src) {
        if (writeBudget[0] <= 0) {
            throw new Crash();
        }
        writeBudget[0]--;
        writes++;
        src.get(bytes, (int) offset, src.remaining());
    }

    @Override
    public void flush() {
        if (writeBudget[0] <= 0) {
            throw new Crash();
        }
    }

    @Override
    public void close() {
    }
}
