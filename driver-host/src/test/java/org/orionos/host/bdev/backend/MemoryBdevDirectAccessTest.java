package org.orionos.host.bdev.backend;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BdevOp;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.IoContext;
import org.orionos.host.config.ConfigLoader;

/**
 * Zero-copy access to a memory device: the core's checks apply, direct writes count as allocated,
 * and an access counts as I/O in flight, so a hot removal waits for it before closing the device.
 */
class MemoryBdevDirectAccessTest {
    private static final String CONFIG = """
            [[bdev]]
            name = "m"
            type = "memory"
            size = "1M"
            [[bdev]]
            name = "e"
            type = "error"
            base = "m"
            """;

    /** Runs {@code fn} on reactor 0 (direct access belongs to a reactor, like a request). */
    private static <T> T on(BdevHost host, Supplier<T> fn) throws Exception {
        return host.reactors().get(0).call(fn).get(10, TimeUnit.SECONDS);
    }

    /** Starts and at once ends an access; answers whether one was given. */
    private static boolean offered(BdevHost host, BlockDevice d, int op, long off, long len) throws Exception {
        IoContext ctx = host.context(0);
        return on(host, () -> {
            MemorySegment m = d.directAccess(ctx, op, off, len);
            if (m != null) {
                d.directDone(ctx);
            }
            return m != null;
        });
    }

    @Test
    void directAccessIsCheckedLikeASubmission() throws Exception {
        try (BdevHost host = BdevHost.start(1, 1 << 20)) {
            host.build(ConfigLoader.parse(CONFIG, "t"));
            MemoryBdev d = (MemoryBdev) host.registry().get("m");
            assertTrue(offered(host, d, BdevOp.READ, 0, 4096));
            assertTrue(offered(host, d, BdevOp.READ, (1 << 20) - 4096, 4096));
            assertFalse(offered(host, d, BdevOp.READ, 1 << 20, 4096), "past the end");
            assertFalse(offered(host, d, BdevOp.READ, (1 << 20) - 4096, 8192), "crosses the end");
            assertFalse(offered(host, d, BdevOp.READ, 512, 4096), "misaligned offset");
            assertFalse(offered(host, d, BdevOp.WRITE, 0, 100), "misaligned length");
            assertFalse(offered(host, d, BdevOp.READ, 0, 0), "empty");
            assertFalse(offered(host, d, BdevOp.FLUSH, 0, 4096), "only reads and writes");
            assertEquals(0, d.allocatedBytes(), "reads allocate nothing");
            assertFalse(offered(host, host.registry().get("e"), BdevOp.READ, 0, 4096),
                    "a layer must see every request, so it offers no bypass to the memory underneath");
            assertEquals(0, (int) on(host, () -> host.context(0).inFlight(d)), "every access was ended");
        }
    }

    @Test
    void directWriteIsAllocatedAndVisible() throws Exception {
        try (BdevHost host = BdevHost.start(1, 1 << 20)) {
            host.build(ConfigLoader.parse(CONFIG, "t"));
            MemoryBdev d = (MemoryBdev) host.registry().get("m");
            IoContext ctx = host.context(0);
            long off = 3 * MemoryBdev.CHUNK;
            byte seen = on(host, () -> {
                MemorySegment w = d.directAccess(ctx, BdevOp.WRITE, off, 4096);
                assertNotNull(w);
                assertEquals(MemoryBdev.CHUNK, d.allocatedBytes(), "recorded before the data lands");
                w.set(JAVA_BYTE, off + 7, (byte) 0x5a);
                d.directDone(ctx);
                MemorySegment r = d.directAccess(ctx, BdevOp.READ, off, 4096);
                byte b = r.get(JAVA_BYTE, off + 7);
                d.directDone(ctx);
                return b;
            });
            assertEquals((byte) 0x5a, seen);
            MemorySegment back = java.lang.foreign.Arena.ofAuto().allocate(4096, 4096);
            host.client().read(d, off, back).get(10, TimeUnit.SECONDS);
            assertEquals((byte) 0x5a, back.get(JAVA_BYTE, 7), "a request sees what a direct write left");
        }
    }

    @Test
    void hotRemovalWaitsForDirectAccessThenOffersNoMore() throws Exception {
        try (BdevHost host = BdevHost.start(1, 1 << 20)) {
            host.build(ConfigLoader.parse("[[bdev]]\nname = \"m\"\ntype = \"memory\"\nsize = \"1M\"\n", "t"));
            BlockDevice d = host.registry().get("m");
            IoContext ctx = host.context(0);
            assertNotNull(on(host, () -> d.directAccess(ctx, BdevOp.READ, 0, 4096)));
            CompletableFuture<BlockDevice> removal = CompletableFuture.supplyAsync(() -> host.remove("m", false, 10_000));
            Thread.sleep(300);
            assertFalse(removal.isDone(), "the device must stay open while a direct access is in flight");
            assertNull(on(host, () -> d.directAccess(ctx, BdevOp.READ, 0, 4096)), "a removed device offers none");
            on(host, () -> {
                d.directDone(ctx);
                return null;
            });
            assertTrue(removal.get(10, TimeUnit.SECONDS).isRemoved());
        }
    }
}
