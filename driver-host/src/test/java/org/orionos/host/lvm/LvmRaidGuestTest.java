package org.orionos.host.lvm;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.backend.FileBdev;
import org.orionos.host.guest.GuestSpec;
import org.orionos.host.guest.GuestTest;
import org.orionos.host.lvm.metadata.RaidSegments;
import org.orionos.host.raid.RaidBdev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.orionos.host.lvm.LvmGuestTest.fill;
import static org.orionos.host.lvm.LvmGuestTest.modprobe;
import static org.orionos.host.lvm.LvmGuestTest.namespace;
import static org.orionos.host.lvm.LvmGuestTest.run;
import static org.orionos.host.lvm.LvmGuestTest.sha256;
import static org.orionos.host.lvm.LvmGuestTest.writeThroughKernel;

/**
 * Raid logical volumes between orion and lvm2 + dm-raid in the test guest. Orion's raid1, raid5
 * and raid6 volumes (zeroed rmeta: dm-raid takes them as new arrays and resyncs) activate with
 * {@code vgchange -ay} and, once in sync, read through dm-raid exactly as orion wrote them: a
 * resync rewrites only mirrors and parity, so equal content means orion placed every data chunk
 * where md does. The other way, raid5 and raid6 volumes lvm2 makes and writes through dm-raid read
 * the same through orion, also with one (raid5) and two (raid6) images missing: then orion
 * reconstructs from the kernel's P and Q, which checks its parity arithmetic against md's.
 */
@GuestTest(spec = LvmRaidGuestTest.Spec.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LvmRaidGuestTest {
    private static final long MIB = 1 << 20;
    static final List<String> SERIALS = List.of("rd0", "rd1", "rd2", "rd3", "rd4");

    /** Five 64 MiB NVMe namespaces (lvm2's raid6 needs five images: three data stripes at least). */
    public static final class Spec implements Supplier<GuestSpec> {
        @Override
        public GuestSpec get() {
            GuestSpec.Builder b = GuestSpec.builder();
            for (String s : SERIALS) {
                b.nvme(s, 64 * MIB);
            }
            return b.build();
        }
    }

    private static List<Path> disks() throws Exception {
        List<Path> d = new ArrayList<>();
        for (String s : SERIALS) {
            d.add(namespace(s));
        }
        return d;
    }

    /** Waits until lvm2 reports {@code vg/lv} 100% in sync. */
    private static void waitInSync(LvmGuestTest.GuestLvm lvm, String vgLv) throws Exception {
        long deadline = System.nanoTime() + 300_000_000_000L;
        String pct = "";
        while (System.nanoTime() < deadline) {
            pct = lvm.ok("lvs", "--noheadings", "-o", "sync_percent", vgLv).strip();
            if (pct.equals("100.00")) {
                return;
            }
            Thread.sleep(500);
        }
        fail(vgLv + " not in sync after 300 s: " + pct);
    }

    @Test
    @Order(1)
    void dmRaidActivatesOrionsRaid1Raid5AndRaid6VolumesWithIdenticalContent() throws Exception {
        List<Path> disks = disks();
        LvmGuestTest.GuestLvm lvm = new LvmGuestTest.GuestLvm(disks);
        String m;
        String r5;
        String r6;
        try (BdevHost host = BdevHost.start(1, 8 << 20)) {
            List<BlockDevice> pvs = new ArrayList<>();
            for (int i = 0; i < disks.size(); i++) {
                pvs.add(FileBdev.open("o" + i, disks.get(i), 0, 512, "auto"));
            }
            try (VolumeGroup vg = VolumeGroup.create(host, "rvg", pvs, 8192)) {
                vg.createRaid("m", "raid1", 2, 3, 0, 4096, false);
                vg.createRaid("r5", "raid5", 3, 6, 128, 4096, false);
                vg.createRaid("r6", "raid6", 5, 6, 32, 4096, false);
                m = fill(host, vg.activateAny("m", "rvg/m"), 41);
                r5 = fill(host, vg.activateAny("r5", "rvg/r5"), 42);
                r6 = fill(host, vg.activateAny("r6", "rvg/r6"), 43);
            } finally {
                pvs.forEach(BlockDevice::close);
            }
        }
        modprobe("dm_mod");
        modprobe("dm_raid");
        // dm-raid pulls in raid456 by symbol; md loads raid1 on demand, which this guest cannot do.
        modprobe("raid1");
        String lvs = lvm.ok("lvs", "-a", "-o", "lv_name,lv_size,segtype,stripes,stripe_size,region_size,devices",
                "--units", "b", "rvg");
        System.out.println(lvs);
        assertTrue(lvs.replaceAll(" +", " ").contains(" r5 25165824B raid5 3 65536B 2097152B r5_rimage_0(0),r5_rimage_1(0),r5_rimage_2(0)"), lvs);
        lvm.ok("vgchange", "-ay", "rvg");
        try {
            for (String lv : List.of("m", "r5", "r6")) {
                waitInSync(lvm, "rvg/" + lv);
            }
            String table = run("dmsetup", "table");
            System.out.println(table);
            assertTrue(table.contains(" raid raid5_ls ") && table.contains(" raid raid6_zr ") && table.contains(" raid raid1 "),
                    "dm-raid tables: " + table);
            assertEquals(m, sha256(lvm.node("rvg", "m"), 12 * MIB), "rvg/m through dm-raid raid1");
            assertEquals(r5, sha256(lvm.node("rvg", "r5"), 24 * MIB), "rvg/r5 through dm-raid raid5_ls");
            assertEquals(r6, sha256(lvm.node("rvg", "r6"), 24 * MIB), "rvg/r6 through dm-raid raid6_zr");
        } finally {
            lvm.ok("vgchange", "-an", "rvg");
        }

        // dm-raid wrote its superblocks. Orion fails image 0 of r5 and writes new data: dm-raid must
        // rebuild that image in full, not read it. A never-assembled raid1 with a failed image is refused.
        String r5after;
        try (BdevHost host = BdevHost.start(1, 8 << 20)) {
            List<BlockDevice> pvs = new ArrayList<>();
            for (int i = 0; i < disks.size(); i++) {
                pvs.add(FileBdev.open("p" + i, disks.get(i), 0, 512, "auto"));
            }
            try (VolumeGroup vg = VolumeGroup.open(host, pvs)) {
                RaidBdev v = vg.activateRaid("r5", "rvg/r5");
                assertEquals(0, v.failedMask(), "dm-raid left it in sync");
                v.markFailed(0, "test");
                awaitSb(host, vg, pvs, "r5_rmeta_0", sb -> sb.diskRecoveryOffset() == 0);
                r5after = fill(host, v, 45);
                vg.createRaid("f", "raid1", 2, 1, 0, 4096, false);
                vg.activateRaid("f", "rvg/f").markFailed(1, "test");
                awaitSb(host, vg, pvs, "f_rmeta_0", sb -> sb.orionMarker() && sb.failed() == 2);
            } finally {
                pvs.forEach(BlockDevice::close);
            }
        }
        Lvm2Tools.Result act = lvm.run("vgchange", "-ay", "rvg");
        try {
            String table = run("dmsetup", "table");
            System.out.println("vgchange -ay exit " + act.exit() + "\n" + table + run("dmsetup", "status", "rvg-r5"));
            assertTrue(!table.contains("rvg-f:"), "dm-raid assembled f from a stale image: " + table);
            String dmesg = run("dmesg");
            assertTrue(dmesg.contains("No incompatible feature flags supported yet"), "dm-raid's refusal: " + dmesg);
            assertTrue(act.err().contains("rvg-f") || act.err().contains("rvg/f") || act.exit() != 0, act.err());
            waitInSync(lvm, "rvg/r5");
            System.out.println(run("dmsetup", "status", "rvg-r5"));
            assertEquals(r5after, sha256(lvm.node("rvg", "r5"), 24 * MIB), "rvg/r5 after dm-raid rebuilt image 0");
        } finally {
            lvm.run("vgchange", "-an", "rvg");
        }
        lvm.ok("vgremove", "-ff", "-y", "rvg");
    }

    private static void awaitSb(BdevHost host, VolumeGroup vg, List<BlockDevice> pvs, String rmeta,
                                java.util.function.Predicate<DmRaidSuperblock> ok) throws Exception {
        long end = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < end) {
            DmRaidSuperblock sb = RaidVolumeTest.sbOf(host.client(), vg, pvs, rmeta);
            if (sb != null && ok.test(sb)) {
                return;
            }
            Thread.sleep(20);
        }
        fail(rmeta + " never recorded the failed image");
    }

    @Test
    @Order(2)
    void orionReadsLvm2sRaid5AndRaid6AlsoDegraded() throws Exception {
        List<Path> disks = disks();
        LvmGuestTest.GuestLvm lvm = new LvmGuestTest.GuestLvm(disks);
        modprobe("dm_mod");
        modprobe("dm_raid");
        // dm-raid pulls in raid456 by symbol; md loads raid1 on demand, which this guest cannot do.
        modprobe("raid1");
        List<String> args = new ArrayList<>(List.of("-ff", "-y"));
        disks.forEach(d -> args.add(d.toString()));
        lvm.ok("pvcreate", args.toArray(String[]::new));
        List<String> vgArgs = new ArrayList<>(List.of("-y", "gvg"));
        disks.forEach(d -> vgArgs.add(d.toString()));
        lvm.ok("vgcreate", vgArgs.toArray(String[]::new));
        lvm.ok("lvcreate", "-y", "--type", "raid5", "-i", "2", "-I", "64k", "-L", "16M", "-n", "r5", "gvg");
        lvm.ok("lvcreate", "-y", "--type", "raid6", "-i", "3", "-I", "16k", "-L", "24M", "-n", "r6", "gvg");
        waitInSync(lvm, "gvg/r5");
        waitInSync(lvm, "gvg/r6");
        String r5 = writeThroughKernel(lvm.node("gvg", "r5"), 16 * MIB, 51);
        String r6 = writeThroughKernel(lvm.node("gvg", "r6"), 24 * MIB, 52);
        System.out.println(run("dmsetup", "table"));
        lvm.ok("vgchange", "-an", "gvg");
        try (BdevHost host = BdevHost.start(1, 8 << 20)) {
            List<BlockDevice> pvs = new ArrayList<>();
            for (int i = 0; i < disks.size(); i++) {
                pvs.add(FileBdev.open("g" + i, disks.get(i), 0, 512, "auto"));
            }
            try {
                try (VolumeGroup vg = VolumeGroup.open(host, pvs)) {
                    RaidSegments.Raid raid = RaidSegments.raidOf(vg.metadata().logicalVolume("r5"));
                    System.out.println("lvm2's r5 segment: " + raid);
                    assertEquals(3, raid.devices());
                    assertEquals(128, raid.stripeSectors());
                    assertEquals(r5, sha256(host, vg.activateAny("r5", "gvg/r5")), "lvm2's raid5 read by orion");
                    assertEquals(r6, sha256(host, vg.activateAny("r6", "gvg/r6")), "lvm2's raid6 read by orion");
                }
                // The first PV gone: r5 loses one image, r6 one; then the first two: r6 loses two.
                for (int gone : List.of(1, 2)) {
                    try (VolumeGroup vg = VolumeGroup.open(host, pvs.subList(gone, pvs.size()), true)) {
                        if (gone == 1) {
                            RaidBdev v = vg.activateRaid("r5", "gvg/r5");
                            assertEquals(1, Long.bitCount(v.failedMask()));
                            assertEquals(r5, sha256(host, v), "lvm2's raid5 read by orion without image 0");
                        }
                        RaidBdev v = vg.activateRaid("r6", "gvg/r6");
                        assertEquals(gone, Long.bitCount(v.failedMask()));
                        assertEquals(r6, sha256(host, v), "lvm2's raid6 read by orion without " + gone + " images");
                    }
                }
            } finally {
                pvs.forEach(BlockDevice::close);
            }
        }
    }
}
