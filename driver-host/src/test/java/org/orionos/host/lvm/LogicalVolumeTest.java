package org.orionos.host.lvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

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
import org.orionos.host.lvm.metadata.LogicalVolumeMetadata;
import org.orionos.host.lvm.metadata.LvSegment;
import org.orionos.host.lvm.metadata.PhysicalVolumeMetadata;
import org.orionos.host.lvm.metadata.StripeArea;
import org.orionos.host.lvm.metadata.StripedSegment;
import org.orionos.host.lvm.metadata.VolumeGroupMetadata;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Logical volumes as block devices: concurrent random I/O against the byte-exact model through
 * linear, multi-segment and striped volumes, then every LV block found on its PV where an
 * independent dm-linear/dm-stripe computation says it must be; metadata re-read through the
 * block-device layer; online grow and forced shrink with data kept; refusals before changes.
 */
class LogicalVolumeTest {
    private static final long MIB = 1 << 20;
    /** 1 MiB extents, so small PVs hold many and segments are easy to fragment. */
    private static final long EXTENT_SECTORS = 2048;
    private static final long REGION = 4 * MIB;

    @TempDir
    Path dir;

    private static List<BlockDevice> memoryPvs(int n, long size, int blockSize) {
        List<BlockDevice> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new MemoryBdev("pv" + i + "-" + System.nanoTime(), size, blockSize));
        }
        return out;
    }

    /** One model workload per reactor on its own region of the volume, all at once. */
    private static void runModel(BdevHost host, BlockDevice dev, long ops) throws Exception {
        try (Arena arena = Arena.ofShared()) {
            List<ModelWorkload> loads = new ArrayList<>();
            for (int i = 0; i < host.reactorCount(); i++) {
                loads.add(new ModelWorkload(host.context(i), dev, i * REGION, REGION, ops, 16, 7 + i, false, arena));
            }
            loads.forEach(ModelWorkload::start);
            for (ModelWorkload w : loads) {
                assertNull(w.done.get(120, TimeUnit.SECONDS));
                assertTrue(w.reads > ops / 5 && w.writes > ops / 5 && w.vectored > 0,
                        "workload mix: reads " + w.reads + " writes " + w.writes + " vectored " + w.vectored);
            }
        }
    }

    /** Where LV byte {@code off} lives: [PV name, byte offset on that PV], computed from the metadata. */
    private static Object[] locate(VolumeGroupMetadata vg, LogicalVolumeMetadata lv, long off) {
        long ext = vg.extentSize() * 512;
        for (LvSegment seg : lv.segments()) {
            StripedSegment st = (StripedSegment) seg;
            long segStart = st.startExtent() * ext;
            long segLen = st.extentCount() * ext;
            if (off < segStart || off >= segStart + segLen) {
                continue;
            }
            long rel = off - segStart;
            StripeArea a;
            long inArea;
            if (st.stripeCount() == 1) {
                a = st.stripes().get(0);
                inArea = rel;
            } else {
                long chunk = st.stripeSize() * 512;
                long row = rel / (chunk * st.stripeCount());
                int stripe = (int) ((rel / chunk) % st.stripeCount());
                a = st.stripes().get(stripe);
                inArea = row * chunk + rel % chunk;
            }
            PhysicalVolumeMetadata pv = vg.physicalVolume(a.pvName());
            return new Object[] {a.pvName(), pv.peStart() * 512 + a.startExtent() * ext + inArea};
        }
        throw new AssertionError("offset " + off + " is outside " + lv.name());
    }

    /**
     * Writes every 512-byte sector of the volume with its own LV offset, then reads each PV whole
     * and checks that each sector sits where the metadata says.
     */
    private static void assertMappedAsMetadataSays(BdevHost host, VolumeGroup vg, LogicalVolume v) throws Exception {
        BdevClient c = host.client();
        VolumeGroupMetadata meta = vg.metadata();
        LogicalVolumeMetadata lv = meta.logicalVolume(v.lvName());
        long size = v.sizeBytes();
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(MIB, 4096);
            for (long at = 0; at < size; at += MIB) {
                for (long s = 0; s < MIB; s += 512) {
                    buf.set(JAVA_LONG, s, at + s);
                    buf.set(JAVA_LONG, s + 8, 0x4f52494f4e4c5621L);
                }
                c.write(v, at, buf, 0).get(30, TimeUnit.SECONDS);
            }
            c.flush(v).get(30, TimeUnit.SECONDS);
            List<BlockDevice> pvs = vg.physicalVolumes();
            List<MemorySegment> images = new ArrayList<>();
            for (BlockDevice d : pvs) {
                MemorySegment img = arena.allocate(d.sizeBytes(), 4096);
                c.read(d, 0, img).get(30, TimeUnit.SECONDS);
                images.add(img);
            }
            for (long off = 0; off < size; off += 512) {
                Object[] where = locate(meta, lv, off);
                int pvIndex = -1;
                for (int i = 0; i < meta.physicalVolumes().size(); i++) {
                    if (meta.physicalVolumes().get(i).name().equals(where[0])) {
                        pvIndex = i;
                    }
                }
                MemorySegment img = images.get(pvIndex);
                long pvOff = (Long) where[1];
                assertEquals(off, img.get(JAVA_LONG, pvOff), "LV byte " + off + " should be at " + where[0] + "+" + pvOff);
            }
        }
    }

    @Test
    void linearMultiSegmentAndStripedVolumesMatchTheModelAndTheMetadata() throws Exception {
        try (BdevHost host = BdevHost.start(2, 8 << 20)) {
            List<BlockDevice> pvs = memoryPvs(4, 40 * MIB, 4096);
            try (VolumeGroup vg = VolumeGroup.create(host, "vgt", pvs, EXTENT_SECTORS)) {
                vg.createLinear("linear", 10);
                vg.createLinear("a", 3);
                vg.createLinear("b", 3);
                vg.createLinear("c", 3);
                vg.remove("b");
                // Fills the 3-extent hole, the rest of pv0, and spills onto pv1: three segments.
                vg.createLinear("multi", 3 + 39 - 19 + 4);
                vg.createStriped("striped2", 10, 2, 128);
                vg.createStriped("striped3", 9, 3, 8);
                assertTrue(vg.metadata().logicalVolume("multi").segments().size() >= 3,
                        "multi has " + vg.metadata().logicalVolume("multi").segments());
                for (String name : List.of("linear", "multi", "striped2", "striped3")) {
                    LogicalVolume v = vg.activate(name, "vgt/" + name);
                    assertTrue(v.sizeBytes() >= 2 * REGION, name + " " + v.sizeBytes());
                    runModel(host, v, 4000);
                    assertMappedAsMetadataSays(host, vg, v);
                }
                assertEquals(64 * 1024, vg.volume("striped2").optimalBoundary());
                assertEquals(4096, vg.volume("striped3").optimalBoundary());
            }
            // The metadata went through the block-device layer: reopening reads the same VG.
            try (VolumeGroup again = VolumeGroup.open(host, pvs)) {
                assertEquals(List.of("linear", "a", "c", "multi", "striped2", "striped3"),
                        again.metadata().logicalVolumes().stream().map(LogicalVolumeMetadata::name).toList());
            }
        }
    }

    @Test
    void volumesOnFileBackedPvsThroughIoUring() throws Exception {
        try (BdevHost host = BdevHost.start(2, 8 << 20)) {
            List<BlockDevice> pvs = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                pvs.add(FileBdev.open("fpv" + i, dir.resolve("pv" + i + ".img"), 24 * MIB, 4096, "auto"));
            }
            try (VolumeGroup vg = VolumeGroup.create(host, "vgf", pvs, EXTENT_SECTORS)) {
                vg.createStriped("s", 12, 2, 16);
                vg.createLinear("l", 20);
                for (String name : List.of("s", "l")) {
                    LogicalVolume v = vg.activate(name, "vgf/" + name);
                    runModel(host, v, 3000);
                    assertMappedAsMetadataSays(host, vg, v);
                }
            } finally {
                pvs.forEach(BlockDevice::close);
            }
        }
    }

    @Test
    void onlineGrowAndForcedShrinkKeepTheDataAndAnnounceTheSize() throws Exception {
        try (BdevHost host = BdevHost.start(2, 8 << 20)) {
            List<BlockDevice> pvs = memoryPvs(2, 32 * MIB, 512);
            try (VolumeGroup vg = VolumeGroup.create(host, "vgr", pvs, EXTENT_SECTORS);
                 Arena arena = Arena.ofShared()) {
                vg.createLinear("l", 4);
                vg.createLinear("gap", 2);
                vg.createStriped("s", 4, 2, 64);
                LogicalVolume l = vg.activate("l", "vgr/l");
                LogicalVolume s = vg.activate("s", "vgr/s");
                AtomicInteger told = new AtomicInteger();
                var claim = l.claim("test export", true, null, told::incrementAndGet);
                BdevClient c = host.client();
                MemorySegment pattern = arena.allocate(4 * MIB, 4096);
                for (long i = 0; i < 4 * MIB; i += 8) {
                    pattern.set(JAVA_LONG, i, i * 31 + 7);
                }
                c.write(l, 0, pattern, 0).get(30, TimeUnit.SECONDS);
                c.write(s, 0, pattern, 0).get(30, TimeUnit.SECONDS);
                vg.resize("l", 12, false); // continues past "gap" on pv0: a second segment
                vg.resize("s", 8, false);
                assertEquals(12 * MIB, l.sizeBytes());
                assertEquals(8 * MIB, s.sizeBytes());
                assertEquals(1, told.get());
                assertEquals(2, vg.metadata().logicalVolume("l").segments().size());
                MemorySegment back = arena.allocate(4 * MIB, 4096);
                c.read(l, 0, back).get(30, TimeUnit.SECONDS);
                assertEquals(-1, back.mismatch(pattern));
                c.read(s, 0, back).get(30, TimeUnit.SECONDS);
                assertEquals(-1, back.mismatch(pattern));
                // The model starts from zeros.
                c.writeZeroes(l, 0, l.sizeBytes(), 0).get(30, TimeUnit.SECONDS);
                c.writeZeroes(s, 0, s.sizeBytes(), 0).get(30, TimeUnit.SECONDS);
                runModel(host, l, 2000);
                runModel(host, s, 2000);

                c.write(l, 0, pattern, 0).get(30, TimeUnit.SECONDS);
                ErrnoException refused = assertThrows(ErrnoException.class, () -> vg.resize("l", 5, false));
                assertEquals(Errno.EINVAL, refused.errno());
                assertEquals(12, vg.metadata().logicalVolume("l").extentCount(), "a refusal changes nothing");
                vg.resize("l", 5, true);
                assertEquals(5 * MIB, l.sizeBytes());
                assertEquals(2, told.get());
                c.read(l, 0, back).get(30, TimeUnit.SECONDS);
                assertEquals(-1, back.mismatch(pattern));
                MemorySegment one = arena.allocate(4096, 4096);
                var past = assertThrows(java.util.concurrent.ExecutionException.class,
                        () -> c.write(l, 5 * MIB, one, 0).get(30, TimeUnit.SECONDS));
                assertEquals(Errno.ENOSPC, ((ErrnoException) past.getCause()).errno());

                ErrnoException open = assertThrows(ErrnoException.class, () -> vg.remove("l"));
                assertEquals(Errno.EBUSY, open.errno());
                assertTrue(vg.metadata().logicalVolume("l") != null);
                claim.close();
                vg.remove("l");
                assertNull(vg.metadata().logicalVolume("l"));
                ErrnoException full = assertThrows(ErrnoException.class, () -> vg.createLinear("big", 1000));
                assertEquals(Errno.ENOSPC, full.errno());
            }
        }
    }

    @Test
    void configLvmTableActivatesVolumesAsRegistryDevices() throws Exception {
        Path f0 = dir.resolve("c0.img");
        Path f1 = dir.resolve("c1.img");
        for (Path f : List.of(f0, f1)) {
            try (var raf = new java.io.RandomAccessFile(f.toFile(), "rw")) {
                raf.setLength(24 * MIB);
            }
        }
        try (var g = org.orionos.host.lvm.metadata.OfflineVolumeGroup.create("vgc", List.of(f0, f1), EXTENT_SECTORS,
                org.orionos.host.lvm.metadata.PhysicalVolumeFormatter.Options.defaults())) {
            g.createLinear("l", 9);
            g.createStriped("s", 10, 2, 128);
        }
        String toml = "[[bdev]]\nname = \"d0\"\ntype = \"file\"\npath = \"" + f0 + "\"\n"
                + "[[bdev]]\nname = \"d1\"\ntype = \"file\"\npath = \"" + f1 + "\"\n"
                + "[[lvm]]\nvg = \"vgc\"\npvs = [\"d0\", \"d1\"]\n";
        try (BdevHost host = BdevHost.start(2, 8 << 20)) {
            host.build(org.orionos.host.config.ConfigLoader.parse(toml, "test.toml"));
            BlockDevice l = host.registry().get("vgc/l");
            BlockDevice s = host.registry().get("vgc/s");
            assertEquals(9 * MIB, l.sizeBytes());
            assertEquals(10 * MIB, s.sizeBytes());
            runModel(host, l, 2000);
            runModel(host, s, 2000);
            ErrnoException busy = assertThrows(ErrnoException.class,
                    () -> host.registry().get("d0").claim("someone else", true, null));
            assertEquals(Errno.EBUSY, busy.errno());
        }
        String bad = "[[bdev]]\nname = \"d0\"\ntype = \"file\"\npath = \"" + f0 + "\"\n"
                + "[[lvm]]\nvg = \"vgc\"\npvs = [\"d0\", \"nope\"]\n";
        ErrnoException e = assertThrows(ErrnoException.class,
                () -> org.orionos.host.config.ConfigLoader.parse(bad, "bad.toml"));
        assertTrue(e.getMessage().contains("nope"), e.getMessage());
    }
}
