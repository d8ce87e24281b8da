package org.orionos.host.lvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.orionos.host.bdev.BdevCallback;
import org.orionos.host.bdev.BdevClient;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BdevOp;
import org.orionos.host.bdev.BdevRequest;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.lvm.metadata.ThinSegments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * A chunk a request found mapped is not reused while that request is in flight: reads (or
 * overwrites) of volume A are held before they reach the pool's data device while A is trimmed,
 * the trim committed and volume B's writes need every chunk of the full pool. B's writes must
 * wait for the held requests; the read must return A's data and the overwrite must not land in
 * B's chunks.
 */
class ThinReuseRaceTest {
    static final long MIB = 1 << 20;
    static final long CHUNK = 64 << 10;

    /** Holds the next request of one op before it reaches the base device until {@link #release}. */
    static final class Hold extends BlockDevice implements BdevCallback {
        private final BlockDevice base;
        volatile int holdOp = -1;
        final Queue<BdevRequest> held = new ConcurrentLinkedQueue<>();

        Hold(BlockDevice base) {
            super(base.name() + "-hold", base.blockSize(), base.blockCount(), base.capabilities(), 0, 0);
            this.base = base;
        }

        @Override
        protected void doSubmit(BdevRequest r) {
            if (r.op() == holdOp) {
                holdOp = -1; // one request only: the pool's metadata writes go to this device too
                held.add(r);
                return;
            }
            base.submit(r.context().forward(r, this));
        }

        void release() {
            for (BdevRequest r; (r = held.poll()) != null; ) {
                BdevRequest q = r;
                q.context().reactor().execute(() -> base.submit(q.context().forward(q, this)));
            }
        }

        @Override
        public void onComplete(BdevRequest down, int status) {
            BdevRequest up = down.forwardedFor();
            down.release();
            up.complete(status);
        }
    }

    @Test
    void heldReadsAndWritesKeepTheirChunksFromReuse() throws Exception {
        for (int op : new int[] {BdevOp.READ, BdevOp.WRITE}) {
            try (BdevHost host = BdevHost.start(2, 8 << 20); Arena arena = Arena.ofShared()) {
                Hold pv = new Hold(ThinPoolTest.memoryPvs(1, 16 * MIB).get(0));
                try (VolumeGroup vg = VolumeGroup.create(host, "vgrace", List.of(pv), ThinPoolTest.EXT)) {
                    vg.createThinPool("pool", 1, 1, ThinSegments.DEFAULT_CHUNK_SECTORS); // 16 chunks
                    vg.createThin("a", "pool", MIB);
                    vg.createThin("b", "pool", MIB);
                    ThinVolume a = vg.activateThin("a", "vgrace/a");
                    ThinVolume b = vg.activateThin("b", "vgrace/b");
                    BdevClient c = host.client();
                    MemorySegment dataA = arena.allocate(MIB, 4096);
                    MemorySegment dataB = arena.allocate(MIB, 4096);
                    MemorySegment late = arena.allocate(CHUNK, 4096);
                    ThinPoolTest.fill(dataA, 7);
                    ThinPoolTest.fill(dataB, 8);
                    ThinPoolTest.fill(late, 9);
                    c.write(a, 0, dataA, 0).get(30, TimeUnit.SECONDS);
                    c.flush(a).get(30, TimeUnit.SECONDS);
                    assertEquals(0, vg.pool("pool").freeChunks());

                    pv.holdOp = op;
                    MemorySegment got = arena.allocate(CHUNK, 4096);
                    CompletableFuture<?> stuck = op == BdevOp.READ ? c.read(a, 0, got) : c.write(a, 0, late, 0);
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                    while (pv.held.isEmpty() && System.nanoTime() < deadline) {
                        Thread.sleep(1);
                    }
                    assertEquals(1, pv.held.size(), "the request reached the data device and is held there");
                    c.trim(a, 0, MIB).get(30, TimeUnit.SECONDS);
                    c.flush(a).get(30, TimeUnit.SECONDS); // the commit that unmaps A's chunks is on disk
                    CompletableFuture<?> writeB = c.write(b, 0, dataB, 0);
                    // Without the grace period B's write finishes within milliseconds; with it, it
                    // waits (up to its one-second limit for space) for the held request.
                    Thread.sleep(100);
                    boolean early = writeB.isDone();
                    pv.release();
                    stuck.get(30, TimeUnit.SECONDS);
                    writeB.get(30, TimeUnit.SECONDS);
                    if (op == BdevOp.READ) {
                        assertEquals(-1, got.mismatch(dataA.asSlice(0, CHUNK)), "the held read returns A's data");
                    }
                    MemorySegment back = arena.allocate(MIB, 4096);
                    c.read(b, 0, back).get(30, TimeUnit.SECONDS);
                    assertEquals(-1, back.mismatch(dataB), "B's data is intact (op " + op + ")");
                    assertFalse(early, "B's write finished while a request still used the chunks it needed");
                }
            }
        }
    }
}
