package org.orionos.uring;

import org.junit.jupiter.api.Test;
import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.orionos.bindings.uapi.IoUringH.IORING_FEAT_NODROP;
import static org.orionos.bindings.uapi.IoUringH.IORING_OP_NOP;
import static org.orionos.bindings.uapi.IoUringH.IORING_SETUP_DEFER_TASKRUN;
import static org.orionos.bindings.uapi.IoUringH.IORING_SETUP_SINGLE_ISSUER;

class RingBasicsTest {

    @Test
    void nopRoundTripDispatchesHandlerWithCookie() {
        try (Ring ring = Ring.open(RingConfig.defaults())) {
            assertTrue((ring.features() & IORING_FEAT_NODROP) != 0);
            // This kernel (6.1+) has both; the ring must have picked them.
            assertEquals(IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
                    ring.setupFlags() & (IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN));
            assertTrue(ring.ringFdRegistered());
            long[] got = new long[3];
            Completion c = (res, flags, cookie) -> {
                got[0]++;
                got[1] = res;
                got[2] = cookie;
            };
            ring.acquire(c, 0xabcdef1234L).nop();
            assertEquals(1, ring.inFlight());
            assertEquals(1, ring.submitAndWait(1));
            assertEquals(1, ring.reap());
            assertEquals(1, got[0]);
            assertEquals(0, got[1]);
            assertEquals(0xabcdef1234L, got[2]);
            assertEquals(0, ring.inFlight());
            assertEquals(0, ring.staleCompletions());
        }
    }

    @Test
    void requiredOpcodeMissingFailsAtSetupNamingIt() {
        // Opcode 250 is beyond every kernel's last_op, so the probe reports it unsupported.
        ErrnoException e = assertThrows(ErrnoException.class,
                () -> Ring.open(RingConfig.defaults().requiring(IORING_OP_NOP, 250)));
        assertEquals(Errno.EOPNOTSUPP, e.errno());
        assertTrue(e.getMessage().contains("IORING_OP_OP_250"), e.getMessage());
    }

    @Test
    void slotGenerationsMakeUserDataUnique() {
        try (Ring ring = Ring.open(RingConfig.defaults().withEntries(4, 8).withMaxInFlight(1))) {
            ring.acquire(Completion.IGNORE, 0).nop();
            long first = ring.lastUserData();
            ring.submitAndWait(1);
            ring.reap();
            ring.acquire(Completion.IGNORE, 0).nop();
            long second = ring.lastUserData();
            // Same slot (only one), new generation.
            assertEquals((int) first, (int) second);
            assertNotEquals(first, second);
            ring.submitAndWait(1);
            ring.reap();
        }
    }
}
