package org.orionos.host.lvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.orionos.bindings.Errno;
import org.orionos.host.bdev.BdevClient;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.ModelWorkload;
import org.orionos.host.lvm.metadata.ThinSegments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Thin snapshots against byte models: a snapshot stays frozen while random concurrent I/O
 * changes its origin (and the snapshot is taken while that I/O runs); chains of depth six where
 * every member is written after its children were taken, each verified byte for byte, across a
 * reopen; read-only snapshots refuse writes; delete returns the snapshot's own chunks; merge
 * rolls the origin back.
 */
class ThinSnapshotTest {
    private static final long MIB = 1 << 20;
    private static final long SIZE = 4 * MIB;

    private static MemorySegment read(BdevHost host, BlockDevice v, Arena arena) throws Exception {
        MemorySegment m = arena.allocate(SIZE, 4096);
        host.client().read(v, 0, m).get(30, TimeUnit.SECONDS);
        return m;
    }

    /** Random writes (some partial chunks, some whole, some trims) to the volume and to its model. */
    private static void scribble(BdevHost host, BlockDevice v, MemorySegment model, long seed, Arena arena) throws Exception {
        SplittableRandom rnd = new SplittableRandom(seed);
        BdevClient c = host.client();
        MemorySegment buf = arena.allocate(128 << 10, 4096);
        for (int i = 0; i < 40; i++) {
            long len = (1 + rnd.nextInt(32)) * 4096L;
            long off = rnd.nextLong(SIZE / 4096 - len / 4096 + 1) * 4096;
            if (rnd.nextInt(8) == 0) {
                long chunkOff = off / (64 << 10) * (64 << 10);
                c.trim(v, chunkOff, 64 << 10).get(30, TimeUnit.SECONDS);
                model.asSlice(chunkOff, 64 << 10).fill((byte) 0);
                continue;
            }
            for (long k = 0; k < len; k++) {
                buf.set(java.lang.foreign.ValueLayout.JAVA_BYTE, k, (byte) rnd.nextInt());
            }
            c.write(v, off, buf.asSlice(0, len), 0).get(30, TimeUnit.SECONDS);
            MemorySegment.copy(buf, 0, model, off, len);
        }
    }

    @Test
    void snapshotStaysFrozenWhileItsOriginChangesUnderConcurrentIo() throws Exception {
        try (BdevHost host = BdevHost.start(2, 8 << 20); Arena arena = Arena.ofShared()) {
            List<BlockDevice> pvs = ThinPoolTest.memoryPvs(1, 64 * MIB);
            try (VolumeGroup vg = VolumeGroup.create(host, "vgsnap", pvs, ThinPoolTest.EXT)) {
                vg.createThinPool("pool", 48, 2, ThinSegments.DEFAULT_CHUNK_SECTORS);
                vg.createThin("origin", "pool", 16 * MIB);
                ThinVolume origin = vg.activateThin("origin", "vgsnap/origin");
                MemorySegment base = arena.allocate(SIZE, 4096);
                scribble(host, origin, base, 1, arena);
                MemorySegment frozen = read(host, origin, arena);
                assertEquals(-1, frozen.mismatch(base));
                // Random I/O on the origin's second region while the snapshot of the first is taken.
                ModelWorkload busy = new ModelWorkload(host.context(1), origin, 8 * MIB, SIZE, 3000, 16, 9, false, arena);
                busy.start();
                vg.snapshot("origin", "snap", false);
                ThinVolume snap = vg.activateThin("snap", "vgsnap/snap");
                // The model starts from zeros: zeroing the origin's first region unmaps its chunks there.
                host.client().writeZeroes(origin, 0, SIZE, 0).get(30, TimeUnit.SECONDS);
                ModelWorkload onOrigin = new ModelWorkload(host.context(0), origin, 0, SIZE, 3000, 16, 11, false, arena);
                onOrigin.start();
                assertNull(onOrigin.done.get(120, TimeUnit.SECONDS));
                assertNull(busy.done.get(120, TimeUnit.SECONDS));
                assertEquals(-1, read(host, snap, arena).mismatch(frozen), "the snapshot changed with its origin");
                // The snapshot is writable and its writes stay its own.
                MemorySegment originNow = read(host, origin, arena);
                scribble(host, snap, frozen, 2, arena);
                assertEquals(-1, read(host, snap, arena).mismatch(frozen));
                assertEquals(-1, read(host, origin, arena).mismatch(originNow), "a snapshot write reached the origin");

                vg.snapshot("origin", "ro", true);
                ThinVolume ro = vg.activateThin("ro", "vgsnap/ro");
                assertTrue(ro.readOnly());
                var refused = assertThrows(ExecutionException.class,
                        () -> host.client().write(ro, 0, arena.allocate(4096, 4096), 0).get(30, TimeUnit.SECONDS));
                assertEquals(Errno.EROFS, ThinPoolTest.errno(refused));
                assertEquals(-1, read(host, ro, arena).mismatch(originNow));
            }
        }
    }

    @Test
    void chainsOfSixSnapshotsKeepEveryGenerationAcrossReopen() throws Exception {
        try (BdevHost host = BdevHost.start(1, 8 << 20); Arena arena = Arena.ofShared()) {
            List<BlockDevice> pvs = ThinPoolTest.memoryPvs(1, 96 * MIB);
            Map<String, MemorySegment> models = new LinkedHashMap<>();
            try (VolumeGroup vg = VolumeGroup.create(host, "vgchain", pvs, ThinPoolTest.EXT)) {
                vg.createThinPool("pool", 80, 2, ThinSegments.DEFAULT_CHUNK_SECTORS);
                vg.createThin("g0", "pool", SIZE);
                MemorySegment m0 = arena.allocate(SIZE, 4096);
                scribble(host, vg.activateThin("g0", "vgchain/g0"), m0, 100, arena);
                models.put("g0", m0);
                for (int g = 1; g <= 6; g++) {
                    String parent = "g" + (g - 1);
                    String child = "g" + g;
                    vg.snapshot(parent, child, false);
                    MemorySegment m = arena.allocate(SIZE, 4096);
                    MemorySegment.copy(models.get(parent), 0, m, 0, SIZE);
                    models.put(child, m);
                    scribble(host, vg.activateThin(child, "vgchain/" + child), m, 200 + g, arena);
                    // Older generations keep changing too; their descendants must not see it.
                    scribble(host, vg.thinVolume(parent), models.get(parent), 300 + g, arena);
                }
                for (var e : models.entrySet()) {
                    assertEquals(-1, read(host, vg.thinVolume(e.getKey()), arena).mismatch(e.getValue()), e.getKey());
                }
                host.client().flush(vg.thinVolume("g0")).get(30, TimeUnit.SECONDS);
                assertEquals("g2", ThinSegments.thinOf(vg.metadata().logicalVolume("g3")).origin());
            }
            try (VolumeGroup vg = VolumeGroup.open(host, pvs)) {
                for (var e : models.entrySet()) {
                    ThinVolume v = vg.activateThin(e.getKey(), "vgchain/" + e.getKey());
                    assertEquals(-1, read(host, v, arena).mismatch(e.getValue()), e.getKey() + " after reopen");
                }
                // Deleting a middle generation leaves the others intact and returns only its own chunks.
                ThinPool p = vg.pool("pool");
                long used = p.usedChunks();
                vg.remove("g3");
                models.remove("g3");
                assertTrue(p.usedChunks() < used, "g3's own chunks were not returned: " + used + " -> " + p.usedChunks());
                for (var e : models.entrySet()) {
                    assertEquals(-1, read(host, vg.thinVolume(e.getKey()), arena).mismatch(e.getValue()), e.getKey());
                }
            }
        }
    }

    @Test
    void mergeRollsTheOriginBackToTheSnapshot() throws Exception {
        try (BdevHost host = BdevHost.start(1, 8 << 20); Arena arena = Arena.ofShared()) {
            List<BlockDevice> pvs = ThinPoolTest.memoryPvs(1, 48 * MIB);
            MemorySegment m = arena.allocate(SIZE, 4096);
            try (VolumeGroup vg = VolumeGroup.create(host, "vgmerge", pvs, ThinPoolTest.EXT)) {
                vg.createThinPool("pool", 32, 2, ThinSegments.DEFAULT_CHUNK_SECTORS);
                vg.createThin("o", "pool", SIZE);
                ThinVolume o = vg.activateThin("o", "vgmerge/o");
                scribble(host, o, m, 7, arena);
                vg.snapshot("o", "before", false);
                MemorySegment later = arena.allocate(SIZE, 4096);
                MemorySegment.copy(m, 0, later, 0, SIZE);
                scribble(host, o, later, 8, arena);
                assertTrue(read(host, o, arena).mismatch(m) >= 0);
                var claim = o.claim("an export", true, null);
                var busy = assertThrows(org.orionos.bindings.ErrnoException.class, () -> vg.merge("before"));
                assertEquals(Errno.EBUSY, busy.errno());
                claim.close();
                vg.merge("before");
                assertNull(vg.metadata().logicalVolume("before"));
                assertEquals(-1, read(host, o, arena).mismatch(m), "origin after merge");
                scribble(host, o, m, 9, arena);
                assertEquals(-1, read(host, o, arena).mismatch(m));
                ThinPool p = vg.pool("pool");
                host.client().flush(o).get(30, TimeUnit.SECONDS);
                assertEquals(1, p.deviceIds().size());
            }
            try (VolumeGroup vg = VolumeGroup.open(host, pvs)) {
                MemorySegment back = arena.allocate(SIZE, 4096);
                host.client().read(vg.activateThin("o", "vgmerge/o"), 0, back).get(30, TimeUnit.SECONDS);
                assertEquals(-1, back.mismatch(m), "origin after merge and reopen");
                List<String> names = new ArrayList<>();
                vg.metadata().logicalVolumes().forEach(l -> names.add(l.name()));
                assertEquals(List.of("pool_tmeta", "pool_tdata", "pool", "o"), names);
            }
        }
    }
}
