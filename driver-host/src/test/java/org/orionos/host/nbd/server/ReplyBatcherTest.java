package org.orionos.host.nbd.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ReplyBatcherTest {
    @Test
    void aClientWithOneRequestInFlightNeverWaits() {
        ReplyBatcher b = new ReplyBatcher();
        for (int i = 0; i < 10_000; i++) {
            assertTrue(b.sendNow(1, 4096 + 16));
        }
        assertEquals(1, b.target());
    }

    @Test
    void batchesGrowWhileSendsCarrySeveralRepliesAndStopAtTheCap() {
        ReplyBatcher b = new ReplyBatcher();
        for (int i = 0; i < ReplyBatcher.GROW_AFTER; i++) {
            assertTrue(b.sendNow(2, 32));
        }
        assertEquals(2, b.target());
        assertFalse(b.sendNow(1, 16), "one reply is held once batches of two are the rule");
        for (int i = 0; i < 1000; i++) {
            assertTrue(b.sendNow(b.target(), 16L * b.target()));
        }
        assertEquals(ReplyBatcher.MAX_REPLIES, b.target());
        assertFalse(b.sendNow(ReplyBatcher.MAX_REPLIES - 1, 16L * (ReplyBatcher.MAX_REPLIES - 1)));
    }

    @Test
    void aHoldThatDoesNotFillShrinksTheBatchToWhatCame() {
        ReplyBatcher b = grownTo(ReplyBatcher.MAX_REPLIES);
        b.holdExpired(12);
        assertEquals(ReplyBatcher.MAX_REPLIES / 2, b.target(), "halved");
        b.holdExpired(1);
        assertEquals(1, b.target(), "a client that sent one request while we waited gets no more waits");
        assertTrue(b.sendNow(1, 16));
    }

    @Test
    void bigRepliesLeaveAtOnceWhateverTheBatch() {
        ReplyBatcher b = grownTo(ReplyBatcher.MAX_REPLIES);
        assertTrue(b.sendNow(1, ReplyBatcher.MAX_BYTES));
        assertTrue(b.sendNow(1, 1 << 20));
        assertFalse(b.sendNow(1, ReplyBatcher.MAX_BYTES - 1));
    }

    private static ReplyBatcher grownTo(int target) {
        ReplyBatcher b = new ReplyBatcher();
        while (b.target() < target) {
            assertTrue(b.sendNow(b.target() + 1, 16));
        }
        return b;
    }
}
