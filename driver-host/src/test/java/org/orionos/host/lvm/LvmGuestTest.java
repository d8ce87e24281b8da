package org.orionos.host.lvm;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.orionos.host.bdev.BdevClient;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.backend.FileBdev;
import org.orionos.host.guest.GuestSpec;
import org.orionos.host.guest.GuestTest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Orion's volumes under the kernel's device-mapper, in the test guest: a VG orion makes on NVMe
 * namespaces is activated by lvm2's {@code vgchange -ay} and every byte orion wrote through its
 * linear and striped volumes reads back from {@code /dev/VG/LV} (SHA-256 over the whole volume);
 * and a VG lvm2 makes, written through dm, reads back byte-identical through orion's volumes.
 * lvm2 runs without udev (none runs in the guest): it creates the /dev nodes itself.
 */
@GuestTest(spec = LvmGuestTest.Spec.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LvmGuestTest {
    private static final long MIB = 1 << 20;
    static final List<String> SERIALS = List.of("lvm0", "lvm1", "lvm2", "lvm3");

    /** Four 64 MiB NVMe namespaces: two for orion's VG, two for lvm2's. */
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

    @Test
    @Order(1)
    void lvm2ActivatesOrionsLinearAndStripedVolumesWithIdenticalContent() throws Exception {
        List<Path> disks = List.of(namespace("lvm0"), namespace("lvm1"));
        GuestLvm lvm = new GuestLvm(disks);
        String lin;
        String str;
        try (BdevHost host = BdevHost.start(1, 8 << 20)) {
            List<BlockDevice> pvs = new ArrayList<>();
            for (int i = 0; i < disks.size(); i++) {
                pvs.add(FileBdev.open("g" + i, disks.get(i), 0, 512, "auto"));
            }
            try (VolumeGroup vg = VolumeGroup.create(host, "ovg", pvs, 8192)) {
                vg.createLinear("lin", 5);
                vg.createLinear("gap", 1);
                vg.resize("lin", 9, false); // a second segment after "gap"
                vg.createStriped("str", 6, 2, 128);
                lin = fill(host, vg.activate("lin", "ovg/lin"), 11);
                str = fill(host, vg.activate("str", "ovg/str"), 12);
            } finally {
                pvs.forEach(BlockDevice::close);
            }
        }
        modprobe("dm_mod");
        lvm.ok("vgchange", "-ay", "ovg");
        try {
            String lvs = lvm.ok("lvs", "-o", "lv_name,lv_size,segtype,stripes,devices", "--units", "b", "ovg");
            System.out.println(lvs);
            assertEquals(lin, sha256(lvm.node("ovg", "lin"), 9 * 4 * MIB), "ovg/lin read through dm-linear");
            assertEquals(str, sha256(lvm.node("ovg", "str"), 6 * 4 * MIB), "ovg/str read through dm-stripe");
            String table = run("dmsetup", "table");
            assertTrue(table.contains("ovg-str: 0 49152 striped 2 128"), "dm table: " + table);
        } finally {
            lvm.ok("vgchange", "-an", "ovg");
        }
    }

    @Test
    @Order(2)
    void orionReadsWhatLvm2WroteThroughDeviceMapper() throws Exception {
        List<Path> disks = List.of(namespace("lvm2"), namespace("lvm3"));
        GuestLvm lvm = new GuestLvm(disks);
        modprobe("dm_mod");
        lvm.ok("pvcreate", "-y", disks.get(0).toString(), disks.get(1).toString());
        lvm.ok("vgcreate", "-y", "gvg", disks.get(0).toString(), disks.get(1).toString());
        lvm.ok("lvcreate", "-y", "-n", "lin", "-L", "12M", "gvg");
        lvm.ok("lvcreate", "-y", "-n", "str", "-i", "2", "-I", "64k", "-L", "16M", "gvg");
        String lin = writeThroughKernel(lvm.node("gvg", "lin"), 12 * MIB, 21);
        String str = writeThroughKernel(lvm.node("gvg", "str"), 16 * MIB, 22);
        lvm.ok("vgchange", "-an", "gvg");
        try (BdevHost host = BdevHost.start(1, 8 << 20)) {
            List<BlockDevice> pvs = new ArrayList<>();
            for (int i = 0; i < disks.size(); i++) {
                pvs.add(FileBdev.open("h" + i, disks.get(i), 0, 512, "auto"));
            }
            try (VolumeGroup vg = VolumeGroup.open(host, pvs)) {
                assertEquals("gvg", vg.name());
                assertEquals(lin, sha256(host, vg.activate("lin", "gvg/lin")), "gvg/lin read by orion");
                assertEquals(str, sha256(host, vg.activate("str", "gvg/str")), "gvg/str read by orion");
            } finally {
                pvs.forEach(BlockDevice::close);
            }
        }
    }

    /**
     * A VG holding orion thin volumes under lvm2 with device-mapper: {@code vgchange -ay} must
     * activate the linear and striped volumes and leave the pool and thin volumes (orion's
     * mapping format, which dm-thin cannot read) inactive, so no dm-thin target ever sees it.
     */
    @Test
    @Order(3)
    void lvm2ActivatesNoOrionThinVolumeButStillTheOthers() throws Exception {
        List<Path> disks = List.of(namespace("lvm0"), namespace("lvm1"));
        GuestLvm lvm = new GuestLvm(disks);
        String thin;
        String lin;
        try (BdevHost host = BdevHost.start(1, 8 << 20)) {
            List<BlockDevice> pvs = new ArrayList<>();
            for (int i = 0; i < disks.size(); i++) {
                pvs.add(FileBdev.open("t" + i, disks.get(i), 0, 512, "auto"));
            }
            try (VolumeGroup vg = VolumeGroup.open(host, pvs)) {
                lin = sha256(host, vg.activate("lin", "ovg/lin"));
                vg.createThinPool("pool", 9, 1, 128);
                vg.createThin("thin", "pool", 32 * MIB);
                thin = fill(host, vg.activateThin("thin", "ovg/thin"), 31);
            } finally {
                pvs.forEach(BlockDevice::close);
            }
        }
        modprobe("dm_mod");
        Lvm2Tools.Result r = lvm.run("vgchange", "-ay", "ovg");
        try {
            String table = run("dmsetup", "table");
            System.out.println("vgchange -ay exit " + r.exit() + "; dm table:\n" + table);
            assertTrue(table.contains("ovg-lin:") && table.contains("ovg-str:"), "linear/striped not active: " + table);
            for (String lv : List.of("ovg-pool", "ovg-thin", "ovg-pool_tdata", "ovg-pool_tmeta")) {
                assertTrue(!table.contains(lv + ":"), lv + " was activated by lvm2: " + table);
            }
            assertTrue(r.err().contains("orion-thin"), "lvm2 said nothing about the thin LVs: " + r.err());
            assertEquals(lin, sha256(lvm.node("ovg", "lin"), 9 * 4 * MIB), "ovg/lin still reads the same");
        } finally {
            lvm.ok("vgchange", "-an", "ovg");
        }
        try (BdevHost host = BdevHost.start(1, 8 << 20)) {
            List<BlockDevice> pvs = new ArrayList<>();
            for (int i = 0; i < disks.size(); i++) {
                pvs.add(FileBdev.open("u" + i, disks.get(i), 0, 512, "auto"));
            }
            try (VolumeGroup vg = VolumeGroup.open(host, pvs)) {
                assertEquals(thin, sha256(host, vg.activateThin("thin", "ovg/thin")), "thin volume after lvm2 saw it");
            } finally {
                pvs.forEach(BlockDevice::close);
            }
        }
    }

    /** Writes the whole volume with a seeded pseudo-random stream; returns its SHA-256. */
    static String fill(BdevHost host, BlockDevice v, long seed) throws Exception {
        BdevClient c = host.client();
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        SplittableRandom rnd = new SplittableRandom(seed);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(MIB, 4096);
            for (long at = 0; at < v.sizeBytes(); at += MIB) {
                for (long i = 0; i < MIB; i += 8) {
                    buf.set(ValueLayout.JAVA_LONG_UNALIGNED, i, rnd.nextLong());
                }
                c.write(v, at, buf, 0).get(60, TimeUnit.SECONDS);
                md.update(buf.asByteBuffer());
            }
            c.flush(v).get(60, TimeUnit.SECONDS);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** SHA-256 of a whole volume read through orion. */
    static String sha256(BdevHost host, BlockDevice v) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(MIB, 4096);
            for (long at = 0; at < v.sizeBytes(); at += MIB) {
                host.client().read(v, at, buf).get(60, TimeUnit.SECONDS);
                md.update(buf.asByteBuffer());
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** SHA-256 of a kernel block device, which must be exactly {@code size} bytes. */
    static String sha256(Path node, long size) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (FileChannel ch = FileChannel.open(node, StandardOpenOption.READ)) {
            assertEquals(size, ch.size(), node + " size");
            ByteBuffer b = ByteBuffer.allocate((int) MIB);
            while (ch.read(b) > 0) {
                b.flip();
                md.update(b);
                b.clear();
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Writes a kernel block device whole with a seeded stream, fsyncs it; returns its SHA-256. */
    static String writeThroughKernel(Path node, long size, long seed) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        SplittableRandom rnd = new SplittableRandom(seed);
        try (FileChannel ch = FileChannel.open(node, StandardOpenOption.WRITE)) {
            assertEquals(size, ch.size(), node + " size");
            ByteBuffer b = ByteBuffer.allocate((int) MIB);
            for (long at = 0; at < size; at += MIB) {
                b.clear();
                while (b.hasRemaining()) {
                    b.putLong(rnd.nextLong());
                }
                b.flip();
                md.update(b.duplicate());
                while (b.hasRemaining()) {
                    ch.write(b, at + b.position());
                }
            }
            ch.force(true);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** The /dev/nvmeXn1 node of the controller with {@code serial}. */
    static Path namespace(String serial) throws IOException, InterruptedException {
        try (Stream<Path> s = Files.list(Path.of("/sys/class/nvme"))) {
            for (Path c : s.sorted().toList()) {
                if (!Files.readString(c.resolve("serial")).strip().equals(serial)) {
                    continue;
                }
                Path node = Path.of("/dev", c.getFileName() + "n1");
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (!Files.exists(node) && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                return node;
            }
        }
        return fail("no NVMe controller with serial " + serial);
    }

    static void modprobe(String module) throws Exception {
        run("modprobe", module);
    }

    /** Runs a command and returns its stdout; a non-zero exit fails the test with its output. */
    static String run(String... cmd) throws IOException, InterruptedException {
        Lvm2Tools.Result r = Lvm2Tools.exec(List.of(cmd));
        if (r.exit() != 0) {
            fail(String.join(" ", cmd) + " exited " + r.exit() + ":\n" + r.out() + r.err());
        }
        return r.out();
    }

    /**
     * lvm2 in the guest, limited to the given disks: no udev (lvm2 makes /dev/VG/LV itself), no
     * devices file, no backups under the read-only /etc/lvm.
     */
    static final class GuestLvm {
        private final List<Path> disks;

        GuestLvm(List<Path> disks) {
            this.disks = List.copyOf(disks);
        }

        String config() {
            StringBuilder f = new StringBuilder("[");
            for (Path d : disks) {
                f.append("\"a|^").append(d).append("$|\",");
            }
            f.append("\"r|.*|\"]");
            return "devices { filter=" + f + " global_filter=" + f + " use_devicesfile=0 obtain_device_list_from_udev=0"
                    + " external_device_info_source=\"none\" } backup { backup=0 archive=0 }"
                    + " activation { udev_sync=0 udev_rules=0 monitoring=0 } global { event_activation=0 }";
        }

        Lvm2Tools.Result run(String command, String... args) {
            List<String> cmd = new ArrayList<>(List.of("lvm", command, "--config", config()));
            cmd.addAll(List.of(args));
            Lvm2Tools.Result r = Lvm2Tools.exec(cmd);
            System.out.println("$ lvm " + command + " " + String.join(" ", args) + " -> " + r.exit()
                    + (r.err().isBlank() ? "" : "\n" + r.err().strip()));
            return r;
        }

        String ok(String command, String... args) {
            Lvm2Tools.Result r = run(command, args);
            if (r.exit() != 0) {
                fail("lvm " + command + " " + String.join(" ", args) + " exited " + r.exit() + "\n" + r.out() + r.err());
            }
            return r.out();
        }

        /** /dev/VG/LV, or /dev/mapper/VG-LV when lvm2 made only that. */
        Path node(String vg, String lv) throws IOException {
            Path link = Path.of("/dev", vg, lv);
            if (Files.exists(link)) {
                return link;
            }
            Path mapper = Path.of("/dev/mapper", vg.replace("-", "--") + "-" + lv.replace("-", "--"));
            if (Files.exists(mapper)) {
                return mapper;
            }
            return fail("neither " + link + " nor " + mapper + " exists; /dev/mapper has "
                    + new String(Lvm2Tools.exec(List.of("ls", "-l", "/dev/mapper")).out().getBytes(), StandardCharsets.UTF_8));
        }
    }
}
