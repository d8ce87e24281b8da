package org.orionos.uring;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.orionos.bindings.Libc;

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
            Thread[] completedOn = new Thread[1];
            CountDownLatch done = new CountDownLatch(1);
            r.call(() -> {
                r.ring().acquire((res, flags, cookie) -> {
                    completedOn[0] = Thread.currentThread();
                    done.countDown();
                }, 0).nop();
                return null;
            }).get(5, TimeUnit.SECONDS);
            assertTrue(done.await(5, TimeUnit.SECONDS));
            Thread io = completedOn[0];
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

    @Test
    void busyLoopHookKeepsTheReactorSpinningAndIdleOneLetsItSleep() throws Exception {
        try (Reactor r = Reactor.start("t-hook", RingConfig.defaults())) {
            long[] calls = new long[1];
            CountDownLatch reached = new CountDownLatch(1);
            Reactor.LoopHook p = () -> {
                calls[0]++;
                if (calls[0] == 10_000) {
                    reached.countDown();
                }
                return calls[0] < 10_000;
            };
            r.execute(() -> r.addLoopHook(p));
            // No task and no I/O: only a busy hook keeps the loop turning 10000 times.
            assertTrue(reached.await(10, TimeUnit.SECONDS));
            long loopsThen = r.call(r::loops).get(5, TimeUnit.SECONDS);
            Thread.sleep(100);
            long loopsLater = r.call(r::loops).get(5, TimeUnit.SECONDS);
            // Idle now: it slept instead of spinning (only our two calls woke it).
            assertTrue(loopsLater - loopsThen < 20, "loops while idle: " + (loopsLater - loopsThen));
            r.call(() -> {
                r.removeLoopHook(p);
                return null;
            }).get(5, TimeUnit.SECONDS);
            long before = r.call(() -> calls[0]).get(5, TimeUnit.SECONDS);
            r.call(() -> 0).get(5, TimeUnit.SECONDS);
            assertEquals(before, (long) r.call(() -> calls[0]).get(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void pinnedReactorsRunOnTheirCpu() throws Exception {
        int cores = Runtime.getRuntime().availableProcessors();
        try (ReactorGroup g = ReactorGroup.start("t-pin", cores, RingConfig.defaults(), true)) {
            for (int i = 0; i < g.size(); i++) {
                int tid = g.get(i).call(org.orionos.bindings.Libc::gettid).get(5, TimeUnit.SECONDS);
                String allowed = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/task/" + tid + "/status"))
                        .stream().filter(l -> l.startsWith("Cpus_allowed_list:")).findFirst().orElseThrow();
                assertEquals("Cpus_allowed_list:\t" + i, allowed);
            }
        }
    }

    @Test
    void closeStopsAResubmittingStreamPromptly() throws Exception {
        Reactor r = Reactor.start("t-close", RingConfig.defaults());
        long[] completions = new long[1];
        Completion[] self = new Completion[1];
        // Resubmits itself on every completion until the reactor is closing (how a poller-less
        // I/O stream like the benchmark's behaves).
        self[0] = (res, flags, cookie) -> {
            completions[0]++;
            if (!r.isClosing()) {
                r.ring().acquire(self[0], 0).nop();
            }
        };
        r.call(() -> {
            for (int i = 0; i < 16; i++) {
                r.ring().acquire(self[0], 0).nop();
            }
            return null;
        }).get(5, TimeUnit.SECONDS);
        Thread.sleep(100);
        long t0 = System.nanoTime();
        r.close();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(r.terminated().isDone());
        assertTrue(ms < 2000, "close took " + ms + " ms");
        assertTrue(completions[0] > 16, "the stream ran: " + completions[0]);
        assertTrue(r.ring().isClosed());
    }

    /**
     * While busy-polling, a socket receive that completes through the kernel's deferred task work
     * (seen only as the task-run flag until the next enter) and a posted task both run without the
     * reactor ever sleeping; with the window set back to 0 it sleeps again.
     */
    @Test
    void busyPollServesSocketDataAndTasksWithoutSleeping() throws Exception {
        int[] sp = TestSupport.socketPair();
        try (Reactor r = Reactor.start("t-spin", RingConfig.defaults()); Arena a = Arena.ofShared()) {
            MemorySegment in = a.allocate(64);
            MemorySegment out = TestSupport.bytes(a, "ping");
            CountDownLatch got = new CountDownLatch(1);
            int[] res = new int[1];
            long sleepsBefore = r.call(() -> {
                r.busyPoll(TimeUnit.SECONDS.toNanos(30));
                r.ring().acquire((n, flags, cookie) -> {
                    res[0] = n;
                    got.countDown();
                }, 0).recv(sp[0], in.address(), 64, 0);
                return r.sleeps();
            }).get(5, TimeUnit.SECONDS);
            Thread.sleep(50); // the receive is armed and waits while the reactor spins
            assertEquals(4, Libc.write(sp[1], out, 4));
            assertTrue(got.await(5, TimeUnit.SECONDS), "the receive completed within the window");
            assertEquals(4, res[0]);
            assertEquals("ping", TestSupport.string(in, 4));
            long sleepsAfter = r.call(r::sleeps).get(5, TimeUnit.SECONDS);
            assertEquals(sleepsBefore, sleepsAfter, "no sleep while busy-polling");

            r.busyPoll(0);
            r.call(() -> null).get(5, TimeUnit.SECONDS); // one more turn, then it may sleep
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (r.call(r::sleeps).get(5, TimeUnit.SECONDS) == sleepsAfter && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertTrue(r.call(r::sleeps).get(5, TimeUnit.SECONDS) > sleepsAfter, "sleeps again with the window off");
        } finally {
            Libc.close(sp[0]);
            Libc.close(sp[1]);
        }
    }

    /**
     * An adaptive window widens while wake-ups keep coming sooner than its maximum, until the
     * reactor is awake when they come, and narrows back to the configured window once sleeps run
     * longer than the maximum.
     */
    @Test
    void adaptiveBusyPollWidensForFrequentWakeUpsAndNarrowsWhenIdle() throws Exception {
        try (Reactor r = Reactor.start("t-adapt", RingConfig.defaults())) {
            long base = TimeUnit.MICROSECONDS.toNanos(10);
            long max = TimeUnit.MILLISECONDS.toNanos(20);
            r.busyPoll(base, max);
            assertEquals(base, r.busyPollWindowNanos());
            // Tasks 2 ms apart: the window doubles from 10 us until it covers the gap (2.56 ms or more).
            for (int i = 0; i < 100 && r.busyPollWindowNanos() < TimeUnit.MILLISECONDS.toNanos(2); i++) {
                Thread.sleep(2);
                r.call(() -> null).get(5, TimeUnit.SECONDS);
            }
            assertTrue(r.busyPollWindowNanos() >= TimeUnit.MILLISECONDS.toNanos(2),
                    "widened to " + r.busyPollWindowNanos() + " ns");
            long sleeps = r.call(r::sleeps).get(5, TimeUnit.SECONDS);
            for (int i = 0; i < 20; i++) {
                Thread.sleep(1);
                r.call(() -> null).get(5, TimeUnit.SECONDS);
            }
            long slept = r.call(r::sleeps).get(5, TimeUnit.SECONDS) - sleeps;
            assertTrue(slept <= 10, "tasks 1 ms apart found the reactor awake; it slept " + slept + " times in 20");
            for (int i = 0; i < 100 && r.busyPollWindowNanos() > base; i++) {
                Thread.sleep(30);
                r.call(() -> null).get(5, TimeUnit.SECONDS);
            }
            assertEquals(base, r.busyPollWindowNanos(), "narrowed back after sleeps longer than the maximum");
        }
    }
}
