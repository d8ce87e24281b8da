package org.orionos.uring;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReactorTest {

    @Test
    void tasksRunOnTheReactorThreadAndCurrentFindsIt() throws Exception {
        try (Reactor r = Reactor.start("t-reactor", RingConfig.defaults())) {
            assertNull(Reactor.current());
            assertFalse(r.isInReactor());
            Reactor seen = r.call(Reactor::current).get(5, TimeUnit.SECONDS);
            assertSame(r, seen);
            assertTrue(r.call(r::isInReactor).get(5, TimeUnit.SECONDS));
            // An I/O submitted from a task completes on the same reactor.
            Thread io = r.call(() -> {
                Thread[] t = new Thread[1];
                CountDownLatch done = new CountDownLatch(1);
                r.ring().acquire((res, flags, cookie) -> {
                    t[0] = Thread.currentThread();
                    done.countDown();
                }, 0).nop();
                return done;
            }).thenApply(d -> {
                try {
                    assertTrue(d.await(5, TimeUnit.SECONDS));
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                return r.call(() -> Thread.currentThread()).join();
            }).get(10, TimeUnit.SECONDS);
            assertEquals(r.name(), io.getName());
        }
    }

    @Test
    void manyThreadsPostToManyReactorsAndEveryTaskRunsOnce() throws Exception {
        int threads = 4;
        int perThread = 50_000;
        try (ReactorGroup g = ReactorGroup.start("t-group", 3, RingConfig.defaults(), false)) {
            AtomicLong[] ran = new AtomicLong[g.size()];
            long[] onThread = new long[g.size()];
            for (int i = 0; i < ran.length; i++) {
                ran[i] = new AtomicLong();
            }
            List<Thread> posters = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Thread p = new Thread(() -> {
                    for (int i = 0; i < perThread; i++) {
                        Reactor r = g.get(i % g.size());
                        int id = r.id();
                        r.execute(() -> {
                            // Plain increment: only this reactor's thread touches its own cell.
                            if (Reactor.current() == r) {
                                onThread[id]++;
                            }
                            ran[id].incrementAndGet();
                        });
                        if ((i & 1023) == 0) {
                            Thread.onSpinWait(); // let the reactors fall asleep now and then
                        }
                    }
                });
                posters.add(p);
                p.start();
            }
            for (Thread p : posters) {
                p.join();
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            long total;
            do {
                total = 0;
                for (AtomicLong a : ran) {
                    total += a.get();
                }
                Thread.sleep(5);
            } while (total < (long) threads * perThread && System.nanoTime() < deadline);
            assertEquals((long) threads * perThread, total);
            for (int i = 0; i < g.size(); i++) {
                final int id = i;
                long local = g.get(i).call(() -> onThread[id]).get(5, TimeUnit.SECONDS);
                assertEquals(ran[i].get(), local, "every task of reactor " + i + " ran on its thread");
            }
        }
    }

    @Test
    void sleepingReactorWakesForAPostedTask() throws Exception {
        try (Reactor r = Reactor.start("t-sleep", RingConfig.defaults())) {
            for (int i = 0; i < 20; i++) {
                Thread.sleep(10); // reactor is blocked in io_uring_enter now
                CountDownLatch l = new CountDownLatch(1);
                r.execute(l::countDown);
                assertTrue(l.await(2, TimeUnit.SECONDS), "wake-up " + i);
            }
        }
    }
}
