package org.orionos.host.lvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.bdev.BdevClient;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.ModelWorkload;
import org.orionos.host.bdev.backend.FileBdev;
import org.orionos.host.bdev.backend.MemoryBdev;
import org.orionos.host.lvm.metadata.ThinSegments;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Thin pools and thin volumes on memory PVs: random concurrent I/O against the byte-exact model
 * on an over-committed volume, content kept across close and reopen (the mappings went through a
 * metadata commit), a full pool failing writes with ENOSPC without touching what is mapped and
 * recovering after lvextend, trim returning chunks only after a commit, and a crash injected at
 * every step of a mapping commit leaving exactly the old or the new image.
 */
class ThinPoolTest {
    static final long MIB = 1 << 20;
    /** 1 MiB extents. */
    static final long EXT = 2048;
    static final long CHUNK = 64 << 10;

    @TempDir
    java.nio.file.Path dir;

    static List<BlockDevice> memoryPvs(int n, long size) {
        List<BlockDevice> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new MemoryBdev("tpv" + i + "-" + System.nanoTime(), size, 512));
        }
        return out;
    }

    static void fill(MemorySegment s, long seed) {
        for (long i = 0; i < s.byteSize(); i += 8) {
            s.set(JAVA_LONG, i, seed * 0x9E3779B97F4A7C15L + i);
        }
    }

    static int errno(ExecutionException e) {
        return ((ErrnoException) e.getCause()).errno();
    }

    @Test
    void overCommittedThinVolumeMatchesTheModelAndKeepsItsDataAcrossReopen() throws Exception {
        long region = 4 * MIB;
        try (BdevHost host = BdevHost.start(2, 8 << 20); Arena arena = Arena.ofShared()) {
            List<BlockDevice> pvs = memoryPvs(2, 48 * MIB);
            MemorySegment before = arena.allocate(2 * region, 4096);
            try (VolumeGroup vg = VolumeGroup.create(host, "vgthin", pvs, EXT)) {
                vg.createThinPool("pool", 40, 2, ThinSegments.DEFAULT_CHUNK_SECTORS);
                vg.createThin("thin", "pool", 1L << 40); // 1 TiB on a 40 MiB pool
                ThinVolume v = vg.activateThin("thin", "vgthin/thin");
                assertEquals(1L << 40, v.sizeBytes());
                assertEquals(CHUNK, v.optimalBoundary());
                long[] bases = {0, 700L << 30};
                List<ModelWorkload> loads = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    loads.add(new ModelWorkload(host.context(i), v, bases[i], region, 4000, 16, 31 + i, false, arena));
                }
                loads.forEach(ModelWorkload::start);
                for (ModelWorkload w : loads) {
                    assertNull(w.done.get(120, TimeUnit.SECONDS));
                    assertTrue(w.reads > 800 && w.writes > 800 && w.vectored > 0 && w.others > 100,
                            "mix: reads " + w.reads + " writes " + w.writes + " vectored " + w.vectored + " other " + w.others);
                }
                BdevClient c = host.client();
                c.read(v, bases[0], before.asSlice(0, region)).get(30, TimeUnit.SECONDS);
                c.read(v, bases[1], before.asSlice(region, region)).get(30, TimeUnit.SECONDS);
                c.flush(v).get(30, TimeUnit.SECONDS);
                ThinPool p = vg.pool("pool");
                assertTrue(p.usedChunks() <= 2 * region / CHUNK, "used " + p.usedChunks());
                assertEquals(0, p.countedRequests(), "every request that counted itself in counted itself out");
                for (int i = 0; i < 1000 && p.heldChunks() > 0; i++) {
                    Thread.sleep(10); // the grace period after the flush's commit ends at the committer's next look
                }
                assertEquals(0, p.heldChunks(), "trimmed chunks are free after a commit once no request uses them");
            }
            try (VolumeGroup vg = VolumeGroup.open(host, pvs)) {
                BlockDevice v = vg.activateAny("thin", "vgthin/thin");
                assertInstanceOf(ThinVolume.class, v);
                MemorySegment after = arena.allocate(2 * region, 4096);
                host.client().read(v, 0, after.asSlice(0, region)).get(30, TimeUnit.SECONDS);
                host.client().read(v, 700L << 30, after.asSlice(region, region)).get(30, TimeUnit.SECONDS);
                assertEquals(-1, after.mismatch(before), "content after reopen");
            }
        }
    }

    @Test
    void fullPoolFailsWritesWithEnospcKeepsMappingsAndRecoversWhenExtended() throws Exception {
        try (BdevHost host = BdevHost.start(1, 8 << 20); Arena arena = Arena.ofShared()) {
            List<BlockDevice> pvs = memoryPvs(1, 32 * MIB);
            try (VolumeGroup vg = VolumeGroup.create(host, "vgfull", pvs, EXT)) {
                vg.createThinPool("pool", 2, 1, ThinSegments.DEFAULT_CHUNK_SECTORS); // 32 chunks
                vg.createThin("a", "pool", 16 * MIB);
                ThinVolume a = vg.activateThin("a", "vgfull/a");
                ThinPool p = vg.pool("pool");
                p.warnAt(0.5);
                BdevClient c = host.client();
                MemorySegment data = arena.allocate(2 * MIB, 4096);
                fill(data, 5);
                c.write(a, 0, data, 0).get(30, TimeUnit.SECONDS);
                assertEquals(0, p.freeChunks());
                MemorySegment one = arena.allocate(4096, 4096);
                fill(one, 6);
                var full = assertThrows(ExecutionException.class, () -> c.write(a, 8 * MIB + 4096, one, 0).get(30, TimeUnit.SECONDS));
                assertEquals(Errno.ENOSPC, errno(full));
                // Overwrites of mapped chunks still work; the failed write mapped nothing.
                c.write(a, 4096, one, 0).get(30, TimeUnit.SECONDS);
                MemorySegment.copy(one, 0, data, 4096, 4096);
                MemorySegment back = arena.allocate(2 * MIB, 4096);
                c.read(a, 0, back).get(30, TimeUnit.SECONDS);
                assertEquals(-1, back.mismatch(data));
                MemorySegment zeros = arena.allocate(4096, 4096);
                c.read(a, 8 * MIB, zeros).get(30, TimeUnit.SECONDS);
                assertEquals(-1, zeros.mismatch(arena.allocate(4096, 4096)), "the refused chunk stays unmapped");

                vg.extendThinPool("pool", 1);
                assertEquals(48, p.dataChunks());
                c.write(a, 8 * MIB + 4096, one, 0).get(30, TimeUnit.SECONDS);
                c.read(a, 8 * MIB, zeros).get(30, TimeUnit.SECONDS);
                assertEquals(-1, zeros.asSlice(4096 - 4096, 4096).mismatch(arena.allocate(4096, 4096)));
                MemorySegment got = arena.allocate(4096, 4096);
                c.read(a, 8 * MIB + 4096, got).get(30, TimeUnit.SECONDS);
                assertEquals(-1, got.mismatch(one));

                var mapped = c.blockStatus(a, 0, 16 * MIB).get(30, TimeUnit.SECONDS);
                assertEquals(2 * MIB, mapped.length(), "the first 2 MiB are mapped");
                assertTrue(!mapped.hole());
                var hole = c.blockStatus(a, 2 * MIB, 6 * MIB).get(30, TimeUnit.SECONDS);
                assertEquals(6 * MIB, hole.length());
                assertTrue(hole.hole() && hole.zero());
                // Trim returns whole chunks, reusable once a commit no longer maps them.
                long freeBefore = p.freeChunks();
                c.trim(a, 0, MIB).get(30, TimeUnit.SECONDS);
                assertEquals(freeBefore, p.freeChunks(), "trimmed chunks are held until the next commit");
                c.flush(a).get(30, TimeUnit.SECONDS);
                assertEquals(freeBefore + 16, p.freeChunks());
                c.read(a, 0, back.asSlice(0, MIB)).get(30, TimeUnit.SECONDS);
                assertEquals(-1, back.asSlice(0, MIB).mismatch(arena.allocate(MIB, 4096)), "trimmed range reads zeros");
            }
            try (VolumeGroup vg = VolumeGroup.open(host, pvs)) {
                assertEquals(3, vg.metadata().logicalVolume("pool").extentCount());
                assertEquals(3, vg.metadata().logicalVolume("pool_tdata").extentCount());
            }
        }
    }

    /**
     * Commit A (8 chunks), then trim A and write B into the other 8 chunks (A's chunks are now
     * held, not free), then crash at each step of the next commit. Reopened, the volume
     * shows exactly A (old image) or exactly B (new image), never B's data under A's addresses.
     */
    @Test
    void crashAtEveryCommitStepLeavesTheOldOrTheNewImage() throws Exception {
        for (int step = 0; step <= 3; step++) {
            try (BdevHost host = BdevHost.start(1, 8 << 20); Arena arena = Arena.ofShared()) {
                List<BlockDevice> pvs = memoryPvs(1, 16 * MIB);
                MemorySegment a = arena.allocate(CHUNK * 8, 4096);
                MemorySegment b = arena.allocate(CHUNK * 8, 4096);
                fill(a, 100 + step);
                fill(b, 200 + step);
                try (VolumeGroup vg = VolumeGroup.create(host, "vgcrash", pvs, EXT)) {
                    vg.createThinPool("pool", 1, 1, ThinSegments.DEFAULT_CHUNK_SECTORS); // 16 chunks
                    vg.createThin("t", "pool", 8 * MIB);
                    ThinVolume t = vg.activateThin("t", "vgcrash/t");
                    ThinPool p = vg.pool("pool");
                    BdevClient c = host.client();
                    c.write(t, 0, a, 0).get(30, TimeUnit.SECONDS);
                    c.flush(t).get(30, TimeUnit.SECONDS);
                    long seq = p.seqno();
                    c.trim(t, 0, CHUNK * 8).get(30, TimeUnit.SECONDS);
                    c.write(t, 4 * MIB, b, 0).get(30, TimeUnit.SECONDS);
                    assertEquals(0, p.freeChunks(), "trimmed chunks are held, not free, until a commit");
                    assertEquals(8, p.heldChunks());
                    if (step == 0) {
                        p.commitAndWait();
                        assertTrue(p.seqno() > seq);
                    } else {
                        p.crashAfterStep = step;
                        ErrnoException died = assertThrows(ErrnoException.class, p::commitAndWait);
                        assertEquals(Errno.EIO, died.errno());
                        assertEquals(seq, p.seqno());
                    }
                }
                try (VolumeGroup vg = VolumeGroup.open(host, pvs)) {
                    ThinVolume t = vg.activateThin("t", "vgcrash/t");
                    MemorySegment lo = arena.allocate(CHUNK * 8, 4096);
                    MemorySegment hi = arena.allocate(CHUNK * 8, 4096);
                    host.client().read(t, 0, lo).get(30, TimeUnit.SECONDS);
                    host.client().read(t, 4 * MIB, hi).get(30, TimeUnit.SECONDS);
                    MemorySegment zero = arena.allocate(CHUNK * 8, 4096);
                    boolean newImage = step == 0 || step == 3;
                    assertEquals(-1, lo.mismatch(newImage ? zero : a), "step " + step + ": A's range");
                    assertEquals(-1, hi.mismatch(newImage ? b : zero), "step " + step + ": B's range");
                    ThinPool p = vg.pool("pool");
                    assertEquals(newImage ? 8 : 8, p.usedChunks(), "step " + step);
                    // Whatever image won, the pool allocates again without clobbering it.
                    MemorySegment c2 = arena.allocate(CHUNK * 8, 4096);
                    fill(c2, 300);
                    host.client().write(t, 2 * MIB, c2, 0).get(30, TimeUnit.SECONDS);
                    host.client().read(t, 0, lo).get(30, TimeUnit.SECONDS);
                    assertEquals(-1, lo.mismatch(newImage ? zero : a), "step " + step + ": A's range after new writes");
                }
            }
        }
    }

    /**
     * lvm2 on a VG holding orion thin volumes: it reads the VG, lists the pool and thin LVs with
     * their orion segment types and unknown state, warns that it does not know those types, and
     * refuses to change the VG rather than rewrite what it does not understand.
     */
    @Test
    void lvm2ListsOrionThinVolumesAsUnknownAndRefusesToChangeTheVg() throws Exception {
        assumeTrue(LoopImages.available() && Lvm2Tools.available(), "needs root, loop devices and lvm2");
        LoopImages.detachLeftovers();
        try (LoopImages images = new LoopImages(); BdevHost host = BdevHost.start(1, 8 << 20)) {
            String loop = images.attach(dir, 64 * MIB);
            BlockDevice pv = FileBdev.open("lp", java.nio.file.Path.of(loop), 0, 512, "auto");
            try (VolumeGroup vg = VolumeGroup.create(host, "vgseen", List.of(pv), 8192)) {
                vg.createLinear("plain", 2);
                vg.createThinPool("pool", 4, 1, ThinSegments.DEFAULT_CHUNK_SECTORS);
                vg.createThin("thin", "pool", 1L << 30);
            } finally {
                pv.close();
            }
            Lvm2Tools lvm = new Lvm2Tools(List.of(loop));
            List<com.fasterxml.jackson.databind.JsonNode> rows = lvm.reportAllowingWarnings("lvs", "lv", "-a", "-o",
                    "lv_name,segtype,lv_size,lv_attr", "vgseen");
            java.util.Map<String, String> seg = new java.util.HashMap<>();
            java.util.Map<String, String> attr = new java.util.HashMap<>();
            for (var r : rows) {
                seg.put(r.path("lv_name").asText(), r.path("segtype").asText());
                attr.put(r.path("lv_name").asText(), r.path("lv_attr").asText());
            }
            assertEquals("linear", seg.get("plain"));
            assertEquals(ThinSegments.POOL_TYPE, seg.get("pool"));
            assertEquals(ThinSegments.THIN_TYPE, seg.get("thin"));
            assertEquals("linear", seg.get("[pool_tdata]"));
            assertEquals("linear", seg.get("[pool_tmeta]"));
            assertEquals('X', attr.get("thin").charAt(4), "lvm2 reports the thin LV's state as unknown: " + attr);
            Lvm2Tools.Result vgs = lvm.ok("vgs", "vgseen");
            assertTrue(Lvm2Tools.complaints(vgs).toString().contains("Unrecognised segment type " + ThinSegments.THIN_TYPE),
                    "vgs stderr: " + vgs.err());
            Lvm2Tools.Result change = lvm.run("lvcreate", "-an", "-Zn", "-n", "more", "-L", "4M", "vgseen");
            assertTrue(change.exit() != 0, "lvm2 changed a VG it cannot fully read: " + change.out() + change.err());
            System.out.println("lvm2 lvcreate on the VG: exit " + change.exit() + ": " + Lvm2Tools.complaints(change));
            assertEquals(3, lvm.reportAllowingWarnings("vgs", "vg", "-o", "vg_name,lv_count", "vgseen").get(0).path("lv_count").asInt(),
                    "nothing changed");
        }
    }

    /** An {@code [[lvm]]} table brings thin volumes up as registry devices next to linear ones. */
    @Test
    void configActivatesThinVolumes() throws Exception {
        java.nio.file.Path f0 = dir.resolve("t0.img");
        try (BdevHost host = BdevHost.start(1, 8 << 20); Arena arena = Arena.ofShared()) {
            BlockDevice pv = FileBdev.open("f0", f0, 32 * MIB, 512, "auto");
            MemorySegment data = arena.allocate(MIB, 4096);
            fill(data, 12);
            try (VolumeGroup vg = VolumeGroup.create(host, "vgcfg", List.of(pv), EXT)) {
                vg.createLinear("l", 2);
                vg.createThinPool("pool", 8, 1, ThinSegments.DEFAULT_CHUNK_SECTORS);
                vg.createThin("t", "pool", 64 * MIB);
                host.client().write(vg.activateThin("t", "vgcfg/t"), 5 * MIB, data, 0).get(30, TimeUnit.SECONDS);
            } finally {
                pv.close();
            }
        }
        String toml = "[[bdev]]\nname = \"d0\"\ntype = \"file\"\npath = \"" + f0 + "\"\n"
                + "[[lvm]]\nvg = \"vgcfg\"\npvs = [\"d0\"]\n";
        try (BdevHost host = BdevHost.start(1, 8 << 20); Arena arena = Arena.ofShared()) {
            host.build(org.orionos.host.config.ConfigLoader.parse(toml, "thin.toml"));
            BlockDevice t = host.registry().get("vgcfg/t");
            assertInstanceOf(ThinVolume.class, t);
            assertEquals(2 * MIB, host.registry().get("vgcfg/l").sizeBytes());
            MemorySegment back = arena.allocate(MIB, 4096);
            MemorySegment expect = arena.allocate(MIB, 4096);
            fill(expect, 12);
            host.client().read(t, 5 * MIB, back).get(30, TimeUnit.SECONDS);
            assertEquals(-1, back.mismatch(expect));
        }
    }

    /** A memory device without WRITE_ZEROES: new chunks must then be zeroed by writing zeros. */
    static final class NoWriteZeroes extends BlockDevice implements org.orionos.host.bdev.BdevCallback {
        private final BlockDevice base;

        NoWriteZeroes(BlockDevice base) {
            super(base.name() + "-nwz", base.blockSize(), base.blockCount(),
                    base.capabilities() & ~org.orionos.host.bdev.Capability.WRITE_ZEROES, 0, 0);
            this.base = base;
        }

        @Override
        protected void doSubmit(org.orionos.host.bdev.BdevRequest r) {
            base.submit(r.context().forward(r, this));
        }

        @Override
        public void onComplete(org.orionos.host.bdev.BdevRequest down, int status) {
            var up = down.forwardedFor();
            down.release();
            up.complete(status);
        }
    }

    @Test
    void newChunksReadZerosOnStaleDataWithoutWriteZeroes() throws Exception {
        try (BdevHost host = BdevHost.start(2, 8 << 20); Arena arena = Arena.ofShared()) {
            BlockDevice mem = memoryPvs(1, 48 * MIB).get(0);
            MemorySegment junk = arena.allocate(MIB, 4096);
            junk.fill((byte) 0xa5);
            for (long at = 0; at < mem.sizeBytes(); at += MIB) {
                host.client().write(mem, at, junk, 0).get(30, TimeUnit.SECONDS); // stale data everywhere
            }
            BlockDevice pv = new NoWriteZeroes(mem);
            try (VolumeGroup vg = VolumeGroup.create(host, "vgnwz", List.of(pv), EXT)) {
                vg.createThinPool("pool", 40, 2, ThinSegments.DEFAULT_CHUNK_SECTORS);
                vg.createThin("thin", "pool", 64 * MIB);
                ThinVolume v = vg.activateThin("thin", "vgnwz/thin");
                assertTrue(!v.has(org.orionos.host.bdev.Capability.WRITE_ZEROES));
                List<ModelWorkload> loads = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    loads.add(new ModelWorkload(host.context(i), v, i * 16 * MIB, 4 * MIB, 3000, 16, 51 + i, false, arena));
                }
                loads.forEach(ModelWorkload::start);
                for (ModelWorkload w : loads) {
                    assertNull(w.done.get(120, TimeUnit.SECONDS));
                }
            }
        }
    }

    /**
     * A write that finds the pool full while chunks are held asks for a commit and gets a chunk
     * after it lands; when that commit cannot land (the committer dies mid-write), the write
     * fails with ENOSPC and the old image, which still maps the held chunks, is what reopens.
     */
    @Test
    void fullPoolWriteWaitsForTheCommitThatFreesHeldChunks() throws Exception {
        for (boolean crash : new boolean[] {false, true}) {
            try (BdevHost host = BdevHost.start(1, 8 << 20); Arena arena = Arena.ofShared()) {
                List<BlockDevice> pvs = memoryPvs(1, 16 * MIB);
                MemorySegment a = arena.allocate(CHUNK * 8, 4096);
                MemorySegment b = arena.allocate(CHUNK * 8, 4096);
                fill(a, 400);
                fill(b, 500);
                try (VolumeGroup vg = VolumeGroup.create(host, "vgheld", pvs, EXT)) {
                    vg.createThinPool("pool", 1, 1, ThinSegments.DEFAULT_CHUNK_SECTORS); // 16 chunks
                    vg.createThin("t", "pool", 8 * MIB);
                    ThinVolume t = vg.activateThin("t", "vgheld/t");
                    ThinPool p = vg.pool("pool");
                    BdevClient c = host.client();
                    c.write(t, 0, a, 0).get(30, TimeUnit.SECONDS);
                    c.flush(t).get(30, TimeUnit.SECONDS);
                    c.trim(t, 0, CHUNK * 8).get(30, TimeUnit.SECONDS);
                    c.write(t, 4 * MIB, b, 0).get(30, TimeUnit.SECONDS);
                    long seq = p.seqno();
                    MemorySegment one = arena.allocate(4096, 4096);
                    if (!crash) {
                        c.write(t, 6 * MIB, one, 0).get(30, TimeUnit.SECONDS);
                        assertTrue(p.seqno() > seq, "the held chunk was reused without a commit");
                        assertEquals(7, p.freeChunks());
                        continue;
                    }
                    p.crashAfterStep = 2;
                    var full = assertThrows(ExecutionException.class, () -> c.write(t, 6 * MIB, one, 0).get(30, TimeUnit.SECONDS));
                    assertEquals(Errno.ENOSPC, errno(full));
                    assertEquals(seq, p.seqno());
                }
                try (VolumeGroup vg = VolumeGroup.open(host, pvs)) {
                    MemorySegment lo = arena.allocate(CHUNK * 8, 4096);
                    host.client().read(vg.activateThin("t", "vgheld/t"), 0, lo).get(30, TimeUnit.SECONDS);
                    assertEquals(-1, lo.mismatch(a), "the old image still maps A's chunks, untouched");
                }
            }
        }
    }

    /**
     * lvresize of an active, claimed thin volume: grow announces the size and the new range is
     * writable, data kept; shrink needs force, frees the chunks past the end, keeps the rest;
     * the sizes survive a reopen.
     */
    @Test
    void onlineThinResizeGrowsAndShrinksWithDataKept() throws Exception {
        try (BdevHost host = BdevHost.start(2, 8 << 20); Arena arena = Arena.ofShared()) {
            List<BlockDevice> pvs = memoryPvs(1, 48 * MIB);
            MemorySegment data = arena.allocate(4 * MIB, 4096);
            fill(data, 61);
            try (VolumeGroup vg = VolumeGroup.create(host, "vgtr", pvs, EXT)) {
                vg.createThinPool("pool", 32, 2, ThinSegments.DEFAULT_CHUNK_SECTORS);
                vg.createThin("t", "pool", 8 * MIB);
                ThinVolume t = vg.activateThin("t", "vgtr/t");
                java.util.concurrent.atomic.AtomicInteger told = new java.util.concurrent.atomic.AtomicInteger();
                var claim = t.claim("an export", true, null, told::incrementAndGet);
                BdevClient c = host.client();
                c.write(t, 4 * MIB, data, 0).get(30, TimeUnit.SECONDS);
                // The model workload runs on the first 4 MiB while the volume grows.
                ModelWorkload w = new ModelWorkload(host.context(1), t, 0, 4 * MIB, 20000, 16, 62, false, arena);
                w.start();
                vg.resize("t", 24, false);
                assertEquals(24 * MIB, t.sizeBytes());
                assertEquals(1, told.get());
                c.write(t, 20 * MIB, data, 0).get(30, TimeUnit.SECONDS);
                assertNull(w.done.get(120, TimeUnit.SECONDS));
                MemorySegment back = arena.allocate(4 * MIB, 4096);
                c.read(t, 4 * MIB, back).get(30, TimeUnit.SECONDS);
                assertEquals(-1, back.mismatch(data));
                c.read(t, 20 * MIB, back).get(30, TimeUnit.SECONDS);
                assertEquals(-1, back.mismatch(data));

                ErrnoException refused = assertThrows(ErrnoException.class, () -> vg.resize("t", 8, false));
                assertEquals(Errno.EINVAL, refused.errno());
                assertEquals(24 * MIB, t.sizeBytes(), "a refusal changes nothing");
                ThinPool p = vg.pool("pool");
                long used = p.usedChunks();
                vg.resize("t", 8, true);
                assertEquals(8 * MIB, t.sizeBytes());
                assertEquals(2, told.get());
                assertEquals(used - 4 * MIB / CHUNK, p.usedChunks(), "the chunks past the new end are released");
                c.read(t, 4 * MIB, back).get(30, TimeUnit.SECONDS);
                assertEquals(-1, back.mismatch(data));
                assertThrows(ExecutionException.class, () -> c.write(t, 8 * MIB, data.asSlice(0, 4096), 0).get(30, TimeUnit.SECONDS));
                claim.close();
            }
            try (VolumeGroup vg = VolumeGroup.open(host, pvs)) {
                ThinVolume t = vg.activateThin("t", "vgtr/t");
                assertEquals(8 * MIB, t.sizeBytes());
                MemorySegment back = arena.allocate(4 * MIB, 4096);
                host.client().read(t, 4 * MIB, back).get(30, TimeUnit.SECONDS);
                assertEquals(-1, back.mismatch(data));
                vg.resize("t", 16, false);
                host.client().read(t, 8 * MIB, back).get(30, TimeUnit.SECONDS);
                assertEquals(-1, back.mismatch(arena.allocate(4 * MIB, 4096)), "grown range reads zeros, not old data");
            }
        }
    }
}
