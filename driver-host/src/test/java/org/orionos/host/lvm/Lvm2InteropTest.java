package org.orionos.host.lvm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.lvm.metadata.ConfigNode;
import org.orionos.host.lvm.metadata.ConfigSetting;
import org.orionos.host.lvm.metadata.ConfigValue;
import org.orionos.host.lvm.metadata.ExtentAllocator;
import org.orionos.host.lvm.metadata.FileMetadataIo;
import org.orionos.host.lvm.metadata.LogicalVolumeMetadata;
import org.orionos.host.lvm.metadata.LvmUuid;
import org.orionos.host.lvm.metadata.MetadataArea;
import org.orionos.host.lvm.metadata.MetadataCommit;
import org.orionos.host.lvm.metadata.MetadataIo;
import org.orionos.host.lvm.metadata.MetadataText;
import org.orionos.host.lvm.metadata.OtherSegment;
import org.orionos.host.lvm.metadata.OfflineVolumeGroup;
import org.orionos.host.lvm.metadata.PhysicalVolumeFormatter;
import org.orionos.host.lvm.metadata.PhysicalVolumeMetadata;
import org.orionos.host.lvm.metadata.RawLocation;
import org.orionos.host.lvm.metadata.StripeArea;
import org.orionos.host.lvm.metadata.StripedSegment;
import org.orionos.host.lvm.metadata.VolumeGroupMetadata;
import org.orionos.host.lvm.metadata.VolumeGroupRead;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Orion's LVM2 metadata against lvm2's own tools on real loop devices: lvm2 reads what orion
 * writes (pvs, vgs, lvs, pvck, vgck) and orion reads what lvm2 writes (pvcreate, vgcreate,
 * lvcreate), each continuing the other's circular metadata buffer. No device-mapper here, so lvm2
 * runs with {@code --driverloaded n} and volumes are created with {@code -an -Zn}; activation is
 * tested in the guest. Without device-mapper lvm2 refuses some commands outright: plain {@code
 * lvcreate -i 2} without {@code --driverloaded n} ("striped: Required device-mapper target(s) not
 * detected in your kernel") and {@code lvcreate --type thin-pool|raid1|mirror} even with it ("Can't
 * create thin-pool without using device-mapper kernel driver"), so thin pools reach lvm2 here only
 * as metadata orion writes.
 */
class Lvm2InteropTest {

    private static final long MIB = 1 << 20;
    private static final long DEV = 64 * MIB;

    @TempDir
    Path dir;
    private LoopImages images;

    @BeforeAll
    static void requireRootLoopsAndLvm2() {
        assumeTrue(LoopImages.available(), "needs root, /dev/loop-control and losetup");
        assumeTrue(Lvm2Tools.available(), "needs lvm2's tools (apt-get install lvm2)");
        LoopImages.detachLeftovers();
    }

    @BeforeEach
    void setUp() {
        images = new LoopImages();
    }

    @AfterEach
    void tearDown() {
        images.close();
    }

    private List<String> loops(int n) throws IOException {
        for (int i = 0; i < n; i++) {
            images.attach(dir, DEV);
        }
        return images.loops();
    }

    private static String vgName() {
        return "orion" + Long.toHexString(System.nanoTime() & 0xffffff);
    }

    private static Map<String, JsonNode> byName(List<JsonNode> rows, String key) {
        Map<String, JsonNode> m = new HashMap<>();
        for (JsonNode r : rows) {
            m.put(r.path(key).asText(), r);
        }
        return m;
    }

    private static long num(JsonNode row, String field) {
        return Long.parseLong(row.path(field).asText().trim());
    }

    /** lvm2's view must equal orion's model: PVs, VG, every LV and every segment. */
    private static void assertLvm2Agrees(Lvm2Tools lvm, VolumeGroupMetadata vg, List<String> loops,
                                         List<Integer> mdasPerPv) {
        long extentBytes = vg.extentSize() * 512;
        Map<String, JsonNode> pvs = byName(lvm.report("pvs", "pv", "-o",
                "pv_name,vg_name,pv_uuid,dev_size,pe_start,pv_pe_count,pv_pe_alloc_count,pv_mda_count"), "pv_name");
        Map<String, String> pvDevice = new HashMap<>();
        for (int i = 0; i < vg.physicalVolumes().size(); i++) {
            PhysicalVolumeMetadata pv = vg.physicalVolumes().get(i);
            JsonNode row = pvs.get(loops.get(i));
            assertEquals(vg.name(), row.path("vg_name").asText());
            assertEquals(pv.id().dashed(), row.path("pv_uuid").asText());
            assertEquals(pv.devSize() * 512, num(row, "dev_size"));
            assertEquals(pv.peStart() * 512, num(row, "pe_start"));
            assertEquals(pv.peCount(), num(row, "pv_pe_count"));
            assertEquals((long) mdasPerPv.get(i), num(row, "pv_mda_count"));
            pvDevice.put(pv.name(), loops.get(i));
        }
        List<JsonNode> vgs = lvm.report("vgs", "vg", "-o",
                "vg_name,vg_uuid,vg_extent_size,vg_extent_count,vg_free_count,vg_seqno,pv_count,lv_count,vg_mda_count",
                vg.name());
        assertEquals(1, vgs.size());
        JsonNode v = vgs.get(0);
        assertEquals(vg.id().dashed(), v.path("vg_uuid").asText());
        assertEquals(extentBytes, num(v, "vg_extent_size"));
        assertEquals(vg.extentCount(), num(v, "vg_extent_count"));
        assertEquals(new ExtentAllocator(vg).freeExtents(), num(v, "vg_free_count"));
        assertEquals(vg.seqno(), num(v, "vg_seqno"));
        assertEquals(vg.physicalVolumes().size(), num(v, "pv_count"));
        assertEquals(vg.logicalVolumes().size(), num(v, "lv_count"));
        assertEquals(mdasPerPv.stream().mapToLong(Integer::longValue).sum(), num(v, "vg_mda_count"));

        List<JsonNode> segs = lvm.report("lvs", "seg", "--segments", "-o",
                "lv_name,lv_uuid,lv_size,segtype,stripes,stripe_size,seg_start_pe,seg_size_pe,seg_pe_ranges", vg.name());
        Map<String, List<JsonNode>> rowsByLv = new HashMap<>();
        for (JsonNode s : segs) {
            rowsByLv.computeIfAbsent(s.path("lv_name").asText(), k -> new ArrayList<>()).add(s);
        }
        int row = 0;
        for (LogicalVolumeMetadata lv : vg.logicalVolumes()) {
            List<JsonNode> lvRows = rowsByLv.getOrDefault(lv.name(), List.of());
            lvRows.sort((a, b) -> Long.compare(num(a, "seg_start_pe"), num(b, "seg_start_pe")));
            assertEquals(lv.segments().size(), lvRows.size(), "segments of " + lv.name());
            for (int k = 0; k < lv.segments().size(); k++) {
                JsonNode s = lvRows.get(k);
                row++;
                StripedSegment st = assertInstanceOf(StripedSegment.class, lv.segments().get(k));
                assertEquals(lv.id().dashed(), s.path("lv_uuid").asText());
                assertEquals(lv.extentCount() * extentBytes, num(s, "lv_size"));
                assertEquals(st.stripeCount() == 1 ? "linear" : "striped", s.path("segtype").asText());
                assertEquals(st.stripeCount(), num(s, "stripes"));
                assertEquals(st.stripeSize() * 512, num(s, "stripe_size"));
                assertEquals(st.startExtent(), num(s, "seg_start_pe"));
                assertEquals(st.extentCount(), num(s, "seg_size_pe"));
                List<String> ranges = new ArrayList<>();
                for (StripeArea a : st.stripes()) {
                    ranges.add(pvDevice.get(a.pvName()) + ":" + a.startExtent() + "-"
                            + (a.startExtent() + st.extentsPerStripe() - 1));
                }
                assertEquals(String.join(" ", ranges), s.path("seg_pe_ranges").asText());
            }
        }
        assertEquals(segs.size(), row, "lvm2 lists exactly orion's segments");
    }

    private static void assertChecksClean(Lvm2Tools lvm, String vg, List<String> loops) {
        Lvm2Tools.Result r = lvm.ok("vgck", vg);
        assertEquals(List.of(), Lvm2Tools.complaints(r));
        for (String l : loops) {
            Lvm2Tools.Result p = lvm.ok("pvck", l);
            assertTrue(p.out().contains("Found label on " + l + ", sector 1, type=LVM2 001"), p.out());
            assertEquals(List.of(), Lvm2Tools.complaints(p));
        }
    }

    @Test
    void lvm2ReadsTheVgOrionWrites() throws IOException {
        List<String> loops = loops(2);
        Lvm2Tools lvm = new Lvm2Tools(loops);
        String name = vgName();
        try (OfflineVolumeGroup vg = OfflineVolumeGroup.create(name, paths(loops),
                OfflineVolumeGroup.DEFAULT_EXTENT_SIZE, PhysicalVolumeFormatter.Options.defaults())) {
            vg.createStriped("str", 6, 2, 128);
            vg.createLinear("lin", 20); // more than one PV holds: two segments
            vg.createLinear("small", 1);
            assertEquals(2, vg.metadata().logicalVolume("lin").segments().size());
            assertLvm2Agrees(lvm, vg.metadata(), loops, List.of(1, 1));
            assertChecksClean(lvm, name, loops);
            Lvm2Tools.Result dump = lvm.ok("pvck", "--dump", "headers", loops.get(0));
            assertTrue(dump.out().contains("vgname " + name + " seqno 4"), dump.out());
        }
    }

    @Test
    void lvm2ReadsOrionsTwoMetadataAreasPerPv() throws IOException {
        List<String> loops = loops(2);
        Lvm2Tools lvm = new Lvm2Tools(loops);
        String name = vgName();
        try (OfflineVolumeGroup vg = OfflineVolumeGroup.create(name, paths(loops), 2048,
                PhysicalVolumeFormatter.Options.defaults().withMetadataCopies(2))) {
            vg.createStriped("str", 10, 2, 16);
            vg.createLinear("lin", 7);
            assertLvm2Agrees(lvm, vg.metadata(), loops, List.of(2, 2));
            assertChecksClean(lvm, name, loops);
            Lvm2Tools.Result dump = lvm.ok("pvck", "--dump", "headers", loops.get(1));
            assertTrue(dump.out().contains("mda_header_2 at " + (DEV - MIB)), dump.out());
            assertEquals(2, dump.out().split("seqno 3", -1).length - 1, dump.out());
        }
    }

    @Test
    void lvm2AndOrionTakeTurnsOnTheSameVg() throws IOException {
        List<String> loops = loops(2);
        Lvm2Tools lvm = new Lvm2Tools(loops);
        String name = vgName();
        try (OfflineVolumeGroup vg = OfflineVolumeGroup.create(name, paths(loops),
                OfflineVolumeGroup.DEFAULT_EXTENT_SIZE, PhysicalVolumeFormatter.Options.defaults())) {
            vg.createLinear("first", 2);
        }
        lvm.ok("lvcreate", "-an", "-Zn", "-n", "bylvm", "-i", "2", "-I", "32k", "-l", "4", name);
        try (OfflineVolumeGroup vg = OfflineVolumeGroup.open(paths(loops))) {
            VolumeGroupMetadata m = vg.metadata();
            assertEquals(3, m.seqno());
            StripedSegment st = assertInstanceOf(StripedSegment.class, m.logicalVolume("bylvm").segments().get(0));
            assertEquals(64, st.stripeSize());
            assertEquals(List.of(), vg.lastRead().problems());
            vg.createLinear("third", 3);
            assertLvm2Agrees(lvm, vg.metadata(), loops, List.of(1, 1));
        }
        lvm.ok("lvremove", "-y", name + "/first");
        try (OfflineVolumeGroup vg = OfflineVolumeGroup.open(paths(loops))) {
            assertEquals(5, vg.metadata().seqno());
            assertEquals(List.of("bylvm", "third"),
                    vg.metadata().logicalVolumes().stream().map(LogicalVolumeMetadata::name).toList());
            assertLvm2Agrees(lvm, vg.metadata(), loops, List.of(1, 1));
        }
        assertChecksClean(lvm, name, loops);
    }

    @Test
    void lvm2ReadsACopyThatWrappedAroundASmallMetadataArea() throws IOException {
        List<String> loops = loops(2);
        Lvm2Tools lvm = new Lvm2Tools(loops);
        String name = vgName();
        // A 60 KiB metadata area: each copy may use (61440 - 512) / 2 - 512 = 29952 bytes.
        PhysicalVolumeFormatter.Options small = new PhysicalVolumeFormatter.Options(1, 64 * 1024, null);
        try (OfflineVolumeGroup vg = OfflineVolumeGroup.create(name, paths(loops), 2048, small)) {
            MetadataArea area = vg.physicalVolumes().get(0).areas().get(0);
            boolean wrapped = false;
            for (int i = 0; i < 200 && !wrapped; i++) {
                vg.createLinear("lv" + i, 1);
                if (i % 3 == 2) {
                    vg.removeLogicalVolume("lv" + (i - 1));
                }
                RawLocation slot = area.readHeader().committed();
                wrapped = slot.offset() + slot.size() > area.location().size();
            }
            assertTrue(wrapped, "the committed copy should wrap past the end of the area");
            assertLvm2Agrees(lvm, vg.metadata(), loops, List.of(1, 1));
            assertChecksClean(lvm, name, loops);
        }
        // lvm2 appends after orion's wrapped copy; orion reads lvm2's.
        lvm.ok("lvcreate", "-an", "-Zn", "-n", "bylvm", "-l", "2", name);
        try (OfflineVolumeGroup vg = OfflineVolumeGroup.open(paths(loops))) {
            assertEquals(List.of(), vg.lastRead().problems());
            assertEquals(2, vg.metadata().logicalVolume("bylvm").extentCount());
            assertLvm2Agrees(lvm, vg.metadata(), loops, List.of(1, 1));
        }
    }

    @Test
    void lvm2SeesTheOldVgUntilOrionsCommitStepWritesSlotZero() throws IOException {
        List<String> loops = loops(2);
        Lvm2Tools lvm = new Lvm2Tools(loops);
        String name = vgName();
        try (OfflineVolumeGroup vg = OfflineVolumeGroup.create(name, paths(loops),
                OfflineVolumeGroup.DEFAULT_EXTENT_SIZE, PhysicalVolumeFormatter.Options.defaults().withMetadataCopies(2))) {
            vg.createLinear("old", 2);
            VolumeGroupMetadata old = vg.metadata();
            List<LogicalVolumeMetadata> lvs = new ArrayList<>(old.logicalVolumes());
            lvs.add(new LogicalVolumeMetadata("new", LvmUuid.random(),
                    LogicalVolumeMetadata.READ_WRITE_VISIBLE, List.of(), 1, "h",
                    List.of(StripedSegment.linear(0, 3, "pv1", 0)), List.of()));
            VolumeGroupMetadata next = old.withLogicalVolumes(lvs).withSeqno(old.seqno() + 1);
            MetadataCommit c = vg.prepareCommit(next, "stepwise");
            c.writeText();
            assertLvm2Agrees(lvm, old, loops, List.of(2, 2));
            assertChecksClean(lvm, name, loops);
            c.precommit();
            assertLvm2Agrees(lvm, old, loops, List.of(2, 2));
            assertChecksClean(lvm, name, loops);
            c.commit();
            assertLvm2Agrees(lvm, next, loops, List.of(2, 2));
            assertChecksClean(lvm, name, loops);
        }
    }

    @Test
    void aCommitThatDiedBetweenPvsReadsAsTheNewVgInBothTools() throws IOException {
        List<String> loops = loops(2);
        Lvm2Tools lvm = new Lvm2Tools(loops);
        String name = vgName();
        byte[] oldHeader = new byte[512];
        VolumeGroupMetadata next;
        try (OfflineVolumeGroup vg = OfflineVolumeGroup.create(name, paths(loops),
                OfflineVolumeGroup.DEFAULT_EXTENT_SIZE, PhysicalVolumeFormatter.Options.defaults())) {
            vg.createLinear("old", 2);
            vg.physicalVolumes().get(1).io().read(4096, ByteBuffer.wrap(oldHeader));
            vg.createLinear("new", 2);
            next = vg.metadata();
            // Put pv1's header back to the old slot 0: the crash hit after pv0's commit write.
            vg.physicalVolumes().get(1).io().write(4096, ByteBuffer.wrap(oldHeader));
            vg.physicalVolumes().get(1).io().flush();
        }
        try (OfflineVolumeGroup vg = OfflineVolumeGroup.open(paths(loops))) {
            assertEquals(next, vg.metadata());
            assertEquals(loops.get(0), vg.lastRead().used().area().io().name());
            assertEquals(List.of(loops.get(1) + " metadata area 1 (offset 4096) holds stale seqno 2 (using 3)"),
                    vg.lastRead().problems());
        }
        List<JsonNode> vgs = lvm.reportAllowingWarnings("vgs", "vg", "-o", "vg_name,vg_seqno,lv_count", name);
        assertEquals(3, num(vgs.get(0), "vg_seqno"), "lvm2 also takes the highest seqno");
        assertEquals(2, num(vgs.get(0), "lv_count"));
    }

    @Test
    void orionReadsTheVgLvm2Creates() throws IOException {
        List<String> loops = loops(3);
        Lvm2Tools lvm = new Lvm2Tools(loops);
        String name = vgName();
        lvm.ok("pvcreate", loops.get(0), loops.get(1));
        lvm.ok("pvcreate", "--pvmetadatacopies", "2", loops.get(2));
        lvm.ok("vgcreate", "-s", "2m", name, loops.get(0), loops.get(1), loops.get(2));
        lvm.ok("lvcreate", "-an", "-Zn", "-n", "str3", "-i", "3", "-I", "128k", "-l", "9", name);
        lvm.ok("lvcreate", "-an", "-Zn", "-n", "lin", "-l", "40", name);
        lvm.ok("lvcreate", "-an", "-Zn", "-n", "tail", "-l", "3", name, loops.get(2));
        try (OfflineVolumeGroup vg = OfflineVolumeGroup.open(paths(loops))) {
            VolumeGroupRead read = vg.lastRead();
            assertEquals(4, read.copies().size(), "1 + 1 + 2 metadata areas");
            assertEquals(List.of(), read.problems());
            VolumeGroupMetadata m = vg.metadata();
            assertEquals(name, m.name());
            assertEquals(4096, m.extentSize());
            assertEquals(4, m.seqno(), "vgcreate + 3 lvcreate");
            assertLvm2Agrees(lvm, m, loops, List.of(1, 1, 2));
            StripedSegment st = assertInstanceOf(StripedSegment.class, m.logicalVolume("str3").segments().get(0));
            assertEquals(3, st.stripeCount());
            assertEquals(256, st.stripeSize());
            assertEquals(List.of("READ", "WRITE", "VISIBLE"), m.logicalVolume("lin").status());
            // lvm2's backup file (header first, indented, commented) holds the same VG.
            Path backup = dir.resolve("backup.vg");
            lvm.ok("vgcfgbackup", "-f", backup.toString(), name);
            assertEquals(m, MetadataText.parse(java.nio.file.Files.readString(backup), backup.toString()).vg());
        }
    }

    @Test
    void segmentTypesOrionDoesNotMapYetRoundTripAndLvm2AcceptsOrionsThinPool() throws IOException {
        List<String> loops = loops(2);
        Lvm2Tools lvm = new Lvm2Tools(loops);
        String name = vgName();
        lvm.ok("pvcreate", loops.get(0), loops.get(1));
        lvm.ok("vgcreate", name, loops.get(0), loops.get(1));
        // lvm2 creates zero and error volumes without device-mapper (thin, raid and mirror it refuses).
        lvm.ok("lvcreate", "-an", "-Zn", "--type", "zero", "-L", "8m", "-n", "z", name);
        lvm.ok("lvcreate", "-an", "-Zn", "--type", "error", "-L", "8m", "-n", "e", name);
        lvm.ok("lvcreate", "-an", "-Zn", "-L", "8m", "-n", "lin", name);
        VolumeGroupMetadata withPool;
        try (OfflineVolumeGroup vg = OfflineVolumeGroup.open(paths(loops))) {
            VolumeGroupMetadata m = vg.metadata();
            assertEquals("zero", assertInstanceOf(OtherSegment.class, m.logicalVolume("z").segments().get(0)).type());
            assertEquals("error", assertInstanceOf(OtherSegment.class, m.logicalVolume("e").segments().get(0)).type());
            // A thin pool in lvm2's layout: hidden data, metadata and spare volumes plus the pool and a thin volume.
            List<LogicalVolumeMetadata> lvs = new ArrayList<>(m.logicalVolumes());
            lvs.add(hidden("lvol0_pmspare", 1, "pv1", 0));
            lvs.add(hidden("pool_tmeta", 1, "pv1", 1));
            lvs.add(hidden("pool_tdata", 4, "pv1", 2));
            lvs.add(other("pool", 4, "thin-pool", List.of(set("metadata", "pool_tmeta"), set("pool", "pool_tdata"),
                    set("transaction_id", 1), set("chunk_size", 128), set("discards", "passdown"),
                    set("zero_new_blocks", 1))));
            lvs.add(other("thin1", 256, "thin", List.of(set("thin_pool", "pool"), set("transaction_id", 0),
                    set("device_id", 1))));
            withPool = m.withLogicalVolumes(lvs).withSeqno(m.seqno() + 1);
            vg.commit(withPool, "orion thin pool");
        }
        Map<String, JsonNode> all = byName(lvm.report("lvs", "lv", "-a", "-o", "lv_name,segtype,lv_size,seg_pe_ranges",
                name), "lv_name");
        assertEquals("thin-pool", all.get("pool").path("segtype").asText());
        assertEquals(16 * MIB, num(all.get("pool"), "lv_size"));
        assertEquals("pool_tdata:0-3", all.get("pool").path("seg_pe_ranges").asText());
        assertEquals("thin", all.get("thin1").path("segtype").asText());
        assertEquals(1024 * MIB, num(all.get("thin1"), "lv_size"));
        assertEquals(loops.get(1) + ":2-5", all.get("[pool_tdata]").path("seg_pe_ranges").asText());
        assertEquals("zero", all.get("z").path("segtype").asText());
        assertEquals("error", all.get("e").path("segtype").asText());
        assertEquals(loops.get(0) + ":0-1", all.get("lin").path("seg_pe_ranges").asText());
        assertChecksClean(lvm, name, loops);
        try (OfflineVolumeGroup vg = OfflineVolumeGroup.open(paths(loops))) {
            assertEquals(withPool, vg.metadata());
        }
    }

    private static ConfigNode set(String key, String value) {
        return new ConfigSetting(key, new ConfigValue.Str(value));
    }

    private static ConfigNode set(String key, long value) {
        return new ConfigSetting(key, new ConfigValue.Int(value));
    }

    private static LogicalVolumeMetadata hidden(String name, long extents, String pv, long pe) {
        return new LogicalVolumeMetadata(name, LvmUuid.random(), List.of("READ", "WRITE"), List.of(), 1, "h",
                List.of(StripedSegment.linear(0, extents, pv, pe)), List.of());
    }

    private static LogicalVolumeMetadata other(String name, long extents, String type, List<ConfigNode> body) {
        return new LogicalVolumeMetadata(name, LvmUuid.random(), LogicalVolumeMetadata.READ_WRITE_VISIBLE, List.of(),
                1, "h", List.of(new OtherSegment(0, extents, type, body)), List.of());
    }

    @Test
    void aDamagedMetadataAreaIsAnErrorNamingDeviceAndAreaAndTouchesNothing() throws IOException {
        List<String> loops = loops(1);
        Lvm2Tools lvm = new Lvm2Tools(loops);
        String name = vgName();
        String loop = loops.get(0);
        try (OfflineVolumeGroup vg = OfflineVolumeGroup.create(name, paths(loops),
                OfflineVolumeGroup.DEFAULT_EXTENT_SIZE, PhysicalVolumeFormatter.Options.defaults())) {
            vg.createLinear("data", 2);
        }
        byte[] pattern = new byte[(int) MIB];
        new Random(7).nextBytes(pattern);
        try (MetadataIo io = FileMetadataIo.open(Path.of(loop), true)) {
            io.write(MIB, ByteBuffer.wrap(pattern)); // extent 0 of "data"
            // Flip one bit in slot 0's size inside the mda header: its checksum no longer matches.
            ByteBuffer b = ByteBuffer.allocate(1);
            io.read(4096 + 48, b);
            b.put(0, (byte) (b.get(0) ^ 0x01));
            io.write(4096 + 48, b.clear());
            io.flush();
        }
        byte[] before = digest(loop);
        ErrnoException e = assertThrows(ErrnoException.class, () -> OfflineVolumeGroup.open(paths(loops)).close());
        assertEquals(Errno.ENOENT, e.errno());
        assertTrue(e.getMessage().contains(loop + " metadata area 1 (offset 4096)"), e.getMessage());
        assertTrue(e.getMessage().contains("metadata area header checksum"), e.getMessage());
        assertArrayEquals(before, digest(loop), "reading a damaged PV must not write to it");
        try (MetadataIo io = FileMetadataIo.open(Path.of(loop), false)) {
            byte[] now = new byte[(int) MIB];
            io.read(MIB, ByteBuffer.wrap(now));
            assertArrayEquals(pattern, now, "data untouched");
        }
        // lvm2 agrees the area is damaged.
        Lvm2Tools.Result r = lvm.run("pvck", loop);
        assertNotEquals(0, r.exit(), r.out() + r.err());
        assertTrue((r.out() + r.err()).contains("mda_header_1.checksum"), r.out() + r.err());
    }

    @Test
    void aDamagedLabelIsAnErrorNamingDeviceAndSector() throws IOException {
        List<String> loops = loops(1);
        String loop = loops.get(0);
        try (OfflineVolumeGroup vg = OfflineVolumeGroup.create(vgName(), paths(loops),
                OfflineVolumeGroup.DEFAULT_EXTENT_SIZE, PhysicalVolumeFormatter.Options.defaults())) {
            vg.createLinear("data", 1);
        }
        try (MetadataIo io = FileMetadataIo.open(Path.of(loop), true)) {
            io.write(512 + 100, ByteBuffer.wrap(new byte[] {0x55}));
            io.flush();
        }
        ErrnoException e = assertThrows(ErrnoException.class, () -> OfflineVolumeGroup.open(paths(loops)).close());
        assertEquals(Errno.EBADMSG, e.errno());
        assertTrue(e.getMessage().contains(loop + " label sector 1"), e.getMessage());
        assertTrue(e.getMessage().contains("label checksum"), e.getMessage());
    }

    private static List<Path> paths(List<String> loops) {
        return loops.stream().map(Path::of).toList();
    }

    private static byte[] digest(String device) {
        try (MetadataIo io = FileMetadataIo.open(Path.of(device), false)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            ByteBuffer b = ByteBuffer.allocate((int) MIB);
            for (long off = 0; off < io.size(); off += MIB) {
                b.clear();
                io.read(off, b);
                md.update(b.flip());
            }
            return md.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
