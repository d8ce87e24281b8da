package org.orionos.host.raid;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Parity through ISA-L's {@code xor_gen}/{@code pq_gen} (AVX2/AVX-512 inside). ISA-L reads
 * through raw pointers and wants 32-byte aligned buffers and lengths (64 for its AVX-512 code), so
 * a call goes to ISA-L only when every buffer is native, 64-byte aligned, at least {@code bytes}
 * long, and {@code bytes} is a multiple of 64 that fits an int; anything else (and any non-zero
 * return) is computed by {@link JavaParity}, with identical results. Stripe buffers from the
 * 4 KiB-aligned pools always take the ISA-L path.
 *
 * <p>Holds a pointer array and Java scratch reused by every call: one instance per thread.
 */
public final class IsalParity implements ParityEngine {
    /** Most blocks one call takes (RAID6's GF(2^8) limit is 255 data slots, plus P and Q). */
    public static final int MAX_VECTORS = 258;
    private static final long ALIGN = 64;

    private final MemorySegment pointers;
    private final JavaParity fallback = new JavaParity();
    /** Calls ISA-L computed (not the Java fallback); lets tests prove which path ran. */
    private long nativeCalls;

    /** @throws IllegalStateException if ISA-L is not available ({@link IsalLibrary#AVAILABLE}) */
    public IsalParity() {
        if (!IsalLibrary.AVAILABLE) {
            throw new IllegalStateException("ISA-L (" + IsalLibrary.SONAME + ") is not available");
        }
        pointers = Arena.ofAuto().allocate(ValueLayout.ADDRESS.byteSize() * MAX_VECTORS, ALIGN);
    }

    /** Number of calls ISA-L computed on this instance. */
    public long nativeCalls() {
        return nativeCalls;
    }

    @Override
    public String name() {
        return "isa-l";
    }

    private static boolean usable(MemorySegment s, long bytes) {
        return s.isNative() && (s.address() & (ALIGN - 1)) == 0 && s.byteSize() >= bytes;
    }

    private boolean load(MemorySegment[] blocks, int count, long bytes) {
        if ((bytes & (ALIGN - 1)) != 0 || bytes > Integer.MAX_VALUE || bytes == 0) {
            return false;
        }
        for (int i = 0; i < count; i++) {
            MemorySegment s = blocks[i];
            if (!usable(s, bytes)) {
                return false;
            }
            pointers.setAtIndex(ValueLayout.ADDRESS, i, s);
        }
        return true;
    }

    @Override
    public void xor(MemorySegment[] sources, int count, MemorySegment dest, long bytes) {
        if (count >= 2 && count + 1 <= MAX_VECTORS && usable(dest, bytes) && load(sources, count, bytes)) {
            pointers.setAtIndex(ValueLayout.ADDRESS, count, dest);
            int rc;
            try {
                rc = (int) IsalLibrary.XOR_GEN.invokeExact(count + 1, (int) bytes, pointers);
            } catch (Throwable t) {
                throw new AssertionError("xor_gen downcall", t);
            }
            if (rc == 0) {
                nativeCalls++;
                return;
            }
        }
        fallback.xor(sources, count, dest, bytes);
    }

    @Override
    public void pq(MemorySegment[] data, int count, MemorySegment p, MemorySegment q, long bytes) {
        if (count >= 2 && count + 2 <= MAX_VECTORS && usable(p, bytes) && usable(q, bytes)
                && load(data, count, bytes)) {
            pointers.setAtIndex(ValueLayout.ADDRESS, count, p);
            pointers.setAtIndex(ValueLayout.ADDRESS, count + 1, q);
            int rc;
            try {
                rc = (int) IsalLibrary.PQ_GEN.invokeExact(count + 2, (int) bytes, pointers);
            } catch (Throwable t) {
                throw new AssertionError("pq_gen downcall", t);
            }
            if (rc == 0) {
                nativeCalls++;
                return;
            }
        }
        fallback.pq(data, count, p, q, bytes);
    }
}
