package org.orionos.uring;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.orionos.bindings.ErrnoException;
import org.orionos.bindings.Libc;
import org.orionos.bindings.uapi.SocketH;
import org.orionos.bindings.uapi.SocketH.SockaddrIn;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Helpers for tests against the real kernel: completion recording, loops, sockets, counters. */
final class TestSupport {
    private TestSupport() {
    }

    /** Records every completion it gets, in order. */
    static final class Recorder implements Completion {
        final List<long[]> events = new ArrayList<>();

        @Override
        public void complete(int res, int flags, long cookie) {
            events.add(new long[] {cookie, res, flags});
        }

        int count() {
            return events.size();
        }

        int res(int i) {
            return (int) events.get(i)[1];
        }

        long cookie(int i) {
            return events.get(i)[0];
        }

        int flags(int i) {
            return (int) events.get(i)[2];
        }

        /** Result of the completion with this cookie (the first one); fails if absent. */
        int resOf(long cookie) {
            for (long[] e : events) {
                if (e[0] == cookie) {
                    return (int) e[1];
                }
            }
            throw new AssertionError("no completion with cookie " + cookie + " in " + this);
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder("[");
            for (long[] e : events) {
                sb.append("(cookie=").append(e[0]).append(" res=").append(e[1]).append(" flags=").append(e[2]).append(")");
            }
            return sb.append(']').toString();
        }
    }

    /** Submits and reaps until {@code done} holds; fails after 10 s. */
    static void runUntil(Ring ring, BooleanSupplier done) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!done.getAsBoolean()) {
            ring.reap();
            if (done.getAsBoolean()) {
                return;
            }
            assertTrue(System.nanoTime() < deadline, "timed out waiting for completions; ring " + ring);
            int r = ring.submitAndWait(1, TimeUnit.MILLISECONDS.toNanos(100));
            assertTrue(r >= 0 || r == -62 /* ETIME */ || r == -4 /* EINTR */, "enter failed: " + r);
        }
    }

    static Path tempFile(String dir, String prefix) throws IOException {
        return Files.createTempFile(Path.of(dir), prefix, ".bin");
    }

    /** Listening TCP socket on 127.0.0.1, ephemeral port; returns {fd, port}. */
    static int[] tcpListener() {
        int fd = ErrnoException.check(Libc.socket(SocketH.AF_INET, SocketH.SOCK_STREAM | SocketH.SOCK_CLOEXEC, 0),
                "socket", "tcp");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sa = loopback(a, 0);
            ErrnoException.check(Libc.bind(fd, sa, SockaddrIn.SIZE), "bind", "127.0.0.1:0");
            ErrnoException.check(Libc.listen(fd, 64), "listen", "tcp");
            MemorySegment len = a.allocate(JAVA_INT);
            len.set(JAVA_INT, 0, SockaddrIn.SIZE);
            ErrnoException.check(Libc.getsockname(fd, sa, len), "getsockname", "tcp");
            int port = Short.toUnsignedInt(Short.reverseBytes(sa.get(JAVA_SHORT, SockaddrIn.SIN_PORT)));
            return new int[] {fd, port};
        }
    }

    /** A sockaddr_in for 127.0.0.1:port (network byte order). */
    static MemorySegment loopback(Arena a, int port) {
        MemorySegment sa = a.allocate(SockaddrIn.LAYOUT);
        sa.set(JAVA_SHORT, SockaddrIn.SIN_FAMILY, (short) SocketH.AF_INET);
        sa.set(JAVA_SHORT, SockaddrIn.SIN_PORT, Short.reverseBytes((short) port));
        sa.set(JAVA_INT, SockaddrIn.SIN_ADDR, Integer.reverseBytes(SocketH.INADDR_LOOPBACK));
        return sa;
    }

    static int tcpSocket() {
        return ErrnoException.check(Libc.socket(SocketH.AF_INET, SocketH.SOCK_STREAM | SocketH.SOCK_CLOEXEC, 0),
                "socket", "tcp");
    }

    /** A connected TCP loopback pair {client, server}, set up with plain syscalls. */
    static int[] tcpPair() {
        int[] l = tcpListener();
        try (Arena a = Arena.ofConfined()) {
            int c = tcpSocket();
            ErrnoException.check(Libc.connect(c, loopback(a, l[1]), SockaddrIn.SIZE), "connect", "127.0.0.1:" + l[1]);
            int s = ErrnoException.check(Libc.accept4(l[0], MemorySegment.NULL, MemorySegment.NULL, SocketH.SOCK_CLOEXEC),
                    "accept4", "tcp");
            return new int[] {c, s};
        } finally {
            Libc.close(l[0]);
        }
    }

    /** A connected AF_UNIX stream pair. */
    static int[] socketPair() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fds = a.allocate(JAVA_INT, 2);
            ErrnoException.check(Libc.socketpair(SocketH.AF_UNIX, SocketH.SOCK_STREAM | SocketH.SOCK_CLOEXEC, 0, fds),
                    "socketpair", "unix");
            return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        }
    }

    static MemorySegment bytes(Arena a, String s) {
        byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        MemorySegment m = a.allocate(b.length);
        MemorySegment.copy(b, 0, m, JAVA_BYTE, 0, b.length);
        return m;
    }

    static String string(MemorySegment m, int len) {
        byte[] b = new byte[len];
        MemorySegment.copy(m, JAVA_BYTE, 0, b, 0, len);
        return new String(b, java.nio.charset.StandardCharsets.UTF_8);
    }

    static int openFds() throws IOException {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return (int) s.count();
        }
    }

    /** io_uring ring mappings of this process (they show as anon_inode:[io_uring]). */
    static int mappings() throws IOException {
        return (int) Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.contains("io_uring")).count();
    }

    /**
     * Names of this process's threads (kernel view, so io_uring's iou-wrk/iou-sqp workers count),
     * without the JIT compiler threads the JVM adds and removes on its own.
     */
    static List<String> threads() throws IOException {
        List<String> names = new ArrayList<>();
        try (var s = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : (Iterable<Path>) s::iterator) {
                try {
                    String comm = Files.readString(t.resolve("comm")).trim();
                    if (!comm.contains("CompilerThre")) {
                        names.add(comm);
                    }
                } catch (java.nio.file.NoSuchFileException gone) {
                    // the thread ended while we listed
                }
            }
        }
        java.util.Collections.sort(names);
        return names;
    }
}
