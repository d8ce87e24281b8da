package org.orionos.host.nbd.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.orionos.host.nbd.protocol.NbdWire.*;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** TEST ONLY: a blocking NBD client that writes raw frames, so tests can send anything. */
final class RawClient implements AutoCloseable {
    final Socket socket;
    final DataInputStream in;
    final OutputStream out;
    long exportSize;

    RawClient(int port) throws IOException {
        socket = new Socket(InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout(20_000);
        socket.setTcpNoDelay(true);
        in = new DataInputStream(new java.io.BufferedInputStream(socket.getInputStream(), 1 << 16));
        out = socket.getOutputStream();
    }

    /** Reads the greeting. */
    RawClient greeted() throws IOException {
        assertEquals(NBDMAGIC, in.readLong());
        assertEquals(IHAVEOPT, in.readLong());
        in.readUnsignedShort();
        return this;
    }

    /** Greeting, fixed-newstyle + no-zeroes flags, EXPORT_NAME: simple replies. */
    static RawClient transmitting(int port, String export) throws IOException {
        RawClient c = new RawClient(port).greeted();
        c.out.write(concat(clientFlags(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES),
                option(OPT_EXPORT_NAME, export.getBytes(StandardCharsets.UTF_8))));
        c.exportSize = c.in.readLong();
        c.in.readUnsignedShort();
        return c;
    }

    static byte[] clientFlags(int flags) {
        return ByteBuffer.allocate(4).putInt(flags).array();
    }

    static byte[] option(int opt, byte[] data) {
        return ByteBuffer.allocate(16 + data.length).putLong(IHAVEOPT).putInt(opt).putInt(data.length).put(data).array();
    }

    static byte[] request(int flags, int type, long cookie, long offset, int length) {
        return ByteBuffer.allocate(28).putInt(REQUEST_MAGIC).putShort((short) flags).putShort((short) type)
                .putLong(cookie).putLong(offset).putInt(length).array();
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        ByteBuffer b = ByteBuffer.allocate(n);
        for (byte[] p : parts) {
            b.put(p);
        }
        return b.array();
    }

    /** One simple reply: returns the error, checks the cookie, reads {@code data} if given and OK. */
    int reply(long cookie, byte[] data) throws IOException {
        assertEquals(SIMPLE_REPLY_MAGIC, in.readInt());
        int err = in.readInt();
        assertEquals(cookie, in.readLong());
        if (err == 0 && data != null) {
            in.readFully(data);
        }
        return err;
    }

    /** True once the server closed the connection (EOF or reset), reading and dropping anything before. */
    boolean closedByServer() {
        try {
            byte[] sink = new byte[65536];
            while (in.read(sink) >= 0) {
                // drain until EOF
            }
            return true;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset counts as closed
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
