package org.orionos.host.nbd.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.orionos.host.nbd.protocol.Frames.*;
import static org.orionos.host.nbd.protocol.NbdWire.*;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.orionos.host.bdev.backend.MemoryBdev;
import org.orionos.host.nbd.protocol.NbdError;
import org.orionos.host.nbd.protocol.NbdHandshake;

/**
 * Extended headers end to end against the live io_uring server. No client installed here speaks them yet (libnbd
 * 1.14, qemu 7.2), so this test is the client: 32-byte requests in, 32-byte reply headers out,
 * 64-bit block status descriptors.
 */
class ExtendedHeadersLiveTest {

    private record Chunk(int flags, int type, long cookie, long offset, byte[] payload) {}

    private static Chunk chunk(DataInputStream in) throws IOException {
        assertEquals(EXTENDED_REPLY_MAGIC, in.readInt(), "every reply uses the extended header");
        int flags = in.readUnsignedShort();
        int type = in.readUnsignedShort();
        long cookie = in.readLong();
        long offset = in.readLong();
        long length = in.readLong();
        assertTrue(length >= 0 && length < (1 << 26));
        byte[] p = new byte[(int) length];
        in.readFully(p);
        return new Chunk(flags, type, cookie, offset, p);
    }

    private static int optionReply(DataInputStream in, int expectOption) throws IOException {
        assertEquals(OPTION_REPLY_MAGIC, in.readLong());
        assertEquals(expectOption, in.readInt());
        int type = in.readInt();
        in.readFully(new byte[in.readInt()]);
        return type;
    }

    @Test
    void negotiatesAndServesWithExtendedHeaders(@TempDir Path dir) throws Exception {
        try (LiveServer srv = new LiveServer("""
                [[bdev]]
                name = "disk"
                type = "memory"
                size = "64M"
                block_size = 512
                [[nbd.export]]
                name = "disk"
                """, dir);
             Socket s = new Socket(InetAddress.getLoopbackAddress(), srv.port())) {
            s.setSoTimeout(10_000);
            DataInputStream in = new DataInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            in.readFully(new byte[GREETING_SIZE]);
            out.write(concat(clientFlags(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES), option(OPT_EXTENDED_HEADERS)));
            assertEquals(REP_ACK, optionReply(in, OPT_EXTENDED_HEADERS));
            out.write(option(OPT_SET_META_CONTEXT, metaData("disk", CONTEXT_BASE_ALLOCATION)));
            assertEquals(REP_META_CONTEXT, optionReply(in, OPT_SET_META_CONTEXT));
            assertEquals(REP_ACK, optionReply(in, OPT_SET_META_CONTEXT));
            out.write(option(OPT_GO, infoData("disk", INFO_BLOCK_SIZE)));
            int type;
            do {
                type = optionReply(in, OPT_GO);
            } while (type == REP_INFO);
            assertEquals(REP_ACK, type);

            byte[] data = new byte[4096];
            new Random(7).nextBytes(data);
            out.write(concat(extendedRequest(CMD_FLAG_PAYLOAD_LEN, CMD_WRITE, 1, 1 << 20, data.length), data));
            Chunk w = chunk(in);
            assertEquals(REPLY_FLAG_DONE, w.flags());
            assertEquals(REPLY_TYPE_NONE, w.type());
            assertEquals(1, w.cookie());
            assertEquals(1 << 20, w.offset());

            out.write(extendedRequest(CMD_FLAG_DF, CMD_READ, 2, 1 << 20, data.length));
            Chunk r = chunk(in);
            assertEquals(REPLY_TYPE_OFFSET_DATA, r.type());
            assertEquals(REPLY_FLAG_DONE, r.flags());
            assertEquals(1 << 20, java.nio.ByteBuffer.wrap(r.payload()).getLong());
            assertArrayEquals(data, java.util.Arrays.copyOfRange(r.payload(), 8, r.payload().length));

            out.write(extendedRequest(0, CMD_BLOCK_STATUS, 3, 0, 2 << 20));
            Chunk bs = chunk(in);
            assertEquals(REPLY_TYPE_BLOCK_STATUS_EXT, bs.type());
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bs.payload());
            assertEquals(NbdHandshake.ALLOCATION_CONTEXT_ID, b.getInt());
            assertEquals(3, b.getInt());
            assertEquals(1 << 20, b.getLong());
            assertEquals(STATE_HOLE | STATE_ZERO, b.getLong());
            assertEquals(MemoryBdev.CHUNK, b.getLong());
            assertEquals(0, b.getLong());
            assertEquals((1 << 20) - MemoryBdev.CHUNK, b.getLong());
            assertEquals(STATE_HOLE | STATE_ZERO, b.getLong());

            out.write(extendedRequest(0, CMD_READ, 4, 64L << 20, 512));
            Chunk err = chunk(in);
            assertEquals(REPLY_TYPE_ERROR, err.type());
            assertEquals(REPLY_FLAG_DONE, err.flags());
            assertEquals(NbdError.EINVAL, java.nio.ByteBuffer.wrap(err.payload()).getInt());

            // A trim of the whole export in one request (a length only extended headers can carry).
            out.write(extendedRequest(0, CMD_TRIM, 5, 0, 64L << 20));
            assertEquals(REPLY_TYPE_NONE, chunk(in).type());
            out.write(extendedRequest(0, CMD_READ, 6, 1 << 20, 4096));
            Chunk trimmed = chunk(in);
            assertEquals(REPLY_TYPE_OFFSET_DATA, trimmed.type(), "the server answers reads with data, holes included");
            assertArrayEquals(new byte[4096], java.util.Arrays.copyOfRange(trimmed.payload(), 8, trimmed.payload().length));

            out.write(extendedRequest(0, CMD_DISC, 7, 0, 0));
            assertEquals(-1, in.read());
        }
    }
}
