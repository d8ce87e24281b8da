package org.orionos.host.bdev;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.orionos.host.config.ConfigLoader;
import org.orionos.host.guest.GuestSpec;
import org.orionos.host.guest.GuestTest;
import org.orionos.host.nvme.NvmeMultipathBdev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * One shared namespace behind two controllers of one NVMe subsystem, the kernel's multipath off so
 * each controller has its own /dev/ngXn1: orion's multipath device spreads I/O over both, survives
 * the PCI removal of one controller in the middle of a byte-exact model workload without a failed
 * I/O (failback after a rescan is still open).
 */
@GuestTest(spec = NvmeMultipathGuestTest.Spec.class)
class NvmeMultipathGuestTest {
    static final String NQN = "osub";

    /** Subsystem {@value #NQN} with two controllers; nvme_core.multipath=N gives one ng node per path. */
    public static final class Spec implements Supplier<GuestSpec> {
        @Override
        public GuestSpec get() {
            return GuestSpec.builder().nvmeSubsystem(NQN, 256L << 20, 2).append("nvme_core.multipath=N").build();
        }
    }

    private static final long REGION = 16L << 20;

    @Test
    void failoverWithoutAFailedIoAndFailback() throws Exception {
        List<Path> ctrls = controllers();
        assertEquals(2, ctrls.size(), "controllers of " + NQN + ": " + ctrls);
        List<Path> ng = new ArrayList<>();
        for (Path c : ctrls) {
            ng.add(Path.of("/dev", "ng" + c.getFileName().toString().substring(4) + "n1"));
        }
        for (Path p : ng) {
            await(() -> Files.exists(p), p + " to appear");
        }
        String bdf = ctrls.get(1).resolve("device").toRealPath().getFileName().toString();
        String toml = "[[nvme]]\nname = \"mp\"\npaths = [\"" + ng.get(0) + "\", \"" + ng.get(1) + "\"]\n"
                + "policy = \"round-robin\"\n"
                + "[[nvme]]\nname = \"prio\"\npaths = [\"" + ng.get(0) + "\", \"" + ng.get(1) + "\"]\npolicy = \"priority\"\n";
        try (BdevHost host = BdevHost.start(1, 16 << 20, true); Arena arena = Arena.ofShared()) {
            host.build(ConfigLoader.parse(toml, "test"));
            NvmeMultipathBdev mp = (NvmeMultipathBdev) host.registry().get("mp");
            NvmeMultipathBdev prio = (NvmeMultipathBdev) host.registry().get("prio");

            // Priority sends everything down the first path.
            ModelWorkload p = new ModelWorkload(host.context(0), prio, 0, REGION, 300, 8, 1, false, arena);
            p.start();
            assertNull(p.done.get(120, TimeUnit.SECONDS));
            assertTrue(prio.served(0) > 0 && prio.served(1) == 0, "priority: " + prio.served(0) + "/" + prio.served(1));

            // Round robin under load; path 1's controller is removed while I/O runs.
            ModelWorkload w = new ModelWorkload(host.context(0), mp, REGION, REGION, 6000, 16, 2, false, arena);
            w.start();
            await(() -> mp.served(1) > 200 || w.done.isDone(), "I/O on both paths");
            assertTrue(mp.served(0) > 0 && mp.served(1) > 0, "round robin: " + mp.served(0) + "/" + mp.served(1));
            Files.writeString(Path.of("/sys/bus/pci/devices", bdf, "remove"), "1");
            System.out.println("removed controller " + ctrls.get(1).getFileName() + " at " + bdf + " during I/O");
            assertNull(w.done.get(300, TimeUnit.SECONDS), "the model workload saw a failed I/O or wrong data");
            assertTrue(!mp.isUp(1) && mp.failovers(1) >= 1, "path 1 failed over: up=" + mp.isUp(1) + " failovers="
                    + mp.failovers(1));
            // Failback after `echo 1 > /sys/bus/pci/rescan` is not proven yet: the controller returns
            // under a new /dev/ngXnY name, which the prober does not follow (open in issue 7's note).
            System.out.println("served: path0 " + mp.served(0) + " path1 " + mp.served(1) + ", failovers " + mp.failovers(1));
        }
    }

    private static List<Path> controllers() throws Exception {
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(Path.of("/sys/class/nvme"))) {
            for (Path c : s.sorted().toList()) {
                if (Files.readString(c.resolve("serial")).strip().equals(NQN)) {
                    out.add(c);
                }
            }
        }
        return out;
    }

    private static void await(BooleanSupplier cond, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }
}
