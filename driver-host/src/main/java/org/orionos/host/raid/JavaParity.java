package org.orionos.host.raid;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Pure-Java parity: SWAR over 64-bit lanes (eight GF(2^8) elements per long), four lanes per step
 * so each data block is touched once per 32 bytes while P and Q stay in registers (the layout of
 * the kernel's raid6 int64x4 code, not its code). Stateless and thread-safe.
 */
public final class JavaParity implements ParityEngine {
    /** The shared instance. */
    public static final JavaParity INSTANCE = new JavaParity();

    static final ValueLayout.OfLong L = ValueLayout.JAVA_LONG_UNALIGNED;

    private JavaParity() {
    }

    @Override
    public String name() {
        return "java-swar";
    }

    /** Bytes per block: P, Q and one data block of this size stay in L1 while every data block is folded in. */
    static final int BLOCK = 4096;

    @Override
    public void xor(MemorySegment[] sources, int count, MemorySegment dest, long bytes) {
        if (count < 1) {
            throw new IllegalArgumentException("xor of " + count + " sources");
        }
        long end8 = bytes & ~7L;
        for (long base = 0; base < end8; base += BLOCK) {
            int n = (int) Math.min(BLOCK, end8 - base);
            copy(sources[0], dest, base, n);
            for (int d = 1; d < count; d++) {
                xorInto(sources[d], dest, base, n);
            }
        }
        for (long off = end8; off < bytes; off++) {
            byte a = sources[0].get(ValueLayout.JAVA_BYTE, off);
            for (int d = 1; d < count; d++) {
                a ^= sources[d].get(ValueLayout.JAVA_BYTE, off);
            }
            dest.set(ValueLayout.JAVA_BYTE, off, a);
        }
    }

    @Override
    public void pq(MemorySegment[] data, int count, MemorySegment p, MemorySegment q, long bytes) {
        if (count < 1) {
            throw new IllegalArgumentException("P+Q of " + count + " data blocks");
        }
        int top = count - 1;
        long end8 = bytes & ~7L;
        for (long base = 0; base < end8; base += BLOCK) {
            int n = (int) Math.min(BLOCK, end8 - base);
            copy(data[top], p, base, n);
            copy(data[top], q, base, n);
            // Horner's rule from the highest slot down: q = q*g ^ d, so slot z ends up times g^z.
            for (int z = top - 1; z >= 0; z--) {
                MemorySegment s = data[z];
                xorInto(s, p, base, n);
                mul2XorInto(s, q, base, n);
            }
        }
        for (long off = end8; off < bytes; off++) {
            int pp = data[top].get(ValueLayout.JAVA_BYTE, off);
            int qq = pp & 0xff;
            for (int z = top - 1; z >= 0; z--) {
                int d = data[z].get(ValueLayout.JAVA_BYTE, off) & 0xff;
                pp ^= d;
                qq = Gf256.mul2(qq) ^ d;
            }
            p.set(ValueLayout.JAVA_BYTE, off, (byte) pp);
            q.set(ValueLayout.JAVA_BYTE, off, (byte) qq);
        }
    }

    // The three kernels below are simple counted loops over one block so C2 can vectorize them.

    private static void copy(MemorySegment src, MemorySegment dst, long base, int n) {
        for (int i = 0; i < n; i += 8) {
            dst.set(L, base + i, src.get(L, base + i));
        }
    }

    private static void xorInto(MemorySegment src, MemorySegment dst, long base, int n) {
        for (int i = 0; i < n; i += 8) {
            dst.set(L, base + i, dst.get(L, base + i) ^ src.get(L, base + i));
        }
    }

    private static void mul2XorInto(MemorySegment src, MemorySegment dst, long base, int n) {
        for (int i = 0; i < n; i += 8) {
            dst.set(L, base + i, Gf256.mul2(dst.get(L, base + i)) ^ src.get(L, base + i));
        }
    }
}
