package org.orionos.host.bdev;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A test layer with a maximum transfer and an optimal boundary: it forwards to its base and
 * records the largest request it was handed and any that crossed its boundary, proving the
 * core split everything before the backend saw it.
 */
final class LimitedBdev extends BlockDevice implements BdevCallback {
    final BlockDevice base;
    final AtomicLong largest = new AtomicLong();
    final AtomicLong crossings = new AtomicLong();
    final AtomicLong served = new AtomicLong();

    LimitedBdev(String name, BlockDevice base, long boundary, long maxTransfer) {
        super(name, base.blockSize(), base.blockCount(), base.capabilities(), boundary, maxTransfer);
        this.base = base;
    }

    @Override
    protected void doSubmit(BdevRequest r) {
        served.incrementAndGet();
        if (r.op() == BdevOp.READ || r.op() == BdevOp.WRITE) {
            largest.accumulateAndGet(r.length(), Math::max); // max transfer limits data operations
        }
        if (r.op() != BdevOp.FLUSH && r.op() != BdevOp.BLOCK_STATUS) {
            if (r.offset() / optimalBoundary() != (r.offset() + r.length() - 1) / optimalBoundary()) {
                crossings.incrementAndGet();
            }
        }
        base.submit(r.context().forward(r, this));
    }

    @Override
    public void onComplete(BdevRequest down, int status) {
        BdevRequest up = down.forwardedFor();
        up.setExtent(down.extentLength(), down.extentFlags());
        down.release();
        up.complete(status);
    }
}
