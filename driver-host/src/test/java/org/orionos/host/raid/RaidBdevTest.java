package org.orionos.host.raid;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.orionos.bindings.Errno;
import org.orionos.host.bdev.BdevClient;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BdevOp;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.ModelWorkload;
import org.orionos.host.bdev.backend.ErrorBdev;
import org.orionos.host.bdev.backend.MemoryBdev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every level and layout under the byte-exact random-I/O model, on two reactors at once (their
 * regions share a stripe, so the home-reactor hand-off and stripe lock are exercised), healthy and
 * with failed members in every position (RAID6: every pair). Failed members are error-injection
 * devices that fail every I/O, so the array finds out through real I/O errors. After healthy runs,
 * the members are read raw and every stripe's parity is recomputed from the data with md's layout.
 */
class RaidBdevTest {
    private static final long REGION = 1L << 20;
    private static final int CHUNK_SECTORS = 128; // 64 KiB
    private static final long DATA_OFFSET = 128 * 1024;
    private static final long MEMBER_DATA = 2L << 20;

    /** One array under test and its members. */
    record Array(RaidBdev raid, ErrorBdev[] errs, MemoryBdev[] mems) implements AutoCloseable {
        @Override
        public void close() {
            raid.close();
            for (ErrorBdev e : errs) {
                e.close();
            }
            for (MemoryBdev m : mems) {
                m.close();
            }
        }
    }

    static Array build(String name, int n, java.util.function.Function<long[], RaidGeometry> geo) {
        MemoryBdev[] mems = new MemoryBdev[n];
        ErrorBdev[] errs = new ErrorBdev[n];
        BlockDevice[] members = new BlockDevice[n];
        long[] sizes = new long[n];
        for (int i = 0; i < n; i++) {
            mems[i] = new MemoryBdev(name + "-m" + i, DATA_OFFSET + MEMBER_DATA, 4096);
            errs[i] = new ErrorBdev(name + "-e" + i, mems[i]);
            members[i] = errs[i];
            sizes[i] = MEMBER_DATA / 512;
        }
        return new Array(new RaidBdev(name, geo.apply(sizes), members, DATA_OFFSET), errs, mems);
    }

    static void runModel(BdevHost host, BlockDevice dev, long ops, int qd, long seed) throws Exception {
        try (Arena arena = Arena.ofShared()) {
            List<ModelWorkload> loads = new ArrayList<>();
            for (int i = 0; i < host.reactorCount(); i++) {
                loads.add(new ModelWorkload(host.context(i), dev, i * REGION, REGION, ops, qd, seed + i, false, arena));
            }
            loads.forEach(ModelWorkload::start);
            for (ModelWorkload w : loads) {
                assertNull(w.done.get(120, TimeUnit.SECONDS));
                assertTrue(w.reads > ops / 5 && w.writes > ops / 5 && w.vectored > 0,
                        "workload mix: reads " + w.reads + " writes " + w.writes + " vectored " + w.vectored);
            }
        }
    }

    static Stream<Arguments> parityCases() {
        List<Arguments> out = new ArrayList<>();
        for (ParityLayout l : ParityLayout.values()) {
            if (!l.raid6Only()) {
                out.add(Arguments.of(RaidLevel.RAID5, l, 4));
            }
            out.add(Arguments.of(RaidLevel.RAID6, l, 5));
        }
        return out.stream();
    }

    private static java.util.function.Function<long[], RaidGeometry> parityGeo(RaidLevel level, ParityLayout l) {
        return s -> ParityGeometry.of(level, l, CHUNK_SECTORS, s);
    }

    @ParameterizedTest(name = "{0} {1} x{2}")
    @MethodSource("parityCases")
    void parityArraysMatchTheModelHealthyAndWithEveryFailedMember(RaidLevel level, ParityLayout layout, int n)
            throws Exception {
        try (BdevHost host = BdevHost.start(2, 32 << 20)) {
            try (Array a = build("md", n, parityGeo(level, layout))) {
                runModel(host, a.raid(), 1200, 8, 7);
                assertEquals(0, a.raid().failedMask());
                assertParityConsistent(host, a);
            }
            for (int d = 0; d < n; d++) {
                try (Array a = build("md", n, parityGeo(level, layout))) {
                    a.errs()[d].inject(ErrorBdev.Rule.fail(ErrorBdev.ALL_OPS, Errno.EIO, -1));
                    runModel(host, a.raid(), 600, 8, 100 + d);
                    assertEquals(1L << d, a.raid().failedMask(), "member " + d + " failed");
                }
            }
        }
    }

    static Stream<Arguments> raid6PairLayouts() {
        return Stream.of(ParityLayout.LEFT_SYMMETRIC, ParityLayout.ROTATING_N_CONTINUE, ParityLayout.ROTATING_ZERO_RESTART,
                ParityLayout.LEFT_ASYMMETRIC_6, ParityLayout.PARITY_N).map(Arguments::of);
    }

    @ParameterizedTest
    @MethodSource("raid6PairLayouts")
    void raid6SurvivesEveryPairOfFailedMembers(ParityLayout layout) throws Exception {
        int n = 5;
        try (BdevHost host = BdevHost.start(2, 32 << 20)) {
            for (int x = 0; x < n; x++) {
                for (int y = x + 1; y < n; y++) {
                    try (Array a = build("md", n, parityGeo(RaidLevel.RAID6, layout))) {
                        a.errs()[x].inject(ErrorBdev.Rule.fail(ErrorBdev.ALL_OPS, Errno.EIO, -1));
                        a.errs()[y].inject(ErrorBdev.Rule.fail(ErrorBdev.ALL_OPS, Errno.EIO, -1));
                        runModel(host, a.raid(), 400, 8, 50 + x * n + y);
                        assertEquals((1L << x) | (1L << y), a.raid().failedMask(), "pair " + x + "," + y);
                    }
                }
            }
        }
    }

    @Test
    void dataWrittenHealthyIsReadBackAfterMembersFail() throws Exception {
        try (BdevHost host = BdevHost.start(1, 32 << 20); Arena arena = Arena.ofShared();
             Array a = build("md", 5, parityGeo(RaidLevel.RAID6, ParityLayout.LEFT_SYMMETRIC))) {
            BdevClient c = host.client();
            long size = a.raid().sizeBytes();
            MemorySegment w = arena.allocate(size, 4096);
            SplittableRandom rnd = new SplittableRandom(3);
            for (long i = 0; i < size; i += 8) {
                w.set(java.lang.foreign.ValueLayout.JAVA_LONG, i, rnd.nextLong());
            }
            c.write(a.raid(), 0, w, 0).get(30, TimeUnit.SECONDS);
            MemorySegment back = arena.allocate(size, 4096);
            for (int[] pair : new int[][] {{0, 3}, {1, 2}}) {
                for (int d : pair) {
                    a.errs()[d].inject(ErrorBdev.Rule.fail(1 << BdevOp.READ, Errno.EIO, -1));
                }
                back.fill((byte) 0);
                c.read(a.raid(), 0, back).get(30, TimeUnit.SECONDS);
                assertEquals(-1L, w.mismatch(back), "read with members " + pair[0] + "," + pair[1] + " unreadable");
                for (int d : pair) {
                    a.errs()[d].clear();
                }
            }
            // Read errors were repaired by rewriting, not by failing the members.
            assertEquals(0, a.raid().failedMask());
            assertParityConsistent(host, a);
        }
    }

    static Stream<Arguments> failingMemberCases() {
        int w = 1 << BdevOp.WRITE;
        int rw = w | 1 << BdevOp.READ;
        return Stream.of(
                Arguments.of("raid5", 4, 2, w), Arguments.of("raid5", 4, 0, w), Arguments.of("raid5", 4, 3, rw),
                Arguments.of("raid6", 5, 1, w), Arguments.of("raid6", 5, 4, w), Arguments.of("raid6", 6, 2, rw),
                Arguments.of("raid1", 2, 1, w), Arguments.of("raid1", 3, 0, rw),
                Arguments.of("raid10", 4, 1, w), Arguments.of("raid10", 3, 2, rw));
    }

    private static java.util.function.Function<long[], RaidGeometry> geoOf(String kind) {
        return switch (kind) {
            case "raid5" -> parityGeo(RaidLevel.RAID5, ParityLayout.LEFT_SYMMETRIC);
            case "raid6" -> parityGeo(RaidLevel.RAID6, ParityLayout.LEFT_SYMMETRIC);
            case "raid1" -> Raid1Geometry::of;
            case "raid10" -> s -> Raid10Geometry.near(2, CHUNK_SECTORS, s);
            default -> throw new IllegalArgumentException(kind);
        };
    }

    /**
     * A member that starts failing part-way through concurrent I/O on two reactors; the other
     * members are slowed at random so the failure lands at every phase of in-flight operations
     * (reading for read-modify-write or reconstruct-write, computing, writing, read repair). Many
     * seeds; {@code -Dorion.raid.stressRounds=N} runs more. The model checks every byte read back.
     */
    @ParameterizedTest(name = "{0} x{1}, member {2} fails ops {3}")
    @MethodSource("failingMemberCases")
    void aMemberFailingInTheMiddleOfConcurrentIoIsDroppedWithoutLosingData(String kind, int n, int bad, int ops)
            throws Exception {
        int rounds = Integer.getInteger("orion.raid.stressRounds", 8);
        int dropped = 0;
        try (BdevHost host = BdevHost.start(2, 32 << 20)) {
            for (int round = 0; round < rounds; round++) {
                try (Array a = build("md", n, geoOf(kind))) {
                    for (int d = 0; d < n; d++) {
                        if (d != bad) {
                            a.errs()[d].inject(ErrorBdev.Rule.delay(ErrorBdev.ALL_OPS, 50 + 37 * d, 0.3));
                        }
                    }
                    a.errs()[bad].inject(new ErrorBdev.Rule(ops, ErrorBdev.Kind.FAIL, Errno.EIO, -1,
                            0.01 + 0.01 * (round % 4), 0));
                    runModel(host, a.raid(), 1500, 16, 11 + 1000L * round);
                    // Parity levels repair a failed read by rewriting, so only a failed write must drop the member.
                    long failedWrites = a.errs()[bad].injected();
                    if (ops == 1 << BdevOp.WRITE || kind.equals("raid1") || kind.equals("raid10")) {
                        assertEquals(failedWrites > 0 ? 1L << bad : 0, a.raid().failedMask(), "round " + round);
                    } else {
                        assertEquals(0, a.raid().failedMask() & ~(1L << bad), "round " + round);
                    }
                    dropped += a.raid().failedMask() != 0 ? 1 : 0;
                }
            }
        }
        assertTrue(dropped >= rounds / 2, "the member failed in only " + dropped + " of " + rounds + " rounds");
    }

    static Stream<Arguments> copyCases() {
        return Stream.of(
                Arguments.of("raid0", 3), Arguments.of("raid1", 2), Arguments.of("raid1", 3),
                Arguments.of("raid10", 4), Arguments.of("raid10", 3), Arguments.of("raid10n3", 4));
    }

    @ParameterizedTest(name = "{0} x{1}")
    @MethodSource("copyCases")
    void copyLevelsMatchTheModelHealthyAndWithEveryFailedMember(String kind, int n) throws Exception {
        java.util.function.Function<long[], RaidGeometry> geo = switch (kind) {
            case "raid0" -> s -> Raid0Geometry.of(CHUNK_SECTORS, s);
            case "raid1" -> Raid1Geometry::of;
            case "raid10" -> s -> Raid10Geometry.near(2, CHUNK_SECTORS, s);
            default -> s -> Raid10Geometry.near(3, CHUNK_SECTORS, s);
        };
        try (BdevHost host = BdevHost.start(2, 32 << 20)) {
            try (Array a = build("md", n, geo)) {
                runModel(host, a.raid(), 1500, 8, 5);
                assertCopiesConsistent(host, a);
            }
            if (kind.equals("raid0")) {
                return;
            }
            for (int d = 0; d < n; d++) {
                try (Array a = build("md", n, geo)) {
                    a.errs()[d].inject(ErrorBdev.Rule.fail(ErrorBdev.ALL_OPS, Errno.EIO, -1));
                    runModel(host, a.raid(), 600, 8, 200 + d);
                    assertEquals(1L << d, a.raid().failedMask(), "member " + d + " failed");
                }
            }
        }
    }

    @Test
    void raid50NestsRaid5GroupsUnderRaid0() throws Exception {
        try (BdevHost host = BdevHost.start(2, 32 << 20);
             Array g0 = build("g0", 3, parityGeo(RaidLevel.RAID5, ParityLayout.LEFT_SYMMETRIC));
             Array g1 = build("g1", 3, parityGeo(RaidLevel.RAID5, ParityLayout.LEFT_SYMMETRIC))) {
            long outerOffset = 64 * 1024;
            long groupSectors = (g0.raid().sizeBytes() - outerOffset) / 512;
            RaidBdev r50 = new RaidBdev("md50", Raid0Geometry.of(CHUNK_SECTORS, groupSectors, groupSectors),
                    new BlockDevice[] {g0.raid(), g1.raid()}, outerOffset);
            try {
                g1.errs()[1].inject(ErrorBdev.Rule.fail(ErrorBdev.ALL_OPS, Errno.EIO, -1));
                runModel(host, r50, 1500, 8, 21);
                assertEquals(1L << 1, g1.raid().failedMask());
                assertEquals(0, g0.raid().failedMask());
            } finally {
                r50.close();
            }
        }
    }

    /** Reads every member raw and checks P (and Q) of every stripe against md's math over its data. */
    static void assertParityConsistent(BdevHost host, Array a) throws Exception {
        ParityGeometry g = (ParityGeometry) a.raid().geometry();
        int n = g.raidDisks();
        long chunk = g.chunkSectors() * 512L;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment[] raw = new MemorySegment[n];
            for (int d = 0; d < n; d++) {
                raw[d] = arena.allocate(MEMBER_DATA, 4096);
                host.client().read(a.mems()[d], DATA_OFFSET, raw[d]).get(30, TimeUnit.SECONDS);
            }
            MemorySegment zero = arena.allocate(chunk, 4096);
            MemorySegment p = arena.allocate(chunk, 4096);
            MemorySegment q = arena.allocate(chunk, 4096);
            MemorySegment[] blocks = new MemorySegment[n];
            MemorySegment[] slots = new MemorySegment[n];
            MemorySegment[] xs = new MemorySegment[n];
            JavaParity engine = new JavaParity();
            for (long s = 0; s < g.stripes(); s++) {
                for (int d = 0; d < n; d++) {
                    blocks[d] = raw[d].asSlice(s * chunk, chunk);
                }
                int pd = g.parityDisk(s);
                int qd = g.qDisk(s);
                if (qd < 0) {
                    int k = 0;
                    for (int d = 0; d < n; d++) {
                        if (d != pd) {
                            xs[k++] = blocks[d];
                        }
                    }
                    engine.xor(xs, k, p, chunk);
                } else {
                    int count = g.syndromeSources(s, blocks, zero, slots);
                    engine.pq(slots, count, p, q, chunk);
                    assertEquals(-1L, q.mismatch(blocks[qd]), "Q of stripe " + s);
                }
                assertEquals(-1L, p.mismatch(blocks[pd]), "P of stripe " + s);
            }
        }
    }

    /** Every copy of every chunk holds the same bytes. */
    static void assertCopiesConsistent(BdevHost host, Array a) throws Exception {
        RaidGeometry g = a.raid().geometry();
        int n = g.raidDisks();
        try (Arena arena = Arena.ofShared()) {
            MemorySegment[] raw = new MemorySegment[n];
            for (int d = 0; d < n; d++) {
                raw[d] = arena.allocate(MEMBER_DATA, 4096);
                host.client().read(a.mems()[d], DATA_OFFSET, raw[d]).get(30, TimeUnit.SECONDS);
            }
            MemorySegment whole = arena.allocate(a.raid().sizeBytes(), 4096);
            host.client().read(a.raid(), 0, whole).get(30, TimeUnit.SECONDS);
            MemberAddress m = new MemberAddress();
            for (long sector = 0; sector < g.arraySectors(); sector += 8) {
                for (int c = 0; c < g.copies(); c++) {
                    g.map(sector, c, m);
                    MemorySegment onMember = raw[m.disk].asSlice(m.sector * 512, 4096);
                    assertEquals(-1L, onMember.mismatch(whole.asSlice(sector * 512, 4096)),
                            "sector " + sector + " copy " + c + " on member " + m.disk);
                }
            }
        }
    }
}
