package org.orionos.host.bdev;

/**
 * Completion of a block-device request, called on the reactor that submitted it, never from
 * inside {@link BlockDevice#submit}. {@code status} is 0 or a negative errno; the request's
 * results (e.g. BLOCK_STATUS extents) are valid until the request is released or reused.
 */
@FunctionalInterface
public interface BdevCallback {
    void onComplete(BdevRequest request, int status);
}
