package org.orionos.host.nbd.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.orionos.host.nbd.protocol.NbdWire.*;
import static org.orionos.host.nbd.server.RawClient.*;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.orionos.host.nbd.protocol.NbdError;

/**
 * Issue 5's "bad input" list against the live server: every malformed handshake or request gets
 * the protocol's error or a clean disconnect, the device is never written outside what valid
 * requests asked, block I/O of a vanished client completes and is released, and a well-behaved
 * client on another connection is unaffected throughout.
 */
class NbdServerBadInputTest {
    @TempDir
    static Path dir;
    private static LiveServer srv;
    private static final int DISK = 16 << 20;

    @BeforeAll
    static void start() throws Exception {
        srv = new LiveServer("""
                [[bdev]]
                name = "disk"
                type = "memory"
                size = "16M"
                block_size = 512
                [[bdev]]
                name = "aligned"
                type = "memory"
                size = "4M"
                [nbd]
                max_connections = 48
                [[nbd.export]]
                name = "disk"
                [[nbd.export]]
                name = "aligned"
                """, dir);
    }

    @AfterAll
    static void stop() {
        srv.close();
    }

    /** A write and a read-back on a fresh connection: the server and its reactors still serve. */
    private static void goodClientWorks(long offset) throws IOException {
        try (RawClient c = RawClient.transmitting(srv.port(), "disk")) {
            byte[] data = new byte[8192];
            new Random(offset).nextBytes(data);
            c.out.write(concat(request(0, CMD_WRITE, 1, offset, data.length), data, request(0, CMD_READ, 2, offset, 8192)));
            assertEquals(0, c.reply(1, null));
            byte[] back = new byte[8192];
            assertEquals(0, c.reply(2, back));
            assertArrayEquals(data, back);
        }
    }

    private static void awaitConnections(int n) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 20_000;
        while (srv.server.connectionCount() > n && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(n, srv.server.connectionCount(), "connections left open");
    }

    /** No block-device request is left out of any reactor's pool. */
    private static void noRequestsOutstanding() throws Exception {
        for (int i = 0; i < srv.host.reactorCount(); i++) {
            var ctx = srv.host.context(i);
            long deadline = System.currentTimeMillis() + 10_000;
            int left;
            while ((left = srv.host.reactors().get(i).call(ctx::outstanding).get(5, TimeUnit.SECONDS)) > 0
                    && System.currentTimeMillis() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(0, left, "requests still out of reactor " + i + "'s pool");
        }
    }

    @Test
    void malformedHandshakesCloseOrGetOptionErrors() throws Exception {
        try (RawClient c = new RawClient(srv.port()).greeted()) {
            c.out.write(clientFlags(0x80)); // unknown client flag
            assertTrue(c.closedByServer());
        }
        try (RawClient c = new RawClient(srv.port()).greeted()) {
            byte[] opt = option(OPT_LIST, new byte[0]);
            opt[3] ^= 0x40; // wrong option magic
            c.out.write(concat(clientFlags(FLAG_C_FIXED_NEWSTYLE), opt));
            assertTrue(c.closedByServer());
        }
        try (RawClient c = new RawClient(srv.port()).greeted()) {
            // Unknown option: ERR_UNSUP and negotiation goes on; then an over-long EXPORT_NAME closes.
            c.out.write(concat(clientFlags(FLAG_C_FIXED_NEWSTYLE), option(77, new byte[3])));
            assertEquals(OPTION_REPLY_MAGIC, c.in.readLong());
            assertEquals(77, c.in.readInt());
            assertEquals(REP_ERR_UNSUP, c.in.readInt());
            c.in.readFully(new byte[c.in.readInt()]);
            c.out.write(option(OPT_EXPORT_NAME, new byte[5000]));
            assertTrue(c.closedByServer());
        }
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), srv.port())) {
            s.getOutputStream().write(new byte[] {0, 0}); // truncated client flags, then EOF
            s.shutdownOutput();
        }
        goodClientWorks(0);
        awaitConnections(0);
    }

    @Test
    void malformedRequestsGetErrorsAndFramingSurvives() throws Exception {
        byte[] before = srv.contents("disk");
        try (RawClient c = RawClient.transmitting(srv.port(), "disk")) {
            c.out.write(request(0, 42, 7, 0, 512)); // unknown command
            assertEquals(NbdError.EINVAL, c.reply(7, null));
            c.out.write(request(0x4000, CMD_READ, 8, 0, 512)); // unknown flag
            assertEquals(NbdError.EINVAL, c.reply(8, null));
            c.out.write(request(0, CMD_READ, 9, DISK - 512, 1024)); // read past the end
            assertEquals(NbdError.EINVAL, c.reply(9, null));
            // Write past the end: ENOSPC, its payload is skipped, the next request still parses.
            c.out.write(concat(request(0, CMD_WRITE, 10, DISK - 512, 4096), new byte[4096], request(0, CMD_READ, 11, 0, 512)));
            assertEquals(NbdError.ENOSPC, c.reply(10, null));
            assertEquals(0, c.reply(11, new byte[512]));
            c.out.write(request(0, CMD_WRITE, 12, -4096L, 512)); // offset wrapping past 2^63
            c.out.write(new byte[512]);
            assertEquals(NbdError.ENOSPC, c.reply(12, null));
            c.out.write(request(0, CMD_FLUSH, 13, 4096, 0)); // flush must carry no range
            assertEquals(NbdError.EINVAL, c.reply(13, null));
            c.out.write(request(0, CMD_WRITE, 14, 0, MAX_PAYLOAD + 512)); // payload over the maximum
            assertTrue(c.closedByServer());
        }
        try (RawClient c = RawClient.transmitting(srv.port(), "aligned")) {
            c.out.write(request(0, CMD_READ, 1, 512, 4096)); // misaligned to the 4 KiB minimum
            assertEquals(NbdError.EINVAL, c.reply(1, null));
            c.out.write(request(0, CMD_READ, 2, 4096, 4096));
            assertEquals(0, c.reply(2, new byte[4096]));
        }
        try (RawClient c = RawClient.transmitting(srv.port(), "disk")) {
            byte[] r = request(0, CMD_READ, 1, 0, 512);
            r[0] = 0x12; // wrong request magic: lost framing
            c.out.write(r);
            assertTrue(c.closedByServer());
        }
        try (RawClient c = RawClient.transmitting(srv.port(), "disk")) {
            c.out.write(new byte[13]); // truncated header, then EOF
            c.socket.shutdownOutput();
            assertTrue(c.closedByServer());
        }
        try (RawClient c = RawClient.transmitting(srv.port(), "disk")) {
            // Truncated payload, then EOF: nothing may be written.
            c.out.write(concat(request(0, CMD_WRITE, 1, 1 << 20, 65536), new byte[1000]));
            c.socket.shutdownOutput();
            assertTrue(c.closedByServer());
        }
        awaitConnections(0);
        assertArrayEquals(before, srv.contents("disk"), "rejected or truncated writes changed the device");
        goodClientWorks(2 << 20);
    }

    @Test
    void clientThatStopsReadingStallsOnlyItself() throws Exception {
        try (RawClient stuck = RawClient.transmitting(srv.port(), "disk")) {
            stuck.socket.setReceiveBufferSize(4096);
            // 400 MiB of reads it never collects: more than the per-connection slots and buffer bound.
            byte[] batch = new byte[28 * 400];
            for (int i = 0; i < 400; i++) {
                System.arraycopy(request(0, CMD_READ, i, 0, 1 << 20), 0, batch, 28 * i, 28);
            }
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    stuck.out.write(batch);
                } catch (IOException e) {
                    // the server may stop reading; the socket close below ends this
                }
            });
            Thread.sleep(300);
            for (int i = 0; i < 5; i++) {
                goodClientWorks((4L << 20) + 16384L * i);
            }
            stuck.socket.close();
            writer.join(10_000);
        }
        awaitConnections(0);
        noRequestsOutstanding();
    }

    @Test
    void clientVanishingMidRequestsReleasesEverything() throws Exception {
        for (int round = 0; round < 5; round++) {
            RawClient c = RawClient.transmitting(srv.port(), "disk");
            ByteBuffer b = ByteBuffer.allocate(200 * (28 + 4096));
            for (int i = 0; i < 200; i++) {
                b.put(request(0, i % 2 == 0 ? CMD_WRITE : CMD_READ, i, (8L << 20) + 4096L * i, 4096));
                if (i % 2 == 0) {
                    b.put(new byte[4096]);
                }
            }
            c.out.write(b.array(), 0, b.position());
            c.socket.setSoLinger(true, 0); // RST: the server sees the peer vanish mid-stream
            c.close();
        }
        awaitConnections(0);
        noRequestsOutstanding();
        goodClientWorks(6 << 20);
    }

    @Test
    void connectionFloodIsCappedAndRecovers() throws Exception {
        awaitConnections(0);
        List<Socket> flood = new ArrayList<>();
        try {
            for (int i = 0; i < 120; i++) {
                Socket s = new Socket(InetAddress.getLoopbackAddress(), srv.port());
                s.setSoTimeout(5_000);
                flood.add(s);
            }
            int greeted = 0;
            int refused = 0;
            for (Socket s : flood) {
                byte[] g = new byte[GREETING_SIZE];
                try {
                    int n = s.getInputStream().readNBytes(g, 0, g.length);
                    if (n == GREETING_SIZE) {
                        greeted++;
                    } else {
                        refused++;
                    }
                } catch (IOException e) {
                    refused++;
                }
            }
            assertEquals(48, greeted, "max_connections is 48");
            assertEquals(72, refused);
            assertTrue(srv.server.refusedConnections() >= 72);
        } finally {
            for (Socket s : flood) {
                s.close();
            }
        }
        awaitConnections(0);
        goodClientWorks(7 << 20);
    }
}
