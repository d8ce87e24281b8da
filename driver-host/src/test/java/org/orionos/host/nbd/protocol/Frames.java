package org.orionos.host.nbd.protocol;

import static org.orionos.host.nbd.protocol.NbdWire.*;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** TEST ONLY: builds client frames and parses server option replies, independently of the code under test. */
public final class Frames {
    private Frames() {}

    public static byte[] clientFlags(int flags) {
        return ByteBuffer.allocate(4).putInt(flags).array();
    }

    public static byte[] option(int opt, byte[] data) {
        return ByteBuffer.allocate(16 + data.length).putLong(IHAVEOPT).putInt(opt).putInt(data.length).put(data).array();
    }

    public static byte[] option(int opt) {
        return option(opt, new byte[0]);
    }

    public static byte[] infoData(String name, int... infos) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + n.length + 2 + 2 * infos.length).putInt(n.length).put(n);
        b.putShort((short) infos.length);
        for (int i : infos) {
            b.putShort((short) i);
        }
        return b.array();
    }

    public static byte[] metaData(String name, String... queries) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        o.writeBytes(ByteBuffer.allocate(4).putInt(n.length).array());
        o.writeBytes(n);
        o.writeBytes(ByteBuffer.allocate(4).putInt(queries.length).array());
        for (String q : queries) {
            byte[] qb = q.getBytes(StandardCharsets.UTF_8);
            o.writeBytes(ByteBuffer.allocate(4).putInt(qb.length).array());
            o.writeBytes(qb);
        }
        return o.toByteArray();
    }

    public static byte[] request(int flags, int type, long cookie, long offset, int length) {
        return ByteBuffer.allocate(28).putInt(REQUEST_MAGIC).putShort((short) flags).putShort((short) type)
                .putLong(cookie).putLong(offset).putInt(length).array();
    }

    public static byte[] extendedRequest(int flags, int type, long cookie, long offset, long length) {
        return ByteBuffer.allocate(32).putInt(EXTENDED_REQUEST_MAGIC).putShort((short) flags).putShort((short) type)
                .putLong(cookie).putLong(offset).putLong(length).array();
    }

    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            o.writeBytes(p);
        }
        return o.toByteArray();
    }

    /** One option reply as the client would parse it. */
    record Reply(int option, int type, byte[] data) {
        ByteBuffer buf() {
            return ByteBuffer.wrap(data);
        }

        String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    /** Drains the handshake's output. */
    static byte[] drain(NbdHandshake hs) {
        if (!hs.hasOutput()) {
            return new byte[0];
        }
        MemorySegment o = hs.output();
        byte[] b = o.toArray(ValueLayout.JAVA_BYTE);
        hs.consumeOutput(b.length);
        return b;
    }

    /** Parses a sequence of option replies; fails on anything malformed. */
    static List<Reply> replies(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        List<Reply> out = new ArrayList<>();
        while (b.hasRemaining()) {
            if (b.remaining() < 20) {
                throw new AssertionError("truncated option reply header: " + b.remaining() + " bytes");
            }
            long magic = b.getLong();
            if (magic != OPTION_REPLY_MAGIC) {
                throw new AssertionError("bad option reply magic 0x" + Long.toHexString(magic));
            }
            int opt = b.getInt();
            int type = b.getInt();
            int len = b.getInt();
            if (len < 0 || len > b.remaining()) {
                throw new AssertionError("option reply length " + len + " exceeds the " + b.remaining() + " bytes left");
            }
            byte[] d = new byte[len];
            b.get(d);
            out.add(new Reply(opt, type, d));
        }
        return out;
    }

    /** Feeds bytes, asserting everything is consumed. */
    static void feed(NbdHandshake hs, byte[] bytes) {
        long n = hs.onInput(MemorySegment.ofArray(bytes), bytes.length);
        if (n != bytes.length && hs.state() == NbdHandshake.State.NEGOTIATING) {
            throw new AssertionError("consumed " + n + " of " + bytes.length + " while still negotiating");
        }
    }

    /** A handshake past the greeting and client flags. */
    static NbdHandshake negotiating(ExportCatalog catalog, int clientFlags) {
        NbdHandshake hs = new NbdHandshake(catalog);
        drain(hs);
        feed(hs, clientFlags(clientFlags));
        return hs;
    }
}
