package org.orionos.host.nbd.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.orionos.host.nbd.protocol.NbdWire.*;

import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.bdev.BlockDevice;

/**
 * The zero-copy path against a memory device and hot removal: replies that still wait to leave
 * from the device's memory hold the device open, and once a connection's replies are sent the
 * device is removed and closed at once.
 */
class NbdServerDirectIoTest {
    @TempDir
    Path dir;

    private static final String CONFIG = """
            [[bdev]]
            name = "m"
            type = "memory"
            size = "96M"
            [[nbd.export]]
            name = "m"
            """;

    /** Direct accesses in flight to {@code d} over every reactor. */
    private static int inFlight(LiveServer srv, BlockDevice d) throws Exception {
        int n = 0;
        for (int i = 0; i < srv.host.reactorCount(); i++) {
            var ctx = srv.host.context(i);
            n += srv.host.reactors().get(i).call(() -> ctx.inFlight(d)).get(10, TimeUnit.SECONDS);
        }
        return n;
    }

    @Test
    void removalWaitsWhileRepliesFromTheDeviceAreUnsent() throws Exception {
        try (LiveServer srv = new LiveServer(CONFIG, dir)) {
            RawClient c = RawClient.transmitting(srv.port(), "m");
            BlockDevice d = srv.device("m");
            // 64 reads of 1 MiB, never read back: far more than the socket buffers hold.
            for (int i = 0; i < 64; i++) {
                c.out.write(RawClient.request(0, CMD_READ, i, (long) i << 20, 1 << 20));
            }
            c.out.flush();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (inFlight(srv, d) == 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertTrue(inFlight(srv, d) > 0, "unsent replies from the device's memory count as I/O in flight");
            ErrnoException e = assertThrows(ErrnoException.class, () -> srv.host.remove("m", true, 500));
            assertEquals(Errno.ETIMEDOUT, e.errno(), e.getMessage());
            c.socket.close(); // the connection goes, and with it every pending send
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (inFlight(srv, d) > 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(0, inFlight(srv, d), "a closed connection ends its direct accesses");
        }
    }

    @Test
    void writesLandInTheDeviceAndRemovalIsPromptOnceRepliesAreSent() throws Exception {
        try (LiveServer srv = new LiveServer(CONFIG, dir); RawClient c = RawClient.transmitting(srv.port(), "m")) {
            byte[] small = new byte[4096];
            byte[] big = new byte[1 << 20]; // past the receive buffer: received straight into the device
            new Random(5).nextBytes(small);
            new Random(6).nextBytes(big);
            c.out.write(RawClient.concat(RawClient.request(0, CMD_WRITE, 1, 8192, small.length), small,
                    RawClient.request(CMD_FLAG_FUA, CMD_WRITE, 2, 4L << 20, big.length), big));
            assertEquals(0, c.reply(1, null));
            assertEquals(0, c.reply(2, null));
            byte[] back = new byte[big.length];
            c.out.write(RawClient.request(0, CMD_READ, 3, 4L << 20, big.length));
            assertEquals(0, c.reply(3, back));
            assertArrayEquals(big, back);
            byte[] whole = srv.contents("m");
            assertArrayEquals(small, java.util.Arrays.copyOfRange(whole, 8192, 8192 + small.length));
            assertArrayEquals(big, java.util.Arrays.copyOfRange(whole, 4 << 20, (4 << 20) + big.length));

            srv.host.remove("m", true, 10_000);
            c.out.write(RawClient.request(0, CMD_READ, 4, 0, 4096));
            assertNotEquals(0, c.reply(4, null), "a read of a removed device fails");
        }
    }
}
