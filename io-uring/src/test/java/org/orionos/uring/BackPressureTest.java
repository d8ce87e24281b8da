package org.orionos.uring;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SQ full, slot table full and CQ overflow: every completion arrives exactly once. */
class BackPressureTest {

    /** Counts completions per cookie, so a duplicate or a loss shows. */
    static final class Tally implements Completion {
        final int[] seen;
        int total;

        Tally(int n) {
            seen = new int[n];
        }

        @Override
        public void complete(int res, int flags, long cookie) {
            assertEquals(0, res);
            seen[(int) cookie]++;
            total++;
        }

        void assertEachOnce() {
            for (int i = 0; i < seen.length; i++) {
                assertEquals(1, seen[i], "completion " + i);
            }
        }
    }

    @Test
    void farMoreRequestsThanSqEntries() {
        int n = 100_000;
        try (Ring ring = Ring.open(RingConfig.defaults().withEntries(8, 16).withMaxInFlight(64))) {
            assertEquals(8, ring.sqEntries());
            Tally t = new Tally(n);
            int refusals = 0;
            for (int i = 0; i < n; i++) {
                Sqe s;
                while ((s = ring.acquire(t, i)) == null) {
                    // All 64 slots busy: the caller reaps, then retries.
                    refusals++;
                    ring.submitAndWait(1);
                    ring.reap();
                }
                s.nop();
                // The SQ (8) fills 8x faster than slots (64) run out: acquire flushed it itself.
                assertTrue(ring.pendingSubmissions() <= 8);
            }
            TestSupport.runUntil(ring, () -> t.total == n);
            t.assertEachOnce();
            assertTrue(refusals > 0, "the slot table (64) must have pushed back");
            assertEquals(0, ring.inFlight());
            assertEquals(0, ring.staleCompletions());
            assertEquals(0, ring.droppedCompletions());
        }
    }

    @Test
    void cqOverflowLosesNothing() {
        int n = 5000;
        // CQ of 8 entries, 8192 slots: submit everything before reaping anything.
        try (Ring ring = Ring.open(RingConfig.defaults().withEntries(8, 8).withMaxInFlight(8192))) {
            assertEquals(8, ring.cqEntries());
            Tally t = new Tally(n);
            for (int i = 0; i < n; i++) {
                Sqe s = ring.acquire(t, i);
                if (s == null) {
                    throw new AssertionError("refused at " + i + ": the kernel must accept with NODROP");
                }
                s.nop();
            }
            assertTrue(ring.submit() >= 0);
            assertEquals(0, t.total, "nothing reaped yet");
            assertTrue(ring.cqOverflowPending(), "5000 completions cannot fit in 8 CQ entries");
            int reaped = ring.reap();
            assertEquals(n, reaped);
            t.assertEachOnce();
            assertTrue(!ring.cqOverflowPending());
            assertEquals(0, ring.droppedCompletions());
            assertEquals(0, ring.inFlight());
        }
    }
}
