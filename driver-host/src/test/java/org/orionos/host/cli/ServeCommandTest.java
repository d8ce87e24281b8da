package org.orionos.host.cli;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs {@code orion serve} as a real process and stops it with a real SIGTERM. */
class ServeCommandTest {

    @Test
    void sigtermStopsServeCleanlyWithStatusZero() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), OrionMain.class.getName(), "serve")
                .redirectErrorStream(true).start();
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
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "serve did not exit after SIGTERM");
        String out = String.join("\n", lines);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("stop requested"), out);
        assertTrue(out.contains("io_uring"), "serve logs the probe at start:\n" + out);
    }
}
