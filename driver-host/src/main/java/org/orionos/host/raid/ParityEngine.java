package org.orionos.host.raid;

import java.lang.foreign.MemorySegment;

/**
 * Generates RAID5 XOR parity and RAID6 P+Q syndromes over off-heap blocks. Callers pass reusable
 * arrays of segments plus a count, so a stripe engine allocates nothing per call. An engine
 * instance may keep scratch state: use one per reactor thread.
 *
 * <p>RAID6 data blocks are given in md's syndrome slot order ({@link ParityGeometry#syndromeSlot}):
 * {@code Q = sum over slots z of g^z * data[z]} in GF(2^8) with g = 2, P = XOR of all data.
 * Outputs must not overlap inputs.
 */
public sealed interface ParityEngine permits JavaParity, VectorParity, IsalParity {

    /** Short name for logs and benchmarks ("isa-l", "java-vector", "java-swar"). */
    String name();

    /** {@code dest = sources[0] ^ ... ^ sources[count-1]} over the first {@code bytes} bytes. */
    void xor(MemorySegment[] sources, int count, MemorySegment dest, long bytes);

    /** P and Q of {@code data[0..count)} (slot order) over the first {@code bytes} bytes. */
    void pq(MemorySegment[] data, int count, MemorySegment p, MemorySegment q, long bytes);

    /**
     * A new engine for the calling thread: ISA-L through FFM when {@code libisal.so.2} loads, else
     * the Vector API engine when the JVM has {@code --add-modules jdk.incubator.vector}, else
     * 64-bit SWAR (the choice is logged once).
     */
    static ParityEngine best() {
        if (IsalLibrary.AVAILABLE) {
            return new IsalParity();
        }
        return javaEngine();
    }

    /** The best pure-Java engine this JVM can run: {@link VectorParity} if its module is present, else {@link JavaParity}. */
    static ParityEngine javaEngine() {
        return VectorModule.PRESENT ? new VectorParity() : new JavaParity();
    }
}
