package org.orionos.host.nbd.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.orionos.host.nbd.protocol.NbdWire.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ReplyEncoderTest {
    private static final ReplyEncoder SIMPLE = new ReplyEncoder(false, false);
    private static final ReplyEncoder STRUCTURED = new ReplyEncoder(true, false);
    private static final ReplyEncoder EXTENDED = new ReplyEncoder(false, true);
    private static final long COOKIE = 0x1122334455667788L;
    private static final MemorySegment MSG = MemorySegment.ofArray("bad".getBytes(StandardCharsets.UTF_8));

    private final byte[] buf = new byte[8192];
    private final MemorySegment seg = MemorySegment.ofArray(buf);

    /** Bytes written at offset 5 (replies go anywhere in a send buffer). */
    private ByteBuffer at5(int n) {
        return ByteBuffer.wrap(buf, 5, n).slice();
    }

    @Test
    void simpleReplies() {
        assertEquals(16, SIMPLE.ok(seg, 5, COOKIE, 99));
        ByteBuffer b = at5(16);
        assertEquals(SIMPLE_REPLY_MAGIC, b.getInt());
        assertEquals(0, b.getInt());
        assertEquals(COOKIE, b.getLong());

        assertEquals(16, SIMPLE.error(seg, 5, COOKIE, 0, NbdError.EIO, MSG));
        b = at5(16);
        b.getInt();
        assertEquals(NbdError.EIO, b.getInt());

        assertEquals(16, SIMPLE.readData(seg, 5, COOKIE, 0, 0, 4096, true));
        assertEquals(0, at5(16).getInt(4));
        assertThrows(IllegalStateException.class, () -> SIMPLE.readHole(seg, 5, COOKIE, 0, 0, 1, true));
        // Structured connections still answer non-read commands with simple replies.
        assertEquals(16, STRUCTURED.ok(seg, 5, COOKIE, 0));
    }

    @Test
    void structuredChunks() {
        assertEquals(20, STRUCTURED.none(seg, 5, COOKIE, 0));
        ByteBuffer b = at5(20);
        assertEquals(STRUCTURED_REPLY_MAGIC, b.getInt());
        assertEquals(REPLY_FLAG_DONE, b.getShort());
        assertEquals(REPLY_TYPE_NONE, b.getShort());
        assertEquals(COOKIE, b.getLong());
        assertEquals(0, b.getInt());

        assertEquals(28, STRUCTURED.readData(seg, 5, COOKIE, 0, 1 << 20, 65536, false));
        b = at5(28);
        b.getInt();
        assertEquals(0, b.getShort());
        assertEquals(REPLY_TYPE_OFFSET_DATA, b.getShort());
        b.getLong();
        assertEquals(8 + 65536, b.getInt());
        assertEquals(1 << 20, b.getLong());

        assertEquals(32, STRUCTURED.readHole(seg, 5, COOKIE, 0, 4096, 8192, true));
        b = at5(32);
        b.getInt();
        assertEquals(REPLY_FLAG_DONE, b.getShort());
        assertEquals(REPLY_TYPE_OFFSET_HOLE, b.getShort());
        b.getLong();
        assertEquals(12, b.getInt());
        assertEquals(4096, b.getLong());
        assertEquals(8192, b.getInt());

        assertEquals(20 + 6 + 3, STRUCTURED.error(seg, 5, COOKIE, 0, NbdError.EINVAL, MSG));
        b = at5(29);
        b.getInt();
        assertEquals(REPLY_FLAG_DONE, b.getShort());
        assertEquals((short) REPLY_TYPE_ERROR, b.getShort());
        b.getLong();
        assertEquals(9, b.getInt());
        assertEquals(NbdError.EINVAL, b.getInt());
        assertEquals(3, b.getShort());
        assertEquals('b', b.get());

        assertEquals(20 + 14, STRUCTURED.errorOffset(seg, 5, COOKIE, 0, NbdError.EIO, 12345, null, false));
        b = at5(34);
        b.getInt();
        assertEquals(0, b.getShort());
        assertEquals((short) REPLY_TYPE_ERROR_OFFSET, b.getShort());
        b.getLong();
        assertEquals(14, b.getInt());
        assertEquals(NbdError.EIO, b.getInt());
        assertEquals(0, b.getShort());
        assertEquals(12345, b.getLong());
    }

    @Test
    void blockStatusCompactAndExtended() {
        ExtentList e = new ExtentList(8);
        e.add(65536, STATE_HOLE | STATE_ZERO);
        e.add(4096, STATE_HOLE | STATE_ZERO); // merged
        e.add(1 << 20, 0);
        assertEquals(2, e.count());
        int n = STRUCTURED.blockStatus(seg, 5, COOKIE, 0, 1, e, true);
        assertEquals(STRUCTURED.blockStatusSize(2), n);
        ByteBuffer b = at5(n);
        b.getInt();
        assertEquals(REPLY_FLAG_DONE, b.getShort());
        assertEquals(REPLY_TYPE_BLOCK_STATUS, b.getShort());
        b.getLong();
        assertEquals(4 + 16, b.getInt());
        assertEquals(1, b.getInt());
        assertEquals(65536 + 4096, b.getInt());
        assertEquals(3, b.getInt());
        assertEquals(1 << 20, b.getInt());
        assertEquals(0, b.getInt());

        n = EXTENDED.blockStatus(seg, 5, COOKIE, 777, 1, e, true);
        assertEquals(EXTENDED.blockStatusSize(2), n);
        b = at5(n);
        assertEquals(EXTENDED_REPLY_MAGIC, b.getInt());
        assertEquals(REPLY_FLAG_DONE, b.getShort());
        assertEquals(REPLY_TYPE_BLOCK_STATUS_EXT, b.getShort());
        assertEquals(COOKIE, b.getLong());
        assertEquals(777, b.getLong());
        assertEquals(8 + 32, b.getLong());
        assertEquals(1, b.getInt());
        assertEquals(2, b.getInt());
        assertEquals(65536 + 4096, b.getLong());
        assertEquals(3, b.getLong());
        assertEquals(1 << 20, b.getLong());
        assertEquals(0, b.getLong());
    }

    @Test
    void compactBlockStatusCutsExtentsOver32Bits() {
        ExtentList e = new ExtentList(4);
        e.add(4096, 0);
        e.add(6L << 30, STATE_HOLE);
        e.add(4096, 0);
        int n = STRUCTURED.blockStatus(seg, 0, COOKIE, 0, 1, e, true);
        assertEquals(STRUCTURED.blockStatusSize(2), n);
        ByteBuffer b = ByteBuffer.wrap(buf, 24, 16);
        assertEquals(4096, b.getInt());
        b.getInt();
        assertEquals(ReplyEncoder.MAX_COMPACT_EXTENT, Integer.toUnsignedLong(b.getInt()));
        assertEquals(STATE_HOLE, b.getInt());
        assertEquals(0, ReplyEncoder.MAX_COMPACT_EXTENT % 65536);
    }

    @Test
    void extendedRepliesCarryOffsetAndUseNoneForSuccess() {
        assertEquals(32, EXTENDED.ok(seg, 5, COOKIE, 4096));
        ByteBuffer b = at5(32);
        assertEquals(EXTENDED_REPLY_MAGIC, b.getInt());
        assertEquals(REPLY_FLAG_DONE, b.getShort());
        assertEquals(REPLY_TYPE_NONE, b.getShort());
        assertEquals(COOKIE, b.getLong());
        assertEquals(4096, b.getLong());
        assertEquals(0, b.getLong());

        assertEquals(40, EXTENDED.readData(seg, 5, COOKIE, 4096, 4096, 1 << 20, true));
        b = at5(40);
        b.position(24);
        assertEquals(8 + (1 << 20), b.getLong());
        assertEquals(4096, b.getLong());

        assertEquals(32 + 6, EXTENDED.error(seg, 5, COOKIE, 0, NbdError.ENOSPC, null));
        assertEquals(NbdError.ENOSPC, at5(38).getInt(32));
    }

    @Test
    void longMessagesAreCutTo4096() {
        MemorySegment big = MemorySegment.ofArray(new byte[5000]);
        assertEquals(20 + 6 + MAX_STRING, STRUCTURED.error(seg, 0, COOKIE, 0, NbdError.EIO, big));
        assertEquals(MAX_STRING, Short.toUnsignedInt(seg.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(
                java.nio.ByteOrder.BIG_ENDIAN), 24)));
    }
}
