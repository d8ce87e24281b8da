package org.orionos.host.raid;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.bdev.BdevClient;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.ModelWorkload;
import org.orionos.host.bdev.backend.MemoryBdev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reshape and level migration on memory members: RAID5 3→4→5 and RAID6 5→6 members while the
 * byte-exact model writes and reads through the array; RAID1→RAID5 (with a grow) and RAID5→RAID6;
 * a crash image taken at several points of a reshape, assembled again: the reshape resumes from
 * the recorded position and finishes with the content intact and check finding 0 mismatches;
 * requests md would refuse are refused before anything is written.
 */
class ReshapeTest {
    private static final long DATA = 2L << 20;
    private static final long META = MdNewArray.DEFAULT_DATA_OFFSET * 512;
    private static final int CHUNK = 128; // 64 KiB
    private static final long FAST = 1L << 40;

    @AfterEach
    void noHook() {
        MdReshape.testHook = null;
    }

    private static MemoryBdev[] devs(String prefix, int n) {
        MemoryBdev[] d = new MemoryBdev[n];
        for (int i = 0; i < n; i++) {
            d[i] = new MemoryBdev(prefix + i, META + DATA, 4096);
        }
        return d;
    }

    private static void close(MemoryBdev[] d) {
        for (MemoryBdev m : d) {
            m.close();
        }
    }

    private static List<BlockDevice> list(MemoryBdev[] d, int from, int to) {
        return new ArrayList<>(List.of(d).subList(from, to));
    }

    private static MemorySegment random(Arena arena, long size, long seed) {
        MemorySegment w = arena.allocate(size, 4096);
        SplittableRandom rnd = new SplittableRandom(seed);
        for (long i = 0; i < size; i += 8) {
            w.set(ValueLayout.JAVA_LONG, i, rnd.nextLong());
        }
        return w;
    }

    private static MemorySegment read(BdevHost host, BlockDevice dev, long off, long len, Arena arena) throws Exception {
        MemorySegment back = arena.allocate(len, 4096);
        host.client().read(dev, off, back).get(30, TimeUnit.SECONDS);
        return back;
    }

    private static void assertZero(MemorySegment s, String what) {
        for (long i = 0; i < s.byteSize(); i += 8) {
            if (s.get(ValueLayout.JAVA_LONG, i) != 0) {
                throw new AssertionError(what + ": non-zero at " + i);
            }
        }
    }

    private static void awaitDone(MdArray a) throws InterruptedException {
        assertTrue(a.awaitIdle(Duration.ofSeconds(120)), "background work did not finish");
        MdReshape r = a.reshape();
        assertTrue(r == null || r.done(), "reshape finished: " + a.progress());
    }

    /**
     * Grows {@code level} from {@code n} members one at a time up to {@code target} while the model
     * runs on both reactors over the first 2 MiB; the rest keeps its content, the new space reads
     * zeros, parity checks clean, and a fresh assembly sees the grown array from its superblocks.
     */
    private void growUnderLoad(RaidLevel level, int n, int target, long seed) throws Exception {
        MemoryBdev[] d = devs("g" + level.mdLevel(), target);
        try (BdevHost host = BdevHost.start(2, 32 << 20); Arena arena = Arena.ofShared()) {
            BdevClient c = host.client();
            MemorySegment w;
            long size;
            try (MdArray a = MdArray.create(host, "md0", new MdArray.CreateOptions(level, null, CHUNK, true),
                    list(d, 0, n), List.of(), 3L << 20)) {
                a.start();
                size = a.bdev().sizeBytes();
                w = random(arena, size, seed);
                w.asSlice(0, 2L << 20).fill((byte) 0); // the model starts from zeros in its regions
                c.write(a.bdev(), 0, w, 0).get(30, TimeUnit.SECONDS);
                for (int m = n; m < target; m++) {
                    long old = a.bdev().sizeBytes();
                    w.asSlice(0, 2L << 20).fill((byte) 0); // each round's model starts from zeros
                    c.write(a.bdev(), 0, w.asSlice(0, 2L << 20), 0).get(30, TimeUnit.SECONDS);
                    a.grow(new MdArray.GrowOptions(null, m + 1, List.of(d[m])));
                    MdReshape r = a.reshape();
                    assertNotNull(r);
                    long before = r.position();
                    assertTrue(!r.done() && before < old, "the reshape is running when the model starts");
                    List<ModelWorkload> loads = new ArrayList<>();
                    for (int i = 0; i < 2; i++) {
                        loads.add(new ModelWorkload(host.context(i), a.bdev(), i * (1L << 20), 1L << 20, 1500, 8,
                                seed * 10 + m * 2 + i, false, arena));
                    }
                    loads.forEach(ModelWorkload::start);
                    for (ModelWorkload l : loads) {
                        assertNull(l.done.get(120, TimeUnit.SECONDS));
                    }
                    assertTrue(r.position() > before, "the reshape moved while the model ran");
                    awaitDone(a);
                    int dataDisks = (m + 1) - (level == RaidLevel.RAID6 ? 2 : 1);
                    long grown = dataDisks * DATA;
                    assertEquals(grown, a.bdev().sizeBytes(), "the array grew");
                    assertEquals(m + 1, a.current().geometry().raidDisks());
                    assertEquals(0, a.scrub(false), "parity consistent after the reshape to " + (m + 1));
                    MemorySegment rest = read(host, a.bdev(), 2L << 20, old - (2L << 20), arena);
                    assertEquals(-1L, w.asSlice(2L << 20, old - (2L << 20)).mismatch(rest), "content kept by the reshape");
                    assertZero(read(host, a.bdev(), old, grown - old, arena), "new space");
                    // The model's final state is in its regions (it verified them); the reference copy takes it.
                    MemorySegment.copy(read(host, a.bdev(), 0, 2L << 20, arena), 0, w, 0, 2L << 20);
                    size = grown;
                    MemorySegment wider = arena.allocate(grown, 4096);
                    MemorySegment.copy(w, 0, wider, 0, old);
                    w = wider;
                }
            }
            MdSuperblock1 sb = MdArray.readSuperblock(c, d[0]);
            assertEquals(target, sb.raidDisks);
            assertEquals(0, sb.featureMap & (MdSuperblock1.MD_FEATURE_RESHAPE_ACTIVE | MdSuperblock1.MD_FEATURE_NEW_OFFSET));
            assertTrue(sb.dataOffset < MdNewArray.DEFAULT_DATA_OFFSET, "the data moved down: " + sb.dataOffset);
            try (MdArray a = MdArray.assemble(host, "md0", list(d, 0, target), List.of(), null, FAST)) {
                assertTrue(a.awaitIdle(Duration.ofSeconds(60)));
                assertEquals(target, a.bdev().geometry().raidDisks());
                assertEquals(0, a.scrub(false));
                MemorySegment back = read(host, a.bdev(), 0, size, arena);
                assertEquals(-1L, w.asSlice(0, size).mismatch(back), "content after a fresh assembly");
            }
        } finally {
            close(d);
        }
    }

    @Test
    void raid5GrowsFromThreeToFourToFiveMembersUnderModelIo() throws Exception {
        growUnderLoad(RaidLevel.RAID5, 3, 5, 1);
    }

    @Test
    void raid6GrowsFromFiveToSixMembersUnderModelIo() throws Exception {
        growUnderLoad(RaidLevel.RAID6, 5, 6, 2);
    }

    /** RAID1 (2) → RAID5 (3, takeover then reshape) → RAID6 (4, Q rebuilt onto the added member), content kept throughout. */
    @Test
    void raid1BecomesRaid5AndThenRaid6() throws Exception {
        MemoryBdev[] d = devs("l", 4);
        try (BdevHost host = BdevHost.start(2, 32 << 20); Arena arena = Arena.ofShared()) {
            BdevClient c = host.client();
            MemorySegment w;
            try (MdArray a = MdArray.create(host, "md0", new MdArray.CreateOptions(RaidLevel.RAID1, null, 0, true),
                    list(d, 0, 2), List.of(), FAST)) {
                a.start();
                w = random(arena, 2 * DATA, 7);
                c.write(a.bdev(), 0, w.asSlice(0, DATA), 0).get(30, TimeUnit.SECONDS);
                a.grow(new MdArray.GrowOptions(RaidLevel.RAID5, 0, List.of()));
                assertEquals(RaidLevel.RAID5, a.current().geometry().level());
                assertEquals(2, a.current().geometry().raidDisks());
                assertEquals(0, a.scrub(false), "a 2-member raid1 is a consistent 2-member raid5");
                assertEquals(-1L, w.asSlice(0, DATA).mismatch(read(host, a.bdev(), 0, DATA, arena)));
                a.grow(new MdArray.GrowOptions(null, 3, List.of(d[2])));
                awaitDone(a);
                assertEquals(2 * DATA, a.bdev().sizeBytes());
                assertEquals(-1L, w.asSlice(0, DATA).mismatch(read(host, a.bdev(), 0, DATA, arena)));
                c.write(a.bdev(), DATA, w.asSlice(DATA, DATA), 0).get(30, TimeUnit.SECONDS);
                a.grow(new MdArray.GrowOptions(RaidLevel.RAID6, 0, List.of(d[3])));
                awaitDone(a);
                ParityGeometry g6 = (ParityGeometry) a.current().geometry();
                assertEquals(RaidLevel.RAID6, g6.level());
                assertEquals(ParityLayout.LEFT_SYMMETRIC_6, g6.layout());
                assertEquals(0, a.current().failedMask(), "Q rebuilt onto the added member");
                assertEquals(0, a.scrub(false), "P and Q consistent");
                assertEquals(-1L, w.mismatch(read(host, a.bdev(), 0, 2 * DATA, arena)));
            }
            MdSuperblock1 sb = MdArray.readSuperblock(c, d[3]);
            assertEquals(6, sb.level);
            assertEquals(ParityLayout.LEFT_SYMMETRIC_6.mdNumber(), sb.layout);
            assertEquals(4, sb.raidDisks);
            assertEquals(3, sb.role());
            try (MdArray a = MdArray.assemble(host, "md0", list(d, 0, 4), List.of(), null, FAST)) {
                assertTrue(a.awaitIdle(Duration.ofSeconds(60)));
                assertEquals(0, a.bdev().failedMask());
                // Any two members may fail now: read with roles 0 and 3 (data and Q) gone.
                a.fail(0);
                a.fail(3);
                assertEquals(-1L, w.mismatch(read(host, a.bdev(), 0, 2 * DATA, arena)), "raid6 survives two failures");
            }
        } finally {
            close(d);
        }
    }

    /**
     * A crash image (every member's bytes) taken at several points of a 3→4 RAID5 reshape: after a
     * window was copied but before its position was recorded, and after it was recorded. Each
     * image, assembled, resumes the reshape from the recorded position (md's superblock fields say
     * it mid-way), finishes it, resyncs (the array was in use), and keeps every byte.
     */
    @Test
    void anInterruptedReshapeResumesAtAssemblyAndFinishes() throws Exception {
        for (String point : new String[] {"copied", "recorded"}) {
            for (int window : new int[] {1, 4, 7}) {
                crashAt(point, window);
            }
        }
    }

    private void crashAt(String point, int window) throws Exception {
        MemoryBdev[] d = devs("c", 4);
        String what = "crash at window " + window + " " + point;
        try (BdevHost host = BdevHost.start(1, 32 << 20); Arena arena = Arena.ofShared()) {
            BdevClient c = host.client();
            MemorySegment w;
            MemorySegment[] image = new MemorySegment[4];
            long[] at = {-1};
            try (MdArray a = MdArray.create(host, "md0", new MdArray.CreateOptions(RaidLevel.RAID5, null, CHUNK, true),
                    list(d, 0, 3), List.of(), FAST)) {
                a.start();
                w = random(arena, a.bdev().sizeBytes(), window);
                c.write(a.bdev(), 0, w, 0).get(30, TimeUnit.SECONDS);
                int[] seen = {0};
                MdReshape.testHook = (p, end) -> {
                    if (p.equals(point) && ++seen[0] == window) {
                        at[0] = end;
                        for (int i = 0; i < 4; i++) {
                            image[i] = arena.allocate(META + DATA, 4096);
                            try {
                                c.read(d[i], 0, image[i]).get(30, TimeUnit.SECONDS);
                            } catch (Exception e) {
                                throw new IllegalStateException(e);
                            }
                        }
                    }
                };
                a.grow(new MdArray.GrowOptions(null, 4, List.of(d[3])));
                awaitDone(a);
                MdReshape.testHook = null;
            }
            assertTrue(at[0] > 0, what + ": hook reached");
            long windowBytes = 4L * 3 * CHUNK * 512; // gap of 4 chunks, 3 data members in the new geometry
            long recorded = point.equals("recorded") ? at[0] : at[0] - windowBytes;
            for (int i = 0; i < 4; i++) {
                MdSuperblock1 sb = MdSuperblock1.decode(image[i].asSlice(4096, 4096), "image" + i, MdSuperblock1.MD_FEATURE_ALL);
                assertEquals(MdSuperblock1.MD_FEATURE_RESHAPE_ACTIVE | MdSuperblock1.MD_FEATURE_NEW_OFFSET,
                        sb.featureMap & (MdSuperblock1.MD_FEATURE_RESHAPE_ACTIVE | MdSuperblock1.MD_FEATURE_NEW_OFFSET), what);
                assertEquals(recorded / 512, sb.reshapePosition, what + ": reshape_position in array sectors");
                assertEquals(4, sb.raidDisks, what);
                assertEquals(1, sb.deltaDisks, what);
                assertEquals(-4 * CHUNK, sb.newOffset, what);
                assertEquals(5, sb.newLevel, what);
                assertEquals(0, sb.resyncOffset, what + ": in use");
                c.write(d[i], 0, image[i], 0).get(30, TimeUnit.SECONDS);
            }
            if (window == 4 && point.equals("recorded")) {
                mdadmSeesTheReshape(image[0], recorded);
            }
            try (MdArray a = MdArray.assemble(host, "md0", list(d, 0, 4), List.of(), null, FAST)) {
                assertEquals(3, a.bdev().geometry().raidDisks(), what + ": the front keeps the old size until done");
                // Reads during the resume go to whichever geometry holds the range.
                assertEquals(-1L, w.mismatch(read(host, a.bdev(), 0, w.byteSize(), arena)), what + ": content while resuming");
                awaitDone(a);
                assertEquals(4, a.current().geometry().raidDisks(), what);
                assertEquals("resync", a.progress().kind(), what + ": full resync after a crash during the reshape");
                assertEquals(0, a.scrub(false), what + ": check finds 0 mismatches");
                assertEquals(-1L, w.mismatch(read(host, a.bdev(), 0, w.byteSize(), arena)), what + ": content after the resume");
                assertZero(read(host, a.bdev(), w.byteSize(), DATA, arena), what + ": new space");
            }
            MdSuperblock1 sb = MdArray.readSuperblock(c, d[3]);
            assertEquals(0, sb.featureMap & MdSuperblock1.MD_FEATURE_RESHAPE_ACTIVE, what);
            assertEquals(MdNewArray.DEFAULT_DATA_OFFSET - 4 * CHUNK, sb.dataOffset, what);
        } finally {
            close(d);
        }
    }

    /**
     * A reshape resumed after a crash at half-way reports its progress over the whole reshape:
     * the windows copied before the crash count as done (percent starts at 50%, not 0%), and the
     * rate and ETA count only this run's copying (rate-limited, so MB/s stays near the limit).
     */
    @Test
    void aResumedReshapeCountsProgressOverTheWholeReshape() throws Exception {
        MemoryBdev[] d = devs("p", 4);
        long windowBytes = 4L * 3 * CHUNK * 512;
        try (BdevHost host = BdevHost.start(1, 32 << 20); Arena arena = Arena.ofShared()) {
            BdevClient c = host.client();
            MemorySegment w;
            MemorySegment[] image = new MemorySegment[4];
            try (MdArray a = MdArray.create(host, "md0", new MdArray.CreateOptions(RaidLevel.RAID5, null, CHUNK, true),
                    list(d, 0, 3), List.of(), FAST)) {
                a.start();
                w = random(arena, a.bdev().sizeBytes(), 9);
                c.write(a.bdev(), 0, w, 0).get(30, TimeUnit.SECONDS);
                int[] seen = {0};
                MdReshape.testHook = (p, end) -> {
                    if (p.equals("recorded") && ++seen[0] == 4) {
                        for (int i = 0; i < 4; i++) {
                            image[i] = arena.allocate(META + DATA, 4096);
                            try {
                                c.read(d[i], 0, image[i]).get(30, TimeUnit.SECONDS);
                            } catch (Exception e) {
                                throw new IllegalStateException(e);
                            }
                        }
                    }
                };
                a.grow(new MdArray.GrowOptions(null, 4, List.of(d[3])));
                awaitDone(a);
                MdReshape.testHook = null;
            }
            for (int i = 0; i < 4; i++) {
                c.write(d[i], 0, image[i], 0).get(30, TimeUnit.SECONDS);
            }
            long total = 3 * DATA / windowBytes + (3 * DATA % windowBytes == 0 ? 0 : 1);
            long limit = 2 * windowBytes; // two windows a second: the rest takes about two seconds
            try (MdArray a = MdArray.assemble(host, "md0", list(d, 0, 4), List.of(), null, limit)) {
                long end = System.nanoTime() + 30_000_000_000L;
                MdArray.Progress p = a.progress();
                while ((p == null || !p.kind().equals("reshape") || p.doneStripes() <= 4) && System.nanoTime() < end) {
                    Thread.sleep(5);
                    p = a.progress();
                }
                assertNotNull(p);
                assertEquals(total, p.totalStripes(), "windows of the whole reshape: " + p);
                assertTrue(p.doneStripes() > 4 && p.percent() > 50, "the four windows before the crash count: " + p);
                assertTrue(p.mbPerSec() < 2.0 * limit / 1e6, "the rate counts this run's windows only: " + p);
                awaitDone(a);
                assertEquals(-1L, w.mismatch(read(host, a.bdev(), 0, w.byteSize(), arena)));
            }
        } finally {
            close(d);
        }
    }

    /**
     * The crash hits while a window's position is being written: member 0 already records it,
     * the others still record the previous one (event count one behind). Those members are not
     * stale (their data is where the freshest superblock says), so the reshape resumes with all.
     */
    @Test
    void aCrashBetweenSuperblockWritesOfOneCheckpointResumesWithEveryMember() throws Exception {
        MemoryBdev[] d = devs("h", 4);
        try (BdevHost host = BdevHost.start(1, 32 << 20); Arena arena = Arena.ofShared()) {
            BdevClient c = host.client();
            MemorySegment w;
            MemorySegment[] before = new MemorySegment[4];
            MemorySegment[] after = new MemorySegment[4];
            try (MdArray a = MdArray.create(host, "md0", new MdArray.CreateOptions(RaidLevel.RAID5, null, CHUNK, true),
                    list(d, 0, 3), List.of(), FAST)) {
                a.start();
                w = random(arena, a.bdev().sizeBytes(), 77);
                c.write(a.bdev(), 0, w, 0).get(30, TimeUnit.SECONDS);
                int[] seen = {0, 0};
                MdReshape.testHook = (p, end) -> {
                    MemorySegment[] into = p.equals("copied") ? before : after;
                    if (++seen[p.equals("copied") ? 0 : 1] == 3) {
                        for (int i = 0; i < 4; i++) {
                            into[i] = arena.allocate(META + DATA, 4096);
                            try {
                                c.read(d[i], 0, into[i]).get(30, TimeUnit.SECONDS);
                            } catch (Exception e) {
                                throw new IllegalStateException(e);
                            }
                        }
                    }
                };
                a.grow(new MdArray.GrowOptions(null, 4, List.of(d[3])));
                awaitDone(a);
                MdReshape.testHook = null;
            }
            for (int i = 0; i < 4; i++) {
                // Member 0: the window's position written; the others: their metadata from just before.
                if (i > 0) {
                    MemorySegment.copy(before[i], 0, after[i], 0, META);
                }
                c.write(d[i], 0, after[i], 0).get(30, TimeUnit.SECONDS);
            }
            MdSuperblock1 s0 = MdArray.readSuperblock(c, d[0]);
            MdSuperblock1 s1 = MdArray.readSuperblock(c, d[1]);
            assertEquals(s0.events, s1.events + 1);
            assertTrue(s0.reshapePosition > s1.reshapePosition);
            try (MdArray a = MdArray.assemble(host, "md0", list(d, 0, 4), List.of(), null, FAST)) {
                // From the assembly on of the resume: every member records the freshest position.
                assertTrue(MdArray.readSuperblock(c, d[1]).reshapePosition >= s0.reshapePosition);
                awaitDone(a);
                assertEquals(0, a.current().failedMask(), "no member taken for stale");
                assertEquals(4, a.current().geometry().raidDisks());
                assertEquals(0, a.scrub(false));
                assertEquals(-1L, w.mismatch(read(host, a.bdev(), 0, w.byteSize(), arena)));
            }
        } finally {
            close(d);
        }
    }

    /** mdadm 4.x's data offsets for 1.2 metadata (what mdadm --examine shows for arrays it creates). */
    @Test
    void theDataOffsetAtCreateIsMdadms() {
        assertEquals(2048, MdNewArray.dataOffset(64L << 11, 0), "raid1, small members: 1 MiB");
        assertEquals(2048, MdNewArray.dataOffset(64L << 11, 128), "64K chunk, small members: 1 MiB");
        assertEquals(4096, MdNewArray.dataOffset(8L << 11, 1024), "512K chunk: two chunks of headroom, rounded to 1 MiB");
        assertEquals(4096, MdNewArray.dataOffset(1L << 21, 1024), "1 GiB: headroom 1 MiB (0.1%)");
        assertEquals(18432, MdNewArray.dataOffset(10L << 21, 1024), "10 GiB: 8 MiB headroom and 64 KiB for the bitmap");
        assertEquals(264192, MdNewArray.dataOffset(1L << 31, 1024), "1 TiB: 128 MiB headroom, 128 KiB for the bitmap");
    }

    /**
     * With 512 KiB chunks the 2 MiB data offset mdadm's rule gives small members leaves room for
     * two grows: each moves the data down one chunk (at most half of what is left), 3 -> 4 -> 5
     * members, content kept, new space zeros, check 0, and mdadm reads the result.
     */
    @Test
    void twoConsecutiveGrowsFitTheHeadroomOfMdadmsDataOffset() throws Exception {
        int chunk = 1024;
        long member = 8L << 20;
        MemoryBdev[] d = new MemoryBdev[5];
        for (int i = 0; i < d.length; i++) {
            d[i] = new MemoryBdev("t" + i, member, 4096);
        }
        long offset = MdNewArray.dataOffset(member / 512, chunk);
        assertEquals(4096, offset);
        MemoryBdev spare = new MemoryBdev("tspare", member, 4096);
        long data = member - offset * 512;
        try (BdevHost host = BdevHost.start(1, 32 << 20); Arena arena = Arena.ofShared()) {
            BdevClient c = host.client();
            MemorySegment w = random(arena, 4 * data, 55);
            try (MdArray a = MdArray.create(host, "md0", new MdArray.CreateOptions(RaidLevel.RAID5, null, chunk, true),
                    list(d, 0, 3), List.of(), FAST)) {
                a.start();
                assertEquals(2 * data, a.bdev().sizeBytes());
                assertEquals(offset, MdArray.readSuperblock(c, d[0]).dataOffset);
                c.write(a.bdev(), 0, w.asSlice(0, 2 * data), 0).get(30, TimeUnit.SECONDS);
                for (int n = 4; n <= 5; n++) {
                    long old = a.bdev().sizeBytes();
                    a.grow(new MdArray.GrowOptions(null, n, List.of(d[n - 1])));
                    awaitDone(a);
                    long size = (n - 1) * data;
                    assertEquals(size, a.bdev().sizeBytes(), n + " members");
                    assertEquals(offset - (n - 3) * chunk, MdArray.readSuperblock(c, d[0]).dataOffset, "one chunk down per grow");
                    assertEquals(0, a.scrub(false), "check after the grow to " + n);
                    assertEquals(-1L, w.asSlice(0, old).mismatch(read(host, a.bdev(), 0, old, arena)), "content");
                    assertZero(read(host, a.bdev(), old, size - old, arena), "new space");
                    c.write(a.bdev(), old, w.asSlice(old, size - old), 0).get(30, TimeUnit.SECONDS);
                }
                a.addSpare(spare, true);
                MdSuperblock1 s = MdArray.readSuperblock(c, spare);
                assertEquals(offset - 2 * chunk, s.dataOffset, "a spare added after the grows");
                assertEquals(member / 512 - s.dataOffset, s.dataSize, "its data size from the offset the data has now");
            }
            try (MdArray a = MdArray.assemble(host, "md0", list(d, 0, 5), List.of(), null, FAST)) {
                assertTrue(a.awaitIdle(Duration.ofSeconds(60)));
                assertEquals(5, a.bdev().geometry().raidDisks());
                assertEquals(0, a.scrub(false));
                assertEquals(-1L, w.mismatch(read(host, a.bdev(), 0, 4 * data, arena)), "content after a fresh assembly");
            }
            java.util.Map<String, String> m = examine(read(host, d[4], 0, member, arena));
            assertEquals(offset - 2 * chunk + " sectors", m.get("Data Offset"), m.toString());
            assertEquals("5", m.get("Raid Devices"), m.toString());
            assertEquals("0x1", m.get("Feature Map"), m.toString());
            assertTrue(m.get("Checksum").endsWith("correct"), m.toString());
        } finally {
            close(d);
            spare.close();
        }
    }

    /**
     * kill -9 in the middle of the final "reshape done" superblock writes: members 0..k carry the
     * finished superblock (new data offset, no reshape), the others still the reshape at its end
     * position, one event behind; for k = 3 every superblock is written but the bitmap headers
     * still reserve the space the data moved into. Each assembles with every member (the freshest
     * superblock is the truth, the others are completed), content intact, check 0, and every
     * member's superblock afterwards is the finished one, as mdadm --examine reads it.
     */
    @Test
    void aCrashDuringTheFinalSuperblockWritesAssemblesWithEveryMember() throws Exception {
        for (int written = 0; written < 4; written++) {
            crashWhileFinishing(written);
        }
    }

    private void crashWhileFinishing(int written) throws Exception {
        MemoryBdev[] d = devs("f", 4);
        String what = "members 0.." + written + " record the reshape done";
        long newOffset = MdNewArray.DEFAULT_DATA_OFFSET - 4 * CHUNK;
        try (BdevHost host = BdevHost.start(1, 32 << 20); Arena arena = Arena.ofShared()) {
            BdevClient c = host.client();
            MemorySegment w;
            MemorySegment[] before = new MemorySegment[4];
            MemorySegment[] after = new MemorySegment[4];
            for (int i = 0; i < 4; i++) {
                before[i] = arena.allocate(META + DATA, 4096);
                after[i] = arena.allocate(META + DATA, 4096);
            }
            try (MdArray a = MdArray.create(host, "md0", new MdArray.CreateOptions(RaidLevel.RAID5, null, CHUNK, true),
                    list(d, 0, 3), List.of(), FAST)) {
                a.start();
                w = random(arena, a.bdev().sizeBytes(), 100 + written);
                c.write(a.bdev(), 0, w, 0).get(30, TimeUnit.SECONDS);
                MdReshape.testHook = (p, end) -> {
                    MemorySegment[] into = p.equals("recorded") ? before : p.equals("done") ? after : null;
                    for (int i = 0; into != null && i < 4; i++) {
                        try {
                            c.read(d[i], 0, into[i]).get(30, TimeUnit.SECONDS); // the last "recorded" stays
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    }
                };
                a.grow(new MdArray.GrowOptions(null, 4, List.of(d[3])));
                awaitDone(a);
                MdReshape.testHook = null;
            }
            for (int i = 0; i < 4; i++) {
                if (i <= written) {
                    MemorySegment.copy(after[i], 4096, before[i], 4096, 4096); // this member's "reshape done" superblock
                }
                c.write(d[i], 0, before[i], 0).get(30, TimeUnit.SECONDS);
            }
            MdSuperblock1 done = MdArray.readSuperblock(c, d[0]);
            assertEquals(0, done.featureMap & MdSuperblock1.MD_FEATURE_RESHAPE_ACTIVE, what);
            assertEquals(newOffset, done.dataOffset, what);
            if (written < 3) {
                MdSuperblock1 behind = MdArray.readSuperblock(c, d[3]);
                assertEquals(MdNewArray.DEFAULT_DATA_OFFSET, behind.dataOffset, what);
                assertEquals(done.events, behind.events + 1, what);
                assertEquals(w.byteSize() / 512 * 3 / 2, behind.reshapePosition, what + ": the reshape at its end");
            }
            try (MdArray a = MdArray.assemble(host, "md0", list(d, 0, 4), List.of(), null, FAST)) {
                assertEquals(-1L, w.mismatch(read(host, a.bdev(), 0, w.byteSize(), arena)), what + ": content at assembly");
                assertTrue(a.awaitIdle(Duration.ofSeconds(120)), what);
                assertEquals(0, a.current().failedMask(), what + ": no member refused or taken for stale");
                assertEquals(4, a.current().geometry().raidDisks(), what);
                assertEquals(w.byteSize() * 3 / 2, a.bdev().sizeBytes(), what); // 2 data members -> 3
                assertEquals(0, a.scrub(false), what + ": check finds 0 mismatches");
                assertEquals(-1L, w.mismatch(read(host, a.bdev(), 0, w.byteSize(), arena)), what + ": content");
                assertZero(read(host, a.bdev(), w.byteSize(), DATA, arena), what + ": new space");
            }
            long events = MdArray.readSuperblock(c, d[0]).events;
            for (int i = 0; i < 4; i++) {
                MdSuperblock1 sb = MdArray.readSuperblock(c, d[i]);
                assertEquals(0, sb.featureMap & (MdSuperblock1.MD_FEATURE_RESHAPE_ACTIVE | MdSuperblock1.MD_FEATURE_NEW_OFFSET),
                        what + ": member " + i);
                assertEquals(newOffset, sb.dataOffset, what + ": member " + i);
                assertEquals(DATA + META - newOffset * 512, sb.dataSize * 512, what + ": member " + i);
                assertEquals(events, sb.events, what + ": member " + i);
                MdBitmap b = MdArray.readBitmap(c, d[i], MdArray.bitmapPos(sb));
                assertTrue(b.sectorsReserved <= newOffset - MdSuperblock1.SUPER_OFFSET_1_2 - MdNewArray.BITMAP_OFFSET,
                        what + ": the bitmap reserves no data sector: " + b.sectorsReserved);
            }
            MemorySegment img = read(host, d[3], 0, META + DATA, arena);
            java.util.Map<String, String> m = examine(img);
            assertEquals("0x1", m.get("Feature Map"), what + ": " + m);
            assertEquals(newOffset + " sectors", m.get("Data Offset"), what + ": " + m);
            assertEquals("4", m.get("Raid Devices"), what + ": " + m);
            assertTrue(m.get("Checksum").endsWith("correct"), what + ": " + m);
            assertEquals(null, m.get("Reshape pos'n"), what + ": " + m);
        } finally {
            close(d);
        }
    }

    private java.util.Map<String, String> examine(MemorySegment image) throws Exception {
        java.nio.file.Path f = dir.resolve("examine.img");
        java.nio.file.Files.deleteIfExists(f);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(image.asByteBuffer(), 0);
        }
        Process p = new ProcessBuilder("/usr/sbin/mdadm", "--examine", f.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        java.util.Map<String, String> m = new java.util.HashMap<>();
        for (String line : out.split("\n")) {
            int c = line.indexOf(" : ");
            if (c > 0) {
                m.put(line.substring(0, c).trim(), line.substring(c + 3).trim());
            }
        }
        return m;
    }

    /**
     * A crash image with one member gone: the reshape resumes degraded (md does the same), reads
     * reconstruct the missing member in both geometries, and a spare added afterwards is rebuilt
     * into the missing role of the new geometry: check finds 0 mismatches, content intact.
     */
    @Test
    void aReshapeResumesWithAMemberMissingAndASpareFillsItAfterwards() throws Exception {
        MemoryBdev[] d = devs("m", 5);
        try (BdevHost host = BdevHost.start(1, 32 << 20); Arena arena = Arena.ofShared()) {
            BdevClient c = host.client();
            MemorySegment w;
            MemorySegment[] image = new MemorySegment[4];
            try (MdArray a = MdArray.create(host, "md0", new MdArray.CreateOptions(RaidLevel.RAID5, null, CHUNK, true),
                    list(d, 0, 3), List.of(), FAST)) {
                a.start();
                w = random(arena, a.bdev().sizeBytes(), 31);
                c.write(a.bdev(), 0, w, 0).get(30, TimeUnit.SECONDS);
                int[] seen = {0};
                MdReshape.testHook = (p, end) -> {
                    if (p.equals("recorded") && ++seen[0] == 5) {
                        for (int i = 0; i < 4; i++) {
                            image[i] = arena.allocate(META + DATA, 4096);
                            try {
                                c.read(d[i], 0, image[i]).get(30, TimeUnit.SECONDS);
                            } catch (Exception e) {
                                throw new IllegalStateException(e);
                            }
                        }
                    }
                };
                a.grow(new MdArray.GrowOptions(null, 4, List.of(d[3])));
                awaitDone(a);
                MdReshape.testHook = null;
            }
            for (int i = 0; i < 4; i++) {
                c.write(d[i], 0, image[i], 0).get(30, TimeUnit.SECONDS);
            }
            // Member 1 is gone (not given to the assembly).
            try (MdArray a = MdArray.assemble(host, "md0", List.of(d[0], d[2], d[3]), List.of(), null, FAST)) {
                assertEquals(-1L, w.mismatch(read(host, a.bdev(), 0, w.byteSize(), arena)), "degraded reads mid-reshape");
                awaitDone(a);
                assertEquals(4, a.current().geometry().raidDisks());
                assertEquals(1L << 1, a.current().failedMask(), "still missing role 1");
                assertEquals(-1L, w.mismatch(read(host, a.bdev(), 0, w.byteSize(), arena)), "degraded reads after");
                a.addSpare(d[4], true);
                assertTrue(a.awaitIdle(Duration.ofSeconds(60)));
                assertEquals(0, a.current().failedMask(), a.describe());
                assertEquals(d[4], a.current().member(1));
                assertEquals(0, a.scrub(false));
                assertEquals(-1L, w.mismatch(read(host, a.bdev(), 0, w.byteSize(), arena)), "content after the rebuild");
            }
            assertEquals(4, MdArray.readSuperblock(c, d[4]).raidDisks);
            assertEquals(1, MdArray.readSuperblock(c, d[4]).role());
        } finally {
            close(d);
        }
    }

    /**
     * A member fails in the middle of a RAID5 3→4 reshape while the model runs: the reshape goes on
     * degraded in both geometries, the failure is recorded, and once done the spare is rebuilt into
     * the failed role of the new geometry; content and parity check out.
     */
    @Test
    void aMemberFailingMidReshapeIsRebuiltOntoTheSpareAfterwards() throws Exception {
        MdArrayTest.Devs d = new MdArrayTest.Devs("f", 5, META + DATA);
        try (BdevHost host = BdevHost.start(2, 32 << 20); Arena arena = Arena.ofShared()) {
            BdevClient c = host.client();
            try (MdArray a = MdArray.create(host, "md0", new MdArray.CreateOptions(RaidLevel.RAID5, null, CHUNK, true),
                    d.list(0, 3), d.list(4, 5), 3L << 20)) {
                a.start();
                MemorySegment w = random(arena, a.bdev().sizeBytes(), 5);
                w.asSlice(0, 2L << 20).fill((byte) 0);
                c.write(a.bdev(), 0, w, 0).get(30, TimeUnit.SECONDS);
                int[] seen = {0};
                MdReshape.testHook = (p, end) -> {
                    if (p.equals("recorded") && ++seen[0] == 3) {
                        d.err[1].inject(new org.orionos.host.bdev.backend.ErrorBdev.Rule(
                                org.orionos.host.bdev.backend.ErrorBdev.ALL_OPS, org.orionos.host.bdev.backend.ErrorBdev.Kind.FAIL,
                                org.orionos.bindings.Errno.EIO, -1, 1.0, 0));
                    }
                };
                a.grow(new MdArray.GrowOptions(null, 4, List.of(d.err[3])));
                List<ModelWorkload> loads = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    loads.add(new ModelWorkload(host.context(i), a.bdev(), i * (1L << 20), 1L << 20, 1500, 8, 50 + i, false, arena));
                }
                loads.forEach(ModelWorkload::start);
                for (ModelWorkload l : loads) {
                    assertNull(l.done.get(120, TimeUnit.SECONDS));
                }
                awaitDone(a);
                assertTrue(seen[0] >= 3, "the failure was injected mid-reshape");
                assertEquals(4, a.current().geometry().raidDisks());
                assertEquals(0, a.current().failedMask(), "the spare took the failed role: " + a.describe());
                assertEquals(d.err[4], a.current().member(1));
                assertEquals(0, a.scrub(false));
                MemorySegment rest = read(host, a.bdev(), 2L << 20, w.byteSize() - (2L << 20), arena);
                assertEquals(-1L, w.asSlice(2L << 20).mismatch(rest), "content kept");
            }
            MdSuperblock1 sb = MdArray.readSuperblock(c, d.mem[0]);
            assertEquals(MdSuperblock1.MD_DISK_ROLE_FAULTY, sb.devRoles[MdArray.readSuperblock(c, d.mem[1]).devNumber]);
            assertEquals(1, sb.devRoles[MdArray.readSuperblock(c, d.mem[4]).devNumber]);
            assertEquals(4, sb.raidDisks);
        } finally {
            d.close();
        }
    }

    /** The real mdadm reads a crash image of a member mid-reshape: position, device delta, new offset. */
    private void mdadmSeesTheReshape(MemorySegment image, long recorded) throws Exception {
        java.nio.file.Path f = dir.resolve("member0.img");
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(image.asByteBuffer(), 0);
        }
        Process p = new ProcessBuilder("/usr/sbin/mdadm", "--examine", f.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        java.util.Map<String, String> m = new java.util.HashMap<>();
        for (String line : out.split("\n")) {
            int c = line.indexOf(" : ");
            if (c > 0) {
                m.put(line.substring(0, c).trim(), line.substring(c + 3).trim());
            }
        }
        assertEquals("0x45", m.get("Feature Map"), out); // bitmap-offset, reshape-active, new-offset
        assertEquals("4", m.get("Raid Devices"), out);
        assertEquals("1 (3->4)", m.get("Delta Devices"), out);
        assertEquals(String.valueOf(recorded / 1024), m.get("Reshape pos'n").split(" ")[0], out); // KiB
        assertEquals("2048 sectors", m.get("Data Offset"), out);
        assertEquals(MdNewArray.DEFAULT_DATA_OFFSET - 4 * CHUNK + " sectors", m.get("New Offset"), out);
        assertTrue(m.get("Checksum").endsWith("correct"), out);
    }

    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path dir;

    /** Every refusal names the reason and leaves the superblocks as they were. */
    @Test
    void levelChangesAndGrowsMdCannotDoAreRefusedBeforeAnythingIsWritten() throws Exception {
        MemoryBdev[] d = devs("r", 6);
        MemoryBdev small = new MemoryBdev("small", META + DATA / 2, 4096);
        try (BdevHost host = BdevHost.start(1, 32 << 20)) {
            BdevClient c = host.client();
            try (MdArray a = MdArray.create(host, "md1", new MdArray.CreateOptions(RaidLevel.RAID1, null, 0, true),
                    list(d, 0, 3), List.of(), FAST)) {
                a.start();
                long ev = MdArray.readSuperblock(c, d[0]).events;
                refused(a, new MdArray.GrowOptions(RaidLevel.RAID5, 0, List.of()), "only with 2 members");
                refused(a, new MdArray.GrowOptions(RaidLevel.RAID6, 0, List.of(d[3])), "convert to raid5 first");
                refused(a, new MdArray.GrowOptions(RaidLevel.RAID0, 0, List.of()), "does not implement that conversion");
                refused(a, new MdArray.GrowOptions(null, 4, List.of(d[3])), "orion reshapes raid5 and raid6 only");
                assertEquals(ev, MdArray.readSuperblock(c, d[0]).events, "nothing written");
                assertNull(MdArray.readSuperblock(c, d[3]));
            }
            close(d);
            d = devs("s", 6);
            try (MdArray a = MdArray.create(host, "md5", new MdArray.CreateOptions(RaidLevel.RAID5, null, CHUNK, true),
                    list(d, 0, 3), List.of(), FAST)) {
                a.start();
                long ev = MdArray.readSuperblock(c, d[0]).events;
                refused(a, new MdArray.GrowOptions(null, 2, List.of()), "would shrink");
                refused(a, new MdArray.GrowOptions(null, 3, List.of()), "already has 3 members");
                refused(a, new MdArray.GrowOptions(null, 5, List.of(d[3])), "needs 2 more device(s)");
                refused(a, new MdArray.GrowOptions(null, 4, List.of(d[3], d[4])), "the grow uses 1");
                refused(a, new MdArray.GrowOptions(null, 4, List.of(small)), "holds " + small.sizeBytes() + " bytes");
                refused(a, new MdArray.GrowOptions(null, 4, List.of(d[0])), "already claimed");
                refused(a, new MdArray.GrowOptions(RaidLevel.RAID6, 5, List.of(d[3])), "exactly one member for Q");
                refused(a, new MdArray.GrowOptions(RaidLevel.RAID1, 0, List.of()), "not implemented by orion");
                a.fail(1);
                assertTrue(a.awaitIdle(Duration.ofSeconds(30)));
                refused(a, new MdArray.GrowOptions(null, 4, List.of(d[3])), "degraded");
                assertNull(MdArray.readSuperblock(c, d[3]), "the added device was not written");
                assertTrue(MdArray.readSuperblock(c, d[0]).events > ev);
            }
            // Never resynced (created without assume-clean, no host ran it): md reshapes only an array in sync.
            MemoryBdev[] u = devs("u", 4);
            try (MdArray a = MdArray.create(host, "mdu", new MdArray.CreateOptions(RaidLevel.RAID5, null, CHUNK, false),
                    list(u, 0, 3), List.of(), FAST)) {
                refused(a, new MdArray.GrowOptions(null, 4, List.of(u[3])), "not in sync");
                assertNull(MdArray.readSuperblock(c, u[3]));
            } finally {
                close(u);
            }
            // With 512 KiB chunks mdadm's 2 MiB data offset on small members fits three grows of one chunk, not four.
            MemoryBdev[] e = devs("b", 7);
            try (MdArray a = MdArray.create(host, "mdb", new MdArray.CreateOptions(RaidLevel.RAID5, null, 1024, true),
                    list(e, 0, 3), List.of(), FAST)) {
                a.start();
                for (int n = 4; n <= 6; n++) {
                    a.grow(new MdArray.GrowOptions(null, n, List.of(e[n - 1])));
                    awaitDone(a);
                }
                assertEquals(1024, MdArray.readSuperblock(c, e[0]).dataOffset);
                refused(a, new MdArray.GrowOptions(null, 7, List.of(e[6])), "backup file");
                assertNull(MdArray.readSuperblock(c, e[6]));
            } finally {
                close(e);
            }
        } finally {
            close(d);
            small.close();
        }
    }

    private static void refused(MdArray a, MdArray.GrowOptions o, String why) {
        ErrnoException e = assertThrows(ErrnoException.class, () -> a.grow(o));
        assertTrue(e.getMessage().contains(why), "expected \"" + why + "\" in: " + e.getMessage());
    }
}
