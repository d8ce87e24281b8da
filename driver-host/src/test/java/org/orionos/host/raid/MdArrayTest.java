package org.orionos.host.raid;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.bdev.BdevClient;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BdevOp;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.Claim;
import org.orionos.host.bdev.ModelWorkload;
import org.orionos.host.bdev.backend.ErrorBdev;
import org.orionos.host.bdev.backend.MemoryBdev;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Arrays with md metadata on memory members: create, assemble from superblocks, refusals before
 * any write, a member failing under load with a spare taking over (rebuild while the model
 * workload writes), a stale member rebuilt at assembly, and check/repair of a corrupted member.
 */
class MdArrayTest {
    private static final long DATA = 2L << 20;
    private static final long META = MdNewArray.DEFAULT_DATA_OFFSET * 512;
    private static final int CHUNK = 128; // 64 KiB
    private static final long FAST = 1L << 40;

    /** Memory devices under error-injection devices (the array sees the error devices). */
    static final class Devs implements AutoCloseable {
        final MemoryBdev[] mem;
        final ErrorBdev[] err;

        Devs(String prefix, int n, long size) {
            mem = new MemoryBdev[n];
            err = new ErrorBdev[n];
            for (int i = 0; i < n; i++) {
                mem[i] = new MemoryBdev(prefix + "m" + i, size, 4096);
                err[i] = new ErrorBdev(prefix + i, mem[i]);
            }
        }

        List<BlockDevice> list(int from, int to) {
            return new ArrayList<>(List.of(err).subList(from, to));
        }

        @Override
        public void close() {
            for (int i = 0; i < err.length; i++) {
                err[i].close();
                mem[i].close();
            }
        }
    }

    private static MdArray create(BdevHost host, Devs d, RaidLevel level, int members, int spares, long rate) {
        return MdArray.create(host, "md0", new MdArray.CreateOptions(level, null, CHUNK, false),
                d.list(0, members), d.list(members, members + spares), rate);
    }

    private static MemorySegment random(Arena arena, long size, long seed) {
        MemorySegment w = arena.allocate(size, 4096);
        SplittableRandom rnd = new SplittableRandom(seed);
        for (long i = 0; i < size; i += 8) {
            w.set(ValueLayout.JAVA_LONG, i, rnd.nextLong());
        }
        return w;
    }

    private static void assertContent(BdevHost host, BlockDevice dev, MemorySegment expect) throws Exception {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment back = arena.allocate(expect.byteSize(), 4096);
            host.client().read(dev, 0, back).get(30, TimeUnit.SECONDS);
            assertEquals(-1L, expect.mismatch(back), "array content");
        }
    }

    /** P (and Q) of every stripe, read raw from the members in their current roles. */
    private static void assertParity(BdevHost host, RaidBdev raid) throws Exception {
        ParityGeometry g = (ParityGeometry) raid.geometry();
        long chunk = g.chunkSectors() * 512L;
        JavaParity engine = new JavaParity();
        try (Arena arena = Arena.ofShared()) {
            MemorySegment[] raw = new MemorySegment[g.raidDisks()];
            for (int d = 0; d < raw.length; d++) {
                raw[d] = arena.allocate(g.memberSectors() * 512, 4096);
                host.client().read(raid.member(d), META, raw[d]).get(30, TimeUnit.SECONDS);
            }
            MemorySegment zero = arena.allocate(chunk, 4096);
            MemorySegment p = arena.allocate(chunk, 4096);
            MemorySegment q = arena.allocate(chunk, 4096);
            MemorySegment[] blocks = new MemorySegment[raw.length];
            MemorySegment[] slots = new MemorySegment[raw.length];
            for (long s = 0; s < g.stripes(); s++) {
                for (int d = 0; d < raw.length; d++) {
                    blocks[d] = raw[d].asSlice(s * chunk, chunk);
                }
                int pd = g.parityDisk(s);
                int qd = g.qDisk(s);
                if (qd < 0) {
                    int k = 0;
                    for (int d = 0; d < raw.length; d++) {
                        if (d != pd) {
                            slots[k++] = blocks[d];
                        }
                    }
                    engine.xor(slots, k, p, chunk);
                } else {
                    engine.pq(slots, g.syndromeSources(s, blocks, zero, slots), p, q, chunk);
                    assertEquals(-1L, q.mismatch(blocks[qd]), "Q of stripe " + s);
                }
                assertEquals(-1L, p.mismatch(blocks[pd]), "P of stripe " + s);
            }
        }
    }

    /** The byte-exact model on each reactor over its own 1 MiB region starting at {@code base}. */
    private static void runModel(BdevHost host, BlockDevice dev, long base, long ops, long seed) throws Exception {
        try (Arena arena = Arena.ofShared()) {
            List<ModelWorkload> loads = new ArrayList<>();
            for (int i = 0; i < host.reactorCount(); i++) {
                loads.add(new ModelWorkload(host.context(i), dev, base + i * (1L << 20), 1L << 20, ops, 8, seed + i, false, arena));
            }
            loads.forEach(ModelWorkload::start);
            for (ModelWorkload w : loads) {
                assertNull(w.done.get(120, TimeUnit.SECONDS));
            }
        }
    }

    /**
     * The rebuild racing foreground writes: a model workload runs on fresh regions while the
     * rebuild (slowed to 2 MB/s) is known to be running, every round, every redundant level.
     * {@code -Dorion.raid.rebuildRounds=N} runs more rounds.
     */
    @Test
    void foregroundIoStaysExactWhileTheRebuildRuns() throws Exception {
        int rounds = Integer.getInteger("orion.raid.rebuildRounds", 1);
        for (int round = 0; round < rounds; round++) {
            for (RaidLevel level : new RaidLevel[] {RaidLevel.RAID5, RaidLevel.RAID6, RaidLevel.RAID1, RaidLevel.RAID10}) {
                int n = switch (level) {
                    case RAID6 -> 5;
                    case RAID1 -> 4; // a 4-way mirror, so its 2 MiB hold two model regions
                    default -> 4;
                };
                long data = level == RaidLevel.RAID1 ? 4L << 20 : DATA;
                try (BdevHost host = BdevHost.start(2, 32 << 20); Devs d = new Devs("w", n + 1, META + data)) {
                    try (MdArray a = create(host, d, level, n, 1, 2L << 20)) {
                        a.start();
                        assertTrue(a.awaitIdle(Duration.ofSeconds(60)));
                        d.err[2].inject(new ErrorBdev.Rule(ErrorBdev.ALL_OPS, ErrorBdev.Kind.FAIL, Errno.EIO, -1, 1.0, 0));
                        runModel(host, a.bdev(), 0, 500, 100 + round);
                        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                        while (a.progress() == null || !a.progress().kind().equals("rebuild")) {
                            assertTrue(System.nanoTime() < end, level + ": no rebuild started");
                            Thread.sleep(5);
                        }
                        double atStart = a.progress().percent();
                        assertTrue(a.progress().running() && atStart < 100.0,
                                level + ": the rebuild must still be running when the workload starts (at " + atStart + "%)");
                        runModel(host, a.bdev(), 2L << 20, 2500, 200 + round);
                        assertTrue(a.awaitIdle(Duration.ofSeconds(60)));
                        assertEquals(0, a.bdev().failedMask(), level + " round " + round);
                        assertSynced(host, a.bdev());
                    }
                }
            }
        }
    }

    /** Parity levels: P/Q of every stripe; copy levels: every copy of every sector equal. */
    private static void assertSynced(BdevHost host, RaidBdev raid) throws Exception {
        if (raid.geometry() instanceof ParityGeometry) {
            assertParity(host, raid);
            return;
        }
        RaidGeometry g = raid.geometry();
        try (Arena arena = Arena.ofShared()) {
            MemorySegment[] raw = new MemorySegment[g.raidDisks()];
            for (int d = 0; d < raw.length; d++) {
                raw[d] = arena.allocate(g.memberSectors() * 512, 4096);
                host.client().read(raid.member(d), META, raw[d]).get(30, TimeUnit.SECONDS);
            }
            MemberAddress m = new MemberAddress();
            for (long sector = 0; sector < g.arraySectors(); sector += 8) {
                g.map(sector, 0, m);
                MemorySegment first = raw[m.disk].asSlice(m.sector * 512, 4096);
                for (int c = 1; c < g.copies(); c++) {
                    g.map(sector, c, m);
                    assertEquals(-1L, first.mismatch(raw[m.disk].asSlice(m.sector * 512, 4096)),
                            "sector " + sector + " copy " + c + " on member " + m.disk);
                }
            }
        }
    }

    @Test
    void createdArrayIsAssembledFromItsSuperblocksWithTheSameContent() throws Exception {
        try (BdevHost host = BdevHost.start(2, 32 << 20); Devs d = new Devs("a", 5, META + DATA);
             Arena arena = Arena.ofShared()) {
            MemorySegment w;
            long events;
            try (MdArray a = create(host, d, RaidLevel.RAID6, 4, 1, FAST)) {
                a.start();
                assertTrue(a.awaitIdle(Duration.ofSeconds(60)));
                assertEquals("resync", a.progress().kind());
                assertEquals(100.0, a.progress().percent());
                w = random(arena, a.bdev().sizeBytes(), 1);
                host.client().write(a.bdev(), 0, w, 0).get(30, TimeUnit.SECONDS);
                events = a.events();
            }
            BdevClient c = host.client();
            for (int i = 0; i < 5; i++) {
                MdSuperblock1 sb = MdArray.readSuperblock(c, d.err[i]);
                assertNotNull(sb);
                assertEquals(events + 1, sb.events, "a clean close raises the event count once");
                assertEquals(i < 4 ? i : MdSuperblock1.MD_DISK_ROLE_SPARE, sb.role());
                assertEquals(MdSuperblock1.MAX_SECTOR, sb.resyncOffset, "resync finished and recorded");
            }
            // Given in another order, with the spare first: roles come from the superblocks.
            List<BlockDevice> shuffled = List.of(d.err[4], d.err[2], d.err[0], d.err[3], d.err[1]);
            try (MdArray a = MdArray.assemble(host, "md0", shuffled, List.of(),
                    new MdArray.Expect(RaidLevel.RAID6, 4, CHUNK), FAST)) {
                assertTrue(a.awaitIdle(Duration.ofSeconds(30)));
                assertEquals(0, a.bdev().failedMask());
                assertEquals(List.of(d.err[4]), a.spares());
                for (int r = 0; r < 4; r++) {
                    assertEquals(d.err[r], a.bdev().member(r));
                }
                assertContent(host, a.bdev(), w);
                assertParity(host, a.bdev());
            }
            ErrnoException e = assertThrows(ErrnoException.class, () -> MdArray.assemble(host, "md0", d.list(0, 4),
                    List.of(), new MdArray.Expect(RaidLevel.RAID5, 4, CHUNK), FAST));
            assertTrue(e.getMessage().contains("the config says raid5 but the superblocks say raid6"), e.getMessage());
            e = assertThrows(ErrnoException.class, () -> MdArray.assemble(host, "md0", d.list(0, 4),
                    List.of(), new MdArray.Expect(RaidLevel.RAID6, 4, 1024), FAST));
            assertTrue(e.getMessage().contains("chunk 512K but the superblocks say 64K"), e.getMessage());
            e = assertThrows(ErrnoException.class, () -> MdArray.assemble(host, "md0", d.list(0, 1),
                    List.of(), null, FAST));
            assertTrue(e.getMessage().contains("3 members missing; raid6 survives at most 2"), e.getMessage());
        }
    }

    @Test
    void badRequestsAreRefusedBeforeAnythingIsWritten() throws Exception {
        MemoryBdev big = new MemoryBdev("big", META + 2 * DATA, 4096);
        try (BdevHost host = BdevHost.start(1, 32 << 20); Devs d = new Devs("b", 4, META + DATA);
             Arena arena = Arena.ofShared()) {
            BdevClient c = host.client();
            ErrnoException e = assertThrows(ErrnoException.class, () -> create(host, d, RaidLevel.RAID6, 3, 0, FAST));
            assertTrue(e.getMessage().contains("raid6 needs at least 4 members, 3 given"), e.getMessage());
            List<BlockDevice> mixed = new ArrayList<>(d.list(0, 2));
            mixed.add(big);
            e = assertThrows(ErrnoException.class, () -> MdArray.create(host, "md0",
                    new MdArray.CreateOptions(RaidLevel.RAID5, null, CHUNK, false), mixed, List.of(), FAST));
            assertTrue(e.getMessage().contains("member sizes differ"), e.getMessage());
            Claim held = d.err[2].claim("lvm vg0", true, () -> { });
            e = assertThrows(ErrnoException.class, () -> create(host, d, RaidLevel.RAID5, 4, 0, FAST));
            assertEquals(Errno.EBUSY, e.errno());
            assertTrue(e.getMessage().contains("already claimed by lvm vg0"), e.getMessage());
            held.close();
            MemorySegment label = arena.allocate(4096, 4096);
            label.setString(512, "LABELONE");
            c.write(d.err[3], 0, label, 0).get(10, TimeUnit.SECONDS);
            e = assertThrows(ErrnoException.class, () -> create(host, d, RaidLevel.RAID5, 4, 0, FAST));
            assertTrue(e.getMessage().contains("LVM2 physical volume label"), e.getMessage());
            for (int i = 0; i < 4; i++) {
                assertNull(MdArray.readSuperblock(c, d.err[i]), "nothing written to " + d.err[i].name());
                assertTrue(d.err[i].claims().isEmpty(), "no claim left on " + d.err[i].name());
            }
            label.fill((byte) 0);
            c.write(d.err[3], 0, label, 0).get(10, TimeUnit.SECONDS);
            create(host, d, RaidLevel.RAID5, 4, 0, FAST).close();
            e = assertThrows(ErrnoException.class, () -> create(host, d, RaidLevel.RAID5, 4, 0, FAST));
            assertTrue(e.getMessage().contains("already carries an md superblock"), e.getMessage());
        } finally {
            big.close();
        }
    }

    @Test
    void aFailingMemberIsReplacedByTheSpareWhileTheModelWrites() throws Exception {
        for (RaidLevel level : new RaidLevel[] {RaidLevel.RAID5, RaidLevel.RAID6, RaidLevel.RAID1, RaidLevel.RAID10}) {
            int n = switch (level) {
                case RAID6 -> 5;
                case RAID1 -> 2;
                default -> 4;
            };
            try (BdevHost host = BdevHost.start(2, 32 << 20); Devs d = new Devs("c", n + 1, META + DATA)) {
                // 32 stripes of n x 64 KiB at 6 MB/s: the rebuild takes about a second, while the model runs.
                try (MdArray a = create(host, d, level, n, 1, 6L << 20)) {
                    a.start();
                    assertTrue(a.awaitIdle(Duration.ofSeconds(60)));
                    d.err[1].inject(new ErrorBdev.Rule(ErrorBdev.ALL_OPS, ErrorBdev.Kind.FAIL, Errno.EIO, -1, 1.0, 0));
                    RaidBdevTest.runModel(host, a.bdev(), 3000, 8, 31);
                    assertTrue(a.awaitIdle(Duration.ofSeconds(60)));
                    MdArray.Progress p = a.progress();
                    assertEquals("rebuild", p.kind(), level + ": " + p);
                    assertEquals(100.0, p.percent(), level + ": " + p);
                    assertTrue(p.mbPerSec() > 0 && p.mbPerSec() < 12, level + ": rate limited: " + p);
                    assertEquals(0, a.bdev().failedMask(), level + " after rebuild");
                    assertEquals(0, a.bdev().recoveringMask());
                    assertEquals(d.err[n], a.bdev().member(1), level + ": the spare took role 1");
                    assertTrue(a.spares().isEmpty());
                    assertSynced(host, a.bdev());
                    // The same content when role 0 is gone and the rebuilt role 1 serves its reads or reconstructions.
                    try (Arena arena = Arena.ofShared()) {
                        MemorySegment before = arena.allocate(a.bdev().sizeBytes(), 4096);
                        host.client().read(a.bdev(), 0, before).get(30, TimeUnit.SECONDS);
                        a.fail(0);
                        assertContent(host, a.bdev(), before);
                    }
                }
                BdevClient c = host.client();
                d.err[1].clear();
                MdSuperblock1 failed = MdArray.readSuperblock(c, d.err[1]);
                MdSuperblock1 spare = MdArray.readSuperblock(c, d.err[n]);
                assertTrue(spare.events > failed.events, "the failed member's superblock is behind");
                assertEquals(1, spare.role());
                assertEquals(MdSuperblock1.MD_DISK_ROLE_FAULTY, spare.devRoles[failed.devNumber]);
                assertEquals(0, spare.featureMap & MdSuperblock1.MD_FEATURE_RECOVERY_OFFSET);
                // Assembled again with every device: the faulty ones are left out, nothing is rebuilt.
                try (MdArray a = MdArray.assemble(host, "md0", d.list(0, n + 1), List.of(), null, FAST)) {
                    assertTrue(a.awaitIdle(Duration.ofSeconds(30)));
                    assertEquals(1L, a.bdev().failedMask());
                    assertEquals(d.err[n], a.bdev().member(1));
                }
            }
        }
    }

    @Test
    void aMemberWithAStaleEventCountIsRebuiltNotTrusted() throws Exception {
        try (BdevHost host = BdevHost.start(1, 32 << 20); Devs d = new Devs("s", 4, META + DATA);
             Arena arena = Arena.ofShared()) {
            try (MdArray a = create(host, d, RaidLevel.RAID5, 4, 0, FAST)) {
                a.start();
                assertTrue(a.awaitIdle(Duration.ofSeconds(30)));
                host.client().write(a.bdev(), 0, random(arena, a.bdev().sizeBytes(), 5), 0).get(30, TimeUnit.SECONDS);
            }
            MemorySegment w;
            // Member 2 is away while the array runs degraded and is written.
            try (MdArray a = MdArray.assemble(host, "md0", List.of(d.err[0], d.err[1], d.err[3]), List.of(), null, FAST)) {
                assertTrue(a.awaitIdle(Duration.ofSeconds(30)));
                assertEquals(1L << 2, a.bdev().failedMask());
                w = random(arena, a.bdev().sizeBytes(), 6);
                host.client().write(a.bdev(), 0, w, 0).get(30, TimeUnit.SECONDS);
            }
            BdevClient c = host.client();
            assertTrue(MdArray.readSuperblock(c, d.err[1]).events > MdArray.readSuperblock(c, d.err[2]).events);
            try (MdArray a = MdArray.assemble(host, "md0", d.list(0, 4), List.of(), null, FAST)) {
                assertTrue(a.awaitIdle(Duration.ofSeconds(30)));
                assertEquals("rebuild", a.progress().kind());
                assertEquals(0, a.bdev().failedMask());
                assertEquals(d.err[2], a.bdev().member(2));
                assertParity(host, a.bdev());
                assertContent(host, a.bdev(), w);
            }
            long events = MdArray.readSuperblock(c, d.err[0]).events;
            for (int i = 0; i < 4; i++) {
                assertEquals(events, MdArray.readSuperblock(c, d.err[i]).events, "member " + i + " in sync");
            }
        }
    }

    /**
     * A crash (kill -9) leaves what was on the members: captured raw while the array is open, with
     * one stripe torn (its parity, or RAID1's second copy, not written). The next assembly sees the
     * array was not shut down cleanly, resyncs, and check then finds nothing; the data is intact.
     */
    @Test
    void afterACrashTheNextAssemblyResyncsAndTornStripesAreMadeConsistent() throws Exception {
        for (RaidLevel level : new RaidLevel[] {RaidLevel.RAID5, RaidLevel.RAID1}) {
            int n = level == RaidLevel.RAID5 ? 4 : 2;
            try (BdevHost host = BdevHost.start(1, 32 << 20); Devs d = new Devs("x", n, META + DATA);
                 Arena arena = Arena.ofShared()) {
                BdevClient c = host.client();
                MemorySegment w;
                MemorySegment[] crash = new MemorySegment[n];
                try (MdArray a = create(host, d, level, n, 0, FAST)) {
                    a.start();
                    assertTrue(a.awaitIdle(Duration.ofSeconds(30)));
                    w = random(arena, a.bdev().sizeBytes(), 12);
                    c.write(a.bdev(), 0, w, 0).get(30, TimeUnit.SECONDS);
                    c.flush(a.bdev()).get(30, TimeUnit.SECONDS);
                    for (int i = 0; i < n; i++) {
                        crash[i] = arena.allocate(META + DATA, 4096);
                        c.read(d.mem[i], 0, crash[i]).get(30, TimeUnit.SECONDS);
                        assertEquals(0, MdSuperblock1.decode(crash[i].asSlice(4096, 4096), "m").resyncOffset,
                                "in use: not clean on disk");
                        MemorySegment bitmap = crash[i].asSlice(8192, 4096);
                        MdBitmap bh = MdBitmap.decode(bitmap, "m");
                        for (long k = 0; k < bh.bits(); k++) {
                            assertTrue(MdBitmap.isDirty(bitmap, k), "in use: every bitmap region dirty");
                        }
                    }
                }
                assertEquals(MdSuperblock1.MAX_SECTOR, MdArray.readSuperblock(c, d.err[0]).resyncOffset, "clean close");
                MemorySegment bitmap = arena.allocate(4096, 4096);
                c.read(d.mem[0], 8192, bitmap).get(10, TimeUnit.SECONDS);
                MdBitmap bh = MdBitmap.decode(bitmap, "m0");
                assertEquals(bh.events, MdArray.readSuperblock(c, d.err[0]).events);
                assertEquals(bh.events, bh.eventsCleared);
                for (long k = 0; k < bh.bits(); k++) {
                    assertFalse(MdBitmap.isDirty(bitmap, k), "clean close: every bitmap region clean");
                }
                // The torn stripe: for RAID5 the parity chunk of stripe 7 (member 7 % 4 from the end), for RAID1 copy 1.
                int torn = level == RaidLevel.RAID5 ? ((ParityGeometry) geometryOf(level, n)).parityDisk(7) : 1;
                long at = META + 7 * CHUNK * 512L;
                crash[torn].asSlice(at, 8192).fill((byte) 0x5a);
                for (int i = 0; i < n; i++) {
                    c.write(d.mem[i], 0, crash[i], 0).get(30, TimeUnit.SECONDS);
                }
                try (MdArray a = MdArray.assemble(host, "md0", d.list(0, n), List.of(), null, FAST)) {
                    assertTrue(a.awaitIdle(Duration.ofSeconds(30)));
                    assertEquals("resync", a.progress().kind(), level + ": " + a.progress());
                    assertEquals(0, a.scrub(false), level + ": consistent after the resync");
                    assertContent(host, a.bdev(), w);
                }
            }
        }
    }

    /**
     * md's write-intent bitmap: a write into a clean region sets its bit on every member before it
     * starts; a write into a dirty region writes no bitmap; bits clear after a quiet period. After a
     * crash the next assembly resyncs only the dirty region: a stripe torn there is repaired, the
     * clean regions are not read (read counts on the members), and check finds 0 mismatches.
     * mdadm -X reads the crashed member's bitmap: same events, 1 dirty bit.
     */
    @Test
    void afterACrashOnlyTheDirtyBitmapRegionsAreResynced() throws Exception {
        for (RaidLevel level : new RaidLevel[] {RaidLevel.RAID5, RaidLevel.RAID6, RaidLevel.RAID1, RaidLevel.RAID10}) {
            int n = level == RaidLevel.RAID1 ? 2 : level == RaidLevel.RAID10 ? 4 : level == RaidLevel.RAID6 ? 5 : 4;
            // RAID1's sync unit is 1 MiB of member space, so a bigger bitmap chunk keeps one unit per region.
            int bitmapChunk = level == RaidLevel.RAID1 ? 1 << 20 : CHUNK * 512;
            try (BdevHost host = BdevHost.start(2, 32 << 20); Devs d = new Devs("w", n, META + DATA);
                 Arena arena = Arena.ofShared()) {
                BdevClient c = host.client();
                MemorySegment w;
                MemorySegment[] crash = new MemorySegment[n];
                long region;
                long regions;
                long arrayOff;
                long events;
                int parityDisk = -1;
                try (MdArray a = MdArray.create(host, "md0", new MdArray.CreateOptions(level, null, CHUNK, false, bitmapChunk),
                        d.list(0, n), List.of(), FAST)) {
                    a.bitmapPeriod(Duration.ofMillis(100));
                    a.start();
                    assertTrue(a.awaitIdle(Duration.ofSeconds(30)));
                    w = random(arena, a.bdev().sizeBytes(), 21);
                    c.write(a.bdev(), 0, w, 0).get(30, TimeUnit.SECONDS);
                    awaitClean(a);
                    for (int i = 0; i < n; i++) {
                        assertEquals(0, dirtyOnDisk(c, d.mem[i], arena).length, level + ": quiet array, member " + i);
                    }
                    // One 8 KiB write into the middle of the array: one region becomes dirty.
                    RaidGeometry g = a.bdev().geometry();
                    arrayOff = a.bdev().sizeBytes() / 2 + 4096;
                    long syncSector = switch (level) {
                        case RAID5, RAID6 -> arrayOff / (CHUNK * 512L) / ((ParityGeometry) g).dataDisks() * CHUNK;
                        default -> arrayOff / 512;
                    };
                    region = syncSector / (bitmapChunk / 512);
                    if (g instanceof ParityGeometry pg) {
                        parityDisk = pg.parityDisk(region); // one region is one stripe row here
                    }
                    MemorySegment small = random(arena, 8192, 22);
                    MemorySegment.copy(small, 0, w, arrayOff, 8192);
                    c.write(a.bdev(), arrayOff, small, 0).get(30, TimeUnit.SECONDS);
                    assertEquals(1, a.dirtyRegions(), level + ": one region dirty");
                    for (int i = 0; i < n; i++) {
                        assertArrayEquals(new long[] {region}, dirtyOnDisk(c, d.mem[i], arena), level + ": bit on member " + i);
                    }
                    // A second write into the dirty region writes no bitmap block and flushes nothing.
                    long[] writes = new long[n];
                    long[] flushes = new long[n];
                    for (int i = 0; i < n; i++) {
                        writes[i] = d.err[i].count(BdevOp.WRITE);
                        flushes[i] = d.err[i].count(BdevOp.FLUSH);
                    }
                    c.write(a.bdev(), arrayOff, small, 0).get(30, TimeUnit.SECONDS);
                    for (int i = 0; i < n; i++) {
                        assertTrue(d.err[i].count(BdevOp.WRITE) - writes[i] <= 1, level + ": only data/parity written on member " + i);
                        assertEquals(flushes[i], d.err[i].count(BdevOp.FLUSH), level + ": no flush on member " + i);
                    }
                    for (int i = 0; i < n; i++) {
                        crash[i] = arena.allocate(META + DATA, 4096);
                        c.read(d.mem[i], 0, crash[i]).get(30, TimeUnit.SECONDS);
                    }
                    events = a.events();
                    regions = (g.syncSectors() + bitmapChunk / 512 - 1) / (bitmapChunk / 512);
                }
                // mdadm reads the crashed member's bitmap (mdadm 4.2 -X wants the bitmap area of a plain file by itself).
                java.nio.file.Path img = java.nio.file.Files.createTempFile("orion-bitmap", ".img");
                try {
                    java.nio.file.Files.write(img, crash[0].asSlice(8192, META - 8192).toArray(ValueLayout.JAVA_BYTE));
                    Process p = new ProcessBuilder("mdadm", "-X", img.toString()).redirectErrorStream(true).start();
                    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
                    assertEquals(0, p.exitValue(), out);
                    assertTrue(out.matches("(?s).*Events : " + events + "\\n.*"), level + ": " + out);
                    assertTrue(out.contains(regions + " bits (chunks), 1 dirty"), level + ": " + out);
                } finally {
                    java.nio.file.Files.delete(img);
                }
                // Tear the dirty region: its parity (RAID5/6) or second copy (RAID1/10) is garbage, as if
                // the crash hit between the member writes.
                long memberOff;
                int torn;
                switch (level) {
                    case RAID5, RAID6 -> {
                        memberOff = region * bitmapChunk;
                                torn = parityDisk;
                    }
                    case RAID1 -> {
                        memberOff = region * bitmapChunk;
                        torn = 1;
                    }
                    default -> { // RAID10 n2: array chunk k on disks 2k mod n and the next, member chunk 2k / n
                        memberOff = region * 2 / n * (CHUNK * 512L);
                        torn = (int) (region * 2 % n) + 1;
                    }
                }
                crash[torn].asSlice(META + memberOff + 4096, 8192).fill((byte) 0x5a);
                for (int i = 0; i < n; i++) {
                    c.write(d.mem[i], 0, crash[i], 0).get(30, TimeUnit.SECONDS);
                }
                long[] reads = new long[n];
                for (int i = 0; i < n; i++) {
                    reads[i] = d.err[i].count(BdevOp.READ);
                }
                try (MdArray a = MdArray.assemble(host, "md0", d.list(0, n), List.of(), null, FAST)) {
                    a.bitmapPeriod(Duration.ofMillis(100));
                    assertTrue(a.awaitIdle(Duration.ofSeconds(30)));
                    assertEquals("resync", a.progress().kind(), level + ": " + a.progress());
                    assertEquals(1, a.progress().totalStripes(), level + ": one sync unit per region: " + a.progress());
                    for (int i = 0; i < n; i++) {
                        // superblock (1), bitmap header + bits (2), the dirty region's sync unit (1); a full
                        // resync would read every one of the region count's units.
                        long delta = d.err[i].count(BdevOp.READ) - reads[i];
                        assertTrue(delta <= 4, level + ": member " + i + " read " + delta + " times");
                    }
                    assertEquals(0, a.scrub(false), level + ": consistent after the resync");
                    assertContent(host, a.bdev(), w);
                    awaitClean(a);
                }
            }
        }
    }

    private static void awaitClean(MdArray a) throws InterruptedException {
        long end = System.nanoTime() + 10_000_000_000L;
        while (a.dirtyRegions() != 0 && System.nanoTime() < end) {
            Thread.sleep(20);
        }
        assertEquals(0, a.dirtyRegions(), "bits cleared after a quiet period");
    }

    /** The regions whose bit is set in {@code dev}'s bitmap. */
    private static long[] dirtyOnDisk(BdevClient c, BlockDevice dev, Arena arena) throws Exception {
        MemorySegment bm = arena.allocate(64 << 10, 4096);
        c.read(dev, 8192, bm).get(10, TimeUnit.SECONDS);
        MdBitmap h = MdBitmap.decode(bm, dev.name());
        return java.util.stream.LongStream.range(0, h.bits()).filter(k -> MdBitmap.isDirty(bm, k)).toArray();
    }

    private static RaidGeometry geometryOf(RaidLevel level, int n) {
        long[] sizes = new long[n];
        java.util.Arrays.fill(sizes, DATA / 512);
        return MdArray.geometry(level, level == RaidLevel.RAID5 ? ParityLayout.LEFT_SYMMETRIC.mdNumber() : 0, CHUNK, sizes);
    }

    @Test
    void checkCountsParityMismatchesAndRepairFixesThem() throws Exception {
        try (BdevHost host = BdevHost.start(1, 32 << 20); Devs d = new Devs("k", 5, META + DATA);
             Arena arena = Arena.ofShared()) {
            try (MdArray a = create(host, d, RaidLevel.RAID6, 5, 0, FAST)) {
                a.start();
                assertTrue(a.awaitIdle(Duration.ofSeconds(30)));
                MemorySegment w = random(arena, a.bdev().sizeBytes(), 8);
                host.client().write(a.bdev(), 0, w, 0).get(30, TimeUnit.SECONDS);
                assertEquals(0, a.scrub(false));
                // Flip bytes on members directly, in stripes 3 and 17 (one member each).
                MemorySegment junk = random(arena, 4096, 9);
                host.client().write(d.mem[1], META + 3 * CHUNK * 512L + 8192, junk, 0).get(10, TimeUnit.SECONDS);
                host.client().write(d.mem[4], META + 17 * CHUNK * 512L, junk, 0).get(10, TimeUnit.SECONDS);
                assertEquals(2, a.scrub(false));
                assertEquals(2, a.scrub(false), "check changes nothing");
                assertEquals(2, a.scrub(true));
                assertEquals(0, a.scrub(false));
                assertParity(host, a.bdev());
                assertFalse(a.bdev().isDegraded());
            }
        }
    }
}
