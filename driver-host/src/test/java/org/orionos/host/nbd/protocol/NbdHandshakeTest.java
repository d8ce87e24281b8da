package org.orionos.host.nbd.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.orionos.host.nbd.protocol.Frames.*;
import static org.orionos.host.nbd.protocol.NbdWire.*;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class NbdHandshakeTest {
    private static final int FIXED_NZ = FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES;
    private final TestCatalog catalog = TestCatalog.standard(TlsMode.OPTIONAL);

    private static List<Reply> exchange(NbdHandshake hs, byte[] option) {
        feed(hs, option);
        return replies(drain(hs));
    }

    private static void assertSingle(List<Reply> r, int opt, int type) {
        assertEquals(1, r.size(), r::toString);
        assertEquals(opt, r.get(0).option());
        assertEquals(type, r.get(0).type(), () -> "reply type 0x" + Integer.toHexString(r.get(0).type())
                + " " + r.get(0).text());
    }

    @Test
    void greetingIsNbdmagicIhaveoptAndFlags() {
        NbdHandshake hs = new NbdHandshake(catalog);
        ByteBuffer g = ByteBuffer.wrap(drain(hs));
        assertEquals(GREETING_SIZE, g.remaining());
        assertEquals(NBDMAGIC, g.getLong());
        assertEquals(IHAVEOPT, g.getLong());
        assertEquals(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES, g.getShort());
        assertEquals(NbdHandshake.State.NEGOTIATING, hs.state());
    }

    @Test
    void unknownClientFlagsClose() {
        NbdHandshake hs = negotiating(catalog, FLAG_C_FIXED_NEWSTYLE | 4);
        assertEquals(NbdHandshake.State.CLOSED, hs.state());
        assertTrue(hs.closeReason().contains("client flags"));
        assertFalse(hs.hasOutput());
    }

    @Test
    void wrongOptionMagicCloses() {
        NbdHandshake hs = negotiating(catalog, FIXED_NZ);
        byte[] bad = option(OPT_LIST);
        bad[0] ^= 1;
        feed(hs, bad);
        assertEquals(NbdHandshake.State.CLOSED, hs.state());
        assertTrue(hs.closeReason().contains("IHAVEOPT"));
    }

    @Test
    void exportNameWithAndWithoutZeroes() {
        NbdHandshake hs = negotiating(catalog, FIXED_NZ);
        feed(hs, option(OPT_EXPORT_NAME, "disk".getBytes()));
        assertEquals(NbdHandshake.State.TRANSMISSION, hs.state());
        ByteBuffer b = ByteBuffer.wrap(drain(hs));
        assertEquals(10, b.remaining());
        assertEquals(64L << 20, b.getLong());
        int flags = Short.toUnsignedInt(b.getShort());
        assertEquals(FLAG_HAS_FLAGS, flags & FLAG_HAS_FLAGS);
        assertEquals(0, flags & FLAG_SEND_DF, "DF needs structured replies");
        assertFalse(hs.transmission().structuredReplies());
        assertFalse(hs.transmission().blockSizeAgreed());

        NbdHandshake old = negotiating(catalog, FLAG_C_FIXED_NEWSTYLE);
        feed(old, option(OPT_EXPORT_NAME));
        byte[] r = drain(old);
        assertEquals(10 + 124, r.length);
        assertTrue(Arrays.equals(new byte[124], Arrays.copyOfRange(r, 10, r.length)));
        assertEquals("disk", old.transmission().export().name(), "empty name is the default export");
    }

    @Test
    void exportNameUnknownTlsOnlyOrSizeRequiredCloses() {
        for (String name : List.of("nope", "secret", "aligned")) {
            NbdHandshake hs = negotiating(catalog, FIXED_NZ);
            feed(hs, option(OPT_EXPORT_NAME, name.getBytes()));
            assertEquals(NbdHandshake.State.CLOSED, hs.state(), name);
            assertFalse(hs.hasOutput(), name);
        }
    }

    @Test
    void bytesAfterTheFinalOptionAreLeftForTransmission() {
        NbdHandshake hs = negotiating(catalog, FIXED_NZ);
        byte[] go = option(OPT_GO, infoData("disk"));
        byte[] req = request(0, CMD_READ, 1, 0, 512);
        byte[] both = concat(go, req);
        long used = hs.onInput(MemorySegment.ofArray(both), both.length);
        assertEquals(go.length, used);
        assertEquals(NbdHandshake.State.TRANSMISSION, hs.state());
    }

    @Test
    void abortAcksThenCloses() {
        NbdHandshake hs = negotiating(catalog, FIXED_NZ);
        List<Reply> r = exchange(hs, option(OPT_ABORT, new byte[] {1, 2, 3}));
        assertSingle(r, OPT_ABORT, REP_ACK);
        assertEquals(NbdHandshake.State.CLOSED, hs.state());
    }

    @Test
    void listSendsServersWithDescriptionsThenAckAndHidesTlsOnly() {
        NbdHandshake hs = negotiating(catalog, FIXED_NZ);
        List<Reply> r = exchange(hs, option(OPT_LIST));
        assertEquals(6, r.size());
        Reply first = r.get(0);
        assertEquals(REP_SERVER, first.type());
        ByteBuffer d = first.buf();
        int nl = d.getInt();
        assertEquals("disk", new String(first.data(), 4, nl));
        assertEquals("in-memory test disk", new String(first.data(), 4 + nl, first.data().length - 4 - nl));
        assertTrue(r.stream().noneMatch(x -> x.text().contains("secret")));
        assertEquals(REP_ACK, r.get(5).type());

        assertSingle(exchange(hs, option(OPT_LIST, new byte[1])), OPT_LIST, REP_ERR_INVALID);
        assertEquals(NbdHandshake.State.NEGOTIATING, hs.state());
    }

    @Test
    void infoHonoursRequestedItemsAndStaysNegotiating() {
        NbdHandshake hs = negotiating(catalog, FIXED_NZ);
        List<Reply> r = exchange(hs, option(OPT_INFO, infoData("disk", INFO_NAME, INFO_DESCRIPTION, INFO_BLOCK_SIZE, 99)));
        assertEquals(5, r.size(), r::toString);
        ByteBuffer export = r.get(0).buf();
        assertEquals(REP_INFO, r.get(0).type());
        assertEquals(12, export.remaining());
        assertEquals(INFO_EXPORT, export.getShort());
        assertEquals(64L << 20, export.getLong());
        assertEquals(INFO_NAME, r.get(1).buf().getShort());
        assertEquals("disk", new String(r.get(1).data(), 2, r.get(1).data().length - 2));
        assertEquals(INFO_DESCRIPTION, r.get(2).buf().getShort());
        ByteBuffer bs = r.get(3).buf();
        assertEquals(14, bs.remaining());
        assertEquals(INFO_BLOCK_SIZE, bs.getShort());
        assertEquals(1, bs.getInt());
        assertEquals(4096, bs.getInt());
        assertEquals(MAX_PAYLOAD, bs.getInt());
        assertEquals(REP_ACK, r.get(4).type());
        assertEquals(NbdHandshake.State.NEGOTIATING, hs.state());

        List<Reply> bare = exchange(hs, option(OPT_INFO, infoData("disk")));
        assertEquals(2, bare.size(), "only INFO_EXPORT and ACK when nothing is requested");
    }

    @Test
    void goEntersTransmissionWithNegotiatedParams() {
        NbdHandshake hs = negotiating(catalog, FIXED_NZ);
        assertSingle(exchange(hs, option(OPT_STRUCTURED_REPLY)), OPT_STRUCTURED_REPLY, REP_ACK);
        List<Reply> ctx = exchange(hs, option(OPT_SET_META_CONTEXT, metaData("disk", "base:allocation")));
        assertEquals(REP_META_CONTEXT, ctx.get(0).type());
        assertEquals(NbdHandshake.ALLOCATION_CONTEXT_ID, ctx.get(0).buf().getInt());
        List<Reply> r = exchange(hs, option(OPT_GO, infoData("disk", INFO_BLOCK_SIZE)));
        assertEquals(REP_ACK, r.get(r.size() - 1).type());
        TransmissionParams p = hs.transmission();
        assertNotNull(p);
        assertTrue(p.structuredReplies());
        assertFalse(p.extendedHeaders());
        assertTrue(p.blockSizeAgreed());
        assertEquals(NbdHandshake.ALLOCATION_CONTEXT_ID, p.allocationContextId());
        assertEquals(FLAG_SEND_DF, p.transmissionFlags() & FLAG_SEND_DF);
        assertEquals(NbdHandshake.State.TRANSMISSION, hs.state());
        assertEquals(28, p.requestHeaderSize());
    }

    @Test
    void goErrors() {
        NbdHandshake hs = negotiating(catalog, FIXED_NZ);
        assertSingle(exchange(hs, option(OPT_GO, infoData("nope"))), OPT_GO, REP_ERR_UNKNOWN);
        assertSingle(exchange(hs, option(OPT_GO, infoData("secret"))), OPT_GO, REP_ERR_TLS_REQD);
        // Block size required: INFO_BLOCK_SIZE first, then the error.
        List<Reply> r = exchange(hs, option(OPT_GO, infoData("aligned")));
        assertEquals(2, r.size());
        assertEquals(INFO_BLOCK_SIZE, r.get(0).buf().getShort());
        assertEquals(REP_ERR_BLOCK_SIZE_REQD, r.get(1).type());
        // INFO is allowed without the request (the client is not committing).
        r = exchange(hs, option(OPT_INFO, infoData("aligned")));
        assertEquals(REP_ACK, r.get(r.size() - 1).type());
        assertTrue(r.stream().anyMatch(x -> x.type() == REP_INFO && x.buf().getShort() == INFO_BLOCK_SIZE),
                "non-default constraints are always sent");
        // Malformed lengths
        assertSingle(exchange(hs, option(OPT_GO, new byte[5])), OPT_GO, REP_ERR_INVALID);
        byte[] bad = infoData("disk", INFO_NAME);
        ByteBuffer.wrap(bad).putInt(0, 1000);
        assertSingle(exchange(hs, option(OPT_GO, bad)), OPT_GO, REP_ERR_INVALID);
        assertSingle(exchange(hs, option(OPT_GO, Arrays.copyOf(infoData("disk", INFO_NAME), 11))), OPT_GO,
                REP_ERR_INVALID);
        byte[] nul = infoData("di\0k");
        assertSingle(exchange(hs, option(OPT_GO, nul)), OPT_GO, REP_ERR_INVALID);
        byte[] badUtf8 = infoData("disk");
        badUtf8[4] = (byte) 0xff;
        assertSingle(exchange(hs, option(OPT_GO, badUtf8)), OPT_GO, REP_ERR_INVALID);
        assertSingle(exchange(hs, option(OPT_GO, infoData("x".repeat(4097)))), OPT_GO, REP_ERR_INVALID);
        assertEquals(NbdHandshake.State.NEGOTIATING, hs.state());
        // And after all that, a good GO still works.
        exchange(hs, option(OPT_GO, infoData("aligned", INFO_BLOCK_SIZE)));
        assertEquals(NbdHandshake.State.TRANSMISSION, hs.state());
        assertTrue(hs.transmission().blockSizeAgreed());
    }

    @Test
    void unknownOptionsAreUnsupportedAndNegotiationContinues() {
        NbdHandshake hs = negotiating(catalog, FIXED_NZ);
        assertSingle(exchange(hs, option(OPT_PEEK_EXPORT)), OPT_PEEK_EXPORT, REP_ERR_UNSUP);
        assertSingle(exchange(hs, option(0x7777, new byte[100])), 0x7777, REP_ERR_UNSUP);
        assertSingle(exchange(hs, option(-1, new byte[3])), -1, REP_ERR_UNSUP);
        exchange(hs, option(OPT_GO, infoData("disk")));
        assertEquals(NbdHandshake.State.TRANSMISSION, hs.state());
    }

    @Test
    void oversizedOptionDataIsDiscardedWithTooBigOrCloses() {
        NbdHandshake hs = negotiating(catalog, FIXED_NZ);
        byte[] big = option(OPT_GO, new byte[NbdHandshake.MAX_OPTION_DATA + 1]);
        assertSingle(exchange(hs, big), OPT_GO, REP_ERR_TOO_BIG);
        assertEquals(NbdHandshake.State.NEGOTIATING, hs.state());

        ByteBuffer huge = ByteBuffer.allocate(16).putLong(IHAVEOPT).putInt(OPT_INFO)
                .putInt((int) NbdHandshake.MAX_OPTION_DISCARD + 1);
        feed(hs, huge.array());
        assertEquals(NbdHandshake.State.CLOSED, hs.state());

        NbdHandshake en = negotiating(catalog, FIXED_NZ);
        feed(en, ByteBuffer.allocate(16).putLong(IHAVEOPT).putInt(OPT_EXPORT_NAME).putInt(5000).array());
        assertEquals(NbdHandshake.State.CLOSED, en.state());
    }

    @Test
    void structuredAndExtendedHeaders() {
        NbdHandshake hs = negotiating(catalog, FIXED_NZ);
        assertSingle(exchange(hs, option(OPT_STRUCTURED_REPLY, new byte[1])), OPT_STRUCTURED_REPLY, REP_ERR_INVALID);
        assertSingle(exchange(hs, option(OPT_EXTENDED_HEADERS, new byte[2])), OPT_EXTENDED_HEADERS, REP_ERR_INVALID);
        assertSingle(exchange(hs, option(OPT_EXTENDED_HEADERS)), OPT_EXTENDED_HEADERS, REP_ACK);
        assertSingle(exchange(hs, option(OPT_EXTENDED_HEADERS)), OPT_EXTENDED_HEADERS, REP_ERR_INVALID);
        assertSingle(exchange(hs, option(OPT_STRUCTURED_REPLY)), OPT_STRUCTURED_REPLY, REP_ERR_EXT_HEADER_REQD);
        // Extended headers imply structured replies, so metadata contexts may be negotiated.
        List<Reply> ctx = exchange(hs, option(OPT_SET_META_CONTEXT, metaData("disk", "base:allocation")));
        assertEquals(2, ctx.size());
        exchange(hs, option(OPT_GO, infoData("disk")));
        TransmissionParams p = hs.transmission();
        assertTrue(p.extendedHeaders());
        assertTrue(p.structuredReplies());
        assertEquals(32, p.requestHeaderSize());
        assertEquals(FLAG_SEND_DF, p.transmissionFlags() & FLAG_SEND_DF);

        NbdHandshake en = negotiating(catalog, FIXED_NZ);
        exchange(en, option(OPT_EXTENDED_HEADERS));
        feed(en, option(OPT_EXPORT_NAME, "disk".getBytes()));
        assertEquals(NbdHandshake.State.CLOSED, en.state(), "EXPORT_NAME has no extended-header form");

        NbdHandshake sr = negotiating(catalog, FIXED_NZ);
        assertSingle(exchange(sr, option(OPT_STRUCTURED_REPLY)), OPT_STRUCTURED_REPLY, REP_ACK);
        assertSingle(exchange(sr, option(OPT_STRUCTURED_REPLY)), OPT_STRUCTURED_REPLY, REP_ERR_INVALID);
        assertSingle(exchange(sr, option(OPT_EXTENDED_HEADERS)), OPT_EXTENDED_HEADERS, REP_ACK);
    }

    @Test
    void metaContextQueries() {
        NbdHandshake hs = negotiating(catalog, FIXED_NZ);
        assertSingle(exchange(hs, option(OPT_LIST_META_CONTEXT, metaData("disk"))), OPT_LIST_META_CONTEXT,
                REP_ERR_INVALID); // before structured replies
        assertSingle(exchange(hs, option(OPT_SET_META_CONTEXT, metaData("disk", "base:allocation"))),
                OPT_SET_META_CONTEXT, REP_ERR_INVALID);
        exchange(hs, option(OPT_STRUCTURED_REPLY));

        List<Reply> all = exchange(hs, option(OPT_LIST_META_CONTEXT, metaData("disk")));
        assertEquals(2, all.size());
        ByteBuffer c = all.get(0).buf();
        assertEquals(0, c.getInt(), "LIST replies carry the reserved id 0");
        assertEquals(CONTEXT_BASE_ALLOCATION, new String(all.get(0).data(), 4, all.get(0).data().length - 4));
        assertEquals(2, exchange(hs, option(OPT_LIST_META_CONTEXT, metaData("disk", "base:"))).size());
        assertEquals(2, exchange(hs, option(OPT_LIST_META_CONTEXT, metaData("disk", "qemu:dirty", "base:allocation"))).size());
        assertSingle(exchange(hs, option(OPT_LIST_META_CONTEXT, metaData("disk", "qemu:x", "base:nothing", "nocolon"))),
                OPT_LIST_META_CONTEXT, REP_ACK);
        assertSingle(exchange(hs, option(OPT_LIST_META_CONTEXT, metaData("slowzero"))), OPT_LIST_META_CONTEXT, REP_ACK);
        assertSingle(exchange(hs, option(OPT_LIST_META_CONTEXT, metaData("nope"))), OPT_LIST_META_CONTEXT,
                REP_ERR_UNKNOWN);

        // SET: "base:" and an empty list select nothing.
        assertSingle(exchange(hs, option(OPT_SET_META_CONTEXT, metaData("disk", "base:"))), OPT_SET_META_CONTEXT, REP_ACK);
        assertSingle(exchange(hs, option(OPT_SET_META_CONTEXT, metaData("disk"))), OPT_SET_META_CONTEXT, REP_ACK);

        // Malformed query lists
        byte[] truncated = metaData("disk", "base:allocation");
        assertSingle(exchange(hs, option(OPT_SET_META_CONTEXT, Arrays.copyOf(truncated, truncated.length - 1))),
                OPT_SET_META_CONTEXT, REP_ERR_INVALID);
        byte[] count = metaData("disk", "base:allocation");
        ByteBuffer.wrap(count).putInt(8, 0x7fffffff);
        assertSingle(exchange(hs, option(OPT_SET_META_CONTEXT, count)), OPT_SET_META_CONTEXT, REP_ERR_INVALID);
        assertSingle(exchange(hs, option(OPT_SET_META_CONTEXT, concat(metaData("disk"), new byte[3]))),
                OPT_SET_META_CONTEXT, REP_ERR_INVALID);
        assertSingle(exchange(hs, option(OPT_SET_META_CONTEXT, metaData("disk", "base:" + "a".repeat(4096)))),
                OPT_SET_META_CONTEXT, REP_ERR_INVALID);

        // Contexts selected for another export do not carry over to GO.
        assertEquals(2, exchange(hs, option(OPT_SET_META_CONTEXT, metaData("ro", "base:allocation"))).size());
        exchange(hs, option(OPT_GO, infoData("disk")));
        assertEquals(0, hs.transmission().allocationContextId());
    }

    @Test
    void failedSetMetaContextClearsTheSelection() {
        NbdHandshake hs = negotiating(catalog, FIXED_NZ);
        exchange(hs, option(OPT_STRUCTURED_REPLY));
        assertEquals(2, exchange(hs, option(OPT_SET_META_CONTEXT, metaData("disk", "base:allocation"))).size());
        assertSingle(exchange(hs, option(OPT_SET_META_CONTEXT, metaData("nope", "base:allocation"))),
                OPT_SET_META_CONTEXT, REP_ERR_UNKNOWN);
        exchange(hs, option(OPT_GO, infoData("disk")));
        assertEquals(0, hs.transmission().allocationContextId());
    }

    @Test
    void startTlsModes() {
        NbdHandshake off = negotiating(TestCatalog.standard(TlsMode.OFF), FIXED_NZ);
        assertSingle(exchange(off, option(OPT_STARTTLS)), OPT_STARTTLS, REP_ERR_POLICY);
        assertSingle(exchange(off, option(OPT_GO, infoData("secret"))), OPT_GO, REP_ERR_POLICY);

        NbdHandshake notFixed = negotiating(catalog, 0);
        assertSingle(exchange(notFixed, option(OPT_STARTTLS)), OPT_STARTTLS, REP_ERR_POLICY);

        NbdHandshake opt = negotiating(catalog, FIXED_NZ);
        exchange(opt, option(OPT_STRUCTURED_REPLY));
        exchange(opt, option(OPT_SET_META_CONTEXT, metaData("disk", "base:allocation")));
        assertSingle(exchange(opt, option(OPT_STARTTLS, new byte[1])), OPT_STARTTLS, REP_ERR_INVALID);
        assertSingle(exchange(opt, option(OPT_STARTTLS)), OPT_STARTTLS, REP_ACK);
        assertEquals(NbdHandshake.State.START_TLS, opt.state());
        byte[] next = option(OPT_LIST);
        assertEquals(0, opt.onInput(MemorySegment.ofArray(next), next.length), "nothing is consumed until TLS is up");
        opt.tlsEstablished();
        assertEquals(NbdHandshake.State.NEGOTIATING, opt.state());
        assertSingle(exchange(opt, option(OPT_STARTTLS)), OPT_STARTTLS, REP_ERR_INVALID);
        // Negotiated state from before TLS is forgotten.
        assertSingle(exchange(opt, option(OPT_SET_META_CONTEXT, metaData("disk", "base:allocation"))),
                OPT_SET_META_CONTEXT, REP_ERR_INVALID);
        List<Reply> list = exchange(opt, option(OPT_LIST));
        assertTrue(list.stream().anyMatch(x -> x.text().contains("secret")), "TLS-only exports listed under TLS");
        exchange(opt, option(OPT_GO, infoData("secret")));
        assertEquals(NbdHandshake.State.TRANSMISSION, opt.state());
        assertTrue(opt.transmission().tls());
        assertFalse(opt.transmission().structuredReplies());
        assertThrows(IllegalStateException.class, opt::tlsEstablished);
    }

    @Test
    void forcedTlsRefusesEverythingButStartTlsAndAbort() {
        NbdHandshake hs = negotiating(TestCatalog.standard(TlsMode.REQUIRED), FIXED_NZ);
        for (int opt : new int[] {OPT_LIST, OPT_INFO, OPT_GO, OPT_STRUCTURED_REPLY, OPT_LIST_META_CONTEXT,
                OPT_SET_META_CONTEXT, OPT_EXTENDED_HEADERS, 0x4242}) {
            assertSingle(exchange(hs, option(opt, infoData("disk"))), opt, REP_ERR_TLS_REQD);
        }
        assertSingle(exchange(hs, option(OPT_STARTTLS)), OPT_STARTTLS, REP_ACK);
        hs.tlsEstablished();
        assertSingle(exchange(hs, option(OPT_STRUCTURED_REPLY)), OPT_STRUCTURED_REPLY, REP_ACK);

        NbdHandshake en = negotiating(TestCatalog.standard(TlsMode.REQUIRED), FIXED_NZ);
        feed(en, option(OPT_EXPORT_NAME, "disk".getBytes()));
        assertEquals(NbdHandshake.State.CLOSED, en.state());

        NbdHandshake ab = negotiating(TestCatalog.standard(TlsMode.REQUIRED), FIXED_NZ);
        assertSingle(exchange(ab, option(OPT_ABORT)), OPT_ABORT, REP_ACK);
        assertEquals(NbdHandshake.State.CLOSED, ab.state());
    }

    @Test
    void shutdownAnswersErrShutdown() {
        NbdHandshake hs = negotiating(catalog, FIXED_NZ);
        hs.beginShutdown();
        assertSingle(exchange(hs, option(OPT_GO, infoData("disk"))), OPT_GO, REP_ERR_SHUTDOWN);
        assertSingle(exchange(hs, option(OPT_ABORT)), OPT_ABORT, REP_ACK);
    }

    @Test
    void tooManyOptionsClose() {
        NbdHandshake hs = negotiating(catalog, FIXED_NZ);
        byte[] unsup = option(0x99);
        for (int i = 0; i < NbdHandshake.MAX_OPTIONS; i++) {
            feed(hs, unsup);
            drain(hs);
        }
        assertEquals(NbdHandshake.State.NEGOTIATING, hs.state());
        feed(hs, unsup);
        assertEquals(NbdHandshake.State.CLOSED, hs.state());
    }

    @Test
    void backpressureStopsConsumingUntilOutputIsSent() {
        NbdHandshake hs = negotiating(catalog, FIXED_NZ);
        byte[] one = option(OPT_LIST);
        byte[] many = new byte[one.length * 2000];
        for (int i = 0; i < 2000; i++) {
            System.arraycopy(one, 0, many, i * one.length, one.length);
        }
        long used = hs.onInput(MemorySegment.ofArray(many), many.length);
        assertTrue(used < many.length, "should stop once replies pile up");
        assertEquals(NbdHandshake.State.NEGOTIATING, hs.state());
        long total = used;
        int replyCount = 0;
        while (total < many.length) {
            replyCount += replies(drain(hs)).size();
            total += hs.onInput(MemorySegment.ofArray(many).asSlice(total), many.length - total);
        }
        replyCount += replies(drain(hs)).size();
        assertEquals(2000 * 6, replyCount, "five servers and an ACK per LIST");
    }

    @Test
    void byteAtATimeFeedingGivesTheSameBytes() {
        byte[] script = concat(clientFlags(FIXED_NZ), option(OPT_STRUCTURED_REPLY), option(OPT_LIST),
                option(OPT_LIST_META_CONTEXT, metaData("disk")), option(OPT_INFO, infoData("ro", INFO_NAME)),
                option(0x1234, new byte[7]), option(OPT_GO, infoData("disk", INFO_BLOCK_SIZE)));
        NbdHandshake whole = new NbdHandshake(catalog);
        feed(whole, script);
        byte[] expected = drain(whole);
        NbdHandshake bytewise = new NbdHandshake(catalog);
        for (byte b : script) {
            assertEquals(1, bytewise.onInput(MemorySegment.ofArray(new byte[] {b}), 1));
        }
        assertArrayEquals(expected, drain(bytewise));
        assertEquals(NbdHandshake.State.TRANSMISSION, bytewise.state());
        assertEquals(whole.transmission(), bytewise.transmission());
        assertNull(bytewise.closeReason());
    }

    @Test
    void readOnlyExportDoesNotAdvertiseWrites() {
        NbdExport ro = catalog.find("ro");
        int f = ro.transmissionFlags(true);
        assertEquals(FLAG_READ_ONLY, f & FLAG_READ_ONLY);
        assertEquals(0, f & (FLAG_SEND_TRIM | FLAG_SEND_WRITE_ZEROES | FLAG_SEND_FAST_ZERO));
        assertEquals(FLAG_ROTATIONAL, f & FLAG_ROTATIONAL);
        NbdExport plain = NbdExport.of("p", 4096, EnumSet.of(NbdExport.Feature.FAST_ZERO));
        assertEquals(FLAG_HAS_FLAGS, plain.transmissionFlags(false), "FAST_ZERO needs WRITE_ZEROES");
    }
}
