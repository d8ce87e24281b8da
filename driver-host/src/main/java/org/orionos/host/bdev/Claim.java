package org.orionos.host.bdev;

import org.slf4j.LoggerFactory;

/** A consumer's hold on a block device; {@link #close()} releases it. */
public final class Claim implements AutoCloseable {
    private final BlockDevice device;
    private final String owner;
    private final boolean write;
    private final Runnable onRemoval;
    private final Runnable onResize;

    Claim(BlockDevice device, String owner, boolean write, Runnable onRemoval, Runnable onResize) {
        this.device = device;
        this.owner = owner;
        this.write = write;
        this.onRemoval = onRemoval;
        this.onResize = onResize;
    }

    public BlockDevice device() {
        return device;
    }

    public String owner() {
        return owner;
    }

    public boolean write() {
        return write;
    }

    void notifyRemoved() {
        if (onRemoval == null) {
            return;
        }
        try {
            onRemoval.run();
        } catch (RuntimeException e) {
            LoggerFactory.getLogger(Claim.class).error("{}: removal handler of {} failed", device.name(), owner, e);
        }
    }

    void notifyResized() {
        if (onResize == null) {
            return;
        }
        try {
            onResize.run();
        } catch (RuntimeException e) {
            LoggerFactory.getLogger(Claim.class).error("{}: resize handler of {} failed", device.name(), owner, e);
        }
    }

    @Override
    public void close() {
        device.release(this);
    }

    @Override
    public String toString() {
        return owner + (write ? " (write)" : " (read)");
    }
}
