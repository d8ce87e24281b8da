package org.orionos.uring;

/**
 * A function a {@link Reactor} calls on every loop iteration, on its thread (SPDK's poller):
 * retrying requests that met back-pressure, flushing batched work, polling a device. It returns
 * how much work it did; while any poller reports work the reactor does not block in the kernel.
 */
@FunctionalInterface
public interface Poller {
    /** Does a bounded amount of work; returns &gt; 0 if it did any, 0 if idle. */
    int poll();
}
