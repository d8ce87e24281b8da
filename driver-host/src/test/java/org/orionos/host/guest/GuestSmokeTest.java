package org.orionos.host.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.orionos.bindings.Errno;
import org.orionos.bindings.Libc;
import org.orionos.bindings.uapi.FcntlH;

/**
 * Proves the guest gives later tests the kernel interfaces they need: NBD, the NVMe block and
 * generic nodes, an NVMe function rebound to vfio-pci behind the emulated IOMMU, and that
 * {@code orion probe --json} sees all of them. Runs in the guest (see {@link GuestSuiteIT}).
 *
 * <p>The guest has two NVMe controllers: {@value #KERNEL_SERIAL} stays on the kernel's nvme driver,
 * {@value #VFIO_SERIAL} moves to vfio-pci, so the probe can report both kinds at once.
 */
@GuestTest(spec = GuestSmokeTest.Spec.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GuestSmokeTest {

    static final String KERNEL_SERIAL = "orion0";
    static final String VFIO_SERIAL = "orion1";

    /** Two small NVMe controllers, nothing else. */
    public static final class Spec implements Supplier<GuestSpec> {
        @Override
        public GuestSpec get() {
            return GuestSpec.builder().nvme(KERNEL_SERIAL, 1L << 30).nvme(VFIO_SERIAL, 64L << 20).build();
        }
    }

    /** The vfio group of the rebound controller, once rebound (tests share one guest and run in order). */
    private static String vfioGroup;

    @Test
    @Order(1)
    void nbdDeviceOpensAfterModprobe() throws Exception {
        Path nbd0 = ensureNbd();
        openAndClose(nbd0, FcntlH.O_RDWR);
    }

    @Test
    @Order(2)
    void nvmeBlockAndGenericNodesOpen() throws Exception {
        for (Path node : kernelNvmeNodes()) {
            assertTrue(Files.exists(node), node + " missing; /dev has " + list("/dev"));
            openAndClose(node, FcntlH.O_RDONLY);
        }
    }

    @Test
    @Order(3)
    void nvmeFunctionRebindsToVfioPciAndItsGroupOpens() throws Exception {
        String group = ensureVfio();
        openAndClose(Path.of("/dev/vfio/vfio"), FcntlH.O_RDWR);
        openAndClose(Path.of("/dev/vfio", group), FcntlH.O_RDWR);
    }

    @Test
    @Order(4)
    void probeJsonReportsNbdNvmeAndVfio() throws Exception {
        Path nbd0 = ensureNbd();
        String group = ensureVfio();
        List<Path> nvme = kernelNvmeNodes();
        String jar = System.getProperty("orion.jar");
        assertTrue(jar != null && Files.isRegularFile(Path.of(jar)), "orion.jar not passed or missing: " + jar);
        String out = run(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:-UsePerfData",
                "-jar", jar, "probe", "--json");
        JsonNode probe = new ObjectMapper().readTree(out);
        String release = Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip();
        assertEquals(release, probe.path("kernel").asText(), "kernel");
        assertTrue(probe.path("io_uring").path("available").asBoolean(), "io_uring.available in " + out);
        assertTrue(strings(probe.path("io_uring").path("opcodes")).contains("NOP"), "io_uring.opcodes lacks NOP: " + out);
        assertTrue(strings(probe.path("devices").path("nbd")).contains(nbd0.toString()), "devices.nbd lacks " + nbd0 + ": " + out);
        for (Path n : nvme) {
            assertTrue(strings(probe.path("devices").path("nvme")).contains(n.toString()), "devices.nvme lacks " + n + ": " + out);
        }
        List<String> vfio = strings(probe.path("devices").path("vfio"));
        assertTrue(vfio.contains("/dev/vfio/vfio") && vfio.contains("/dev/vfio/" + group),
                "devices.vfio lacks /dev/vfio/vfio or /dev/vfio/" + group + ": " + out);
        assertTrue(probe.path("cap_sys_admin").asBoolean(), "cap_sys_admin in " + out);
    }

    private static Path ensureNbd() throws Exception {
        Path nbd0 = Path.of("/dev/nbd0");
        if (!Files.exists(nbd0)) {
            run("modprobe", "nbd");
        }
        awaitExists(nbd0);
        return nbd0;
    }

    /** The nodes of the controller that stays on the kernel driver: /dev/nvmeN, /dev/nvmeNn1, /dev/ngNn1. */
    private static List<Path> kernelNvmeNodes() throws IOException {
        Path ctrl = controllerWithSerial(KERNEL_SERIAL);
        String name = ctrl.getFileName().toString();
        String instance = name.substring("nvme".length());
        List<Path> nodes = List.of(Path.of("/dev", name), Path.of("/dev", name + "n1"), Path.of("/dev", "ng" + instance + "n1"));
        for (Path n : nodes) {
            awaitExists(n);
        }
        return nodes;
    }

    private static String ensureVfio() throws Exception {
        if (vfioGroup != null) {
            return vfioGroup;
        }
        Path ctrl = controllerWithSerial(VFIO_SERIAL);
        String bdf = ctrl.resolve("device").toRealPath().getFileName().toString();
        Path dev = Path.of("/sys/bus/pci/devices", bdf);
        run("modprobe", "vfio-pci");
        write(dev.resolve("driver_override"), "vfio-pci");
        write(dev.resolve("driver/unbind"), bdf);
        write(Path.of("/sys/bus/pci/drivers_probe"), bdf);
        String driver = dev.resolve("driver").toRealPath().getFileName().toString();
        assertEquals("vfio-pci", driver, bdf + " bound to");
        String group = dev.resolve("iommu_group").toRealPath().getFileName().toString();
        awaitExists(Path.of("/dev/vfio", group));
        System.out.println("NVMe " + VFIO_SERIAL + " at " + bdf + " now on vfio-pci, IOMMU group " + group);
        vfioGroup = group;
        return group;
    }

    private static Path controllerWithSerial(String serial) throws IOException {
        List<String> seen = new ArrayList<>();
        try (Stream<Path> s = Files.list(Path.of("/sys/class/nvme"))) {
            for (Path c : s.sorted().toList()) {
                String sn = Files.readString(c.resolve("serial")).strip();
                if (sn.equals(serial)) {
                    return c;
                }
                seen.add(c.getFileName() + "=" + sn);
            }
        }
        return fail("no NVMe controller with serial " + serial + " in /sys/class/nvme (have " + seen + ")");
    }

    private static void openAndClose(Path node, int flags) {
        int fd = Libc.open(node.toString(), flags | FcntlH.O_CLOEXEC, 0);
        assertTrue(fd >= 0, "open(" + node + ") = " + (fd < 0 ? Errno.name(fd) + " (" + Errno.describe(fd) + ")" : fd));
        assertEquals(0, Libc.close(fd), "close(" + node + ")");
        System.out.println("opened and closed " + node + " (fd " + fd + ")");
    }

    /** devtmpfs creates nodes from a kernel worker: give it a moment after the driver binds. */
    private static void awaitExists(Path p) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.exists(p)) {
            if (System.nanoTime() > deadline) {
                fail(p + " did not appear within 10 s; " + p.getParent() + " has " + list(p.getParent().toString()));
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted waiting for " + p, e);
            }
        }
    }

    private static void write(Path sysfs, String value) throws IOException {
        Files.writeString(sysfs, value);
    }

    static String run(String... cmd) throws java.io.IOException, InterruptedException {
        return Commands.run(cmd);
    }

    private static List<String> list(String dir) throws IOException {
        try (Stream<Path> s = Files.list(Path.of(dir))) {
            return s.map(x -> x.getFileName().toString()).sorted().toList();
        }
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
