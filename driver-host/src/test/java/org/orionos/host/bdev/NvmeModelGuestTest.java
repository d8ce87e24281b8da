package org.orionos.host.bdev;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.orionos.host.config.ConfigLoader;
import org.orionos.host.guest.GuestTest;
import org.orionos.host.nvme.NvmeGuestSpec;
import org.orionos.host.nvme.NvmeNamespaceBdev;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The byte-exact model workload (concurrent random reads, writes, vectored I/O, flush, write
 * zeroes, deallocate) against an NVMe namespace served through io_uring passthrough, on two
 * reactors with SQE128/CQE32 rings. Runs in the guest next to NvmeGuestTest (same spec).
 */
@GuestTest(spec = NvmeGuestSpec.class)
class NvmeModelGuestTest {
    private static final long REGION = 8L << 20;

    @Test
    void randomConcurrentIoOnANamespaceMatchesTheModel() throws Exception {
        Path ng = genericNodeOf(NvmeGuestSpec.SERIAL);
        try (BdevHost host = BdevHost.start(2, 16 << 20, true); Arena arena = Arena.ofShared()) {
            host.build(ConfigLoader.parse("[[nvme]]\nname = \"n0\"\npath = \"" + ng + "\"\n", "test"));
            BlockDevice dev = host.registry().get("n0");
            assertTrue(dev instanceof NvmeNamespaceBdev);
            List<ModelWorkload> loads = new ArrayList<>();
            for (int i = 0; i < host.reactorCount(); i++) {
                // QEMU's namespace reads deallocated blocks as zeros, but the model does not rely on it.
                loads.add(new ModelWorkload(host.context(i), dev, (64L << 20) + i * REGION, REGION, 2000, 16, 7 + i,
                        false, arena));
            }
            loads.forEach(ModelWorkload::start);
            for (ModelWorkload w : loads) {
                assertNull(w.done.get(300, TimeUnit.SECONDS));
                assertTrue(w.reads > 300 && w.writes > 300 && w.vectored > 0,
                        "mix: reads " + w.reads + " writes " + w.writes + " vectored " + w.vectored);
                System.out.println("model workload: reads " + w.reads + " writes " + w.writes + " vectored " + w.vectored
                        + " other " + w.others);
            }
        }
    }

    private static Path genericNodeOf(String serial) throws Exception {
        try (Stream<Path> s = Files.list(Path.of("/sys/class/nvme"))) {
            for (Path c : s.sorted().toList()) {
                if (!Files.readString(c.resolve("serial")).strip().equals(serial)) {
                    continue;
                }
                try (Stream<Path> e = Files.list(c)) {
                    for (Path n : e.sorted().toList()) {
                        String name = n.getFileName().toString();
                        if (name.matches("nvme[0-9]+(c[0-9]+)?n1")) {
                            Path ng = Path.of("/dev", "ng" + name.substring(4).replaceAll("c[0-9]+", ""));
                            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                            while (!Files.exists(ng) && System.nanoTime() < deadline) {
                                Thread.sleep(20);
                            }
                            return ng;
                        }
                    }
                }
            }
        }
        return fail("no controller with serial " + serial);
    }
}
