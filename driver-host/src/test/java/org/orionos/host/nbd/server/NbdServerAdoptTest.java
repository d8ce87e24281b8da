package org.orionos.host.nbd.server;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.bindings.Libc;
import org.orionos.bindings.uapi.SocketH;
import org.orionos.host.bdev.BdevOp;
import org.orionos.host.bdev.backend.ErrorBdev;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.orionos.host.nbd.protocol.NbdWire.*;

/**
 * {@link NbdServer#serveConnected}: a socketpair end adopted straight into transmission (no
 * handshake, as the kernel's nbd client talks), served by the same connections and block-device
 * path as TCP clients. The other end speaks raw transmission frames as the kernel would: WRITE
 * with FUA, READ, FLUSH, TRIM, an out-of-range request, DISC.
 */
class NbdServerAdoptTest {
    @TempDir
    Path dir;
    LiveServer srv;
    Arena arena;
    int peer = -1;

    @BeforeEach
    void start() throws Exception {
        srv = new LiveServer("""
                [[bdev]]
                name = "mem"
                type = "memory"
                size = "16M"
                block_size = 512
                [[bdev]]
                name = "counted"
                type = "error"
                base = "mem"
                [[nbd.export]]
                name = "vol"
                bdev = "counted"
                [[bdev]]
                name = "mem2"
                type = "memory"
                size = "16M"
                [[bdev]]
                name = "slow"
                type = "delay"
                base = "mem2"
                write_latency_us = 500000
                [[nbd.export]]
                name = "slowvol"
                bdev = "slow"
                """, dir);
        arena = Arena.ofConfined();
    }

    @AfterEach
    void stop() {
        if (peer >= 0) {
            Libc.close(peer);
        }
        arena.close();
        srv.close();
    }

    /** A socketpair; the server adopts one end, the test keeps the other. */
    private void adopt(String export) {
        MemorySegment fds = arena.allocate(ValueLayout.JAVA_INT, 2);
        assertEquals(0, Libc.socketpair(SocketH.AF_UNIX, SocketH.SOCK_STREAM | SocketH.SOCK_CLOEXEC, 0, fds));
        peer = fds.getAtIndex(ValueLayout.JAVA_INT, 0);
        MemorySegment tv = arena.allocate(16, 8); // struct timeval: a stuck server fails the test, not hangs it
        tv.set(ValueLayout.JAVA_LONG, 0, 20);
        assertEquals(0, Libc.setsockopt(peer, SocketH.SOL_SOCKET, SocketH.SO_RCVTIMEO, tv, 16));
        srv.server.serveConnected(fds.getAtIndex(ValueLayout.JAVA_INT, 1), export);
    }

    @Test
    void transmissionWithoutHandshakeReachesTheDevice() throws Exception {
        adopt("vol");
        ErrorBdev counted = (ErrorBdev) srv.device("counted");
        byte[] data = new byte[64 << 10];
        new Random(4).nextBytes(data);
        send(ByteBuffer.allocate(28 + data.length).put(RawClient.request(CMD_FLAG_FUA, CMD_WRITE, 1, 8192, data.length))
                .put(data).array());
        assertEquals(0, replyError(1));
        send(RawClient.request(0, CMD_READ, 2, 8192, data.length));
        assertEquals(0, replyError(2));
        assertArrayEquals(data, receive(data.length));
        assertArrayEquals(data, Arrays.copyOfRange(srv.contents("mem"), 8192, 8192 + data.length));

        send(RawClient.request(0, CMD_FLUSH, 3, 0, 0));
        assertEquals(0, replyError(3));
        send(RawClient.request(0, CMD_TRIM, 4, 8192, 4096));
        assertEquals(0, replyError(4));
        assertEquals(1, counted.count(BdevOp.FLUSH), "FLUSH reached the device");
        assertEquals(1, counted.count(BdevOp.TRIM), "TRIM reached the device");
        assertEquals(1, counted.count(BdevOp.WRITE));

        // Past the end: an error reply, and the connection carries on.
        send(RawClient.request(0, CMD_READ, 5, 16L << 20, 4096));
        assertEquals(Errno.EINVAL, replyError(5));
        assertEquals(1, srv.server.connectionCount());

        send(RawClient.request(0, CMD_DISC, 6, 0, 0));
        assertEquals(0, Libc.read(peer, arena.allocate(16), 16), "the server closes after DISC");
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (srv.server.connectionCount() != 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(0, srv.server.connectionCount());
        assertTrue(srv.server.exports().get("vol").stats().toString().length() > 0);
    }

    /**
     * Stopping the server answers every request the kernel sent, also one sent after the stop began
     * (left unanswered, the kernel would wait its request timeout to resend it), then shuts the read
     * side so the kernel's next send fails (its cue to hold new requests for the next host) and closes.
     */
    @Test
    void stopAnswersEverythingSentThenRefusesMore() throws Exception {
        adopt("slowvol");
        byte[] data = new byte[8192];
        new Random(5).nextBytes(data);
        send(ByteBuffer.allocate(28 + data.length).put(RawClient.request(0, CMD_WRITE, 1, 0, data.length))
                .put(data).array());
        Thread.sleep(100); // the write is in flight at the device (500 ms)
        long t0 = System.nanoTime();
        Thread stopper = Thread.ofPlatform().start(() -> srv.server.close(10_000));
        Thread.sleep(100);
        send(RawClient.request(0, CMD_READ, 2, 65536, data.length)); // sent while the server stops
        java.util.Set<Long> answered = new java.util.HashSet<>();
        for (int i = 0; i < 2; i++) { // the read does not wait for the slow write: any order
            ByteBuffer r = ByteBuffer.wrap(receive(16));
            assertEquals(SIMPLE_REPLY_MAGIC, r.getInt());
            assertEquals(0, r.getInt());
            long cookie = r.getLong();
            answered.add(cookie);
            if (cookie == 2) {
                assertArrayEquals(new byte[data.length], receive(data.length));
            }
        }
        assertEquals(java.util.Set.of(1L, 2L), answered, "the request sent during the stop was answered too");
        assertArrayEquals(data, Arrays.copyOfRange(srv.contents("mem2"), 0, data.length));
        byte[] flush = RawClient.request(0, CMD_FLUSH, 100, 0, 0);
        MemorySegment req = arena.allocate(flush.length);
        MemorySegment.copy(flush, 0, req, ValueLayout.JAVA_BYTE, 0, flush.length);
        long deadline = System.nanoTime() + 5_000_000_000L;
        int accepted = 0;
        long w;
        while ((w = Libc.write(peer, req, flush.length)) > 0 && System.nanoTime() < deadline) {
            accepted++;
            Thread.sleep(10);
        }
        assertEquals(-Errno.EPIPE, w, "once idle the server refuses more input");
        for (int i = 0; i < accepted; i++) {
            assertEquals(0, replyError(100), "what was queued before the read side was shut is answered");
        }
        assertEquals(0, Libc.read(peer, arena.allocate(16), 16), "then it closes");
        stopper.join(15_000);
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "the stop did not wait out its grace period");
    }

    @Test
    void unknownExportIsRefusedAndTheSocketClosed() {
        ErrnoException e = assertThrows(ErrnoException.class, () -> adopt("nope"));
        assertEquals(Errno.ENOENT, e.errno());
        assertTrue(e.getMessage().contains("vol"), e.getMessage());
        assertEquals(0, Libc.read(peer, arena.allocate(16), 16), "the adopted end was closed");
    }

    private void send(byte[] b) {
        MemorySegment m = arena.allocate(b.length);
        MemorySegment.copy(b, 0, m, ValueLayout.JAVA_BYTE, 0, b.length);
        long done = 0;
        while (done < b.length) {
            long n = Libc.write(peer, m.asSlice(done), b.length - done);
            assertTrue(n > 0, "write: " + Errno.name((int) n));
            done += n;
        }
    }

    private byte[] receive(int n) {
        MemorySegment m = arena.allocate(Math.max(n, 1));
        long done = 0;
        while (done < n) {
            long r = Libc.read(peer, m.asSlice(done), n - done);
            assertTrue(r > 0, "read: " + (r == 0 ? "EOF" : Errno.name((int) r)));
            done += r;
        }
        return m.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
    }

    /** One simple reply: checks magic and cookie, returns the error. */
    private int replyError(long cookie) {
        ByteBuffer r = ByteBuffer.wrap(receive(16));
        assertEquals(SIMPLE_REPLY_MAGIC, r.getInt());
        int err = r.getInt();
        assertEquals(cookie, r.getLong());
        return err;
    }
}
