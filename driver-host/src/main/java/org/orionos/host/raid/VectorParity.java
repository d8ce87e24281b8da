package org.orionos.host.raid;

import java.lang.foreign.MemorySegment;
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
 * class is touched. One instance per thread (the XOR path keeps scratch).
 */
public final class VectorParity implements ParityEngine {
    private static final VectorSpecies<Byte> S = ByteVector.SPECIES_PREFERRED;
    private static final int VL = S.vectorByteSize();
    private static final ByteOrder O = ByteOrder.nativeOrder();

    /** Runs XOR (its scratch makes this engine one-per-thread). */
    private final JavaParity swar = new JavaParity();

    /** A new engine; throws {@link NoClassDefFoundError} without the incubator module (check {@link VectorModule#PRESENT}). */
    public VectorParity() {
    }

    @Override
    public String name() {
        return "java-vector";
    }

    /**
     * XOR is bound by loads, not arithmetic: the SWAR engine's blocked loops (which C2 vectorizes)
     * measured faster than a vector-per-step loop here, so they do it.
     */
    @Override
    public void xor(MemorySegment[] sources, int count, MemorySegment dest, long bytes) {
        swar.xor(sources, count, dest, bytes);
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
