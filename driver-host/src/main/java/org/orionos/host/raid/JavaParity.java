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

    @Override
    public void xor(MemorySegment[] sources, int count, MemorySegment dest, long bytes) {
        if (count < 1) {
            throw new IllegalArgumentException("xor of " + count + " sources");
        }
        long off = 0;
        long end32 = bytes & ~31L;
        for (; off < end32; off += 32) {
            MemorySegment s = sources[0];
            long a0 = s.get(L, off);
            long a1 = s.get(L, off + 8);
            long a2 = s.get(L, off + 16);
            long a3 = s.get(L, off + 24);
            for (int d = 1; d < count; d++) {
                s = sources[d];
                a0 ^= s.get(L, off);
                a1 ^= s.get(L, off + 8);
                a2 ^= s.get(L, off + 16);
                a3 ^= s.get(L, off + 24);
            }
            dest.set(L, off, a0);
            dest.set(L, off + 8, a1);
            dest.set(L, off + 16, a2);
            dest.set(L, off + 24, a3);
        }
        for (; off + 8 <= bytes; off += 8) {
            long a = sources[0].get(L, off);
            for (int d = 1; d < count; d++) {
                a ^= sources[d].get(L, off);
            }
            dest.set(L, off, a);
        }
        for (; off < bytes; off++) {
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
        long off = 0;
        long end32 = bytes & ~31L;
        for (; off < end32; off += 32) {
            // Horner's rule from the highest slot down: q = q*g ^ d, so slot z ends up times g^z.
            MemorySegment s = data[top];
            long p0 = s.get(L, off);
            long p1 = s.get(L, off + 8);
            long p2 = s.get(L, off + 16);
            long p3 = s.get(L, off + 24);
            long q0 = p0;
            long q1 = p1;
            long q2 = p2;
            long q3 = p3;
            for (int z = top - 1; z >= 0; z--) {
                s = data[z];
                long d0 = s.get(L, off);
                long d1 = s.get(L, off + 8);
                long d2 = s.get(L, off + 16);
                long d3 = s.get(L, off + 24);
                p0 ^= d0;
                p1 ^= d1;
                p2 ^= d2;
                p3 ^= d3;
                q0 = Gf256.mul2(q0) ^ d0;
                q1 = Gf256.mul2(q1) ^ d1;
                q2 = Gf256.mul2(q2) ^ d2;
                q3 = Gf256.mul2(q3) ^ d3;
            }
            p.set(L, off, p0);
            p.set(L, off + 8, p1);
            p.set(L, off + 16, p2);
            p.set(L, off + 24, p3);
            q.set(L, off, q0);
            q.set(L, off + 8, q1);
            q.set(L, off + 16, q2);
            q.set(L, off + 24, q3);
        }
        for (; off + 8 <= bytes; off += 8) {
            long pp = data[top].get(L, off);
            long qq = pp;
            for (int z = top - 1; z >= 0; z--) {
                long d = data[z].get(L, off);
                pp ^= d;
                qq = Gf256.mul2(qq) ^ d;
            }
            p.set(L, off, pp);
            q.set(L, off, qq);
        }
        for (; off < bytes; off++) {
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
}
