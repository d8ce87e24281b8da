package org.orionos.host.nbd.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.orionos.host.nbd.protocol.Frames.*;
import static org.orionos.host.nbd.protocol.NbdWire.*;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Malformed input over a real socket: the server answers with the protocol's error or closes the
 * connection cleanly, and a well-behaved client on another connection is unaffected.
 */
class BridgeBadInputTest {
    private static BlockingNbdBridge bridge;

    @BeforeAll
    static void start() throws IOException {
        bridge = new BlockingNbdBridge(TestCatalog.standard(TlsMode.OFF));
    }

    @AfterAll
    static void stop() throws IOException {
        bridge.close();
        assertTrue(bridge.failures.isEmpty(), () -> "bridge threads failed: " + bridge.failures);
    }

    private static Socket connect() throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), bridge.port());
        s.setSoTimeout(10_000);
        DataInputStream in = new DataInputStream(s.getInputStream());
        assertEquals(NBDMAGIC, in.readLong());
        assertEquals(IHAVEOPT, in.readLong());
        in.readShort();
        return s;
    }

    /** A connection in transmission on "disk" with simple replies. */
    private static Socket transmitting() throws IOException {
        Socket s = connect();
        OutputStream out = s.getOutputStream();
        out.write(concat(clientFlags(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES), option(OPT_EXPORT_NAME, "disk".getBytes())));
        DataInputStream in = new DataInputStream(s.getInputStream());
        assertEquals(64L << 20, in.readLong());
        in.readShort();
        return s;
    }

    private static void assertClosed(Socket s) throws IOException {
        assertEquals(-1, s.getInputStream().read(), "server should have closed the connection");
    }

    @Test
    void badClientFlagsAndOptionMagicClose() throws IOException {
        try (Socket s = connect()) {
            s.getOutputStream().write(clientFlags(0x80));
            assertClosed(s);
        }
        try (Socket s = connect()) {
            byte[] opt = option(OPT_LIST);
            opt[7] = 0;
            s.getOutputStream().write(concat(clientFlags(1), opt));
            assertClosed(s);
        }
    }

    @Test
    void badRequestsGetErrorsOrDisconnectAndOthersCarryOn() throws IOException {
        try (Socket good = transmitting(); Socket bad = transmitting()) {
            DataInputStream gin = new DataInputStream(good.getInputStream());
            DataInputStream bin = new DataInputStream(bad.getInputStream());
            // Unknown command: EINVAL, connection stays usable.
            bad.getOutputStream().write(request(0, 42, 7, 0, 512));
            assertEquals(SIMPLE_REPLY_MAGIC, bin.readInt());
            assertEquals(NbdError.EINVAL, bin.readInt());
            assertEquals(7, bin.readLong());
            // A write past the end: its payload is drained, ENOSPC comes back, framing survives.
            bad.getOutputStream().write(concat(request(0, CMD_WRITE, 8, 64L << 20, 4096), new byte[4096],
                    request(0, CMD_READ, 9, 0, 16)));
            assertEquals(SIMPLE_REPLY_MAGIC, bin.readInt());
            assertEquals(NbdError.ENOSPC, bin.readInt());
            assertEquals(8, bin.readLong());
            assertEquals(SIMPLE_REPLY_MAGIC, bin.readInt());
            assertEquals(0, bin.readInt());
            assertEquals(9, bin.readLong());
            bin.readFully(new byte[16]);
            // Oversized write payload: hard disconnect.
            bad.getOutputStream().write(request(0, CMD_WRITE, 10, 0, (MAX_PAYLOAD + 1)));
            assertClosed(bad);

            // Meanwhile the good client reads and writes as normal.
            byte[] data = new byte[8192];
            new Random(3).nextBytes(data);
            good.getOutputStream().write(concat(request(0, CMD_WRITE, 1, 1 << 20, 8192), data,
                    request(0, CMD_READ, 2, 1 << 20, 8192)));
            assertEquals(SIMPLE_REPLY_MAGIC, gin.readInt());
            assertEquals(0, gin.readInt());
            assertEquals(1, gin.readLong());
            assertEquals(SIMPLE_REPLY_MAGIC, gin.readInt());
            assertEquals(0, gin.readInt());
            assertEquals(2, gin.readLong());
            byte[] back = new byte[8192];
            gin.readFully(back);
            assertTrue(java.util.Arrays.equals(data, back));
        }
    }

    @Test
    void garbageRequestMagicAndTruncatedFramesClose() throws IOException {
        try (Socket s = transmitting()) {
            byte[] r = request(0, CMD_READ, 1, 0, 512);
            r[0] = 0x12;
            s.getOutputStream().write(r);
            assertClosed(s);
        }
        try (Socket s = transmitting()) {
            s.getOutputStream().write(new byte[13]);
            s.shutdownOutput(); // truncated header, then EOF
            assertClosed(s);
        }
        try (Socket s = transmitting()) {
            s.getOutputStream().write(request(0, CMD_DISC, 1, 0, 0));
            assertClosed(s);
        }
    }
}
