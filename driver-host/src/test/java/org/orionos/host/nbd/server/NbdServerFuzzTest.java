package org.orionos.host.nbd.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.orionos.host.nbd.protocol.NbdWire.*;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * At least a million random and mutated frames against the live server over many connections,
 * while a well-behaved client keeps writing and verifying its own export.
 *
 * <p>How "never writes outside what was asked" is checked: every WRITE payload the fuzzer sends
 * is position-stamped (each aligned 8-byte word holds its own byte offset, little-endian), and
 * trims and zeroing leave zeros. So whatever mix of requests the server executed, every word of
 * the fuzzed device must read as 0 or as its own offset; a write landing anywhere but where its
 * header said shows up as a wrong stamp. The good client's export must equal its model exactly.
 */
class NbdServerFuzzTest {
    private static final long SEED = 0xf022_5eedL;
    private static final int FRAMES = 1_000_000;
    private static final int FUZZERS = 3;
    private static final int FZ_SIZE = 8 << 20;
    private static final int GOOD_SIZE = 8 << 20;

    @TempDir
    Path dir;

    private final AtomicLong framesSent = new AtomicLong();
    private final AtomicLong connections = new AtomicLong();
    private final AtomicLong expectedCloses = new AtomicLong();
    private final AtomicLong observedCloses = new AtomicLong();
    private final ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();

    @Test
    void millionFramesWhileAGoodClientVerifies() throws Exception {
        try (LiveServer srv = new LiveServer("""
                [[bdev]]
                name = "fz"
                type = "memory"
                size = "8M"
                block_size = 512
                [[bdev]]
                name = "good"
                type = "memory"
                size = "8M"
                [[nbd.export]]
                name = "fz"
                [[nbd.export]]
                name = "good"
                """, dir)) {
            int port = srv.port();
            AtomicBoolean fuzzing = new AtomicBoolean(true);
            byte[] model = new byte[GOOD_SIZE];
            AtomicLong goodOps = new AtomicLong();
            Thread good = Thread.ofPlatform().name("good-client").start(() -> goodClient(port, model, fuzzing, goodOps));
            long t0 = System.nanoTime();
            Thread[] fuzzers = new Thread[FUZZERS];
            for (int i = 0; i < FUZZERS; i++) {
                long seed = SEED + i;
                fuzzers[i] = Thread.ofPlatform().name("fuzzer-" + i).start(() -> fuzzer(port, seed, FRAMES / FUZZERS + 1));
            }
            for (Thread t : fuzzers) {
                t.join(TimeUnit.MINUTES.toMillis(5));
            }
            fuzzing.set(false);
            good.join(60_000);
            long secs = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
            assertTrue(failures.isEmpty(), () -> "failures: " + List.copyOf(failures));
            assertTrue(framesSent.get() >= FRAMES, "sent " + framesSent.get() + " frames");
            assertEquals(expectedCloses.get(), observedCloses.get(),
                    "the server closed every connection whose framing broke");
            assertTrue(goodOps.get() > 100, "the good client made progress: " + goodOps.get() + " ops");
            System.out.printf("fuzz: %d frames over %d connections in %d s; good client %d verified ops%n",
                    framesSent.get(), connections.get(), secs, goodOps.get());

            long deadline = System.currentTimeMillis() + 20_000;
            while (srv.server.connectionCount() > 0 && System.currentTimeMillis() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(0, srv.server.connectionCount(), "connections left behind");
            assertArrayEquals(model, srv.contents("good"), "the good client's export changed behind its back");
            ByteBuffer fz = ByteBuffer.wrap(srv.contents("fz")).order(ByteOrder.LITTLE_ENDIAN);
            long stamped = 0;
            for (int o = 0; o < FZ_SIZE; o += 8) {
                long w = fz.getLong(o);
                if (w != 0) {
                    assertEquals(o, w, "word at " + o + " holds a stamp from elsewhere: a write landed off its range");
                    stamped++;
                }
            }
            assertTrue(stamped > 0, "no fuzzed write ever executed: the fuzzer is not reaching the device");
            try (RawClient c = RawClient.transmitting(port, "good")) {
                c.out.write(RawClient.request(0, CMD_READ, 1, 0, 4096));
                assertEquals(0, c.reply(1, new byte[4096]), "server still serves after the fuzz");
            }
        }
    }

    // ---------------------------------------------------------------- the fuzzer

    private void fuzzer(int port, long seed, int quota) {
        Random rnd = new Random(seed);
        long sent = 0;
        try {
            while (sent < quota) {
                sent += rnd.nextInt(10) == 0 ? handshakeSession(port, rnd) : transmissionSession(port, rnd, quota - sent);
                connections.incrementAndGet();
            }
        } catch (Throwable t) {
            failures.add(t);
        }
    }

    /** A reader that drops everything the server sends; {@code eof} is set when the server closed. */
    private record Drain(Thread thread, AtomicBoolean eof) {
        void join() throws InterruptedException {
            thread.join(20_000);
        }
    }

    private static Drain drain(Socket s) {
        AtomicBoolean eof = new AtomicBoolean();
        Thread t = Thread.ofVirtual().start(() -> {
            byte[] sink = new byte[1 << 16];
            try {
                InputStream in = s.getInputStream();
                while (in.read(sink) >= 0) {
                    // discard replies
                }
                eof.set(true);
            } catch (IOException e) {
                // our own close, or a reset
            }
        });
        return new Drain(t, eof);
    }

    private long handshakeSession(int port, Random rnd) throws IOException, InterruptedException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(20_000);
            Drain reader = drain(s);
            ByteArrayOutputStream o = new ByteArrayOutputStream();
            o.writeBytes(RawClient.clientFlags(rnd.nextInt(8) == 0 ? rnd.nextInt() : rnd.nextInt(4)));
            int n = 1 + rnd.nextInt(40);
            for (int i = 0; i < n; i++) {
                byte[] data = new byte[rnd.nextInt(4) == 0 ? rnd.nextInt(300) : rnd.nextInt(16)];
                rnd.nextBytes(data);
                int opt = rnd.nextInt(4) == 0 ? rnd.nextInt() : rnd.nextInt(14);
                if (opt == OPT_EXPORT_NAME || opt == OPT_GO || opt == OPT_STARTTLS) {
                    opt = OPT_LIST; // keep the session in negotiation
                }
                byte[] f = RawClient.option(opt, data);
                if (rnd.nextInt(20) == 0) {
                    f[rnd.nextInt(f.length)] ^= (byte) (1 << rnd.nextInt(8));
                }
                o.writeBytes(f);
            }
            try {
                s.getOutputStream().write(o.toByteArray());
            } catch (IOException e) {
                // the server may already have closed on a bad frame
            }
            framesSent.addAndGet(n);
            s.shutdownOutput();
            reader.join();
            return n;
        }
    }

    private long transmissionSession(int port, Random rnd, long left) throws IOException, InterruptedException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(20_000);
            s.setTcpNoDelay(true);
            Drain reader = drain(s);
            OutputStream out = s.getOutputStream();
            ByteArrayOutputStream o = new ByteArrayOutputStream(1 << 20);
            o.writeBytes(RawClient.clientFlags(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES));
            if (rnd.nextBoolean()) {
                o.writeBytes(RawClient.option(OPT_STRUCTURED_REPLY, new byte[0]));
            }
            o.writeBytes(RawClient.option(OPT_EXPORT_NAME, "fz".getBytes(StandardCharsets.UTF_8)));
            int budget = (int) Math.min(left, 500 + rnd.nextInt(20_000));
            int frames = 0;
            boolean broken = false;
            while (frames < budget && !broken) {
                broken = frame(rnd, o);
                frames++;
                if (o.size() > (256 << 10)) {
                    out.write(o.toByteArray());
                    o.reset();
                }
            }
            out.write(o.toByteArray());
            framesSent.addAndGet(frames);
            if (broken) {
                expectedCloses.incrementAndGet();
                reader.join(); // the server must hang up by itself
                if (reader.eof().get()) {
                    observedCloses.incrementAndGet();
                }
            } else {
                s.shutdownOutput();
                reader.join();
            }
            return frames;
        }
    }

    /** Appends one request (plus payload); returns true when it must end the connection. */
    private static boolean frame(Random rnd, ByteArrayOutputStream o) {
        int r = rnd.nextInt(1000);
        if (r < 2) {
            byte[] f = RawClient.request(0, CMD_READ, 1, 0, 512);
            f[rnd.nextInt(4)] ^= (byte) (1 << rnd.nextInt(8)); // broken magic
            o.writeBytes(f);
            return true;
        }
        if (r < 4) {
            o.writeBytes(RawClient.request(0, CMD_DISC, 2, 0, 0));
            return true;
        }
        if (r < 6) {
            o.writeBytes(RawClient.request(0, CMD_WRITE, 3, 0, MAX_PAYLOAD + 512 * (1 + rnd.nextInt(100))));
            return true;
        }
        int type = rnd.nextInt(10) < 7 ? rnd.nextInt(8) : rnd.nextInt(10) < 5 ? rnd.nextInt(16) : rnd.nextInt(65536);
        if (type == CMD_DISC) {
            type = CMD_READ;
        }
        int flags = rnd.nextBoolean() ? 0 : rnd.nextBoolean() ? 1 << rnd.nextInt(6) : rnd.nextInt(65536);
        long offset = switch (rnd.nextInt(6)) {
            case 0 -> 0;
            case 1 -> rnd.nextLong();
            case 2 -> FZ_SIZE - 512L * rnd.nextInt(4);
            case 3 -> rnd.nextInt(FZ_SIZE + 4096);
            default -> 512L * rnd.nextInt(FZ_SIZE / 512);
        };
        long length = switch (rnd.nextInt(6)) {
            case 0 -> 0;
            case 1 -> Integer.toUnsignedLong(rnd.nextInt());
            case 2 -> rnd.nextInt(70_000);
            default -> 512L * (1 + rnd.nextInt(64));
        };
        if (type == CMD_WRITE && length > (256 << 10)) {
            if (length > MAX_PAYLOAD) {
                o.writeBytes(RawClient.request(flags, type, 4, offset, (int) length));
                return true; // over the maximum payload: the server hangs up
            }
            length = 512L * (1 + rnd.nextInt(64));
        }
        if (rnd.nextInt(5) == 0) {
            // Bit flips in the fields (not the magic): the header stays a header.
            switch (rnd.nextInt(3)) {
                case 0 -> flags ^= 1 << rnd.nextInt(16);
                case 1 -> offset ^= 1L << rnd.nextInt(64);
                default -> length ^= 1L << rnd.nextInt(type == CMD_WRITE ? 18 : 32);
            }
        }
        o.writeBytes(RawClient.request(flags, type, rnd.nextLong(), offset, (int) length));
        if (type == CMD_WRITE) {
            o.writeBytes(stamped(offset, (int) length));
        }
        return false;
    }

    /** Payload for a write at {@code offset}: each byte is its position's 8-byte-word offset, little-endian. */
    private static byte[] stamped(long offset, int length) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            long p = offset + i;
            b[i] = (byte) ((p & ~7L) >>> (8 * (p & 7)));
        }
        return b;
    }

    // ---------------------------------------------------------------- the good client

    private void goodClient(int port, byte[] model, AtomicBoolean running, AtomicLong ops) {
        Random rnd = new Random(SEED ^ 0x600d);
        try (RawClient c = RawClient.transmitting(port, "good")) {
            long cookie = 1;
            while (running.get()) {
                int off = 4096 * rnd.nextInt(GOOD_SIZE / 4096 - 16);
                int len = 4096 * (1 + rnd.nextInt(16));
                byte[] data = new byte[len];
                rnd.nextBytes(data);
                c.out.write(RawClient.concat(RawClient.request(0, CMD_WRITE, cookie, off, len), data));
                assertEquals(0, c.reply(cookie++, null), "good write failed");
                System.arraycopy(data, 0, model, off, len);
                int roff = 4096 * rnd.nextInt(GOOD_SIZE / 4096 - 16);
                byte[] back = new byte[len];
                c.out.write(RawClient.request(0, CMD_READ, cookie, roff, len));
                assertEquals(0, c.reply(cookie++, back), "good read failed");
                assertArrayEquals(java.util.Arrays.copyOfRange(model, roff, roff + len), back,
                        "good client read wrong data at " + roff);
                ops.addAndGet(2);
            }
        } catch (Throwable t) {
            failures.add(t);
        }
    }
}
