package org.orionos.host.nbd.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.orionos.host.nbd.protocol.NbdWire.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.orionos.uring.Reactor;

/**
 * Reply batching against a live server: a client that trickles requests in one write each while
 * keeping 32 in flight gets its replies several to a send, every reply correct; the same
 * connection then sending one request at a time is answered (the batch shrinks back, no reply
 * waits for requests that never come), with busy-polling on and off.
 */
class NbdServerReplyBatchTest {
    private static final String TOML = """
            [[bdev]]
            name = "mem0"
            type = "memory"
            size = "16M"
            [[nbd.export]]
            name = "vol"
            bdev = "mem0"
            """;
    private static final int BLOCKS = 4096;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "busy-poll {0} us")
    @ValueSource(ints = {2000, 0})
    void trickledRequestsGetBatchedRepliesAndOneAtATimeIsNotHeld(int busyPollMicros) throws Exception {
        try (LiveServer srv = new LiveServer(TOML, dir)) {
            for (Reactor r : srv.host.reactors().all()) {
                r.busyPoll(TimeUnit.MICROSECONDS.toNanos(busyPollMicros));
            }
            try (RawClient c = RawClient.transmitting(srv.port(), "vol")) {
                writePattern(c);
                long sendsBefore = srv.server.exports().get("vol").stats().sends();
                int n = 20_000;
                trickle(c, n, 32);
                long sends = srv.server.exports().get("vol").stats().sends() - sendsBefore;
                if (busyPollMicros > 0) {
                    assertTrue(sends * 3 <= n, n + " replies in " + sends + " sends: not batched");
                }
                // One at a time on the same connection: each reply comes without a batch to wait for.
                byte[] back = new byte[4096];
                for (int i = 0; i < 500; i++) {
                    int block = (i * 7) % BLOCKS;
                    c.out.write(RawClient.request(0, CMD_READ, i, 4096L * block, 4096));
                    assertEquals(0, c.reply(i, back));
                    assertArrayEquals(pattern(block), back, "block " + block);
                }
            }
        }
    }

    /** Reads {@code n} blocks, one request per write(2), at most {@code qd} in flight; checks every reply. */
    private static void trickle(RawClient c, int n, int qd) throws Exception {
        Semaphore inFlight = new Semaphore(qd);
        CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> {
            try {
                for (int i = 0; i < n; i++) {
                    inFlight.acquire();
                    c.out.write(RawClient.request(0, CMD_READ, i, 4096L * (i % BLOCKS), 4096));
                }
            } catch (IOException | InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        byte[] back = new byte[4096];
        for (int i = 0; i < n; i++) {
            assertEquals(SIMPLE_REPLY_MAGIC, c.in.readInt());
            assertEquals(0, c.in.readInt(), "error reply");
            long cookie = c.in.readLong();
            c.in.readFully(back);
            assertArrayEquals(pattern((int) (cookie % BLOCKS)), back, "reply to request " + cookie);
            inFlight.release();
        }
        sender.get(30, TimeUnit.SECONDS);
    }

    private static void writePattern(RawClient c) throws IOException {
        for (int b = 0; b < BLOCKS; b++) {
            c.out.write(RawClient.request(0, CMD_WRITE, b, 4096L * b, 4096));
            c.out.write(pattern(b));
            if (b % 64 == 63) {
                for (int k = b - 63; k <= b; k++) {
                    assertEquals(0, c.reply(k, null));
                }
            }
        }
    }

    private static byte[] pattern(int block) {
        ByteBuffer bb = ByteBuffer.allocate(4096);
        while (bb.hasRemaining()) {
            bb.putInt(block * 31 + bb.position());
        }
        return bb.array();
    }
}
