package org.orionos.host.nbd.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.orionos.host.nbd.protocol.NbdWire.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * The request decoder and reply encoder sit on the server's hot path: once compiled they must not
 * allocate. Measured with the JVM's per-thread allocation counter over off-heap buffers, as the
 * io_uring transport will use them.
 */
class HotPathAllocationTest {
    private static final int ROUNDS = 200_000;

    @Test
    void decodeAndEncodeAllocateNothing() {
        var bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(bean.isThreadAllocatedMemorySupported(), "JVM cannot count thread allocations");
        bean.setThreadAllocatedMemoryEnabled(true);
        NbdExport e = TestCatalog.standard(TlsMode.OFF).find("disk");
        TransmissionParams p = new TransmissionParams(e, e.transmissionFlags(true), true, false, 1, true, false);
        RequestDecoder dec = new RequestDecoder(p);
        ReplyEncoder enc = new ReplyEncoder(p);
        NbdRequest r = new NbdRequest();
        ExtentList extents = new ExtentList(16);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment rx = arena.allocate(4096);
            MemorySegment tx = arena.allocate(4096);
            MemorySegment.copy(MemorySegment.ofArray(Frames.concat(
                    Frames.request(CMD_FLAG_DF, CMD_READ, 1, 4096, 65536),
                    Frames.request(CMD_FLAG_FUA, CMD_WRITE, 2, 8192, 4096),
                    Frames.request(0, CMD_READ, 3, 64L << 20, 4096),
                    Frames.request(CMD_FLAG_REQ_ONE, CMD_BLOCK_STATUS, 4, 0, 1 << 20))), 0, rx, 0, 112);
            long sink = run(dec, enc, r, extents, rx, tx, ROUNDS); // warm up until compiled
            long before = bean.getCurrentThreadAllocatedBytes();
            sink += run(dec, enc, r, extents, rx, tx, ROUNDS);
            long allocated = bean.getCurrentThreadAllocatedBytes() - before;
            assertTrue(sink != 0);
            // A few hundred bytes of slack for the measurement itself; per-request garbage would be megabytes.
            assertTrue(allocated < 1024, allocated + " bytes allocated for " + 4L * ROUNDS + " requests");
        }
    }

    private static long run(RequestDecoder dec, ReplyEncoder enc, NbdRequest r, ExtentList extents,
                            MemorySegment rx, MemorySegment tx, int rounds) {
        long sink = 0;
        for (int i = 0; i < rounds; i++) {
            for (int f = 0; f < 4; f++) {
                int v = dec.decode(rx, 28L * f, r);
                long n;
                if (v == RequestDecoder.REJECT) {
                    n = enc.error(tx, 0, r.cookie, r.offset, r.error, null);
                } else if (r.type == CMD_READ) {
                    n = enc.readData(tx, 0, r.cookie, r.offset, r.offset, r.length, true);
                } else if (r.type == CMD_BLOCK_STATUS) {
                    extents.clear();
                    extents.add(r.length, STATE_HOLE | STATE_ZERO);
                    n = enc.blockStatus(tx, 0, r.cookie, r.offset, 1, extents, true);
                } else {
                    n = enc.ok(tx, 0, r.cookie, r.offset);
                }
                sink += n + v;
            }
        }
        return sink;
    }
}
