package org.orionos.host.bdev;

import org.slf4j.LoggerFactory;

/** A consumer's hold on a block device; {@link #close()} releases it. */
public final class Claim implements AutoCloseable {
    private final BlockDevice device;
    private final String owner;
    private final boolean write;
    private final Runnable onRemoval;

    Claim(BlockDevice device, String owner, boolean write, Runnable onRemoval) {
        this.device = device;
        this.owner = owner;
        this.write = write;
        this.onRemoval = onRemoval;
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

    @Override
    public void close() {
        device.release(this);
    }

    @Override
    public String toString() {
        return owner + (write ? " (write)" : " (read)");
    }
}
