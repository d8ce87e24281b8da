package org.orionos.uring;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.orionos.bindings.Libc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Rings and reactors give back every fd, mapping and thread they took. */
class LeakTest {

    @Test
    void thousandsOfRingCyclesLeakNoFdOrMapping() throws Exception {
        Ring probe = Ring.open(RingConfig.defaults());
        assertTrue(TestSupport.mappings() >= 2, "ring mappings are visible in /proc/self/maps");
        probe.close();
        // Warm up class loading and the first arena before taking the baseline.
        try (Ring r = Ring.open(RingConfig.defaults())) {
            r.acquire(Completion.IGNORE, 0).nop();
        }
        int fds = TestSupport.openFds();
        int maps = TestSupport.mappings();
        assertEquals(0, maps, "no ring open before the cycles");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(4096, 4096);
            int devnull = Libc.open("/dev/zero", 0, 0);
            try {
                for (int i = 0; i < 3000; i++) {
                    // Alternate shapes: registered ring fd or not, big entries, registered resources.
                    RingConfig cfg = RingConfig.defaults().withEntries(8 << (i % 4), 0)
                            .withRegisteredRingFd(i % 2 == 0).withBigEntries(i % 3 == 0, i % 3 == 0);
                    try (Ring r = Ring.open(cfg)) {
                        if (i % 5 == 0) {
                            r.registerBuffers(buf);
                            r.registerFiles(devnull);
                            r.acquire(Completion.IGNORE, 0).readFixed(0, buf.address(), 4096, 0, 0).fixedFile();
                            TestSupport.runUntil(r, () -> r.inFlight() == 0);
                        }
                    }
                }
            } finally {
                Libc.close(devnull);
            }
        }
        assertEquals(fds, TestSupport.openFds(), "open fds after 3000 rings");
        assertEquals(maps, TestSupport.mappings(), "mappings after 3000 rings");
    }

    @Test
    void reactorsCloseWithOperationsInFlightAndLeaveNothing() throws Exception {
        try (Reactor warm = Reactor.start("t-warm", RingConfig.defaults())) {
            warm.call(() -> 1).get(5, TimeUnit.SECONDS);
        }
        Thread.sleep(50);
        int fds = TestSupport.openFds();
        java.util.List<String> threads = TestSupport.threads();
        int maps = TestSupport.mappings();
        for (int i = 0; i < 30; i++) {
            int[] sp = TestSupport.socketPair();
            CountDownLatch cancelled = new CountDownLatch(4);
            try (ReactorGroup g = ReactorGroup.start("t-leak", 2, RingConfig.defaults(), i % 2 == 0)) {
                for (Reactor r : g.all()) {
                    r.call(() -> {
                        // Two receives that would wait forever: close must cancel them.
                        Arena mem = Arena.ofAuto();
                        MemorySegment b = mem.allocate(64);
                        for (int k = 0; k < 2; k++) {
                            r.ring().acquire((res, flags, c) -> {
                                if (res == -125) { // ECANCELED
                                    cancelled.countDown();
                                }
                                b.address(); // keep the buffer reachable until the completion
                            }, k).recv(sp[k], b.address(), 64, 0);
                        }
                        return null;
                    }).get(5, TimeUnit.SECONDS);
                }
            }
            assertTrue(cancelled.await(0, TimeUnit.SECONDS), "every pending recv completed as cancelled");
            Libc.close(sp[0]);
            Libc.close(sp[1]);
        }
        assertEquals(fds, TestSupport.openFds(), "open fds after 30 reactor groups");
        // Thread.join returns once the Java thread is done; its kernel task (and io_uring's
        // per-task teardown) finishes a moment later, so give the last one a bounded grace period.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!threads.equals(TestSupport.threads()) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(threads, TestSupport.threads(), "threads after 30 reactor groups");
        assertEquals(maps, TestSupport.mappings(), "mappings after 30 reactor groups");
    }
}
