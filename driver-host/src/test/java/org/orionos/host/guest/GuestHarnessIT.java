package org.orionos.host.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;

/** The harness itself against a real boot: status, output, console, out folder, per-boot images, timeout. */
class GuestHarnessIT {

    private static Path work() {
        return Path.of(System.getProperty("orion.guest.work", System.getProperty("java.io.tmpdir") + "/orion-guest-runs"));
    }

    @Test
    void scriptRunsAsRootInTheGuestKernelAndItsStatusOutputAndFilesComeBack() throws Exception {
        GuestHost host = GuestHost.requireOrSkip();
        GuestSpec spec = GuestSpec.builder().nvme("harness0", 16L << 20).append("orion.harness=1").build();
        GuestResult r = Guest.run(host, spec, """
                echo "kernel $(uname -r) uid $(id -u)"
                grep -o 'orion.harness=1' /proc/cmdline
                cat /sys/class/nvme/nvme0/serial
                echo written-in-guest > /tmp/out/made-here
                touch /probe-ro 2>/dev/null && echo root-writable || echo root-read-only
                exit 7
                """, work());
        assertEquals(7, r.exitStatus(), r::describe);
        assertFalse(r.timedOut());
        assertTrue(r.output().contains("kernel " + host.kernelVersion() + " uid 0"), r::describe);
        assertTrue(r.output().contains("orion.harness=1"), r::describe);
        assertTrue(r.output().contains("harness0"), r::describe);
        assertTrue(r.output().contains("root-read-only"), r::describe);
        assertTrue(r.console().contains("orion-guest: guest-script exit status 7"), r::describe);
        assertEquals("written-in-guest\n", Files.readString(r.outDir().resolve("made-here")));
        assertFalse(Files.exists(r.outDir().resolveSibling("images").resolve("nvm-harness0.img")),
                "per-boot images are deleted after the boot");
    }

    @Test
    void zonedNamespacesAndMultiControllerSubsystemsReachTheGuestKernel() throws Exception {
        GuestHost host = GuestHost.requireOrSkip();
        GuestSpec spec = GuestSpec.builder()
                .zonedNvme("zns0", 256L << 20, 64L << 20)
                .nvmeSubsystem("orionss", 64L << 20, 2)
                .build();
        GuestResult r = Guest.run(host, spec, """
                for c in /sys/class/nvme/nvme*; do
                  echo "ctrl $(basename $c) serial=$(cat $c/serial) nqn=$(cat $c/subsysnqn)"
                done
                for b in /sys/block/nvme*; do echo "block $(basename $b) zoned=$(cat $b/queue/zoned)"; done
                """, work());
        assertEquals(0, r.exitStatus(), r::describe);
        long subsysCtrls = r.output().lines().filter(l -> l.startsWith("ctrl ") && l.endsWith("orionss")).count();
        assertEquals(2, subsysCtrls, "two controllers in subsystem orionss\n" + r.describe());
        assertTrue(r.output().lines().anyMatch(l -> l.contains("serial=zns0")), r::describe);
        assertTrue(r.output().lines().anyMatch(l -> l.startsWith("block ") && l.endsWith("zoned=host-managed")), r::describe);
        // multipath: one head node for the shared namespace, one hidden path node per controller
        assertEquals(2, r.output().lines().filter(l -> l.matches("block nvme\\d+c\\d+n1 zoned=none")).count(),
                "two paths to the shared namespace\n" + r.describe());
        assertEquals(1, r.output().lines().filter(l -> l.matches("block nvme\\d+n1 zoned=none")).count(),
                "one multipath head\n" + r.describe());
    }

    @Test
    void aGuestThatOverrunsItsTimeoutIsKilledAndHasNoStatus() throws Exception {
        GuestHost host = GuestHost.requireOrSkip();
        GuestSpec spec = GuestSpec.builder().timeout(Duration.ofSeconds(3)).build();
        long t0 = System.nanoTime();
        GuestResult r = Guest.run(host, spec, "sleep 600\n", work());
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(r.timedOut(), r::describe);
        assertEquals(GuestResult.NO_STATUS, r.exitStatus());
        assertTrue(ms < 30_000, "killed within the grace period, took " + ms + " ms");
    }
}
