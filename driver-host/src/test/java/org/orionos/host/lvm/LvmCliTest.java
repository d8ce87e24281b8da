package org.orionos.host.lvm;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.orionos.host.cli.OrionMain;

import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code orion lvm} against lvm2 on loop devices: what orion's commands create, lvm2's pvs, vgs
 * and lvs report the same way (names, sizes, segment types, stripes, free extents); what lvm2
 * creates, orion's lvs reports; refusals leave the metadata (seqno) unchanged.
 */
class LvmCliTest {
    private static final long MIB = 1 << 20;

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

    private record Run(int exit, String out, String err) {
    }

    private Run orion(List<String> loops, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = OrionMain.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        List<String> a = new ArrayList<>(List.of("lvm", args[0], "--devices", String.join(",", loops)));
        a.addAll(List.of(args).subList(1, args.length));
        int exit = cl.execute(a.toArray(String[]::new));
        return new Run(exit, out.toString(), err.toString());
    }

    private Run ok(List<String> loops, String... args) {
        Run r = orion(loops, args);
        assertEquals(0, r.exit(), "orion lvm " + String.join(" ", args) + ": " + r.err());
        return r;
    }

    /** Rows of an orion report printed with --units b --nosuffix --noheadings, keyed by column 0. */
    private Map<String, String[]> rows(List<String> loops, String report) {
        Run r = ok(loops, report, "--units", "b", "--nosuffix", "--noheadings");
        Map<String, String[]> m = new HashMap<>();
        for (String line : r.out().split("\n")) {
            if (!line.isBlank()) {
                String[] f = line.trim().split("\\s+");
                m.put(report.equals("lvs") ? f[1] + "/" + f[0] : f[0], f);
            }
        }
        return m;
    }

    private List<String> loops(int n, long bytes) throws IOException {
        for (int i = 0; i < n; i++) {
            images.attach(dir, bytes);
        }
        return images.loops();
    }

    private static long seqno(Lvm2Tools lvm, String vg) {
        return Long.parseLong(lvm.report("vgs", "vg", "-o", "vg_seqno", vg).get(0).path("vg_seqno").asText().trim());
    }

    /**
     * lvcreate --type mirror/raid1/raid5/raid6 with lvm2's options: lvm2 lists the volumes and
     * their hidden rmeta/rimage pairs (one PV per pair) exactly as orion laid them out, with
     * lvm2's defaults (64 KiB stripes, 2 MiB regions, raid1 for -m), and vgck finds nothing wrong.
     */
    @Test
    void lvm2ReportsOrionsRaidVolumesAndTheirImages() throws IOException {
        List<String> loops = loops(5, 64 * MIB);
        Lvm2Tools lvm = new Lvm2Tools(loops);
        String vg = "orionraid" + Long.toHexString(System.nanoTime() & 0xffff);
        List<String> create = new ArrayList<>(List.of("vgcreate", vg));
        create.addAll(loops);
        List<String> pvcreate = new ArrayList<>(List.of("pvcreate"));
        pvcreate.addAll(loops);
        ok(loops, pvcreate.toArray(String[]::new));
        ok(loops, create.toArray(String[]::new));
        ok(loops, "lvcreate", "-n", "m", "-m", "1", "-L", "8m", vg);
        Run mirror = ok(loops, "lvcreate", "--type", "mirror", "-n", "m2", "-m", "2", "-L", "4m", "--nosync", vg);
        assertTrue(mirror.out().contains("raid1"), mirror.out());
        ok(loops, "lvcreate", "--type", "raid5", "-n", "r5", "-i", "2", "-I", "32k", "-L", "16m", vg);
        ok(loops, "lvcreate", "--type", "raid6", "-n", "r6", "-L", "12m", "-R", "1m", vg); // lvm2's default: 3 stripes
        long before = seqno(lvm, vg);
        Run tooMany = orion(loops, "lvcreate", "--type", "raid5", "-n", "x", "-i", "5", "-L", "4m", vg);
        assertNotEquals(0, tooMany.exit());
        assertTrue(tooMany.err().contains("own PV"), tooMany.err());
        Run resize = orion(loops, "lvresize", "-L", "+4m", vg + "/r5");
        assertNotEquals(0, resize.exit());
        Run rebuild = orion(loops, "lvchange", "--rebuild", loops.get(0), vg + "/r5");
        assertNotEquals(0, rebuild.exit());
        assertTrue(rebuild.err().contains("no failed image") && rebuild.err().contains("pv0"), rebuild.err());
        assertEquals(before, seqno(lvm, vg), "refusals write nothing");

        List<JsonNode> rows = lvm.report("lvs", "lv", "-a", "-o",
                "lv_name,lv_attr,segtype,lv_size,stripes,stripe_size,region_size,devices", vg);
        Map<String, String> got = new HashMap<>();
        for (JsonNode r : rows) {
            got.put(r.path("lv_name").asText(), r.path("segtype").asText() + " " + r.path("lv_attr").asText().charAt(0) + " "
                    + r.path("lv_size").asText().trim() + " " + r.path("stripes").asText().trim() + " "
                    + r.path("stripe_size").asText().trim() + " " + r.path("region_size").asText().trim() + " "
                    + r.path("devices").asText());
        }
        assertEquals("raid1 r " + 8 * MIB + " 2 0 " + 2 * MIB + " m_rimage_0(0),m_rimage_1(0)", got.get("m"), got.toString());
        assertEquals("raid1 R " + 4 * MIB + " 3 0 " + 2 * MIB + " m2_rimage_0(0),m2_rimage_1(0),m2_rimage_2(0)",
                got.get("m2"), got.toString());
        assertEquals("raid5 r " + 16 * MIB + " 3 " + 32 * 1024 + " " + 2 * MIB
                + " r5_rimage_0(0),r5_rimage_1(0),r5_rimage_2(0)", got.get("r5"));
        assertEquals("raid6 r " + 12 * MIB + " 5 " + 64 * 1024 + " " + MIB
                + " r6_rimage_0(0),r6_rimage_1(0),r6_rimage_2(0),r6_rimage_3(0),r6_rimage_4(0)", got.get("r6"));
        // Hidden pairs: image i's rmeta and rimage share a PV, and no two images of a volume do.
        for (String lv : List.of("m", "m2", "r5", "r6")) {
            List<String> used = new ArrayList<>();
            for (int i = 0; got.containsKey("[" + lv + "_rimage_" + i + "]"); i++) {
                String img = got.get("[" + lv + "_rimage_" + i + "]");
                String meta = got.get("[" + lv + "_rmeta_" + i + "]");
                // 'i' raid image ('I' out of sync: without device-mapper lvm2 cannot tell), 'e' raid metadata.
                assertTrue(img.matches("linear [iI] " + 8 * MIB / (lv.equals("m") ? 1 : lv.equals("m2") ? 2 : lv.equals("r5") ? 1 : 2)
                        + " .*") && meta.startsWith("linear e " + 4 * MIB), img + " / " + meta);
                String imgPv = img.substring(img.lastIndexOf(' ') + 1).replaceAll("\\(.*", "");
                String metaPv = meta.substring(meta.lastIndexOf(' ') + 1).replaceAll("\\(.*", "");
                assertEquals(metaPv, imgPv, lv + " image " + i);
                assertTrue(!used.contains(imgPv), lv + " puts two images on " + imgPv);
                used.add(imgPv);
            }
            assertEquals(lv.equals("m") ? 2 : lv.equals("r6") ? 5 : 3, used.size(), lv + ": " + got);
        }
        assertEquals(List.of(), Lvm2Tools.complaints(lvm.ok("vgck", vg)));
        Map<String, String[]> mine = rows(loops, "lvs");
        assertEquals('r', mine.get(vg + "/r5")[2].charAt(0));
        assertEquals('r', mine.get(vg + "/r5")[2].charAt(6));
        assertEquals('R', mine.get(vg + "/m2")[2].charAt(0));
        assertEquals(4, mine.size(), "orion lists the visible volumes only");

        ok(loops, "lvremove", vg + "/r6");
        List<JsonNode> after = lvm.report("lvs", "lv", "-a", "-o", "lv_name", vg);
        assertTrue(after.stream().noneMatch(r -> r.path("lv_name").asText().contains("r6")), after.toString());
    }

    @Test
    void lvm2ReportsWhatOrionCreates() throws IOException {
        List<String> loops = loops(3, 64 * MIB);
        Lvm2Tools lvm = new Lvm2Tools(loops);
        String vg = "orioncli" + Long.toHexString(System.nanoTime() & 0xffff);
        ok(loops, "pvcreate", loops.get(0), loops.get(1), loops.get(2));
        ok(loops, "vgcreate", "-s", "1m", vg, loops.get(0), loops.get(1));
        ok(loops, "vgextend", vg, loops.get(2));
        ok(loops, "lvcreate", "-n", "lin", "-L", "10m", vg);
        ok(loops, "lvcreate", "-n", "str", "-l", "6", "-i", "2", "-I", "64k", vg);
        ok(loops, "lvcreate", "-n", "tmp", "-l", "2", "--type", "linear", vg);
        ok(loops, "lvresize", "-L", "+3m", vg + "/lin"); // past str's extents: a second segment
        ok(loops, "lvremove", vg + "/tmp");
        ok(loops, "vgreduce", vg, loops.get(2));

        long before = seqno(lvm, vg);
        Run full = orion(loops, "lvcreate", "-n", "big", "-L", "1g", vg);
        assertNotEquals(0, full.exit());
        assertTrue(full.err().contains("free extents"), full.err());
        Run shrink = orion(loops, "lvresize", "-l", "-2", vg + "/lin");
        assertNotEquals(0, shrink.exit());
        assertTrue(shrink.err().contains("--force"), shrink.err());
        Run busy = orion(loops, "vgreduce", vg, loops.get(0));
        assertNotEquals(0, busy.exit());
        assertEquals(before, seqno(lvm, vg), "refusals write nothing");
        ok(loops, "lvresize", "-f", "-l", "12", vg + "/lin");

        Map<String, String[]> lvs = rows(loops, "lvs");
        List<JsonNode> lvm2Lvs = lvm.report("lvs", "lv", "-o", "lv_name,vg_name,lv_size", vg);
        assertEquals(2, lvm2Lvs.size(), lvm2Lvs.toString());
        assertEquals(lvm2Lvs.size(), lvs.size(), ok(loops, "lvs").out() + ok(loops, "pvs").out());
        for (JsonNode row : lvm2Lvs) {
            String key = vg + "/" + row.path("lv_name").asText();
            assertEquals(row.path("lv_size").asText().trim(), lvs.get(key)[3], key);
        }
        List<JsonNode> segs = lvm.report("lvs", "lv", "-o", "lv_name,segtype,stripes,stripe_size,seg_size", vg);
        Map<String, List<String>> byLv = new HashMap<>();
        for (JsonNode s : segs) {
            byLv.computeIfAbsent(s.path("lv_name").asText(), k -> new ArrayList<>())
                    .add(s.path("segtype").asText() + ":" + s.path("stripes").asText().trim() + ":"
                            + s.path("seg_size").asText().trim());
        }
        assertEquals(List.of("linear:1:" + 10 * MIB, "linear:1:" + 2 * MIB), byLv.get("lin"));
        assertEquals(List.of("striped:2:" + 6 * MIB), byLv.get("str"));

        Map<String, String[]> vgs = rows(loops, "vgs");
        JsonNode v = lvm.report("vgs", "vg", "-o", "vg_name,pv_count,lv_count,vg_size,vg_free", vg).get(0);
        String[] mine = vgs.get(vg);
        assertEquals(v.path("pv_count").asText().trim(), mine[1]);
        assertEquals(v.path("lv_count").asText().trim(), mine[2]);
        assertEquals(v.path("vg_size").asText().trim(), mine[5]);
        assertEquals(v.path("vg_free").asText().trim(), mine[6]);

        Map<String, String[]> pvs = rows(loops, "pvs");
        for (JsonNode p : lvm.report("pvs", "pv", "-o", "pv_name,vg_name,pv_size,pv_free")) {
            String name = p.path("pv_name").asText();
            String[] row = pvs.get(name);
            if (p.path("vg_name").asText().isEmpty()) {
                assertEquals(loops.get(2), name, "vgreduce left an orphan PV that lvm2 sees");
                assertEquals("---", row[2], "orphan: empty VG column, then Fmt and Attr");
                continue;
            }
            assertEquals(p.path("vg_name").asText(), row[1]);
            assertEquals(p.path("pv_size").asText().trim(), row[4], name);
            assertEquals(p.path("pv_free").asText().trim(), row[5], name);
        }
        lvm.ok("vgck", vg);
    }

    @Test
    void orionReportsWhatLvm2Creates() throws IOException {
        List<String> loops = loops(2, 64 * MIB);
        Lvm2Tools lvm = new Lvm2Tools(loops);
        String vg = "lvm2cli" + Long.toHexString(System.nanoTime() & 0xffff);
        lvm.ok("pvcreate", loops.get(0), loops.get(1));
        lvm.ok("vgcreate", vg, loops.get(0), loops.get(1));
        lvm.ok("lvcreate", "-an", "-Zn", "-n", "a", "-L", "12m", vg);
        lvm.ok("lvcreate", "-an", "-Zn", "-n", "s", "-i", "2", "-I", "32k", "-l", "4", vg);
        Map<String, String[]> lvs = rows(loops, "lvs");
        for (JsonNode row : lvm.report("lvs", "lv", "-o", "lv_name,lv_size", vg)) {
            String key = vg + "/" + row.path("lv_name").asText();
            assertEquals(row.path("lv_size").asText().trim(), lvs.get(key)[3], key);
            assertEquals("-wi-------", lvs.get(key)[2]);
        }
        Run human = ok(loops, "lvs");
        assertTrue(human.out().contains("LSize"), human.out());
        assertTrue(human.out().contains("12.00m"), human.out());
        // And orion continues lvm2's metadata: lvm2 sees the volume orion adds.
        ok(loops, "lvcreate", "-n", "fromorion", "-l", "3", vg);
        assertEquals(3, lvm.report("lvs", "lv", "-o", "lv_name", vg).size());
    }

    /**
     * The thin and migration commands in lvm2's vocabulary, end to end on loop devices: thin pool,
     * over-committed thin volume, read-only and writable snapshots, merge, pvmove to another PV
     * then vgreduce; data written through orion survives all of it; lvm2 lists the result.
     */
    @Test
    void thinSnapshotMergeAndPvmoveCommands() throws Exception {
        List<String> loops = loops(2, 64 * MIB);
        Lvm2Tools lvm = new Lvm2Tools(loops);
        String vg = "oriontc" + Long.toHexString(System.nanoTime() & 0xffff);
        ok(loops, "pvcreate", loops.get(0), loops.get(1));
        ok(loops, "vgcreate", "-s", "1m", vg, loops.get(0));
        ok(loops, "vgextend", vg, loops.get(1));
        Run pool = ok(loops, "lvcreate", "--type", "thin-pool", "-L", "16m", "-n", "pool", vg);
        assertTrue(pool.out().contains("created"), pool.out());
        ok(loops, "lvcreate", "--type", "thin", "--thinpool", "pool", "-V", "1t", "-n", "thin", vg);
        ok(loops, "lvcreate", "-s", "-n", "ro", "-p", "r", vg + "/thin");
        ok(loops, "lvcreate", "-s", "-n", "snap", vg + "/thin");
        Run sized = orion(loops, "lvcreate", "-s", "-L", "4m", "-n", "old", vg + "/thin");
        assertNotEquals(0, sized.exit());
        assertTrue(sized.err().contains("thin snapshots only"), sized.err());

        ok(loops, "lvresize", "-L", "2t", vg + "/thin");
        Run shrinkThin = orion(loops, "lvresize", "-L", "1t", vg + "/thin");
        assertNotEquals(0, shrinkThin.exit());
        assertTrue(shrinkThin.err().contains("--force"), shrinkThin.err());
        ok(loops, "lvresize", "-f", "-L", "1t", vg + "/thin");
        Run mine = ok(loops, "lvs");
        assertTrue(mine.out().contains("thin") && mine.out().contains("1.00t"), mine.out());
        Map<String, String[]> myLvs = rows(loops, "lvs");
        assertEquals("twi---t---", myLvs.get(vg + "/pool")[2]);
        assertEquals("Vwi---t---", myLvs.get(vg + "/thin")[2]);
        assertEquals("Vri---t---", myLvs.get(vg + "/ro")[2]);
        assertEquals("pool", myLvs.get(vg + "/snap")[4]);
        assertEquals("thin", myLvs.get(vg + "/snap")[5]);
        System.out.println(mine.out());
        java.util.Map<String, String> types = new HashMap<>();
        for (JsonNode r : lvm.reportAllowingWarnings("lvs", "lv", "-a", "-o", "lv_name,segtype,lv_size", vg)) {
            types.put(r.path("lv_name").asText(), r.path("segtype").asText() + ":" + r.path("lv_size").asText().trim());
        }
        assertEquals("orion-thin-pool:" + 16 * MIB, types.get("pool"));
        assertEquals("orion-thin:" + (1L << 40), types.get("thin"));
        assertEquals("orion-thin:" + (1L << 40), types.get("snap"));

        // Write through orion to the snapshot, merge it into the origin, and find the data there.
        java.util.List<java.nio.file.Path> paths = loops.stream().map(java.nio.file.Path::of).toList();
        byte[] stamp = "merged from the snapshot".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        onHost(paths, vg, (host, g) -> {
            var snap = g.activateThin("snap", vg + "/snap");
            try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofShared()) {
                var buf = a.allocate(4096, 4096);
                java.lang.foreign.MemorySegment.copy(java.lang.foreign.MemorySegment.ofArray(stamp), 0, buf, 0, stamp.length);
                host.client().write(snap, 1L << 30, buf, 0).get(30, java.util.concurrent.TimeUnit.SECONDS);
                host.client().flush(snap).get(30, java.util.concurrent.TimeUnit.SECONDS);
            }
        });
        ok(loops, "lvconvert", "--merge", vg + "/snap");
        onHost(paths, vg, (host, g) -> {
            assertTrue(g.metadata().logicalVolume("snap") == null);
            var thin = g.activateThin("thin", vg + "/thin");
            try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofShared()) {
                var buf = a.allocate(4096, 4096);
                host.client().read(thin, 1L << 30, buf).get(30, java.util.concurrent.TimeUnit.SECONDS);
                assertEquals(new String(stamp, java.nio.charset.StandardCharsets.US_ASCII),
                        new String(buf.asSlice(0, stamp.length).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                                java.nio.charset.StandardCharsets.US_ASCII));
            }
        });

        Run moved = ok(loops, "pvmove", loops.get(0), loops.get(1));
        assertTrue(moved.out().contains("Moved: 100.00%"), moved.out());
        ok(loops, "vgreduce", vg, loops.get(0));
        List<JsonNode> pvs = lvm.reportAllowingWarnings("pvs", "pv", "-o", "pv_name,vg_name");
        for (JsonNode p : pvs) {
            if (p.path("pv_name").asText().equals(loops.get(0))) {
                assertEquals("", p.path("vg_name").asText(), "pv0 left the VG after pvmove + vgreduce");
            }
        }
        onHost(List.of(paths.get(1)), vg, (host, g) -> {
            var thin = g.activateThin("thin", vg + "/thin");
            try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofShared()) {
                var buf = a.allocate(4096, 4096);
                host.client().read(thin, 1L << 30, buf).get(30, java.util.concurrent.TimeUnit.SECONDS);
                assertEquals(-1, buf.asSlice(0, stamp.length).mismatch(java.lang.foreign.MemorySegment.ofArray(stamp)));
            }
        });
    }

    private interface OnHost {
        void run(org.orionos.host.bdev.BdevHost host, VolumeGroup g) throws Exception;
    }

    private static void onHost(List<java.nio.file.Path> paths, String vg, OnHost fn) throws Exception {
        try (var host = org.orionos.host.bdev.BdevHost.start(1, 8 << 20)) {
            List<org.orionos.host.bdev.BlockDevice> devs = new ArrayList<>();
            for (int i = 0; i < paths.size(); i++) {
                devs.add(org.orionos.host.bdev.backend.FileBdev.open("c" + i, paths.get(i), 0, 512, "auto"));
            }
            try (VolumeGroup g = VolumeGroup.open(host, devs)) {
                assertEquals(vg, g.name());
                fn.run(host, g);
            } finally {
                devs.forEach(org.orionos.host.bdev.BlockDevice::close);
            }
        }
    }
}
