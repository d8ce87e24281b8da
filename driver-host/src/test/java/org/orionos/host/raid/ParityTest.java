package org.orionos.host.raid;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ParityTest {
    private final SplittableRandom rnd = new SplittableRandom(0x5eed);
    private final JavaParity javaParity = new JavaParity();
    /** Surefire runs these tests with --add-modules jdk.incubator.vector (driver-host/pom.xml). */
    private final VectorParity vectorParity = new VectorParity();

    /** Bitwise carry-less multiply mod 0x11d: the definition, independent of the tables. */
    private static int slowMul(int a, int b) {
        int r = 0;
        for (int i = 0; i < 8; i++) {
            if ((b & (1 << i)) != 0) r ^= a;
            a <<= 1;
            if ((a & 0x100) != 0) a ^= 0x11d;
        }
        return r;
    }

    @Test
    void fieldArithmetic() {
        for (int a = 0; a < 256; a++) {
            for (int b = 0; b < 256; b++) {
                assertEquals(slowMul(a, b), Gf256.mul(a, b));
            }
            if (a != 0) assertEquals(1, Gf256.mul(a, Gf256.inv(a)));
            assertEquals(slowMul(a, 2), Gf256.mul2(a));
        }
        assertEquals(0x1d, Gf256.exp(8)); // g^8 = x^8 mod 0x11d
        for (int i = 0; i < 1000; i++) {
            long v = rnd.nextLong();
            long m = Gf256.mul2(v);
            for (int k = 0; k < 8; k++) {
                assertEquals(Gf256.mul2((int) (v >>> (8 * k)) & 0xff), (int) (m >>> (8 * k)) & 0xff);
            }
        }
    }

    private MemorySegment[] blocks(Arena arena, int n, long bytes, long align) {
        MemorySegment[] b = new MemorySegment[n];
        for (int i = 0; i < n; i++) {
            b[i] = arena.allocate(bytes, align);
            for (long o = 0; o < bytes; o++) b[i].set(ValueLayout.JAVA_BYTE, o, (byte) rnd.nextInt());
        }
        return b;
    }

    /** Byte-at-a-time definition: P = XOR d[z], Q = XOR g^z d[z]. */
    private static void referencePq(MemorySegment[] d, int n, MemorySegment p, MemorySegment q, long bytes) {
        for (long o = 0; o < bytes; o++) {
            int pp = 0;
            int qq = 0;
            for (int z = 0; z < n; z++) {
                int v = d[z].get(ValueLayout.JAVA_BYTE, o) & 0xff;
                pp ^= v;
                qq ^= slowMul(Gf256.exp(z), v);
            }
            p.set(ValueLayout.JAVA_BYTE, o, (byte) pp);
            q.set(ValueLayout.JAVA_BYTE, o, (byte) qq);
        }
    }

    @Test
    void javaParityMatchesTheDefinition() {
        try (Arena arena = Arena.ofConfined()) {
            for (int n : new int[] {1, 2, 3, 5, 8, 17}) {
                for (long bytes : new long[] {1, 7, 8, 31, 32, 33, 100, 4096, 4099}) {
                    MemorySegment[] d = blocks(arena, n, bytes, 8);
                    MemorySegment p = arena.allocate(bytes);
                    MemorySegment q = arena.allocate(bytes);
                    MemorySegment rp = arena.allocate(bytes);
                    MemorySegment rq = arena.allocate(bytes);
                    MemorySegment x = arena.allocate(bytes);
                    referencePq(d, n, rp, rq, bytes);
                    for (ParityEngine e : new ParityEngine[] {javaParity, vectorParity}) {
                        e.pq(d, n, p, q, bytes);
                        e.xor(d, n, x, bytes);
                        assertEquals(-1, p.mismatch(rp), e.name() + " P n=" + n + " bytes=" + bytes);
                        assertEquals(-1, q.mismatch(rq), e.name() + " Q n=" + n + " bytes=" + bytes);
                        assertEquals(-1, x.mismatch(rp), e.name() + " XOR n=" + n + " bytes=" + bytes);
                    }
                }
            }
        }
    }

    @Test
    void recoveryRestoresEveryFailureCombination() {
        long bytes = 264;
        try (Arena arena = Arena.ofConfined()) {
            for (int n = 2; n <= 9; n++) {
                MemorySegment[] d = blocks(arena, n, bytes, 8);
                MemorySegment[] orig = new MemorySegment[n];
                for (int i = 0; i < n; i++) orig[i] = arena.allocate(bytes).copyFrom(d[i]);
                MemorySegment p = arena.allocate(bytes);
                MemorySegment q = arena.allocate(bytes);
                javaParity.pq(d, n, p, q, bytes);
                MemorySegment p0 = arena.allocate(bytes).copyFrom(p);
                MemorySegment q0 = arena.allocate(bytes).copyFrom(q);
                for (int a = 0; a < n; a++) {
                    d[a].fill((byte) 0x5a);
                    Raid6Recovery.dataFromP(d, n, a, p, bytes);
                    assertEquals(-1, d[a].mismatch(orig[a]), "from P, n=" + n + " a=" + a);
                    d[a].fill((byte) 0x5a);
                    Raid6Recovery.dataFromQ(d, n, a, q, bytes);
                    assertEquals(-1, d[a].mismatch(orig[a]), "from Q, n=" + n + " a=" + a);
                    d[a].fill((byte) 0x11);
                    p.fill((byte) 0x22);
                    Raid6Recovery.dataAndP(d, n, a, p, q, bytes);
                    assertEquals(-1, d[a].mismatch(orig[a]), "data+P, n=" + n + " a=" + a);
                    assertEquals(-1, p.mismatch(p0));
                    d[a].fill((byte) 0x11);
                    q.fill((byte) 0x22);
                    Raid6Recovery.dataAndQ(d, n, a, p, q, bytes);
                    assertEquals(-1, d[a].mismatch(orig[a]), "data+Q, n=" + n + " a=" + a);
                    assertEquals(-1, q.mismatch(q0));
                    for (int b = 0; b < n; b++) {
                        if (b == a) continue;
                        d[a].fill((byte) 0x33);
                        d[b].fill((byte) 0x44);
                        Raid6Recovery.twoData(d, n, a, b, p, q, bytes);
                        assertEquals(-1, d[a].mismatch(orig[a]), "2 data, n=" + n + " a=" + a + " b=" + b);
                        assertEquals(-1, d[b].mismatch(orig[b]), "2 data, n=" + n + " a=" + a + " b=" + b);
                    }
                }
            }
        }
    }

    @Test
    void isalIsPresentAndByteEqualToJava() {
        assertTrue(IsalLibrary.AVAILABLE, "libisal.so.2 must load here (scripts/install-deps installs libisal-dev)");
        IsalParity isal = new IsalParity();
        try (Arena arena = Arena.ofConfined()) {
            for (int n = 2; n <= 24; n += (n < 10 ? 1 : 7)) {
                for (long bytes : new long[] {64, 128, 4096, 65536, 64 * 1000}) {
                    MemorySegment[] d = blocks(arena, n, bytes, 64);
                    MemorySegment[] out = blocks(arena, 9, bytes, 64);
                    long before = isal.nativeCalls();
                    isal.pq(d, n, out[0], out[1], bytes);
                    javaParity.pq(d, n, out[2], out[3], bytes);
                    assertEquals(-1, out[0].mismatch(out[2]), "P n=" + n + " bytes=" + bytes);
                    assertEquals(-1, out[1].mismatch(out[3]), "Q n=" + n + " bytes=" + bytes);
                    isal.xor(d, n, out[4], bytes);
                    javaParity.xor(d, n, out[5], bytes);
                    assertEquals(-1, out[4].mismatch(out[5]), "XOR n=" + n + " bytes=" + bytes);
                    assertEquals(-1, out[4].mismatch(out[0]));
                    assertEquals(before + 2, isal.nativeCalls(), "ISA-L itself computed both, n=" + n);
                    vectorParity.pq(d, n, out[6], out[7], bytes);
                    vectorParity.xor(d, n, out[8], bytes);
                    assertEquals(-1, out[0].mismatch(out[6]), "vector P n=" + n + " bytes=" + bytes);
                    assertEquals(-1, out[1].mismatch(out[7]), "vector Q n=" + n + " bytes=" + bytes);
                    assertEquals(-1, out[4].mismatch(out[8]), "vector XOR n=" + n + " bytes=" + bytes);
                }
            }
            // Unaligned buffers and odd lengths take the Java path inside IsalParity: same bytes.
            MemorySegment base = arena.allocate(4096 + 64, 64);
            MemorySegment[] d = {base.asSlice(8, 1000), blocks(arena, 1, 1000, 8)[0], blocks(arena, 1, 1000, 8)[0]};
            MemorySegment[] out = blocks(arena, 4, 1000, 64);
            long before = isal.nativeCalls();
            isal.pq(d, 3, out[0], out[1], 1000);
            assertEquals(before, isal.nativeCalls(), "unaligned input must not reach ISA-L");
            javaParity.pq(d, 3, out[2], out[3], 1000);
            assertEquals(-1, out[0].mismatch(out[2]));
            assertEquals(-1, out[1].mismatch(out[3]));
        }
    }

    /** Bytes this thread allocated (HotSpot's com.sun.management extension). */
    private static long allocated() {
        return ((com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean())
                .getCurrentThreadAllocatedBytes();
    }

    @Test
    void hotPathsAllocateNothing() {
        try (Arena arena = Arena.ofConfined()) {
            int n = 6;
            long bytes = 8192;
            MemorySegment[] d = blocks(arena, n, bytes, 64);
            MemorySegment p = arena.allocate(bytes, 64);
            MemorySegment q = arena.allocate(bytes, 64);
            ParityEngine isal = new IsalParity();
            ParityGeometry g = ParityGeometry.of(RaidLevel.RAID6, ParityLayout.LEFT_SYMMETRIC, 128,
                    1 << 20, 1 << 20, 1 << 20, 1 << 20, 1 << 20, 1 << 20, 1 << 20, 1 << 20);
            MemberAddress a = new MemberAddress();
            MemorySegment[] slots = new MemorySegment[8];
            MemorySegment[] members = new MemorySegment[8];
            System.arraycopy(d, 0, members, 0, n);
            members[6] = p;
            members[7] = q;
            Runnable round = () -> {
                javaParity.pq(d, n, p, q, bytes);
                javaParity.xor(d, n, p, bytes);
                vectorParity.pq(d, n, p, q, bytes);
                vectorParity.xor(d, n, p, bytes);
                isal.pq(d, n, p, q, bytes);
                isal.xor(d, n, p, bytes);
                Raid6Recovery.twoData(d, n, 1, 4, p, q, bytes);
                for (long s = 0; s < 64; s++) {
                    g.map(s * 1000 + 7, a);
                    g.syndromeSources(s, members, p, slots);
                }
            };
            for (int i = 0; i < 3000; i++) {
                round.run(); // warm up: let C2 compile the paths before measuring
            }
            long before = allocated();
            for (int i = 0; i < 1000; i++) {
                round.run();
            }
            long perRound = (allocated() - before) / 1000;
            assertEquals(0, perRound, "bytes allocated per round of parity, recovery and mapping calls");
        }
    }
}
