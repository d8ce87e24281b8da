package org.orionos.host.guest;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How one guest boot ended.
 *
 * @param exitStatus the guest script's exit status, or {@link #NO_STATUS} if it never finished
 *                   (boot failure, kernel panic, timeout)
 * @param timedOut   the harness killed QEMU at the spec's timeout
 * @param output     the script's stdout and stderr
 * @param console    the serial console (kernel messages, the init's progress lines, QEMU's own errors)
 * @param outDir     the host folder the guest saw as /tmp/out (reports and any files the script left)
 * @param elapsed    QEMU start to exit
 */
public record GuestResult(int exitStatus, boolean timedOut, String output, String console, Path outDir, Duration elapsed) {

    public static final int NO_STATUS = -1;

    /** A multi-line account for a failure message: status, where the files are, and the tails of both logs. */
    public String describe() {
        return "guest " + (timedOut ? "timed out" : exitStatus == NO_STATUS ? "stopped without an exit status"
                : "exit status " + exitStatus) + " after " + elapsed.toMillis() + " ms; files in " + outDir.getParent()
                + "\n--- guest output (tail) ---\n" + tail(output, 60)
                + "\n--- console (tail) ---\n" + tail(console, 40);
    }

    static String tail(String s, int lines) {
        String[] all = s.split("\n", -1);
        int from = Math.max(0, all.length - lines);
        return String.join("\n", java.util.Arrays.copyOfRange(all, from, all.length));
    }
}
