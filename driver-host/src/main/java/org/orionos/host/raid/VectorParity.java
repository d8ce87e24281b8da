package org.orionos.host.raid;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Pure-Java parity on the Vector API ({@code jdk.incubator.vector}): bytes in the widest vector
 * the CPU has, multiply-by-2 in GF(2^8) as ISA-L does it (byte add, sign mask, masked XOR of
 * 0x1d: three instructions per vector, where 64-bit SWAR needs about seven). P and Q of two
 * vectors stay in registers while every data block is folded in (Horner's rule for Q), so each
 * data byte is loaded once and each output byte stored once.
 *
 * <p>Only usable when the JVM resolves the incubator module ({@code --add-modules
 * jdk.incubator.vector}); {@link ParityEngine#best()} checks {@link VectorModule#PRESENT} before this
 * class is touched. Stateless.
 */
public final class VectorParity implements ParityEngine {
    private static final VectorSpecies<Byte> S = ByteVector.SPECIES_PREFERRED;
    private static final int VL = S.vectorByteSize();
    private static final ByteOrder O = ByteOrder.nativeOrder();

    /** A new engine; throws {@link NoClassDefFoundError} without the incubator module (check {@link VectorModule#PRESENT}). */
    public VectorParity() {
    }

    @Override
    public String name() {
        return "java-vector";
    }

    @Override
    public void xor(MemorySegment[] sources, int count, MemorySegment dest, long bytes) {
        if (count < 1) {
            throw new IllegalArgumentException("xor of " + count + " sources");
        }
        long end = bytes - bytes % VL;
        for (long o = 0; o < end; o += VL) {
            ByteVector p = ByteVector.fromMemorySegment(S, sources[0], o, O);
            for (int z = 1; z < count; z++) {
                p = p.lanewise(VectorOperators.XOR, ByteVector.fromMemorySegment(S, sources[z], o, O));
            }
            p.intoMemorySegment(dest, o, O);
        }
        for (long off = end; off < bytes; off++) {
            byte a = sources[0].get(ValueLayout.JAVA_BYTE, off);
            for (int z = 1; z < count; z++) {
                a ^= sources[z].get(ValueLayout.JAVA_BYTE, off);
            }
            dest.set(ValueLayout.JAVA_BYTE, off, a);
        }
    }

    @Override
    public void pq(MemorySegment[] data, int count, MemorySegment pOut, MemorySegment qOut, long bytes) {
        if (count < 1) {
            throw new IllegalArgumentException("P+Q of " + count + " data blocks");
        }
        int top = count - 1;
        ByteVector poly = ByteVector.broadcast(S, (byte) 0x1d);
        ByteVector zero = ByteVector.zero(S);
        long end2 = bytes - bytes % (2L * VL);
        // Two independent vectors per step: the multiply chains of both overlap in the pipeline.
        for (long o = 0; o < end2; o += 2L * VL) {
            ByteVector q0 = ByteVector.fromMemorySegment(S, data[top], o, O);
            ByteVector q1 = ByteVector.fromMemorySegment(S, data[top], o + VL, O);
            ByteVector p0 = q0;
            ByteVector p1 = q1;
            for (int z = top - 1; z >= 0; z--) {
                MemorySegment s = data[z];
                ByteVector v0 = ByteVector.fromMemorySegment(S, s, o, O);
                ByteVector v1 = ByteVector.fromMemorySegment(S, s, o + VL, O);
                // q*2: bytes with the top bit set overflow, so 0x1d (x^8 mod 0x11d) is XORed into them.
                VectorMask<Byte> n0 = q0.compare(VectorOperators.LT, zero);
                VectorMask<Byte> n1 = q1.compare(VectorOperators.LT, zero);
                q0 = q0.add(q0).lanewise(VectorOperators.XOR, v0).lanewise(VectorOperators.XOR, poly, n0);
                q1 = q1.add(q1).lanewise(VectorOperators.XOR, v1).lanewise(VectorOperators.XOR, poly, n1);
                p0 = p0.lanewise(VectorOperators.XOR, v0);
                p1 = p1.lanewise(VectorOperators.XOR, v1);
            }
            p0.intoMemorySegment(pOut, o, O);
            p1.intoMemorySegment(pOut, o + VL, O);
            q0.intoMemorySegment(qOut, o, O);
            q1.intoMemorySegment(qOut, o + VL, O);
        }
        JavaParity.pqBytes(data, count, pOut, qOut, end2, bytes); // the bytes after the last vector pair
    }
}
