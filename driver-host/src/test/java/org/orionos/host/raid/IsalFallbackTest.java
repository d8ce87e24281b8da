package org.orionos.host.raid;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The holder decides once per JVM, so each case runs in a fresh child JVM with the test classpath. */
class IsalFallbackTest {
    private static String probe(String... props) throws Exception {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(javaBin, "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(List.of(props));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), FallbackProbe.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    @Test
    void withoutIsalTheJavaEngineIsChosenWithOneLogLine() throws Exception {
        String out = probe("-Dorion.raid.isal=false");
        assertTrue(out.contains("engine=java-swar"), out);
        assertEquals(1, out.lines().filter(l -> l.contains("RAID parity uses the pure-Java engine")).count(), out);
    }

    @Test
    void withoutIsalButWithTheVectorModuleTheVectorEngineIsChosen() throws Exception {
        String out = probe("-Dorion.raid.isal=false", "--add-modules", "jdk.incubator.vector");
        assertTrue(out.contains("engine=java-vector"), out);
        assertEquals(1, out.lines().filter(l -> l.contains("RAID parity uses the pure-Java engine (Vector API)")).count(), out);
    }

    @Test
    void withIsalInstalledIsalIsChosen() throws Exception {
        String out = probe();
        assertTrue(out.contains("engine=isa-l"), out);
        assertTrue(out.lines().noneMatch(l -> l.contains("pure-Java")), out);
    }
}
