package org.orionos.uring;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.orionos.bindings.Errno;
import org.orionos.bindings.Libc;
import org.orionos.bindings.uapi.SocketH;
import org.orionos.bindings.uapi.SocketH.Iovec;
import org.orionos.bindings.uapi.SocketH.Msghdr;
import org.orionos.bindings.uapi.SocketH.SockaddrIn;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.orionos.bindings.uapi.IoUringH.IORING_ASYNC_CANCEL_ALL;
import static org.orionos.bindings.uapi.IoUringH.IORING_CQE_F_MORE;

/** Socket operations against TCP loopback and AF_UNIX socket pairs. */
class SocketOpsTest {
    private static final int POLLIN = 0x1;
    private static final int POLLOUT = 0x4;
    /** SOCKET_URING_OP_SIOCINQ (linux/io_uring.h, 6.7+): bytes waiting in the receive queue (TCP/UDP). */
    private static final int SOCKET_URING_OP_SIOCINQ = 0;

    @Test
    void multishotAcceptConnectSendRecv() throws Exception {
        int[] l = TestSupport.tcpListener();
        int lfd = l[0];
        List<Integer> clients = new ArrayList<>();
        List<Integer> accepted = new ArrayList<>();
        try (Ring ring = Ring.open(RingConfig.defaults()); Arena a = Arena.ofConfined()) {
            TestSupport.Recorder acc = new TestSupport.Recorder();
            ring.acquire(acc, 1).acceptMultishot(lfd, 0, 0, SocketH.SOCK_CLOEXEC);
            long acceptUd = ring.lastUserData();
            ring.submit();
            MemorySegment sa = TestSupport.loopback(a, l[1]);
            TestSupport.Recorder conn = new TestSupport.Recorder();
            for (int i = 0; i < 3; i++) {
                int c = TestSupport.tcpSocket();
                clients.add(c);
                ring.acquire(conn, 100 + i).connect(c, sa.address(), SockaddrIn.SIZE);
            }
            TestSupport.runUntil(ring, () -> conn.count() == 3 && acc.count() == 3);
            for (int i = 0; i < 3; i++) {
                assertEquals(0, conn.res(i), "connect " + conn);
                assertTrue(acc.res(i) >= 0, "accept " + acc);
                // Multishot: each accept completion says more will come.
                assertTrue((acc.flags(i) & IORING_CQE_F_MORE) != 0, "F_MORE " + acc);
                accepted.add(acc.res(i));
            }
            // One submission, still armed: its slot stays in use.
            assertEquals(1, ring.inFlight());

            // Data both ways over one accepted connection.
            MemorySegment msg = TestSupport.bytes(a, "hello over io_uring");
            MemorySegment in = a.allocate(64);
            TestSupport.Recorder io = new TestSupport.Recorder();
            int server = accepted.get(0);
            ring.acquire(io, 1).recv(server, in.address(), 64, 0);
            ring.acquire(io, 2).send(clients.get(0), msg.address(), (int) msg.byteSize(), SocketH.MSG_NOSIGNAL);
            TestSupport.runUntil(ring, () -> io.count() == 2);
            assertEquals((int) msg.byteSize(), io.resOf(2));
            int n = io.resOf(1);
            assertEquals((int) msg.byteSize(), n);
            assertEquals("hello over io_uring", TestSupport.string(in, n));

            // Cancel the multishot accept: its final completion comes without F_MORE and frees the slot.
            TestSupport.Recorder cancel = new TestSupport.Recorder();
            ring.acquire(cancel, 9).cancel(acceptUd, IORING_ASYNC_CANCEL_ALL);
            TestSupport.runUntil(ring, () -> cancel.count() == 1 && acc.count() == 4);
            assertEquals(1, cancel.res(0));
            assertEquals(-Errno.ECANCELED, acc.res(3));
            assertEquals(0, acc.flags(3) & IORING_CQE_F_MORE);
            assertEquals(0, ring.inFlight());
        } finally {
            clients.forEach(Libc::close);
            accepted.forEach(Libc::close);
            Libc.close(lfd);
        }
    }

    @Test
    void sendmsgRecvmsgPollAndUringCmdOnUnixPair() throws Exception {
        int[] sp = TestSupport.socketPair();
        try (Ring ring = Ring.open(RingConfig.defaults()); Arena a = Arena.ofConfined()) {
            TestSupport.Recorder rec = new TestSupport.Recorder();
            // Poll for readability first: it completes only once data arrives.
            ring.acquire(rec, 1).pollAdd(sp[1], POLLIN);
            ring.submit();
            ring.reap();
            assertEquals(0, rec.count(), "nothing to read yet");

            MemorySegment p1 = TestSupport.bytes(a, "scatter ");
            MemorySegment p2 = TestSupport.bytes(a, "gather");
            MemorySegment iov = a.allocate(Iovec.SIZE * 2, 8);
            iov.set(JAVA_LONG, Iovec.IOV_BASE, p1.address());
            iov.set(JAVA_LONG, Iovec.IOV_LEN, p1.byteSize());
            iov.set(JAVA_LONG, Iovec.SIZE + Iovec.IOV_BASE, p2.address());
            iov.set(JAVA_LONG, Iovec.SIZE + Iovec.IOV_LEN, p2.byteSize());
            MemorySegment mh = a.allocate(Msghdr.LAYOUT);
            mh.set(JAVA_LONG, Msghdr.MSG_IOV, iov.address());
            mh.set(JAVA_LONG, Msghdr.MSG_IOVLEN, 2);
            ring.acquire(rec, 2).sendmsg(sp[0], mh.address(), 0);
            TestSupport.runUntil(ring, () -> rec.count() == 2);
            assertEquals(14, rec.resOf(2));
            assertEquals(POLLIN, rec.resOf(1) & POLLIN);

            MemorySegment in = a.allocate(32);
            MemorySegment riov = a.allocate(Iovec.LAYOUT);
            riov.set(JAVA_LONG, Iovec.IOV_BASE, in.address());
            riov.set(JAVA_LONG, Iovec.IOV_LEN, 32);
            MemorySegment rmh = a.allocate(Msghdr.LAYOUT);
            rmh.set(JAVA_LONG, Msghdr.MSG_IOV, riov.address());
            rmh.set(JAVA_LONG, Msghdr.MSG_IOVLEN, 1);
            int n = FileOpsTest.run1(ring, s -> s.recvmsg(sp[1], rmh.address(), 0));
            assertEquals(14, n);
            assertEquals("scatter gather", TestSupport.string(in, n));
            // A writable socket polls POLLOUT at once.
            assertEquals(POLLOUT, FileOpsTest.run1(ring, s -> s.pollAdd(sp[0], POLLOUT)) & POLLOUT);
        } finally {
            Libc.close(sp[0]);
            Libc.close(sp[1]);
        }
    }

    @Test
    void uringCmdHas80ByteAreaOnSqe128AndFailsOnFilesWithoutHandler() throws Exception {
        int[] sp = TestSupport.tcpPair();
        try (Ring ring = Ring.open(RingConfig.defaults().withBigEntries(true, true)); Arena a = Arena.ofConfined()) {
            Sqe s = ring.acquire(Completion.IGNORE, 0).uringCmd(sp[0], SOCKET_URING_OP_SIOCINQ);
            assertEquals(80, s.cmdSize());
            // The whole command area is ours to write (the SQE is 128 bytes).
            for (int i = 0; i < 80; i += 4) {
                s.segment().set(JAVA_INT, s.cmdOffset() + i, 0);
            }
            TestSupport.runUntil(ring, () -> ring.inFlight() == 0);
            // URING_CMD on a TCP socket: SIOCINQ reports the bytes queued for reading.
            assertEquals(0, FileOpsTest.run1(ring, q -> q.uringCmd(sp[1], SOCKET_URING_OP_SIOCINQ)));
            MemorySegment msg = TestSupport.bytes(a, "twelve bytes");
            assertEquals(12, FileOpsTest.run1(ring, q -> q.send(sp[0], msg.address(), 12, SocketH.MSG_NOSIGNAL)));
            TestSupport.runUntil(ring, () -> FileOpsTest.run1(ring, q -> q.uringCmd(sp[1], SOCKET_URING_OP_SIOCINQ)) == 12);
            // An AF_UNIX socket has no ioctl for it.
            int[] up = TestSupport.socketPair();
            try {
                assertEquals(-Errno.EOPNOTSUPP, FileOpsTest.run1(ring, q -> q.uringCmd(up[0], SOCKET_URING_OP_SIOCINQ)));
            } finally {
                Libc.close(up[0]);
                Libc.close(up[1]);
            }
            // A regular file has no uring_cmd handler.
            int fd = Libc.open("/proc/self/status", 0, 0);
            try {
                assertEquals(-Errno.EOPNOTSUPP, FileOpsTest.run1(ring, q -> q.uringCmd(fd, 0)));
            } finally {
                Libc.close(fd);
            }
        } finally {
            Libc.close(sp[0]);
            Libc.close(sp[1]);
        }
    }
}
