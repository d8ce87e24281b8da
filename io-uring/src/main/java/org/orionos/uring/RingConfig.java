package org.orionos.uring;

import java.util.Arrays;

import static org.orionos.bindings.uapi.IoUringH.IORING_OP_ASYNC_CANCEL;
import static org.orionos.bindings.uapi.IoUringH.IORING_OP_NOP;

/**
 * How to set up a {@link Ring}. Immutable; {@code with...} methods return a modified copy.
 *
 * <p>Defaults: 256 SQ entries, CQ twice that, SINGLE_ISSUER + DEFER_TASKRUN when the kernel has
 * them (else COOP_TASKRUN), the ring fd registered, in-flight limit equal to the CQ size, and
 * only NOP and ASYNC_CANCEL required from the probe.
 */
public record RingConfig(
        int sqEntries,
        int cqEntries,
        int maxInFlight,
        boolean sqe128,
        boolean cqe32,
        boolean sqPoll,
        int sqPollIdleMillis,
        int sqPollCpu,
        boolean ioPoll,
        boolean singleIssuer,
        boolean registerRingFd,
        int[] requiredOps) {

    public RingConfig {
        if (sqEntries < 1 || sqEntries > 32768) {
            throw new IllegalArgumentException("sqEntries must be 1..32768, got " + sqEntries);
        }
        if (cqEntries != 0 && cqEntries < sqEntries) {
            throw new IllegalArgumentException("cqEntries (" + cqEntries + ") must be 0 (twice sqEntries) or >= sqEntries ("
                    + sqEntries + ")");
        }
        if (maxInFlight < 0) {
            throw new IllegalArgumentException("maxInFlight must be >= 0 (0 = CQ size), got " + maxInFlight);
        }
        requiredOps = requiredOps.clone();
    }

    /** The defaults described on the type. */
    public static RingConfig defaults() {
        return new RingConfig(256, 0, 0, false, false, false, 1000, -1, false, true, true,
                new int[] {IORING_OP_NOP, IORING_OP_ASYNC_CANCEL});
    }

    @Override
    public int[] requiredOps() {
        return requiredOps.clone();
    }

    public RingConfig withEntries(int sq, int cq) {
        return new RingConfig(sq, cq, maxInFlight, sqe128, cqe32, sqPoll, sqPollIdleMillis, sqPollCpu, ioPoll,
                singleIssuer, registerRingFd, requiredOps);
    }

    /** Upper bound on operations in flight (completion slots); 0 means the CQ size. */
    public RingConfig withMaxInFlight(int n) {
        return new RingConfig(sqEntries, cqEntries, n, sqe128, cqe32, sqPoll, sqPollIdleMillis, sqPollCpu, ioPoll,
                singleIssuer, registerRingFd, requiredOps);
    }

    /** 128-byte SQEs and 32-byte CQEs, as NVMe passthrough (URING_CMD) needs. */
    public RingConfig withBigEntries(boolean sqe128, boolean cqe32) {
        return new RingConfig(sqEntries, cqEntries, maxInFlight, sqe128, cqe32, sqPoll, sqPollIdleMillis, sqPollCpu,
                ioPoll, singleIssuer, registerRingFd, requiredOps);
    }

    /** A kernel thread polls the SQ (cpu &lt; 0: not pinned); DEFER_TASKRUN is then off. */
    public RingConfig withSqPoll(boolean on, int idleMillis, int cpu) {
        return new RingConfig(sqEntries, cqEntries, maxInFlight, sqe128, cqe32, on, idleMillis, cpu, ioPoll,
                singleIssuer, registerRingFd, requiredOps);
    }

    /** Busy-poll completions (O_DIRECT on polled block devices only). */
    public RingConfig withIoPoll(boolean on) {
        return new RingConfig(sqEntries, cqEntries, maxInFlight, sqe128, cqe32, sqPoll, sqPollIdleMillis, sqPollCpu, on,
                singleIssuer, registerRingFd, requiredOps);
    }

    /** SINGLE_ISSUER (+ DEFER_TASKRUN): only the creating thread may submit. */
    public RingConfig withSingleIssuer(boolean on) {
        return new RingConfig(sqEntries, cqEntries, maxInFlight, sqe128, cqe32, sqPoll, sqPollIdleMillis, sqPollCpu,
                ioPoll, on, registerRingFd, requiredOps);
    }

    /** Register the ring fd with the creating thread (saves an fd lookup per enter). */
    public RingConfig withRegisteredRingFd(boolean on) {
        return new RingConfig(sqEntries, cqEntries, maxInFlight, sqe128, cqe32, sqPoll, sqPollIdleMillis, sqPollCpu,
                ioPoll, singleIssuer, on, requiredOps);
    }

    /** Opcodes the kernel must support; setup fails naming the first missing one. */
    public RingConfig withRequiredOps(int... ops) {
        return new RingConfig(sqEntries, cqEntries, maxInFlight, sqe128, cqe32, sqPoll, sqPollIdleMillis, sqPollCpu,
                ioPoll, singleIssuer, registerRingFd, ops);
    }

    /** Adds opcodes to the required set. */
    public RingConfig requiring(int... ops) {
        int[] all = Arrays.copyOf(requiredOps, requiredOps.length + ops.length);
        System.arraycopy(ops, 0, all, requiredOps.length, ops.length);
        return withRequiredOps(all);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RingConfig c && sqEntries == c.sqEntries && cqEntries == c.cqEntries
                && maxInFlight == c.maxInFlight && sqe128 == c.sqe128 && cqe32 == c.cqe32 && sqPoll == c.sqPoll
                && sqPollIdleMillis == c.sqPollIdleMillis && sqPollCpu == c.sqPollCpu && ioPoll == c.ioPoll
                && singleIssuer == c.singleIssuer && registerRingFd == c.registerRingFd
                && Arrays.equals(requiredOps, c.requiredOps);
    }

    @Override
    public int hashCode() {
        return 31 * java.util.Objects.hash(sqEntries, cqEntries, maxInFlight, sqe128, cqe32, sqPoll, sqPollIdleMillis,
                sqPollCpu, ioPoll, singleIssuer, registerRingFd) + Arrays.hashCode(requiredOps);
    }

    @Override
    public String toString() {
        return "RingConfig[sq=" + sqEntries + ", cq=" + cqEntries + ", maxInFlight=" + maxInFlight + ", sqe128=" + sqe128
                + ", cqe32=" + cqe32 + ", sqPoll=" + sqPoll + "/" + sqPollIdleMillis + "ms/cpu" + sqPollCpu
                + ", ioPoll=" + ioPoll + ", singleIssuer=" + singleIssuer + ", registerRingFd=" + registerRingFd
                + ", requiredOps=" + Arrays.toString(requiredOps) + "]";
    }
}
