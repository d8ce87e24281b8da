package org.orionos.host.nbd.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.orionos.host.nbd.protocol.Frames.*;
import static org.orionos.host.nbd.protocol.NbdWire.*;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Seeded fuzzing of the handshake state machine and the request decoder: random, mutated and
 * valid frames, fed in random pieces. Checks that nothing throws, every byte the server emits
 * parses as well-formed replies, the state stays consistent, and every request verdict equals an
 * independent straight-line reading of the spec's rules (so no out-of-bounds request is ever
 * passed on for execution).
 */
class ProtocolFuzzTest {
    private static final long SEED = 0x5eed_0bd1L;
    private static final int SESSIONS = 25_000;
    private static final int REQUESTS_PER_CONFIG = 20_000;

    private final Random rnd = new Random(SEED);
    private long framesFed;

    // ---------------------------------------------------------------- handshake

    @Test
    void handshakeSurvivesRandomAndMutatedOptions() {
        TestCatalog[] catalogs = {TestCatalog.standard(TlsMode.OFF), TestCatalog.standard(TlsMode.OPTIONAL),
                TestCatalog.standard(TlsMode.REQUIRED)};
        int transmissions = 0;
        int closes = 0;
        for (int s = 0; s < SESSIONS; s++) {
            TestCatalog catalog = catalogs[rnd.nextInt(3)];
            ByteArrayOutputStream script = new ByteArrayOutputStream();
            script.writeBytes(rnd.nextInt(20) == 0 ? randomBytes(4) : clientFlags(rnd.nextInt(4)));
            int frames = 1 + rnd.nextInt(10);
            for (int f = 0; f < frames; f++) {
                script.writeBytes(frame());
            }
            framesFed += frames;
            NbdHandshake.State end = runSession(catalog, script.toByteArray());
            if (end == NbdHandshake.State.TRANSMISSION) {
                transmissions++;
            } else if (end == NbdHandshake.State.CLOSED) {
                closes++;
            }
        }
        assertTrue(framesFed >= 100_000, "fed " + framesFed + " frames");
        // The mix must reach every outcome, or the fuzzer is not exploring.
        assertTrue(transmissions > 1000 && closes > 1000, transmissions + " transmissions, " + closes + " closes");
    }

    private NbdHandshake.State runSession(TestCatalog catalog, byte[] script) {
        NbdHandshake hs = new NbdHandshake(catalog);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(drain(hs));
        int pos = 0;
        try {
            while (pos < script.length) {
                int n = Math.min(script.length - pos, 1 + rnd.nextInt(rnd.nextBoolean() ? 8 : 4096));
                long used = hs.onInput(MemorySegment.ofArray(script).asSlice(pos), n);
                assertTrue(used >= 0 && used <= n, "consumed " + used + " of " + n);
                out.writeBytes(drain(hs));
                pos += (int) used;
                if (hs.state() == NbdHandshake.State.NEGOTIATING) {
                    assertEquals(n, used, "drained handshake must consume everything while negotiating");
                } else if (hs.state() == NbdHandshake.State.START_TLS) {
                    hs.tlsEstablished(); // pretend the TLS engine succeeded; bytes continue "decrypted"
                } else {
                    break;
                }
            }
        } catch (RuntimeException | AssertionError e) {
            fail("session failed on script " + java.util.HexFormat.of().formatHex(script), e);
        }
        checkOutput(hs, out.toByteArray(), catalog);
        return hs.state();
    }

    /** Every emitted byte must be the greeting, then option replies, then possibly an EXPORT_NAME reply. */
    private static void checkOutput(NbdHandshake hs, byte[] out, TestCatalog catalog) {
        ByteBuffer b = ByteBuffer.wrap(out);
        assertEquals(NBDMAGIC, b.getLong());
        assertEquals(IHAVEOPT, b.getLong());
        b.getShort();
        while (b.remaining() >= 20 && b.getLong(b.position()) == OPTION_REPLY_MAGIC) {
            b.getLong();
            b.getInt();
            int type = b.getInt();
            int len = b.getInt();
            assertTrue(len >= 0 && len <= b.remaining(), "reply length " + len + " of " + b.remaining());
            assertTrue(type > 0 || (type & REP_FLAG_ERROR) != 0, "reply type " + type);
            b.position(b.position() + len);
        }
        if (b.hasRemaining()) {
            assertEquals(NbdHandshake.State.TRANSMISSION, hs.state(), "unparseable trailing output");
            assertTrue(b.remaining() == 10 || b.remaining() == 134, "EXPORT_NAME reply of " + b.remaining());
            assertEquals(hs.transmission().export().size(), b.getLong());
        }
        switch (hs.state()) {
            case CLOSED -> assertNotNull(hs.closeReason());
            case TRANSMISSION -> {
                TransmissionParams p = hs.transmission();
                NbdExport e = p.export();
                assertEquals(e, catalog.find(e.name()));
                assertTrue(e.tls() != TlsMode.REQUIRED || p.tls(), "TLS-only export reached without TLS");
                assertTrue(catalog.tlsMode() != TlsMode.REQUIRED || p.tls(), "forced-TLS listener reached in clear");
                assertEquals(e.transmissionFlags(p.structuredReplies()), p.transmissionFlags());
                assertTrue(p.allocationContextId() == 0
                        || (p.structuredReplies() && e.has(NbdExport.Feature.ALLOCATION_STATUS)));
                assertTrue(!p.extendedHeaders() || p.structuredReplies());
                new RequestDecoder(p);
                new ReplyEncoder(p);
            }
            default -> { }
        }
    }

    private static final String[] NAMES = {"", "disk", "ro", "aligned", "slowzero", "secret", "copy", "nope"};
    private static final String[] QUERIES = {"base:allocation", "base:", "qemu:dirty-bitmap:x", "nocolon", ""};

    private byte[] frame() {
        int kind = rnd.nextInt(10);
        if (kind < 4) {
            return validOption();
        }
        if (kind < 8) {
            return mutate(validOption());
        }
        return randomBytes(rnd.nextInt(64));
    }

    private byte[] validOption() {
        String name = NAMES[rnd.nextInt(NAMES.length)];
        return switch (rnd.nextInt(12)) {
            case 0 -> option(OPT_EXPORT_NAME, name.getBytes());
            case 1 -> option(OPT_ABORT);
            case 2 -> option(OPT_LIST);
            case 3 -> option(OPT_STARTTLS);
            case 4, 5 -> option(rnd.nextBoolean() ? OPT_INFO : OPT_GO, infoData(name, randomInfos()));
            case 6 -> option(OPT_STRUCTURED_REPLY);
            case 7, 8 -> option(rnd.nextBoolean() ? OPT_LIST_META_CONTEXT : OPT_SET_META_CONTEXT,
                    metaData(name, randomQueries()));
            case 9 -> option(OPT_EXTENDED_HEADERS);
            case 10 -> option(rnd.nextInt(), randomBytes(rnd.nextInt(32)));
            default -> option(OPT_PEEK_EXPORT);
        };
    }

    private int[] randomInfos() {
        int[] infos = new int[rnd.nextInt(5)];
        for (int i = 0; i < infos.length; i++) {
            infos[i] = rnd.nextInt(6);
        }
        return infos;
    }

    private String[] randomQueries() {
        String[] q = new String[rnd.nextInt(4)];
        for (int i = 0; i < q.length; i++) {
            q[i] = QUERIES[rnd.nextInt(QUERIES.length)];
        }
        return q;
    }

    private byte[] mutate(byte[] f) {
        byte[] m = f.clone();
        switch (rnd.nextInt(6)) {
            case 0 -> m[rnd.nextInt(m.length)] ^= (byte) (1 << rnd.nextInt(8));
            case 1 -> ByteBuffer.wrap(m).putInt(12, interestingInt()); // option data length
            case 2 -> {
                if (m.length > 20) {
                    ByteBuffer.wrap(m).putInt(16, interestingInt()); // name length inside INFO/GO/META
                }
            }
            case 3 -> m = java.util.Arrays.copyOf(m, rnd.nextInt(m.length + 1)); // truncated
            case 4 -> m = concat(m, randomBytes(1 + rnd.nextInt(16))); // trailing junk
            default -> {
                for (int i = 0; i < 4; i++) {
                    m[rnd.nextInt(m.length)] = (byte) rnd.nextInt();
                }
            }
        }
        return m;
    }

    private int interestingInt() {
        int[] v = {0, 1, 2, 3, 4, 5, 6, 7, 8, 4095, 4096, 4097, 65535, 65536, 65537, 0x7fffffff, -1, Integer.MIN_VALUE};
        return rnd.nextBoolean() ? v[rnd.nextInt(v.length)] : rnd.nextInt(256);
    }

    private byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    // ---------------------------------------------------------------- request decoder

    @Test
    void decoderVerdictsMatchTheSpecRulesForRandomAndMutatedHeaders() {
        TestCatalog catalog = TestCatalog.standard(TlsMode.OFF);
        List<TransmissionParams> configs = new ArrayList<>();
        for (String name : new String[] {"disk", "ro", "aligned", "slowzero"}) {
            NbdExport e = catalog.find(name);
            for (int mode = 0; mode < 3; mode++) {
                boolean structured = mode > 0;
                boolean extended = mode == 2;
                configs.add(new TransmissionParams(e, e.transmissionFlags(structured), structured, extended,
                        structured && rnd.nextBoolean() ? 1 : 0, rnd.nextBoolean(), false));
            }
        }
        NbdRequest r = new NbdRequest();
        long frames = 0;
        int[] verdicts = new int[4];
        for (TransmissionParams p : configs) {
            RequestDecoder d = new RequestDecoder(p);
            MemorySegment buf = MemorySegment.ofArray(new byte[64]);
            for (int i = 0; i < REQUESTS_PER_CONFIG; i++) {
                byte[] h = requestFrame(p);
                int at = rnd.nextInt(64 - h.length + 1);
                MemorySegment.copy(MemorySegment.ofArray(h), 0, buf, at, h.length);
                int verdict;
                try {
                    verdict = d.decode(buf, at, r);
                } catch (RuntimeException e) {
                    throw new AssertionError("decode threw on " + java.util.HexFormat.of().formatHex(h), e);
                }
                ByteBuffer b = ByteBuffer.wrap(h);
                int magic = b.getInt();
                int flags = Short.toUnsignedInt(b.getShort());
                int type = Short.toUnsignedInt(b.getShort());
                long cookie = b.getLong();
                long off = b.getLong();
                long len = p.extendedHeaders() ? b.getLong() : Integer.toUnsignedLong(b.getInt());
                long expected = oracle(p, magic, flags, type, off, len);
                int ev = (int) (expected >>> 32);
                int ee = (int) expected;
                String ctx = p + " " + r;
                assertEquals(ev, verdict, ctx);
                assertEquals(cookie, r.cookie);
                if (verdict == RequestDecoder.EXECUTE || verdict == RequestDecoder.REJECT) {
                    assertEquals(ee, r.error, ctx);
                    assertTrue(r.payloadLength >= 0 && r.payloadLength <= MAX_PAYLOAD, ctx);
                }
                if (verdict == RequestDecoder.EXECUTE && r.type != CMD_FLUSH) {
                    // The promise the block layer relies on: never an I/O outside the export.
                    assertTrue(BigInteger.valueOf(r.offset).add(BigInteger.valueOf(r.length))
                            .compareTo(BigInteger.valueOf(p.export().size())) <= 0 && r.offset >= 0 && r.length >= 0, ctx);
                }
                verdicts[verdict]++;
                frames++;
            }
        }
        assertTrue(frames >= 100_000, "decoded " + frames);
        for (int v = 0; v < 4; v++) {
            assertTrue(verdicts[v] > 100, "verdict " + v + " seen only " + verdicts[v] + " times");
        }
    }

    private byte[] requestFrame(TransmissionParams p) {
        boolean ext = p.extendedHeaders();
        long size = p.export().size();
        int kind = rnd.nextInt(10);
        if (kind == 0) {
            return randomBytes(ext ? 32 : 28);
        }
        int type = rnd.nextInt(8) == 0 ? rnd.nextInt(0x10000) : rnd.nextInt(10);
        int flags = rnd.nextInt(3) == 0 ? rnd.nextInt(0x10000) : (rnd.nextBoolean() ? 0 : 1 << rnd.nextInt(7));
        long off = pick(size);
        long len = pick(size);
        if (type == CMD_FLUSH && rnd.nextBoolean()) {
            off = 0;
            len = 0;
        }
        byte[] f = ext ? extendedRequest(flags, type, rnd.nextLong(), off, len)
                : request(flags, type, rnd.nextLong(), off, (int) len);
        if (kind == 1) {
            f[rnd.nextInt(f.length)] ^= (byte) (1 << rnd.nextInt(8));
        } else if (kind == 2) {
            f = ext ? request(flags, type, 1, off, (int) len) : extendedRequest(flags, type, 1, off, len);
            f = java.util.Arrays.copyOf(f, ext ? 32 : 28);
        }
        return f;
    }

    private long pick(long size) {
        return switch (rnd.nextInt(9)) {
            case 0 -> 0;
            case 1 -> size;
            case 2 -> size - (1L << rnd.nextInt(16));
            case 3 -> (long) rnd.nextInt(1 << 20) << 12;
            case 4 -> rnd.nextLong();
            case 5 -> MAX_PAYLOAD + rnd.nextInt(3) - 1L;
            case 6 -> -1L - rnd.nextInt(4096);
            case 7 -> rnd.nextInt((int) Math.min(size, Integer.MAX_VALUE) + 1);
            default -> 512L * rnd.nextInt(4096);
        };
    }

    /** The spec's rules in their documented order; returns verdict << 32 | error. */
    private static long oracle(TransmissionParams p, int magic, int flags, int type, long off, long len) {
        boolean ext = p.extendedHeaders();
        int tf = p.transmissionFlags();
        NbdExport e = p.export();
        if (magic != (ext ? EXTENDED_REQUEST_MAGIC : REQUEST_MAGIC)) {
            return v(RequestDecoder.DISCONNECT, 0);
        }
        boolean payload = type == CMD_WRITE || (ext && (flags & CMD_FLAG_PAYLOAD_LEN) != 0);
        if (payload && (len < 0 || len > MAX_PAYLOAD)) {
            return v(RequestDecoder.DISCONNECT, 0);
        }
        if (type == CMD_DISC) {
            return v(RequestDecoder.SOFT_DISCONNECT, 0);
        }
        if (type > 15) {
            return v(RequestDecoder.REJECT, NbdError.EINVAL);
        }
        if (e.readOnly() && (type == CMD_WRITE || type == CMD_TRIM || type == CMD_WRITE_ZEROES)) {
            return v(RequestDecoder.REJECT, NbdError.EPERM);
        }
        boolean enabled = switch (type) {
            case CMD_READ, CMD_WRITE -> true;
            case CMD_FLUSH -> (tf & FLAG_SEND_FLUSH) != 0;
            case CMD_TRIM -> (tf & FLAG_SEND_TRIM) != 0;
            case CMD_CACHE -> (tf & FLAG_SEND_CACHE) != 0;
            case CMD_WRITE_ZEROES -> (tf & FLAG_SEND_WRITE_ZEROES) != 0;
            case CMD_BLOCK_STATUS -> p.structuredReplies() && p.allocationContextId() != 0;
            default -> false;
        };
        int allowed = (tf & FLAG_SEND_FUA) != 0 ? CMD_FLAG_FUA : 0;
        if (type == CMD_READ && (tf & FLAG_SEND_DF) != 0) {
            allowed |= CMD_FLAG_DF;
        }
        if (type == CMD_WRITE && ext) {
            allowed |= CMD_FLAG_PAYLOAD_LEN;
        }
        if (type == CMD_WRITE_ZEROES) {
            allowed |= CMD_FLAG_NO_HOLE | ((tf & FLAG_SEND_FAST_ZERO) != 0 ? CMD_FLAG_FAST_ZERO : 0);
        }
        if (type == CMD_BLOCK_STATUS) {
            allowed |= CMD_FLAG_REQ_ONE;
        }
        if (!enabled || (flags & ~allowed) != 0 || (payload && type != CMD_WRITE)) {
            return v(RequestDecoder.REJECT, NbdError.EINVAL);
        }
        if (type == CMD_FLUSH) {
            return off == 0 && len == 0 ? v(RequestDecoder.EXECUTE, 0) : v(RequestDecoder.REJECT, NbdError.EINVAL);
        }
        BigInteger end = new BigInteger(Long.toUnsignedString(off)).add(new BigInteger(Long.toUnsignedString(len)));
        if (end.compareTo(BigInteger.valueOf(e.size())) > 0) {
            boolean write = type == CMD_WRITE || type == CMD_WRITE_ZEROES;
            return v(RequestDecoder.REJECT, write ? NbdError.ENOSPC : NbdError.EINVAL);
        }
        int min = e.blockSize().minimum();
        if (off % min != 0 || len % min != 0) {
            return v(RequestDecoder.REJECT, NbdError.EINVAL);
        }
        boolean capped = type == CMD_READ || type == CMD_WRITE
                || (p.blockSizeAgreed() && (type == CMD_CACHE || type == CMD_WRITE_ZEROES)
                        && (flags & CMD_FLAG_FAST_ZERO) == 0);
        if (capped && len > e.blockSize().maximum()) {
            return v(RequestDecoder.REJECT, NbdError.EINVAL);
        }
        return v(RequestDecoder.EXECUTE, 0);
    }

    private static long v(int verdict, int error) {
        return ((long) verdict << 32) | error;
    }
}
