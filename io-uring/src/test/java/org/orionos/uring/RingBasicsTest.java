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
import static org.orionos.bindings.uapi.IoUringH.IORING_SETUP_SQPOLL;
import static org.orionos.bindings.uapi.IoUringH.IORING_SETUP_IOPOLL;

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

    @Test
    void sqPollRingWakesItsIdlePollerThroughNeedWakeup() throws Exception {
        try (Ring ring = Ring.open(RingConfig.defaults().withSqPoll(true, 5, -1))) {
            assertTrue((ring.setupFlags() & IORING_SETUP_SQPOLL) != 0);
            TestSupport.Recorder rec = new TestSupport.Recorder();
            for (int i = 0; i < 3; i++) {
                ring.acquire(rec, i).nop();
                TestSupport.runUntil(ring, () -> rec.count() == 1);
                rec.events.clear();
                // Past the 5 ms idle time the poller sleeps; the next submit must wake it.
                Thread.sleep(30);
            }
        }
    }

    @Test
    void ioPollRingRefusesBufferedTmpfsReads() throws Exception {
        java.nio.file.Path p = TestSupport.tempFile("/dev/shm", "orion-iopoll");
        int fd = org.orionos.bindings.Libc.open(p.toString(), 0, 0);
        try (Ring ring = Ring.open(RingConfig.defaults().withIoPoll(true));
             java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            assertTrue((ring.setupFlags() & IORING_SETUP_IOPOLL) != 0);
            java.lang.foreign.MemorySegment b = a.allocate(4096, 4096);
            // IOPOLL needs O_DIRECT on a pollable block device; tmpfs is neither.
            assertEquals(-Errno.EOPNOTSUPP, FileOpsTest.run1(ring, s -> s.read(fd, b.address(), 4096, 0)));
        } finally {
            org.orionos.bindings.Libc.close(fd);
            java.nio.file.Files.deleteIfExists(p);
        }
    }

    @Test
    void moreRingsThanRegisteredSlotsFallBackToThePlainFd() {
        java.util.List<Ring> rings = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 20; i++) {
                rings.add(Ring.open(RingConfig.defaults().withEntries(4, 8)));
            }
            // The kernel's per-thread table holds 16 registered rings.
            assertEquals(16, rings.stream().filter(Ring::ringFdRegistered).count());
            for (Ring r : rings) {
                TestSupport.Recorder rec = new TestSupport.Recorder();
                r.acquire(rec, 1).nop();
                TestSupport.runUntil(r, () -> rec.count() == 1);
            }
        } finally {
            rings.forEach(Ring::close);
        }
        // The slots were released: 16 new rings register again.
        try (Ring r = Ring.open(RingConfig.defaults())) {
            assertTrue(r.ringFdRegistered());
        }
    }

    @Test
    void sqeFieldOffsetsMatchTheKernelAbi() {
        // Fixed by the kernel ABI (io_uring.h); a layout mistake would corrupt every SQE.
        assertEquals(8, org.orionos.bindings.uapi.IoUringH.IoUringSqe.OFF);
        assertEquals(16, org.orionos.bindings.uapi.IoUringH.IoUringSqe.ADDR);
        assertEquals(24, org.orionos.bindings.uapi.IoUringH.IoUringSqe.LEN);
        assertEquals(28, org.orionos.bindings.uapi.IoUringH.IoUringSqe.OP_FLAGS);
        assertEquals(32, org.orionos.bindings.uapi.IoUringH.IoUringSqe.USER_DATA);
        assertEquals(40, org.orionos.bindings.uapi.IoUringH.IoUringSqe.BUF_INDEX);
        assertEquals(44, org.orionos.bindings.uapi.IoUringH.IoUringSqe.FILE_INDEX);
        assertEquals(48, org.orionos.bindings.uapi.IoUringH.IoUringSqe.CMD);
        assertEquals(64, org.orionos.bindings.uapi.IoUringH.IoUringSqe.SIZE);
    }
}
