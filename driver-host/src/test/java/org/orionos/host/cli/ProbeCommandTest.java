package org.orionos.host.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProbeCommandTest {

    private static String run(String... args) {
        PrintStream saved = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            assertEquals(0, OrionMain.commandLine().execute(args));
        } finally {
            System.setOut(saved);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void jsonReportsThisKernelAndItsIoUring() throws Exception {
        JsonNode root = new ObjectMapper().readTree(run("probe", "--json"));
        String release = Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
        assertEquals(release, root.path("kernel").asText());

        JsonNode uring = root.path("io_uring");
        assertTrue(uring.path("available").asBoolean(), "io_uring should be available on the host kernel");
        List<String> ops = new ArrayList<>();
        uring.path("opcodes").forEach(n -> ops.add(n.asText()));
        // Opcodes present on every kernel this project supports (6.1+), by the kernel's own probe.
        for (String op : List.of("NOP", "READ", "WRITE", "READ_FIXED", "ACCEPT", "LINK_TIMEOUT", "URING_CMD")) {
            assertTrue(ops.contains(op), op + " missing from " + ops);
        }
        List<String> features = new ArrayList<>();
        uring.path("features").forEach(n -> features.add(n.asText()));
        assertTrue(features.contains("NODROP") && features.contains("SINGLE_MMAP"), features.toString());

        // The host kernel has no nbd module; the probe must say so rather than invent devices.
        boolean nbdLoaded = Files.isDirectory(Path.of("/sys/module/nbd"));
        assertEquals(nbdLoaded, root.path("modules").path("nbd").asBoolean());
        assertEquals(nbdLoaded, root.path("devices").path("nbd").size() > 0);
        boolean vfioNodes;
        try (var nodes = Files.exists(Path.of("/dev/vfio")) ? Files.list(Path.of("/dev/vfio")) : java.util.stream.Stream.<Path>empty()) {
            vfioNodes = nodes.findAny().isPresent();
        }
        assertEquals(vfioNodes, root.path("devices").path("vfio").size() > 0);
    }

    @Test
    void humanOutputNamesEveryCheck() {
        String out = run("probe");
        for (String key : List.of("kernel", "io_uring", "/dev/nbd*", "/dev/nvme*", "/dev/vfio", "CAP_SYS_ADMIN")) {
            assertTrue(out.contains(key), "missing " + key + " in:\n" + out);
        }
    }

    @Test
    void capSysAdminMatchesTheProcessCredentials() throws Exception {
        JsonNode root = new ObjectMapper().readTree(run("probe", "--json"));
        String status = Files.readString(Path.of("/proc/self/status"));
        String capEff = status.lines().filter(l -> l.startsWith("CapEff:")).findFirst().orElseThrow();
        boolean expected = (Long.parseUnsignedLong(capEff.substring(7).trim(), 16) & (1L << 21)) != 0;
        assertEquals(expected, root.path("cap_sys_admin").asBoolean());
    }
}
