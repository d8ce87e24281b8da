package org.orionos.host.raid;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Geometry and parity together, as a stripe engine will use them: build each stripe of every layout
 * in md's slot order, generate parity, then lose every single member (RAID5) or every pair of
 * members (RAID6) and rebuild them.
 */
class StripeRecoveryTest {
    private static final int BYTES = 4096;
    private final SplittableRandom rnd = new SplittableRandom(3);

    private MemorySegment[] stripe(Arena arena, int n) {
        MemorySegment[] m = new MemorySegment[n];
        for (int d = 0; d < n; d++) {
            m[d] = arena.allocate(BYTES, 64);
            for (long o = 0; o < BYTES; o += 8) {
                m[d].set(ValueLayout.JAVA_LONG, o, rnd.nextLong());
            }
        }
        return m;
    }

    @ParameterizedTest
    @EnumSource(ParityLayout.class)
    void raid6SurvivesEveryPairOfLostMembers(ParityLayout layout) {
        ParityEngine engine = ParityEngine.best();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment zero = arena.allocate(BYTES, 64);
            for (int n = 4; n <= 7; n++) {
                long[] sizes = new long[n];
                java.util.Arrays.fill(sizes, 64 * 16);
                ParityGeometry g = ParityGeometry.of(RaidLevel.RAID6, layout, 64, sizes);
                MemorySegment[] slots = new MemorySegment[n];
                MemorySegment[] saved = new MemorySegment[n];
                for (int d = 0; d < n; d++) {
                    saved[d] = arena.allocate(BYTES, 64);
                }
                for (long s = 0; s < n + 1; s++) {
                    MemorySegment[] m = stripe(arena, n);
                    int count = g.syndromeSources(s, m, zero, slots);
                    MemorySegment p = m[g.parityDisk(s)];
                    MemorySegment q = m[g.qDisk(s)];
                    engine.pq(slots, count, p, q, BYTES);
                    for (int d = 0; d < n; d++) {
                        saved[d].copyFrom(m[d]);
                    }
                    for (int x = 0; x < n; x++) {
                        for (int y = x + 1; y < n; y++) {
                            m[x].fill((byte) 0xa5);
                            m[y].fill((byte) 0x5a);
                            rebuild(g, s, slots, count, p, q, x, y, engine);
                            String what = layout + " n=" + n + " stripe " + s + " lost " + x + "," + y;
                            assertEquals(-1, m[x].mismatch(saved[x]), what);
                            assertEquals(-1, m[y].mismatch(saved[y]), what);
                        }
                    }
                }
            }
        }
    }

    private static void rebuild(ParityGeometry g, long s, MemorySegment[] slots, int count, MemorySegment p,
                                MemorySegment q, int x, int y, ParityEngine engine) {
        int pd = g.parityDisk(s);
        int qd = g.qDisk(s);
        boolean xData = x != pd && x != qd;
        boolean yData = y != pd && y != qd;
        if (xData && yData) {
            Raid6Recovery.twoData(slots, count, g.syndromeSlot(s, x), g.syndromeSlot(s, y), p, q, BYTES);
        } else if (!xData && !yData) {
            engine.pq(slots, count, p, q, BYTES);
        } else {
            int data = xData ? x : y;
            int parity = xData ? y : x;
            if (parity == pd) {
                Raid6Recovery.dataAndP(slots, count, g.syndromeSlot(s, data), p, q, BYTES);
            } else {
                Raid6Recovery.dataAndQ(slots, count, g.syndromeSlot(s, data), p, q, BYTES);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = ParityLayout.class, names = {"LEFT_ASYMMETRIC", "RIGHT_ASYMMETRIC", "LEFT_SYMMETRIC",
        "RIGHT_SYMMETRIC", "PARITY_0", "PARITY_N"})
    void raid5SurvivesEveryLostMember(ParityLayout layout) {
        ParityEngine engine = ParityEngine.best();
        try (Arena arena = Arena.ofConfined()) {
            for (int n = 2; n <= 6; n++) {
                long[] sizes = new long[n];
                java.util.Arrays.fill(sizes, 64 * 16);
                ParityGeometry g = ParityGeometry.of(RaidLevel.RAID5, layout, 64, sizes);
                MemorySegment[] slots = new MemorySegment[n];
                MemorySegment saved = arena.allocate(BYTES, 64);
                for (long s = 0; s < n + 1; s++) {
                    MemorySegment[] m = stripe(arena, n);
                    int count = g.syndromeSources(s, m, null, slots);
                    MemorySegment p = m[g.parityDisk(s)];
                    engine.xor(slots, count, p, BYTES);
                    for (int x = 0; x < n; x++) {
                        saved.copyFrom(m[x]);
                        m[x].fill((byte) 0x77);
                        if (x == g.parityDisk(s)) {
                            engine.xor(slots, count, p, BYTES);
                        } else {
                            Raid6Recovery.dataFromP(slots, count, g.syndromeSlot(s, x), p, BYTES);
                        }
                        assertEquals(-1, m[x].mismatch(saved), layout + " n=" + n + " stripe " + s + " lost " + x);
                    }
                }
            }
        }
    }
}
