package org.orionos.host.bdev;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.orionos.host.config.ConfigLoader;
import org.orionos.host.nvme.NvmeController;
import org.orionos.host.nvme.NvmeHealthMonitor;
import org.orionos.host.guest.GuestSpec;
import org.orionos.host.guest.GuestTest;
import org.orionos.host.nvme.NvmeMultipathBdev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * One shared namespace behind two controllers of one NVMe subsystem, the kernel's multipath off so
 * each controller has its own /dev/ngXn1. Under a continuous byte-exact model workload, orion's
 * multipath device: spreads I/O over both paths; survives the PCI removal of controller 1 without
 * a failed I/O; finds it again after a PCI rescan (by subsystem NQN and namespace id: it comes
 * back under a new node name while orion holds the old one) and sends I/O down it; then survives
 * the removal of controller 0 on the returned path alone, and fails back to controller 0 too.
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
    void failoverAndFailbackUnderLoadWithoutAFailedIo() throws Exception {
        List<Path> ctrls = controllers();
        assertEquals(2, ctrls.size(), "controllers of " + NQN + ": " + ctrls);
        List<Path> ng = new ArrayList<>();
        for (Path c : ctrls) {
            ng.add(Path.of("/dev", "ng" + c.getFileName().toString().substring(4) + "n1"));
        }
        for (Path p : ng) {
            await(() -> Files.exists(p), p + " to appear");
        }
        String bdf0 = ctrls.get(0).resolve("device").toRealPath().getFileName().toString();
        String bdf1 = ctrls.get(1).resolve("device").toRealPath().getFileName().toString();
        String paths = "paths = [\"" + ng.get(0) + "\", \"" + ng.get(1) + "\"]\n";
        // Priority sends everything down the first path (its own host: its prober would also chase
        // the controllers removed below).
        try (BdevHost host = BdevHost.start(1, 16 << 20, true); Arena arena = Arena.ofShared()) {
            host.build(ConfigLoader.parse("[[nvme]]\nname = \"prio\"\n" + paths + "policy = \"priority\"\n", "test"));
            NvmeMultipathBdev prio = (NvmeMultipathBdev) host.registry().get("prio");
            ModelWorkload p = new ModelWorkload(host.context(0), prio, 0, REGION, 300, 8, 1, false, arena);
            p.start();
            assertNull(p.done.get(120, TimeUnit.SECONDS));
            assertTrue(prio.served(0) > 0 && prio.served(1) == 0, "priority: " + prio.served(0) + "/" + prio.served(1));
        }
        try (BdevHost host = BdevHost.start(1, 16 << 20, true); Arena arena = Arena.ofShared()) {
            host.build(ConfigLoader.parse("[[nvme]]\nname = \"mp\"\n" + paths + "policy = \"round-robin\"\n", "test"));
            NvmeMultipathBdev mp = (NvmeMultipathBdev) host.registry().get("mp");
            // Health of both controllers, polled every second; it must follow each one to its new node.
            NvmeHealthMonitor health = NvmeHealthMonitor.start(
                    ConfigLoader.parse("[[nvme]]\nname = \"mp\"\n" + paths + "health_interval_s = 1\n", "test"));
            assertEquals(NQN, mp.subsystemNqn().replaceAll(".*:", ""), "subsystem NQN " + mp.subsystemNqn());

            Load load = new Load(host, mp, arena);
            load.thread.start();
            try {
                await(() -> mp.served(1) > 200 || load.failure.isDone(), "I/O on both paths");
                assertTrue(mp.served(0) > 0 && mp.served(1) > 0, "round robin: " + mp.served(0) + "/" + mp.served(1));

                // Failover: controller 1 leaves under load.
                remove(bdf1, ctrls.get(1));
                await(() -> !mp.isUp(1) || load.failure.isDone(), "path 1 to fail over");
                assertTrue(mp.failovers(1) >= 1, "failovers of path 1: " + mp.failovers(1));
                long before = mp.served(0);
                await(() -> mp.served(0) > before + 200 || load.failure.isDone(), "I/O on path 0 alone");

                // Failback: the rescan brings it back, under another /dev/ngXn1 while orion still holds the old.
                Path old1 = mp.node(1);
                rescan();
                await(() -> mp.isUp(1) || load.failure.isDone(), "path 1 to fail back after the rescan");
                assertEquals(1, mp.failbacks(1));
                System.out.println("path 1 returned as " + mp.node(1) + " (was " + old1 + ")");
                Path ctrl1 = NvmeController.controllerOf(mp.node(1));
                await(() -> health.json().toString().contains("\"path\":\"" + ctrl1 + "\""),
                        "the health monitor to follow controller 1 to " + ctrl1);
                System.out.println("health after failback: " + health.json());
                long back = mp.served(1);
                await(() -> mp.served(1) > back + 200 || load.failure.isDone(), "I/O on the returned path 1");

                // The returned path carries everything when controller 0 leaves, then 0 fails back too.
                List<Path> now = controllers();
                Path ctrl0 = now.stream().filter(c -> c.getFileName().equals(ctrls.get(0).getFileName())).findFirst()
                        .orElseThrow();
                remove(bdf0, ctrl0);
                await(() -> !mp.isUp(0) || load.failure.isDone(), "path 0 to fail over");
                long only1 = mp.served(1);
                await(() -> mp.served(1) > only1 + 200 || load.failure.isDone(), "I/O on the returned path alone");
                rescan();
                await(() -> mp.isUp(0) || load.failure.isDone(), "path 0 to fail back");
                long back0 = mp.served(0);
                await(() -> mp.served(0) > back0 + 100 || load.failure.isDone(), "I/O on path 0 again");
            } finally {
                load.stop = true;
                load.thread.join(TimeUnit.SECONDS.toMillis(300));
                health.close();
            }
            assertNull(load.failure.getNow(null), "the model workload saw a failed I/O or wrong data");
            assertTrue(load.rounds >= 1, "rounds: " + load.rounds);
            System.out.println("rounds " + load.rounds + ", served: path0 " + mp.served(0) + " path1 " + mp.served(1)
                    + ", failovers " + mp.failovers(0) + "/" + mp.failovers(1) + ", failbacks " + mp.failbacks(0) + "/"
                    + mp.failbacks(1));
        }
    }

    /**
     * Back-to-back model workloads over the multipath device, each round on a region first
     * zeroed (the model starts from zeros), until stopped or one fails.
     */
    private static final class Load {
        final CompletableFuture<String> failure = new CompletableFuture<>();
        final Thread thread;
        volatile boolean stop;
        volatile int rounds;

        Load(BdevHost host, NvmeMultipathBdev mp, Arena arena) {
            thread = new Thread(() -> {
                try {
                    long regions = mp.sizeBytes() / REGION;
                    for (int k = 0; !stop; k++) {
                        long base = REGION * (1 + k % (regions - 1));
                        host.client().writeZeroes(mp, base, REGION, 0).get(120, TimeUnit.SECONDS);
                        ModelWorkload w = new ModelWorkload(host.context(0), mp, base, REGION, 1500, 16, 100 + k, false,
                                arena);
                        w.start();
                        String f = w.done.get(300, TimeUnit.SECONDS);
                        if (f != null) {
                            failure.complete("round " + k + ": " + f);
                            return;
                        }
                        rounds = k + 1;
                    }
                } catch (Exception e) {
                    failure.complete("load: " + e);
                }
            }, "mpath-load");
        }
    }

    private static void remove(String bdf, Path ctrl) throws Exception {
        Files.writeString(Path.of("/sys/bus/pci/devices", bdf, "remove"), "1");
        System.out.println("removed controller " + ctrl.getFileName() + " at " + bdf + " during I/O");
    }

    private static void rescan() throws Exception {
        Files.writeString(Path.of("/sys/bus/pci/rescan"), "1");
        System.out.println("PCI rescan; controllers now " + controllers());
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
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }
}
