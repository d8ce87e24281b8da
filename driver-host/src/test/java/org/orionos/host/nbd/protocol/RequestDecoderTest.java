package org.orionos.host.nbd.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.orionos.host.nbd.protocol.Frames.extendedRequest;
import static org.orionos.host.nbd.protocol.Frames.request;
import static org.orionos.host.nbd.protocol.NbdWire.*;
import static org.orionos.host.nbd.protocol.RequestDecoder.*;

import java.lang.foreign.MemorySegment;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;

class RequestDecoderTest {
    private static final long SIZE = 64L << 20;
    private static final TestCatalog CATALOG = TestCatalog.standard(TlsMode.OFF);
    private final NbdRequest r = new NbdRequest();

    /** Params as a client that negotiated structured replies and base:allocation would get. */
    static TransmissionParams params(NbdExport e, boolean structured, boolean extended, boolean agreed) {
        return new TransmissionParams(e, e.transmissionFlags(structured || extended), structured || extended, extended,
                structured || extended ? NbdHandshake.ALLOCATION_CONTEXT_ID : 0, agreed, false);
    }

    private static RequestDecoder decoder(String export, boolean structured, boolean extended) {
        return new RequestDecoder(params(CATALOG.find(export), structured, extended, true));
    }

    private int decode(RequestDecoder d, byte[] frame) {
        // Decode at a nonzero, odd offset: frames sit anywhere in a receive buffer.
        byte[] buf = new byte[frame.length + 3];
        System.arraycopy(frame, 0, buf, 3, frame.length);
        return d.decode(MemorySegment.ofArray(buf), 3, r);
    }

    private void expect(RequestDecoder d, byte[] frame, int verdict, int error) {
        assertEquals(verdict, decode(d, frame), r::toString);
        assertEquals(error, r.error, r::toString);
    }

    @Test
    void decodesSimpleHeaderFields() {
        RequestDecoder d = decoder("disk", true, false);
        assertEquals(28, d.headerSize());
        expect(d, request(CMD_FLAG_FUA, CMD_WRITE, 0x0123456789abcdefL, 4096, 8192), EXECUTE, 0);
        assertEquals(CMD_WRITE, r.type);
        assertEquals(CMD_FLAG_FUA, r.flags);
        assertEquals(0x0123456789abcdefL, r.cookie);
        assertEquals(4096, r.offset);
        assertEquals(8192, r.length);
        assertEquals(8192, r.payloadLength);
        expect(d, request(0, CMD_READ, -1, SIZE - 512, 512), EXECUTE, 0);
        assertEquals(0, r.payloadLength);
        assertEquals(-1L, r.cookie);
    }

    @Test
    void wrongMagicOrHeaderStyleDisconnects() {
        RequestDecoder simple = decoder("disk", true, false);
        byte[] f = request(0, CMD_READ, 1, 0, 512);
        f[3] ^= 0x40;
        expect(simple, f, DISCONNECT, 0);
        expect(simple, extendedRequest(0, CMD_READ, 1, 0, 512), DISCONNECT, 0);
        RequestDecoder ext = decoder("disk", true, true);
        expect(ext, Frames.concat(request(0, CMD_READ, 1, 0, 512), new byte[4]), DISCONNECT, 0);
    }

    @Test
    void discIsSoftDisconnect() {
        expect(decoder("disk", false, false), request(0, CMD_DISC, 9, 0, 0), SOFT_DISCONNECT, 0);
    }

    @Test
    void unknownCommandsAndFlagsAreEinval() {
        RequestDecoder d = decoder("disk", true, false);
        for (int type : new int[] {CMD_RESIZE, 9, 15, 16, 0x8000, 0xffff}) {
            expect(d, request(0, type, 1, 0, 512), REJECT, NbdError.EINVAL);
        }
        expect(d, request(CMD_FLAG_REQ_ONE, CMD_READ, 1, 0, 512), REJECT, NbdError.EINVAL);
        expect(d, request(CMD_FLAG_DF, CMD_WRITE, 1, 0, 512), REJECT, NbdError.EINVAL);
        assertEquals(512, r.payloadLength, "the payload of a rejected write must still be drained");
        expect(d, request(CMD_FLAG_NO_HOLE, CMD_TRIM, 1, 0, 512), REJECT, NbdError.EINVAL);
        expect(d, request(CMD_FLAG_FAST_ZERO, CMD_READ, 1, 0, 512), REJECT, NbdError.EINVAL);
        expect(d, request(CMD_FLAG_PAYLOAD_LEN, CMD_WRITE, 1, 0, 512), REJECT, NbdError.EINVAL);
        expect(d, request(1 << 6, CMD_READ, 1, 0, 512), REJECT, NbdError.EINVAL);
        expect(d, request(1 << 15, CMD_FLUSH, 1, 0, 0), REJECT, NbdError.EINVAL);
        // Valid combinations
        expect(d, request(CMD_FLAG_DF | CMD_FLAG_FUA, CMD_READ, 1, 0, 512), EXECUTE, 0);
        expect(d, request(CMD_FLAG_REQ_ONE, CMD_BLOCK_STATUS, 1, 0, 512), EXECUTE, 0);
        expect(d, request(CMD_FLAG_FAST_ZERO | CMD_FLAG_NO_HOLE, CMD_WRITE_ZEROES, 1, 0, 512), EXECUTE, 0);
        expect(d, request(0, CMD_CACHE, 1, 0, 512), EXECUTE, 0);
        expect(d, request(0, CMD_TRIM, 1, 0, 512), EXECUTE, 0);
    }

    @Test
    void dfOnlyWithStructuredRepliesAndBlockStatusOnlyWithAContext() {
        RequestDecoder d = decoder("disk", false, false);
        expect(d, request(CMD_FLAG_DF, CMD_READ, 1, 0, 512), REJECT, NbdError.EINVAL);
        expect(d, request(0, CMD_BLOCK_STATUS, 1, 0, 512), REJECT, NbdError.EINVAL);
    }

    @Test
    void commandsNotAdvertisedAreEinval() {
        NbdExport bare = NbdExport.of("bare", SIZE, EnumSet.noneOf(NbdExport.Feature.class));
        RequestDecoder d = new RequestDecoder(params(bare, true, false, true));
        for (int type : new int[] {CMD_FLUSH, CMD_TRIM, CMD_CACHE, CMD_WRITE_ZEROES}) {
            expect(d, request(0, type, 1, 0, type == CMD_FLUSH ? 0 : 512), REJECT, NbdError.EINVAL);
        }
        expect(d, request(CMD_FLAG_FUA, CMD_WRITE, 1, 0, 512), REJECT, NbdError.EINVAL);
        expect(d, request(0, CMD_WRITE, 1, 0, 512), EXECUTE, 0);
    }

    @Test
    void boundsGiveEnospcForWritesAndEinvalOtherwise() {
        RequestDecoder d = decoder("disk", true, false);
        expect(d, request(0, CMD_WRITE, 1, SIZE, 512), REJECT, NbdError.ENOSPC);
        expect(d, request(0, CMD_WRITE, 1, SIZE - 256, 512), REJECT, NbdError.ENOSPC);
        expect(d, request(0, CMD_WRITE_ZEROES, 1, SIZE - 256, 512), REJECT, NbdError.ENOSPC);
        for (int type : new int[] {CMD_READ, CMD_TRIM, CMD_CACHE, CMD_BLOCK_STATUS}) {
            expect(d, request(0, type, 1, SIZE - 256, 512), REJECT, NbdError.EINVAL);
            expect(d, request(0, type, 1, -512, 512), REJECT, NbdError.EINVAL); // offset wraps when added
            expect(d, request(0, type, 1, Long.MAX_VALUE, 1), REJECT, NbdError.EINVAL);
        }
        expect(d, request(0, CMD_READ, 1, SIZE, 0), EXECUTE, 0);
        expect(d, request(0, CMD_READ, 1, 0, 0), EXECUTE, 0);
    }

    @Test
    void flushMustNotCarryARange() {
        RequestDecoder d = decoder("disk", true, false);
        expect(d, request(0, CMD_FLUSH, 1, 0, 0), EXECUTE, 0);
        expect(d, request(CMD_FLAG_FUA, CMD_FLUSH, 1, 0, 0), EXECUTE, 0);
        expect(d, request(0, CMD_FLUSH, 1, 4096, 0), REJECT, NbdError.EINVAL);
        expect(d, request(0, CMD_FLUSH, 1, 0, 1), REJECT, NbdError.EINVAL);
    }

    @Test
    void readOnlyRefusesAllWritesWithEperm() {
        RequestDecoder d = decoder("ro", true, false);
        expect(d, request(0, CMD_WRITE, 1, 0, 512), REJECT, NbdError.EPERM);
        assertEquals(512, r.payloadLength);
        expect(d, request(0, CMD_TRIM, 1, 0, 512), REJECT, NbdError.EPERM);
        expect(d, request(0, CMD_WRITE_ZEROES, 1, 0, 512), REJECT, NbdError.EPERM);
        expect(d, request(0, CMD_READ, 1, 0, 512), EXECUTE, 0);
        expect(d, request(0, CMD_FLUSH, 1, 0, 0), EXECUTE, 0);
    }

    @Test
    void alignmentAndMaximumWhenConstraintsAreAdvertised() {
        RequestDecoder d = decoder("aligned", true, false);
        expect(d, request(0, CMD_READ, 1, 512, 4096), REJECT, NbdError.EINVAL);
        expect(d, request(0, CMD_READ, 1, 4096, 512), REJECT, NbdError.EINVAL);
        expect(d, request(0, CMD_WRITE, 1, 4096, 100), REJECT, NbdError.EINVAL);
        assertEquals(100, r.payloadLength);
        expect(d, request(0, CMD_READ, 1, 0, (1 << 20) + 4096), REJECT, NbdError.EINVAL);
        expect(d, request(0, CMD_READ, 1, 4096, 1 << 20), EXECUTE, 0);
        expect(d, request(0, CMD_BLOCK_STATUS, 1, 0, 4 << 20), EXECUTE, 0);
    }

    @Test
    void readAndWriteNeverExceedThePayloadLimit() {
        RequestDecoder d = decoder("disk", true, false);
        expect(d, request(0, CMD_READ, 1, 0, MAX_PAYLOAD), EXECUTE, 0);
        expect(d, request(0, CMD_READ, 1, 0, MAX_PAYLOAD + 512), REJECT, NbdError.EINVAL);
        expect(d, request(0, CMD_WRITE, 1, 0, MAX_PAYLOAD), EXECUTE, 0);
        expect(d, request(0, CMD_WRITE, 1, 0, MAX_PAYLOAD + 1), DISCONNECT, 0);
        expect(d, request(0, CMD_WRITE, 1, 0, -1), DISCONNECT, 0);
        // Commands without payload: bounded by the export only.
        expect(d, request(0, CMD_WRITE_ZEROES, 1, 0, 48 << 20), REJECT, NbdError.EINVAL); // agreed max applies
        RequestDecoder unagreed = new RequestDecoder(params(CATALOG.find("disk"), true, false, false));
        expect(unagreed, request(0, CMD_WRITE_ZEROES, 1, 0, 48 << 20), EXECUTE, 0);
        expect(unagreed, request(0, CMD_TRIM, 1, 0, 64 << 20), EXECUTE, 0);
        expect(d, request(CMD_FLAG_FAST_ZERO, CMD_WRITE_ZEROES, 1, 0, 64 << 20), EXECUTE, 0);
    }

    @Test
    void extendedHeaders() {
        RequestDecoder d = decoder("disk", true, true);
        assertEquals(32, d.headerSize());
        expect(d, extendedRequest(CMD_FLAG_PAYLOAD_LEN, CMD_WRITE, 7, 8192, 4096), EXECUTE, 0);
        assertEquals(4096, r.payloadLength);
        assertEquals(4096, r.length);
        expect(d, extendedRequest(0, CMD_TRIM, 7, 0, 48L << 20), EXECUTE, 0);
        expect(d, extendedRequest(0, CMD_TRIM, 7, 0, 1L << 40), REJECT, NbdError.EINVAL);
        expect(d, extendedRequest(0, CMD_READ, 7, 0, 1L << 33), REJECT, NbdError.EINVAL);
        expect(d, extendedRequest(0, CMD_READ, 7, 0, -1L), REJECT, NbdError.EINVAL);
        expect(d, extendedRequest(0, CMD_WRITE, 7, 0, 1L << 33), DISCONNECT, 0);
        // A payload on a command that takes none: drained, then EINVAL (BLOCK_STAT_PAYLOAD is not offered).
        expect(d, extendedRequest(CMD_FLAG_PAYLOAD_LEN, CMD_BLOCK_STATUS, 7, 0, 16), REJECT, NbdError.EINVAL);
        assertEquals(16, r.payloadLength);
        expect(d, extendedRequest(CMD_FLAG_PAYLOAD_LEN, CMD_READ, 7, 0, 1L << 30), DISCONNECT, 0);
    }
}
