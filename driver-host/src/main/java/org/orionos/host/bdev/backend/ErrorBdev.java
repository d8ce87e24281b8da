package org.orionos.host.bdev.backend;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import org.orionos.host.bdev.BdevCallback;
import org.orionos.host.bdev.BdevOp;
import org.orionos.host.bdev.BdevRequest;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.Claim;

/**
 * Wraps a device and injects faults into chosen operations, switchable at runtime from any
 * thread (SPDK's error bdev is the model): failures with an errno, corrupted read data, or extra
 * latency, each for a number of matching I/Os or with a probability. It also counts every
 * operation it sees, so tests can prove that a flush or trim reached the device.
 *
 * <p>Rules are an immutable array published through a volatile field: the data path reads it
 * without a lock; counts are decremented with a CAS.
 */
public final class ErrorBdev extends BlockDevice implements BdevCallback {
    /** What a rule does to a matching I/O. */
    public enum Kind {
        /** Completes with {@code -errno} without touching the base device. */
        FAIL,
        /** Reads: the base's data, with one byte flipped at a random position. */
        CORRUPT,
        /** Adds {@code delayMicros} after the base device completes. */
        DELAY
    }

    /**
     * One injection rule.
     *
     * @param ops         bit mask of {@code 1 << BdevOp.X}; {@link #ALL_OPS} for every operation
     * @param count       how many matching I/Os to affect; negative for unlimited
     * @param probability chance that a matching I/O is affected (1.0: always)
     */
    public record Rule(int ops, Kind kind, int errno, long count, double probability, long delayMicros) {
        public static Rule fail(int ops, int errno, long count) {
            return new Rule(ops, Kind.FAIL, errno, count, 1.0, 0);
        }

        public static Rule corruptReads(long count) {
            return new Rule(1 << BdevOp.READ, Kind.CORRUPT, 0, count, 1.0, 0);
        }

        public static Rule delay(int ops, long micros, double probability) {
            return new Rule(ops, Kind.DELAY, 0, -1, probability, micros);
        }
    }

    /** Mask matching every operation. */
    public static final int ALL_OPS = ~0;
    private static final long TIMER = 1;

    private record Active(Rule rule, AtomicLong remaining) {
    }

    private final BlockDevice base;
    private final Claim claim;
    private volatile Active[] rules = new Active[0];
    private final LongAdder[] seen = new LongAdder[8];
    private final LongAdder injected = new LongAdder();

    public ErrorBdev(String name, BlockDevice base) {
        super(name, base.blockSize(), base.blockCount(), base.capabilities(), base.optimalBoundary(), base.maxTransfer());
        this.base = base;
        this.claim = base.claim("error bdev " + name, true, this::announceRemoval);
        for (int i = 0; i < seen.length; i++) {
            seen[i] = new LongAdder();
        }
    }

    public BlockDevice base() {
        return base;
    }

    /** Adds a rule; it applies to I/O submitted from now on. */
    public synchronized void inject(Rule rule) {
        Active[] cur = rules;
        Active[] next = java.util.Arrays.copyOf(cur, cur.length + 1);
        next[cur.length] = new Active(rule, new AtomicLong(rule.count()));
        rules = next;
    }

    /** Removes every rule. */
    public synchronized void clear() {
        rules = new Active[0];
    }

    /** Rules still in force, for status output. */
    public List<Rule> rules() {
        return java.util.Arrays.stream(rules).map(Active::rule).toList();
    }

    /** How many requests of {@code op} (a {@link BdevOp} value) this device received. */
    public long count(int op) {
        return seen[op].sum();
    }

    /** How many I/Os a rule affected. */
    public long injected() {
        return injected.sum();
    }

    @Override
    protected void doSubmit(BdevRequest r) {
        int op = r.op();
        seen[op].increment();
        Active hit = match(op);
        if (hit != null && hit.rule.kind() == Kind.FAIL) {
            r.completeDeferred(-Math.abs(hit.rule.errno()));
            return;
        }
        BdevRequest down = r.context().forward(r, this);
        r.backendRef = hit; // what to do on the way back (null: nothing)
        base.submit(down);
    }

    private Active match(int op) {
        Active[] rs = rules;
        for (Active a : rs) {
            if ((a.rule.ops() & (1 << op)) == 0) {
                continue;
            }
            if (a.rule.probability() < 1.0 && ThreadLocalRandom.current().nextDouble() >= a.rule.probability()) {
                continue;
            }
            if (a.rule.count() >= 0) {
                long left;
                do {
                    left = a.remaining.get();
                    if (left <= 0) {
                        break;
                    }
                } while (!a.remaining.compareAndSet(left, left - 1));
                if (left <= 0) {
                    continue;
                }
            }
            injected.increment();
            return a;
        }
        return null;
    }

    @Override
    public void onComplete(BdevRequest down, int status) {
        BdevRequest up = down.forwardedFor();
        if (up.op() == BdevOp.BLOCK_STATUS) {
            up.setExtent(down.extentLength(), down.extentFlags());
        }
        down.release();
        Active hit = up.backendRef instanceof Active a ? a : null;
        if (hit == null || status < 0) {
            up.complete(status);
            return;
        }
        switch (hit.rule.kind()) {
            case CORRUPT -> {
                if (up.op() == BdevOp.READ && up.buffer() != null) {
                    long pos = up.bufferOffset() + ThreadLocalRandom.current().nextLong(up.length());
                    byte b = up.buffer().get(java.lang.foreign.ValueLayout.JAVA_BYTE, pos);
                    up.buffer().set(java.lang.foreign.ValueLayout.JAVA_BYTE, pos, (byte) ~b);
                }
                up.complete(status);
            }
            case DELAY -> {
                up.backendLong = status;
                if (!up.context().startTimer(up, hit.rule.delayMicros(), TIMER)) {
                    up.complete(status); // ring full: deliver without the extra latency rather than stall
                }
            }
            default -> up.complete(status);
        }
    }

    @Override
    protected void ringCompleted(BdevRequest r, int res, int cqeFlags, long cookie) {
        r.complete((int) r.backendLong); // the timer fired (-ETIME): deliver the base's status
    }

    @Override
    public void close() {
        claim.close();
    }
}
