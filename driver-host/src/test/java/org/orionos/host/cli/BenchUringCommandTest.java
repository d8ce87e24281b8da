package org.orionos.host.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code orion bench uring} against a real tmpfs file: progress lines, then the result line. */
class BenchUringCommandTest {

    private static String[] run(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
        int rc;
        try {
            rc = OrionMain.commandLine().execute(args);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        return new String[] {Integer.toString(rc), o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8)};
    }

    @Test
    void everyModeEndsWithTheIopsLine() throws Exception {
        Path f = Files.createTempFile(Path.of("/dev/shm"), "orion-bench-test", ".bin");
        try {
            Files.write(f, new byte[16 << 20]);
            for (String rw : List.of("randread", "randwrite", "read", "write")) {
                String[] r = run("bench", "uring", "--file", f.toString(), "--rw", rw, "--bs", "4096", "--qd", "8",
                        "--seconds", "1");
                assertEquals("0", r[0], rw + ": " + r[2]);
                List<String> lines = r[1].lines().toList();
                assertTrue(lines.get(0).matches("\\s*1s\\s+iops=\\d+\\s+bw_mib_s=[0-9.]+"), lines.get(0));
                Matcher m = Pattern.compile("iops=(\\d+) bw_mib_s=(\\d+)").matcher(lines.getLast());
                assertTrue(m.matches(), "last line: " + lines.getLast());
                assertTrue(Long.parseLong(m.group(1)) > 1000, rw + " did real I/O: " + lines.getLast());
            }
        } finally {
            Files.deleteIfExists(f);
        }
    }

    @Test
    void missingFileIsAClearError() {
        String[] r = run("bench", "uring", "--file", "/dev/shm/orion-no-such-file", "--seconds", "1");
        assertEquals("1", r[0]);
        assertTrue(r[2].contains("open on /dev/shm/orion-no-such-file failed: ENOENT"), r[2]);
    }
}
