package org.orionos.host.lvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BdevOp;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.ModelWorkload;
import org.orionos.host.lvm.metadata.LogicalVolumeMetadata;
import org.orionos.host.lvm.metadata.LvSegment;
import org.orionos.host.lvm.metadata.StripedSegment;
import org.orionos.host.lvm.metadata.ThinSegments;
import org.orionos.host.lvm.metadata.VolumeGroupMetadata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * pvmove while the volumes are in use: the byte-exact model workload runs on a linear volume
 * and on a thin volume (whose pool's data and metadata volumes move too) during the whole move
 * and checks every read; afterwards nothing is left on the source PV, vgreduce drops it, and the
 * VG reopened without it reads the same bytes. A move stopped part way (as by a crash) leaves
 * committed pieces on the new PV and the rest whole on the old one, and running pvmove again
 * finishes it.
 */
class PvMoveTest {
    private static final long MIB = 1 << 20;

    private static boolean onPv(VolumeGroupMetadata vg, String pv) {
        for (LogicalVolumeMetadata lv : vg.logicalVolumes()) {
            for (LvSegment s : lv.segments()) {
                if (s instanceof StripedSegment st && st.stripes().stream().anyMatch(a -> a.pvName().equals(pv))) {
                    return true;
                }
            }
        }
        return false;
    }

    @Test
    void pvmoveUnderConcurrentWritesKeepsEveryByteThenVgreduce() throws Exception {
        try (BdevHost host = BdevHost.start(2, 8 << 20); Arena arena = Arena.ofShared()) {
            List<BlockDevice> pvs = ThinPoolTest.memoryPvs(2, 40 * MIB);
            MemorySegment linBytes = arena.allocate(20 * MIB, 4096);
            MemorySegment thinBytes = arena.allocate(8 * MIB, 4096);
            try (VolumeGroup vg = VolumeGroup.create(host, "vgmove", pvs, ThinPoolTest.EXT)) {
                vg.createLinear("lin", 20);
                vg.createThinPool("pool", 10, 1, ThinSegments.DEFAULT_CHUNK_SECTORS);
                vg.createThin("thin", "pool", 8 * MIB);
                assertTrue(!onPv(vg.metadata(), "pv1"), "everything starts on pv0");
                LogicalVolume lin = vg.activate("lin", "vgmove/lin");
                ThinVolume thin = vg.activateThin("thin", "vgmove/thin");
                ModelWorkload a = new ModelWorkload(host.context(0), lin, 2 * MIB, 12 * MIB, 60000, 16, 3, false, arena);
                ModelWorkload b = new ModelWorkload(host.context(1), thin, 0, 8 * MIB, 60000, 16, 4, false, arena);
                a.start();
                b.start();
                long aBefore = a.writes;
                long bBefore = b.writes;
                long moved = vg.pvmove(pvs.get(0), pvs.get(1));
                long aDuring = a.writes - aBefore;
                long bDuring = b.writes - bBefore;
                assertEquals(31, moved);
                assertNull(a.done.get(300, TimeUnit.SECONDS));
                assertNull(b.done.get(300, TimeUnit.SECONDS));
                System.out.println("writes during pvmove: linear " + aDuring + ", thin " + bDuring);
                assertTrue(aDuring > 0 && bDuring > 0, "the workloads did not run during the move: " + aDuring + ", " + bDuring);
                assertTrue(!onPv(vg.metadata(), "pv0"), "extents left on pv0: " + vg.metadata().logicalVolumes());
                host.client().read(lin, 0, linBytes).get(30, TimeUnit.SECONDS);
                host.client().read(thin, 0, thinBytes).get(30, TimeUnit.SECONDS);
                host.client().flush(thin).get(30, TimeUnit.SECONDS);
                vg.reduce(List.of(pvs.get(0)));
            }
            try (VolumeGroup vg = VolumeGroup.open(host, List.of(pvs.get(1)))) {
                MemorySegment back = arena.allocate(20 * MIB, 4096);
                host.client().read(vg.activate("lin", "vgmove/lin"), 0, back).get(30, TimeUnit.SECONDS);
                assertEquals(-1, back.mismatch(linBytes), "linear volume after pvmove, vgreduce and reopen");
                MemorySegment t = arena.allocate(8 * MIB, 4096);
                host.client().read(vg.activateThin("thin", "vgmove/thin"), 0, t).get(30, TimeUnit.SECONDS);
                assertEquals(-1, t.mismatch(thinBytes), "thin volume after its pool moved");
            }
        }
    }

    /** Stops the move after every possible number of copied windows (13 in all), then resumes. */
    @Test
    void pvmoveStoppedAtEveryWindowResumesAndLosesNothing() throws Exception {
        for (int k = 0; k <= 13; k++) {
            stopAndResume(k);
        }
    }

    private void stopAndResume(int stopAfter) throws Exception {
        String at = "stopped after " + stopAfter + " windows: ";
        try (BdevHost host = BdevHost.start(1, 8 << 20); Arena arena = Arena.ofShared()) {
            // pv0 holds 13 extents: all of "l" (12) and "x" (1).
            List<BlockDevice> pvs = List.of(ThinPoolTest.memoryPvs(1, 14 * MIB).get(0), ThinPoolTest.memoryPvs(1, 40 * MIB).get(0));
            MemorySegment pattern = arena.allocate(12 * MIB, 4096);
            ThinPoolTest.fill(pattern, 77 + stopAfter);
            try (VolumeGroup vg = VolumeGroup.create(host, "vgresume", pvs, ThinPoolTest.EXT)) {
                long pv0 = vg.metadata().physicalVolume("pv0").peCount();
                assertEquals(13, pv0);
                vg.createLinear("l", 12);
                vg.createLinear("x", pv0 - 12);
                // Holes of two extents on pv1, so the move goes in several committed pieces.
                vg.createLinear("f1", 3);
                vg.createLinear("g1", 2);
                vg.createLinear("f2", 3);
                vg.createLinear("g2", 2);
                vg.createLinear("f3", 3);
                vg.remove("g1");
                vg.remove("g2");
                LogicalVolume l = vg.activate("l", "vgresume/l");
                host.client().write(l, 0, pattern, 0).get(30, TimeUnit.SECONDS);
                vg.pvmoveFailAfterWindows = stopAfter;
                if (stopAfter < 13) {
                    ErrnoException stopped = assertThrows(ErrnoException.class, () -> vg.pvmove(pvs.get(0), pvs.get(1)));
                    assertEquals(Errno.EIO, stopped.errno());
                } else {
                    assertEquals(13, vg.pvmove(pvs.get(0), pvs.get(1)));
                }
                if (stopAfter == 3) {
                    // Piece 1 (2 windows) committed, piece 2 stopped after its first window.
                    LogicalVolumeMetadata lm = vg.metadata().logicalVolume("l");
                    assertEquals("pv1", ((StripedSegment) lm.segments().get(0)).stripes().get(0).pvName());
                    assertEquals(2, lm.segments().get(0).extentCount());
                    assertEquals("pv0", ((StripedSegment) lm.segments().get(1)).stripes().get(0).pvName());
                }
                MemorySegment back = arena.allocate(12 * MIB, 4096);
                host.client().read(l, 0, back).get(30, TimeUnit.SECONDS);
                assertEquals(-1, back.mismatch(pattern), at + "before the crash");
            }
            try (VolumeGroup vg = VolumeGroup.open(host, pvs)) {
                LogicalVolume l = vg.activate("l", "vgresume/l");
                MemorySegment back = arena.allocate(12 * MIB, 4096);
                host.client().read(l, 0, back).get(30, TimeUnit.SECONDS);
                assertEquals(-1, back.mismatch(pattern), at + "after the crash");
                vg.pvmove(pvs.get(0), null);
                assertTrue(!onPv(vg.metadata(), "pv0"), at + "left on pv0");
                host.client().read(l, 0, back).get(30, TimeUnit.SECONDS);
                assertEquals(-1, back.mismatch(pattern), at + "after the resumed move");
                assertTrue(vg.metadata().logicalVolume("l").segments().size() >= 3, "moved in pieces: "
                        + vg.metadata().logicalVolume("l").segments());
            }
            try (VolumeGroup vg = VolumeGroup.open(host, pvs)) {
                MemorySegment back = arena.allocate(12 * MIB, 4096);
                host.client().read(vg.activate("l", "vgresume/l"), 0, back).get(30, TimeUnit.SECONDS);
                assertEquals(-1, back.mismatch(pattern), at + "reopened after the move");
                ErrnoException same = assertThrows(ErrnoException.class, () -> vg.pvmove(pvs.get(1), pvs.get(1)));
                assertEquals(Errno.EINVAL, same.errno());
            }
        }
    }

    /**
     * A stripe area moves as one piece while the model workload writes the striped volume; a
     * move stopped inside the area leaves it on the old PV; the resumed move finishes it.
     */
    @Test
    void stripedVolumeMovesOneStripeAreaUnderLoadAndResumes() throws Exception {
        try (BdevHost host = BdevHost.start(2, 8 << 20); Arena arena = Arena.ofShared()) {
            List<BlockDevice> pvs = ThinPoolTest.memoryPvs(3, 24 * MIB);
            MemorySegment bytes = arena.allocate(16 * MIB, 4096);
            try (VolumeGroup vg = VolumeGroup.create(host, "vgsmove", pvs, ThinPoolTest.EXT)) {
                vg.createStriped("s", 16, 2, 128); // 8 extents on pv0, 8 on pv1, 64 KiB chunks
                LogicalVolume s = vg.activate("s", "vgsmove/s");
                ModelWorkload a = new ModelWorkload(host.context(0), s, 0, 6 * MIB, 40000, 16, 21, false, arena);
                ModelWorkload b = new ModelWorkload(host.context(1), s, 8 * MIB, 6 * MIB, 40000, 16, 22, false, arena);
                a.start();
                b.start();
                vg.pvmoveFailAfterWindows = 3;
                ErrnoException stopped = assertThrows(ErrnoException.class, () -> vg.pvmove(pvs.get(0), pvs.get(2)));
                assertEquals(Errno.EIO, stopped.errno());
                StripedSegment st = (StripedSegment) vg.metadata().logicalVolume("s").segments().get(0);
                assertEquals("pv0", st.stripes().get(0).pvName(), "a stopped area stays where it was");
                vg.pvmoveFailAfterWindows = -1;
                long aBefore = a.writes + b.writes;
                assertEquals(8, vg.pvmove(pvs.get(0), pvs.get(2)));
                long during = a.writes + b.writes - aBefore;
                assertNull(a.done.get(300, TimeUnit.SECONDS));
                assertNull(b.done.get(300, TimeUnit.SECONDS));
                assertTrue(during > 0, "no writes ran during the move");
                st = (StripedSegment) vg.metadata().logicalVolume("s").segments().get(0);
                assertEquals("pv2", st.stripes().get(0).pvName());
                assertEquals("pv1", st.stripes().get(1).pvName());
                assertTrue(!onPv(vg.metadata(), "pv0"));
                host.client().read(s, 0, bytes).get(30, TimeUnit.SECONDS);
                vg.reduce(List.of(pvs.get(0)));
            }
            try (VolumeGroup vg = VolumeGroup.open(host, List.of(pvs.get(1), pvs.get(2)))) {
                MemorySegment back = arena.allocate(16 * MIB, 4096);
                host.client().read(vg.activate("s", "vgsmove/s"), 0, back).get(30, TimeUnit.SECONDS);
                assertEquals(-1, back.mismatch(bytes), "striped volume after pvmove and reopen");
            }
        }
    }

    @Test
    void aWriteInFlightWhenTheMoveStartsIsNotLost() throws Exception {
        try (BdevHost host = BdevHost.start(2, 8 << 20); Arena arena = Arena.ofShared()) {
            List<BlockDevice> pvs = ThinPoolTest.memoryPvs(2, 16 * MIB);
            ThinReuseRaceTest.Hold src = new ThinReuseRaceTest.Hold(pvs.get(0));
            try (VolumeGroup vg = VolumeGroup.create(host, "vghold", List.of(src, pvs.get(1)), ThinPoolTest.EXT)) {
                vg.createLinear("lin", 4);
                LogicalVolume lin = vg.activate("lin", "vghold/lin");
                MemorySegment data = arena.allocate(64 * 1024, 4096);
                data.fill((byte) 0x5a);
                src.holdOp = BdevOp.WRITE;
                CompletableFuture<Void> write = host.client().write(lin, 0, data, 0);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (src.held.isEmpty() && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
                assertEquals(1, src.held.size(), "the write is held at the source PV");
                // The move starts while that write, mapped to the old PV only, is still in flight.
                CompletableFuture<Long> move = CompletableFuture.supplyAsync(() -> vg.pvmove(src, pvs.get(1)));
                Thread.sleep(300);
                src.release();
                assertEquals(4L, move.get(60, TimeUnit.SECONDS));
                write.get(30, TimeUnit.SECONDS);
                MemorySegment back = arena.allocate(64 * 1024, 4096);
                host.client().read(lin, 0, back).get(30, TimeUnit.SECONDS);
                assertEquals(-1, data.mismatch(back), "the write that was in flight when the move began survived it");
            }
        }
    }
}
