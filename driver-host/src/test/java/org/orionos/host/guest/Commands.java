package org.orionos.host.guest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/** TEST ONLY: runs the system tools tests compare against (nvme-cli, mdadm, fio, nbd-client...). */
public final class Commands {
    /** Long enough for a fio run or an md check in the emulated guest; only a hung tool hits it. */
    private static final long TIMEOUT_S = 300;
    /** Tools under sbin (modprobe, losetup, mdadm) are found whatever PATH the test runner has. */
    private static final String PATH = "/usr/sbin:/usr/bin:/sbin:/bin";

    private Commands() {}

    /** Runs {@code cmd}; returns stdout; stderr goes to the test's output; a non-zero exit fails the test. */
    public static String run(String... cmd) throws IOException, InterruptedException {
        Path err = Files.createTempFile("cmd-", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile());
            pb.environment().put("PATH", PATH);
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            finish(p, cmd);
            String stderr = Files.readString(err);
            if (!stderr.isEmpty()) {
                System.err.print(stderr);
            }
            if (p.exitValue() != 0) {
                fail(String.join(" ", cmd) + " exited " + p.exitValue() + ":\n" + out + stderr);
            }
            return out;
        } finally {
            Files.deleteIfExists(err);
        }
    }

    /** As {@link #run}, with stderr merged into the returned output (for tools that report there). */
    public static String runMerged(String... cmd) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("PATH", PATH);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        finish(p, cmd);
        if (p.exitValue() != 0) {
            fail(String.join(" ", cmd) + " exited " + p.exitValue() + ":\n" + out);
        }
        return out;
    }

    private static void finish(Process p, String... cmd) throws InterruptedException {
        if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(String.join(" ", cmd) + " did not finish within " + TIMEOUT_S + " s");
        }
    }
}
