package org.orionos.uring;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.orionos.bindings.Errno;
import org.orionos.bindings.Libc;
import org.orionos.bindings.uapi.FcntlH;
import org.orionos.bindings.uapi.IoUringH.KernelTimespec;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.orionos.bindings.uapi.IoUringH.IORING_ASYNC_CANCEL_ANY;
import static org.orionos.bindings.uapi.IoUringH.IORING_ASYNC_CANCEL_ALL;

/** Linked chains, link timeouts, timeouts, drain, async and cancellation. */
class ChainsAndTimeoutsTest {

    static MemorySegment timespec(Arena a, long millis) {
        MemorySegment ts = a.allocate(KernelTimespec.LAYOUT);
        ts.set(JAVA_LONG, KernelTimespec.TV_SEC, millis / 1000);
        ts.set(JAVA_LONG, KernelTimespec.TV_NSEC, (millis % 1000) * 1_000_000L);
        return ts;
    }

    @Test
    void linkedWriteFsyncReadRunInOrderAndAFailureCancelsTheRest() throws Exception {
        Path p = TestSupport.tempFile("/dev/shm", "orion-link");
        int fd = Libc.open(p.toString(), FcntlH.O_RDWR | FcntlH.O_CLOEXEC, 0);
        try (Ring ring = Ring.open(RingConfig.defaults()); Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(4096, 4096);
            out.fill((byte) 0x42);
            MemorySegment in = a.allocate(4096, 4096);
            TestSupport.Recorder rec = new TestSupport.Recorder();
            ring.acquire(rec, 1).write(fd, out.address(), 4096, 0).link();
            ring.acquire(rec, 2).fsync(fd, 0).link();
            ring.acquire(rec, 3).read(fd, in.address(), 4096, 0);
            TestSupport.runUntil(ring, () -> rec.count() == 3);
            assertEquals(4096, rec.resOf(1));
            assertEquals(0, rec.resOf(2));
            // The read saw the write: it ran after it.
            assertEquals(4096, rec.resOf(3));
            assertEquals(0x42, in.get(JAVA_BYTE, 100));
            assertEquals(1, rec.cookie(0));
            assertEquals(2, rec.cookie(1));
            assertEquals(3, rec.cookie(2));

            // A failing head cancels the linked rest.
            TestSupport.Recorder bad = new TestSupport.Recorder();
            ring.acquire(bad, 1).read(-1, in.address(), 4096, 0).link();
            ring.acquire(bad, 2).nop().link();
            ring.acquire(bad, 3).nop();
            TestSupport.runUntil(ring, () -> bad.count() == 3);
            assertEquals(-Errno.EBADF, bad.resOf(1));
            assertEquals(-Errno.ECANCELED, bad.resOf(2));
            assertEquals(-Errno.ECANCELED, bad.resOf(3));
        } finally {
            Libc.close(fd);
            Files.deleteIfExists(p);
        }
    }

    @Test
    void linkTimeoutCancelsAStuckRecvButNotAQuickOp() {
        int[] sp = TestSupport.socketPair();
        try (Ring ring = Ring.open(RingConfig.defaults()); Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(16);
            MemorySegment ts = timespec(a, 30);
            TestSupport.Recorder rec = new TestSupport.Recorder();
            long t0 = System.nanoTime();
            ring.acquire(rec, 1).recv(sp[1], buf.address(), 16, 0).link();
            ring.acquire(rec, 2).linkTimeout(ts.address(), 0);
            TestSupport.runUntil(ring, () -> rec.count() == 2);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(-Errno.ECANCELED, rec.resOf(1), rec.toString());
            assertEquals(-Errno.ETIME, rec.resOf(2), rec.toString());
            assertTrue(ms >= 25, "fired after " + ms + " ms");

            TestSupport.Recorder quick = new TestSupport.Recorder();
            ring.acquire(quick, 1).nop().link();
            ring.acquire(quick, 2).linkTimeout(timespec(a, 5000).address(), 0);
            TestSupport.runUntil(ring, () -> quick.count() == 2);
            assertEquals(0, quick.resOf(1));
            assertEquals(-Errno.ECANCELED, quick.resOf(2));
        } finally {
            Libc.close(sp[0]);
            Libc.close(sp[1]);
        }
    }

    @Test
    void timeoutFiresByTimeOrByCompletionCount() {
        try (Ring ring = Ring.open(RingConfig.defaults()); Arena a = Arena.ofConfined()) {
            TestSupport.Recorder rec = new TestSupport.Recorder();
            long t0 = System.nanoTime();
            ring.acquire(rec, 1).timeout(timespec(a, 20).address(), 0, 0);
            TestSupport.runUntil(ring, () -> rec.count() == 1);
            assertEquals(-Errno.ETIME, rec.res(0));
            assertTrue(System.nanoTime() - t0 >= 15_000_000L);

            // count = 2: fires (res 0) once two other completions were posted, long before 10 s.
            TestSupport.Recorder cnt = new TestSupport.Recorder();
            ring.acquire(cnt, 9).timeout(timespec(a, 10_000).address(), 2, 0);
            ring.submit();
            ring.acquire(cnt, 1).nop();
            ring.acquire(cnt, 2).nop();
            TestSupport.runUntil(ring, () -> cnt.count() == 3);
            assertEquals(0, cnt.resOf(9));
        }
    }

    @Test
    void drainWaitsForEverythingBeforeIt() {
        try (Ring ring = Ring.open(RingConfig.defaults()); Arena a = Arena.ofConfined()) {
            TestSupport.Recorder rec = new TestSupport.Recorder();
            ring.acquire(rec, 1).timeout(timespec(a, 30).address(), 0, 0);
            ring.acquire(rec, 2).nop().drain();
            ring.acquire(rec, 3).nop().async();
            TestSupport.runUntil(ring, () -> rec.count() == 3);
            // The drained NOP completes after the timeout although it was instant; so does the NOP
            // after it (drain also holds back later submissions).
            assertEquals(1, rec.cookie(0), rec.toString());
            assertEquals(2, rec.cookie(1), rec.toString());
            assertEquals(3, rec.cookie(2), rec.toString());
            assertEquals(0, rec.resOf(3));
        }
    }

    @Test
    void cancelByUserDataByFdAndAll() {
        int[] sp = TestSupport.socketPair();
        try (Ring ring = Ring.open(RingConfig.defaults()); Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(16);
            TestSupport.Recorder rec = new TestSupport.Recorder();
            ring.acquire(rec, 1).recv(sp[1], buf.address(), 16, 0);
            long ud = ring.lastUserData();
            ring.submit();
            TestSupport.Recorder c = new TestSupport.Recorder();
            ring.acquire(c, 1).cancel(ud, 0);
            TestSupport.runUntil(ring, () -> rec.count() == 1 && c.count() == 1);
            assertEquals(-Errno.ECANCELED, rec.res(0));
            assertEquals(0, c.res(0));
            // Cancelling what is gone: ENOENT.
            assertEquals(-Errno.ENOENT, FileOpsTest.run1(ring, s -> s.cancel(ud, 0)));

            // By fd: two pending recvs on sp[1], cancel all for that fd.
            ring.acquire(rec, 2).recv(sp[1], buf.address(), 16, 0);
            ring.acquire(rec, 3).recv(sp[1], buf.address(), 16, 0);
            ring.submit();
            assertEquals(2, FileOpsTest.run1(ring, s -> s.cancelFd(sp[1], IORING_ASYNC_CANCEL_ALL)));
            TestSupport.runUntil(ring, () -> rec.count() == 3);
            assertEquals(-Errno.ECANCELED, rec.resOf(2));
            assertEquals(-Errno.ECANCELED, rec.resOf(3));

            // ANY|ALL: everything in flight.
            ring.acquire(rec, 4).recv(sp[0], buf.address(), 16, 0);
            ring.acquire(rec, 5).timeout(timespec(a, 60_000).address(), 0, 0);
            ring.submit();
            assertEquals(2, FileOpsTest.run1(ring, s -> s.cancel(0, IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL)));
            TestSupport.runUntil(ring, () -> rec.count() == 5);
            assertEquals(-Errno.ECANCELED, rec.resOf(4));
            assertEquals(-Errno.ECANCELED, rec.resOf(5));
            assertEquals(0, ring.inFlight());
        } finally {
            Libc.close(sp[0]);
            Libc.close(sp[1]);
        }
    }

    @Test
    void asyncFlagSendsTheOperationToAnIoWqWorker() throws Exception {
        // io-wq workers are threads of the submitting task named iou-wrk-<tid>; a fresh thread has
        // none until something is punted to io-wq, which IOSQE_ASYNC does unconditionally.
        Throwable[] failure = new Throwable[1];
        Thread t = new Thread(() -> {
            try (Ring ring = Ring.open(RingConfig.defaults())) {
                String worker = "iou-wrk-" + Libc.gettid();
                assertEquals(0, FileOpsTest.run1(ring, Sqe::nop));
                assertTrue(!TestSupport.threads().contains(worker), "an inline NOP needs no worker");
                assertEquals(0, FileOpsTest.run1(ring, s -> s.nop().async()));
                assertTrue(TestSupport.threads().contains(worker), "ASYNC ran on " + worker);
            } catch (Throwable e) {
                failure[0] = e;
            }
        });
        t.start();
        t.join();
        if (failure[0] != null) {
            throw new AssertionError(failure[0]);
        }
    }
}
