package org.orionos.host.cli;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.orionos.host.control.ControlClient;
import org.orionos.host.control.ControlException;

import com.fasterxml.jackson.databind.JsonNode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs {@code orion serve} as a real process and stops it with a real SIGTERM. */
class ServeCommandTest {

    private static Process start(Path workDir, String... args) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), OrionMain.class.getName(), "serve"));
        cmd.addAll(List.of(args));
        if (!cmd.contains("--control-socket")) {
            // Never the system-wide default: tests (and a real host) may run at the same time.
            cmd.addAll(List.of("--control-socket", workDir.resolve("control.sock").toString()));
        }
        return new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(true).start();
    }

    /** Reads the output; sends SIGTERM once the host says it is ready. */
    private static String runUntilReadyThenTerm(Process p) throws Exception {
        List<String> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                lines.add(line);
                if (line.contains("ready;")) {
                    p.toHandle().destroy(); // SIGTERM, without closing our end of its output
                }
            }
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "serve did not exit");
        return String.join("\n", lines);
    }

    @Test
    void servesAConfiguredStackAndStopsCleanlyOnSigterm(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("orion.toml");
        Files.writeString(cfg, """
                [[bdev]]
                name = "mem0"
                type = "memory"
                size = "64M"
                [[bdev]]
                name = "f0"
                type = "file"
                path = "%s"
                size = "16M"
                """.formatted(dir.resolve("f0.img")));
        Process p = start(dir, "--config", cfg.toString(), "--reactors", "2");
        String out = runUntilReadyThenTerm(p);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("serving 2 block device(s) on 2 reactor(s): mem0, f0"), out);
        assertTrue(out.contains("stopped cleanly"), out);
        assertTrue(out.contains("io_uring"), "serve logs the probe at start:\n" + out);
        assertEquals(16L << 20, Files.size(dir.resolve("f0.img")), "the file device was created at its size");
    }

    @Test
    void embeddedDefaultCreatesItsDiskUnderOrionData(@TempDir Path dir) throws Exception {
        // A free port instead of the default 10809, which another test or host may hold.
        Process p = start(dir, "--nbd-listen", "tcp:127.0.0.1:0");
        String out = runUntilReadyThenTerm(p);
        assertEquals(0, p.exitValue(), out);
        Path disk = dir.resolve("orion-data/disk0.img");
        assertEquals(1L << 30, Files.size(disk), out);
        assertTrue(out.contains("<embedded default>") && out.contains("disk0"), out);
        assertTrue(out.contains("nbd: export disk0 on tcp:127.0.0.1:"), out);
    }

    @Test
    void servesNbdUntilSigtermThenLogsCounters(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("orion.toml");
        Files.writeString(cfg, """
                [[bdev]]
                name = "mem0"
                type = "memory"
                size = "16M"
                [[nbd.listen]]
                address = "tcp:127.0.0.1:0"
                [[nbd.listen]]
                address = "unix:%s"
                [[nbd.export]]
                name = "mem0"
                """.formatted(dir.resolve("nbd.sock")));
        Process p = start(dir, "--config", cfg.toString(), "--reactors", "2");
        List<String> lines = new ArrayList<>();
        String nbdinfo = null;
        JsonNode status = null;
        String secondOut = null;
        int secondExit = -1;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                lines.add(line);
                if (line.contains("ready;")) {
                    String uri = lines.stream().filter(l -> l.contains("nbdinfo 'nbd://")).findFirst().orElseThrow()
                            .replaceAll(".*nbdinfo '([^']*)'.*", "$1");
                    Process info = new ProcessBuilder("nbdinfo", "--size", uri).redirectErrorStream(true).start();
                    nbdinfo = new String(info.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                    info.waitFor(30, TimeUnit.SECONDS);
                    status = ControlClient.call(dir.resolve("control.sock"), "status", null);
                    Process second = start(dir, "--config", cfg.toString());
                    secondOut = new String(second.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    assertTrue(second.waitFor(60, TimeUnit.SECONDS));
                    secondExit = second.exitValue();
                    p.toHandle().destroy();
                }
            }
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "serve did not exit");
        String out = String.join("\n", lines);
        assertEquals(0, p.exitValue(), out);
        assertEquals(String.valueOf(16L << 20), nbdinfo, out);
        assertTrue(out.contains("nbd export mem0: ") && out.contains("nbd server stopped: 1 connections served"), out);
        assertTrue(Files.notExists(dir.resolve("nbd.sock")), "the unix socket is removed at stop");

        // The control socket answered `status` while the host ran ...
        assertEquals(p.pid(), status.path("host").path("pid").asLong(), status.toString());
        assertEquals("mem0", status.path("bdevs").get(0).path("name").asText(), status.toString());
        assertEquals(16L << 20, status.path("bdevs").get(0).path("size_bytes").asLong());
        assertTrue(status.path("bdevs").get(0).path("claims").get(0).path("owner").asText().contains("nbd"), status.toString());
        assertEquals("mem0", status.path("nbd").path("exports").get(0).path("bdev").asText(), status.toString());
        assertTrue(status.path("nbd").path("exports").get(0).path("requests").asLong() >= 0, status.toString());
        // ... a second host on the same socket was refused before serving anything ...
        assertEquals(1, secondExit, secondOut);
        assertTrue(secondOut.contains("another orion host is running"), secondOut);
        // ... and the socket is gone once the host stopped.
        assertTrue(Files.notExists(dir.resolve("control.sock")), "the control socket is removed at stop");
        ControlException gone = org.junit.jupiter.api.Assertions.assertThrows(ControlException.class,
                () -> ControlClient.call(dir.resolve("control.sock"), "status", null));
        assertTrue(gone.getMessage().contains("no orion host answers") && gone.getMessage().contains("orion serve"),
                gone.getMessage());
        assertTrue(out.indexOf("nbd server stopped") < out.indexOf("stopped cleanly"), "NBD stops before the devices close");
    }

    @Test
    void badConfigFailsBeforeAnythingIsCreated(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("bad.toml");
        Files.writeString(cfg, """
                [[bdev]]
                name = "f0"
                type = "file"
                path = "%s"
                size = "16M"
                [[bdev]]
                name = "e"
                type = "error"
                base = "nope"
                """.formatted(dir.resolve("f0.img")));
        Process p = start(dir, "--config", cfg.toString());
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(2, p.exitValue(), out);
        assertTrue(out.contains(cfg.toString()) && out.contains("\"nope\""), out);
        assertTrue(Files.notExists(dir.resolve("f0.img")), "nothing was created from a config that does not validate");
    }

    /** Busy-polling reactors serve NBD and still stop on SIGTERM; a negative window is refused. */
    @Test
    void busyPollingReactorsServeAndStop(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("nbd.sock");
        Path cfg = dir.resolve("orion.toml");
        Files.writeString(cfg, """
                [[bdev]]
                name = "mem0"
                type = "memory"
                size = "16M"
                [[nbd.listen]]
                address = "unix:%s"
                [[nbd.export]]
                name = "mem0"
                """.formatted(sock));
        Process p = start(dir, "--config", cfg.toString(), "--reactors", "2", "--busy-poll-us", "200");
        List<String> lines = new ArrayList<>();
        String size = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                lines.add(line);
                if (line.contains("ready;")) {
                    Process info = new ProcessBuilder("nbdinfo", "--size", "nbd+unix:///mem0?socket=" + sock)
                            .redirectErrorStream(true).start();
                    size = new String(info.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                    info.waitFor(30, TimeUnit.SECONDS);
                    p.toHandle().destroy();
                }
            }
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "serve did not exit");
        String out = String.join("\n", lines);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("reactors busy-poll for 200 us"), out);
        assertEquals("16777216", size, out);

        Process bad = start(dir, "--config", cfg.toString(), "--busy-poll-us", "-1");
        String badOut = new String(bad.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(bad.waitFor(60, TimeUnit.SECONDS));
        assertEquals(2, bad.exitValue(), badOut);
        assertTrue(badOut.contains("--busy-poll-us must be 0 (off) or a positive number"), badOut);

        Process narrow = start(dir, "--config", cfg.toString(), "--busy-poll-us", "20", "--busy-poll-max-us", "10");
        String narrowOut = new String(narrow.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(narrow.waitFor(60, TimeUnit.SECONDS));
        assertEquals(2, narrow.exitValue(), narrowOut);
        assertTrue(narrowOut.contains("--busy-poll-max-us (10) must be at least --busy-poll-us (20)"), narrowOut);
    }
}
