package org.orionos.host.bdev.backend;

import org.orionos.host.bdev.BdevCallback;
import org.orionos.host.bdev.BdevOp;
import org.orionos.host.bdev.BdevRequest;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.Claim;

/**
 * Wraps a device and adds a fixed latency to reads, writes and flushes (a ring TIMEOUT after the
 * base completes), to model slow media or a remote disk.
 */
public final class DelayBdev extends BlockDevice implements BdevCallback {
    private final BlockDevice base;
    private final Claim claim;
    private final long readMicros;
    private final long writeMicros;
    private final long flushMicros;

    public DelayBdev(String name, BlockDevice base, long readMicros, long writeMicros, long flushMicros) {
        super(name, base.blockSize(), base.blockCount(), base.capabilities(), base.optimalBoundary(), base.maxTransfer());
        this.base = base;
        this.claim = base.claim("delay bdev " + name, true, this::announceRemoval);
        this.readMicros = readMicros;
        this.writeMicros = writeMicros;
        this.flushMicros = flushMicros;
    }

    @Override
    protected void doSubmit(BdevRequest r) {
        base.submit(r.context().forward(r, this));
    }

    @Override
    public void onComplete(BdevRequest down, int status) {
        BdevRequest up = down.forwardedFor();
        if (up.op() == BdevOp.BLOCK_STATUS) {
            up.setExtent(down.extentLength(), down.extentFlags());
        }
        down.release();
        long micros = switch (up.op()) {
            case BdevOp.READ -> readMicros;
            case BdevOp.WRITE, BdevOp.WRITE_ZEROES, BdevOp.TRIM -> writeMicros;
            case BdevOp.FLUSH -> flushMicros;
            default -> 0;
        };
        up.backendLong = status;
        if (micros == 0 || !up.context().startTimer(up, micros, 0)) {
            up.complete(status);
        }
    }

    @Override
    protected void ringCompleted(BdevRequest r, int res, int cqeFlags, long cookie) {
        r.complete((int) r.backendLong);
    }

    @Override
    public void close() {
        claim.close();
    }
}
