package org.orionos.host.cli;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * {@code orion attach} as a real process on this host, whose kernel has no nbd module: with no
 * host running it serves in-process and stops at the attach with what to do; bad arguments and an
 * unknown export are refused before anything starts. (Attaching for real runs in the guest:
 * NbdAttachGuestTest.)
 */
class AttachCommandTest {

    private static final String STACK = """
            [[bdev]]
            name = "mem0"
            type = "memory"
            size = "16M"
            [[nbd.export]]
            name = "vol0"
            bdev = "mem0"
            """;

    private record Result(int exit, String out) {
    }

    private static Result run(Path dir, String... args) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), OrionMain.class.getName(), "attach"));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("--control-socket", dir.resolve("control.sock").toString()));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "attach did not exit:\n" + out);
        return new Result(p.exitValue(), out);
    }

    @Test
    void withoutTheNbdModuleItSaysModprobeAndStops(@TempDir Path dir) throws Exception {
        assumeFalse(Files.exists(Path.of("/sys/module/nbd")), "this host has the nbd module loaded");
        Path cfg = Files.writeString(dir.resolve("orion.toml"), STACK);
        Result r = run(dir, "vol0", "--config", cfg.toString(), "--reactors", "1", "--connections", "2");
        assertEquals(1, r.exit(), r.out());
        assertTrue(r.out().contains("modprobe nbd"), r.out());
        assertTrue(!r.out().contains("ready;"), "it never reports ready:\n" + r.out());
        assertTrue(!Files.exists(dir.resolve("control.sock")), "the management socket is gone");
    }

    @Test
    void unknownExportAndBadArgumentsAreRefusedFirst(@TempDir Path dir) throws Exception {
        Path cfg = Files.writeString(dir.resolve("orion.toml"), STACK);
        Result unknown = run(dir, "nope", "--config", cfg.toString());
        assertEquals(2, unknown.exit(), unknown.out());
        assertTrue(unknown.out().contains("\"nope\"") && unknown.out().contains("vol0"), unknown.out());
        Result conns = run(dir, "vol0", "--config", cfg.toString(), "--connections", "0");
        assertEquals(2, conns.exit(), conns.out());
        assertTrue(conns.out().contains("--connections must be 1..64"), conns.out());
        Result dev = run(dir, "vol0", "--config", cfg.toString(), "--device", "/dev/sda");
        assertEquals(2, dev.exit(), dev.out());
        assertTrue(dev.out().contains("/dev/nbdN"), dev.out());
    }
}
