package org.orionos.host.bdev;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.bdev.backend.ErrorBdev;
import org.orionos.host.bdev.backend.MemoryBdev;
import org.orionos.host.config.ConfigLoader;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BdevLayerTest {
    private static final long REGION = 4L << 20;
    private static final int REACTORS = 2;

    @TempDir
    Path dir;

    private static String stack(String kind, Path dir) throws Exception {
        return switch (kind) {
            case "memory" -> "[[bdev]]\nname = \"d\"\ntype = \"memory\"\nsize = \"8M\"\n";
            case "memory512" -> "[[bdev]]\nname = \"d\"\ntype = \"memory\"\nsize = \"8M\"\nblock_size = 512\n";
            case "file" -> "[[bdev]]\nname = \"d\"\ntype = \"file\"\npath = \"" + dir.resolve("d.img") + "\"\nsize = \"8M\"\n";
            case "file-buffered" -> "[[bdev]]\nname = \"d\"\ntype = \"file\"\npath = \"" + dir.resolve("b.img")
                    + "\"\nsize = \"8M\"\ndirect = \"off\"\n";
            case "file-tmpfs" -> {
                Path shm = Files.createTempDirectory(Path.of("/dev/shm"), "orion-test");
                shm.toFile().deleteOnExit();
                yield "[[bdev]]\nname = \"d\"\ntype = \"file\"\npath = \"" + shm.resolve("t.img") + "\"\nsize = \"8M\"\n";
            }
            case "error" -> "[[bdev]]\nname = \"m\"\ntype = \"memory\"\nsize = \"8M\"\n"
                    + "[[bdev]]\nname = \"d\"\ntype = \"error\"\nbase = \"m\"\n";
            case "delay" -> "[[bdev]]\nname = \"m\"\ntype = \"memory\"\nsize = \"8M\"\n"
                    + "[[bdev]]\nname = \"d\"\ntype = \"delay\"\nbase = \"m\"\nread_latency_us = 50\nwrite_latency_us = 80\n";
            default -> throw new IllegalArgumentException(kind);
        };
    }

    /** Runs one model workload per reactor, each on its own region, all at once. */
    private static void runModel(BdevHost host, BlockDevice dev, long ops, int qd, boolean zeroAfterTrim)
            throws Exception {
        try (Arena arena = Arena.ofShared()) {
            List<ModelWorkload> loads = new ArrayList<>();
            for (int i = 0; i < host.reactorCount(); i++) {
                ModelWorkload w = new ModelWorkload(host.context(i), dev, i * REGION, REGION, ops, qd, 42 + i,
                        zeroAfterTrim, arena);
                loads.add(w);
            }
            loads.forEach(ModelWorkload::start);
            for (ModelWorkload w : loads) {
                assertNull(w.done.get(120, TimeUnit.SECONDS));
                assertTrue(w.reads > ops / 5 && w.writes > ops / 5 && w.vectored > 0,
                        "workload mix: reads " + w.reads + " writes " + w.writes + " vectored " + w.vectored);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "memory512", "file", "file-buffered", "file-tmpfs", "error", "delay"})
    void randomConcurrentIoMatchesTheModel(String kind) throws Exception {
        try (BdevHost host = BdevHost.start(REACTORS, 8 << 20)) {
            host.build(ConfigLoader.parse(stack(kind, dir), kind));
            BlockDevice dev = host.registry().get("d");
            runModel(host, dev, 3000, 16, kind.startsWith("memory"));
        }
    }

    @Test
    void coreSplitsAtMaxTransferAndBoundaryBeforeTheBackendSeesIt() throws Exception {
        try (BdevHost host = BdevHost.start(REACTORS, 8 << 20)) {
            MemoryBdev mem = new MemoryBdev("m", 8 << 20, 512);
            LimitedBdev lim = new LimitedBdev("lim", mem, 64 * 1024, 16 * 1024);
            host.registry().add(mem);
            host.registry().add(lim);
            runModel(host, lim, 3000, 8, true);
            assertTrue(lim.largest.get() <= 16 * 1024, "largest request " + lim.largest.get());
            assertEquals(0, lim.crossings.get(), "requests crossing the 64K boundary");
            // Workload I/Os reach 256K, so splitting must have produced more backend requests than I/Os.
            assertTrue(lim.served.get() > 2 * 3000, "served " + lim.served.get());

            // One big read spanning many pieces, compared with what was written through the split path.
            try (Arena a = Arena.ofShared()) {
                MemorySegment w = a.allocate(1 << 20, 4096);
                for (int i = 0; i < w.byteSize(); i++) {
                    w.set(JAVA_BYTE, i, (byte) (i ^ (i >>> 9)));
                }
                BdevClient c = host.client();
                c.write(lim, 512 * 7, w, 0).get(10, TimeUnit.SECONDS);
                MemorySegment back = a.allocate(1 << 20, 4096);
                c.read(mem, 512 * 7, back).get(10, TimeUnit.SECONDS);
                assertEquals(-1L, w.mismatch(back));
            }
        }
    }

    @Test
    void badRequestsGetTheRightErrno() throws Exception {
        try (BdevHost host = BdevHost.start(1, 4 << 20); Arena a = Arena.ofShared()) {
            host.build(ConfigLoader.parse(stack("memory", dir) + "[[bdev]]\nname = \"n\"\ntype = \"null\"\nsize = \"1M\"\n", "t"));
            BlockDevice d = host.registry().get("d");
            BdevClient c = host.client();
            MemorySegment buf = a.allocate(8192, 4096);
            assertErrno(Errno.EINVAL, c.read(d, 100, buf.asSlice(0, 4096)), "misaligned offset");
            assertErrno(Errno.EINVAL, c.read(d, 0, buf.asSlice(0, 1000)), "misaligned length");
            assertErrno(Errno.EINVAL, c.read(d, d.sizeBytes(), buf.asSlice(0, 4096)), "read past the end");
            assertErrno(Errno.ENOSPC, c.write(d, d.sizeBytes() - 4096, buf, 0), "write past the end");
            assertErrno(Errno.EFAULT, c.write(d, 0, MemorySegment.ofArray(new byte[4096]), 0), "heap buffer");
            assertErrno(Errno.EOPNOTSUPP, c.blockStatus(host.registry().get("n"), 0, 4096), "null has no status");
        }
    }

    private static void assertErrno(int errno, CompletableFuture<?> f, String what) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS), what);
        ErrnoException ee = (ErrnoException) e.getCause();
        assertEquals(errno, ee.errno(), what + ": " + ee.getMessage());
    }

    @Test
    void claimsAllowOneWriterAndAnnounceRemoval() throws Exception {
        try (BdevHost host = BdevHost.start(1, 4 << 20)) {
            host.build(ConfigLoader.parse(stack("error", dir), "t"));
            BlockDevice m = host.registry().get("m");
            // The error bdev "d" already claims "m" for writing.
            ErrnoException busy = assertThrows(ErrnoException.class, () -> m.claim("raid md0", true, null));
            assertEquals(Errno.EBUSY, busy.errno());
            assertTrue(busy.getMessage().contains("error bdev d") && busy.getMessage().contains("raid md0"),
                    busy.getMessage());
            AtomicInteger told = new AtomicInteger();
            try (Claim reader = m.claim("scrubber", false, told::incrementAndGet)) {
                assertEquals(2, m.claims().size());
                ErrnoException inUse = assertThrows(ErrnoException.class, () -> host.registry().remove("m", false));
                assertEquals(Errno.EBUSY, inUse.errno());
                BlockDevice d = host.registry().get("d");
                host.registry().remove("m", true);
                assertEquals(1, told.get(), "the reader was told of the removal");
                assertTrue(d.isRemoved(), "the error layer above learned its base is gone");
                try (Arena a = Arena.ofShared()) {
                    assertErrno(Errno.ENODEV, host.client().read(d, 0, a.allocate(4096, 4096)), "I/O after removal");
                }
                assertFalse(reader.write());
            }
        }
    }

    @Test
    void hotRemovalDrainsInFlightIoThenReleasesRingSlotsAndClosesTheFile(@TempDir Path dir) throws Exception {
        Path img = dir.resolve("hot.img");
        try (BdevHost host = BdevHost.start(2, 16L << 20);
             Arena a = Arena.ofShared()) {
            host.build(ConfigLoader.parse("[[bdev]]\nname = \"f\"\ntype = \"file\"\npath = \"" + img
                    + "\"\nsize = \"16M\"\n", "t"));
            BlockDevice f = host.registry().get("f");
            MemorySegment buf = a.allocate(64 * 1024, 4096);
            host.client().read(f, 0, buf).get(10, TimeUnit.SECONDS);
            host.client().read(f, 0, buf).get(10, TimeUnit.SECONDS);
            assertEquals(2, ringFileTablesNaming(img), "each reactor's ring registered the file");
            List<CompletableFuture<Void>> inFlight = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                inFlight.add(host.client().write(f, i * 64L * 1024, buf, 0)); // both reactors, in turn
            }

            host.remove("f", false, 10_000);

            for (CompletableFuture<Void> w : inFlight) {
                try {
                    w.get(10, TimeUnit.SECONDS); // written, or refused with ENODEV: never left hanging
                } catch (ExecutionException e) {
                    assertEquals(Errno.ENODEV, ((ErrnoException) e.getCause()).errno());
                }
            }
            assertEquals(0, ringFileTablesNaming(img), "no ring still holds the removed device's file");
            assertThrows(ErrnoException.class, () -> host.registry().get("f"));
            assertErrno(Errno.ENODEV, host.client().read(f, 0, buf), "I/O after removal");
        }
    }

    /** Fixed-file table entries naming {@code file}, over every io_uring fd of this process. */
    private static long ringFileTablesNaming(Path file) throws Exception {
        long n = 0;
        try (var fds = Files.list(Path.of("/proc/self/fdinfo"))) {
            for (Path p : fds.toList()) {
                String info;
                try {
                    info = Files.readString(p);
                } catch (java.io.IOException gone) {
                    continue;
                }
                int at = info.indexOf("UserFiles:");
                if (at < 0) {
                    continue;
                }
                int end = info.indexOf("UserBufs:", at);
                String table = info.substring(at, end < 0 ? info.length() : end);
                n += table.lines().filter(l -> l.endsWith(file.toString())).count();
            }
        }
        return n;
    }

    @Test
    void errorInjectionFailsCorruptsDelaysAndCounts() throws Exception {
        try (BdevHost host = BdevHost.start(1, 4 << 20); Arena a = Arena.ofShared()) {
            host.build(ConfigLoader.parse(stack("error", dir), "t"));
            ErrorBdev e = (ErrorBdev) host.registry().get("d");
            BdevClient c = host.client();
            MemorySegment buf = a.allocate(65536, 4096);
            buf.fill((byte) 7);

            e.inject(ErrorBdev.Rule.fail(1 << BdevOp.WRITE, Errno.EIO, 2));
            assertErrno(Errno.EIO, c.write(e, 0, buf, 0), "first injected write failure");
            assertErrno(Errno.EIO, c.write(e, 0, buf, 0), "second injected write failure");
            c.write(e, 0, buf, 0).get(10, TimeUnit.SECONDS); // the count is used up
            e.clear();

            e.inject(ErrorBdev.Rule.fail(1 << BdevOp.READ, Errno.ENOSPC, -1));
            assertErrno(Errno.ENOSPC, c.read(e, 0, buf), "any errno surfaces as given");
            e.clear();

            e.inject(ErrorBdev.Rule.corruptReads(1));
            MemorySegment back = a.allocate(65536, 4096);
            c.read(e, 0, back).get(10, TimeUnit.SECONDS);
            long differing = 0;
            for (int i = 0; i < back.byteSize(); i++) {
                differing += back.get(JAVA_BYTE, i) != 7 ? 1 : 0;
            }
            assertEquals(1, differing, "exactly one corrupted byte");
            c.read(e, 0, back).get(10, TimeUnit.SECONDS);
            assertEquals(-1L, back.mismatch(buf), "corruption affects only the counted read; the data is intact");

            e.inject(ErrorBdev.Rule.delay(1 << BdevOp.FLUSH, 200_000, 1.0));
            long t0 = System.nanoTime();
            c.flush(e).get(10, TimeUnit.SECONDS);
            assertTrue(System.nanoTime() - t0 >= 190_000_000L, "the flush was held for the injected 200 ms");
            e.clear();

            c.trim(e, 0, 8192).get(10, TimeUnit.SECONDS);
            assertEquals(1, e.count(BdevOp.FLUSH));
            assertEquals(1, e.count(BdevOp.TRIM));
            assertEquals(3, e.count(BdevOp.WRITE));
            assertEquals(3, e.count(BdevOp.READ));
            assertEquals(5, e.injected());
        }
    }

    @Test
    void steadyStateIoCreatesNoNewRequests() throws Exception {
        try (BdevHost host = BdevHost.start(1, 8 << 20)) {
            host.build(ConfigLoader.parse(stack("memory", dir) + "[[bdev]]\nname = \"d2\"\ntype = \"memory\"\nsize = \"8M\"\n", "t"));
            runModel(host, host.registry().get("d"), 2000, 16, true);
            int afterWarmup = host.reactors().get(0).call(() -> host.context(0).requestsCreated()).get();
            runModel(host, host.registry().get("d2"), 8000, 16, true); // a fresh device: the model starts at zeros
            int after = host.reactors().get(0).call(() -> host.context(0).requestsCreated()).get();
            assertEquals(afterWarmup, after, "requests are recycled, not created per I/O");
            assertTrue(afterWarmup <= 64, "pool high-water mark " + afterWarmup);
        }
    }

    @Test
    void shutdownDrainsThousandsOfInFlightIos() throws Exception {
        long fdsBefore = openFds();
        int threadsBefore = Thread.activeCount();
        int total = 4000;
        AtomicInteger completed = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        BdevHost host = BdevHost.start(REACTORS, 4 << 20);
        host.build(ConfigLoader.parse(stack("delay", dir).replace("read_latency_us = 50", "read_latency_us = 300000"), "t"));
        BlockDevice d = host.registry().get("d");
        Arena arena = Arena.ofShared();
        MemorySegment buf = arena.allocate(4096, 4096);
        for (int i = 0; i < REACTORS; i++) {
            IoContext ctx = host.context(i);
            ctx.reactor().call(() -> {
                for (int k = 0; k < total / REACTORS; k++) {
                    BdevRequest r = ctx.request().prepareRead((k % 1024) * 4096L, 4096, buf, 0);
                    r.callback((req, st) -> {
                        (st == 0 ? completed : failed).incrementAndGet();
                        req.release();
                    }, 0);
                    d.submit(r);
                }
                return null;
            }).get(10, TimeUnit.SECONDS);
        }
        assertTrue(completed.get() < total, "the I/Os are still in flight when shutdown starts");
        host.close();
        assertEquals(total, completed.get() + failed.get(), "every in-flight I/O completed exactly once");
        assertEquals(0, failed.get());
        arena.close();
        assertEquals(fdsBefore, openFds(), "no file descriptor leaked");
        for (int i = 0; i < 50 && Thread.activeCount() > threadsBefore; i++) {
            Thread.sleep(20);
        }
        assertTrue(Thread.activeCount() <= threadsBefore, "reactor threads ended");
    }

    private static long openFds() throws Exception {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }
}
