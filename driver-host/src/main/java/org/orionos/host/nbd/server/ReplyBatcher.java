package org.orionos.host.nbd.server;

/**
 * Decides when a connection's queued replies leave: at once, or held back for a fuller send.
 *
 * <p>Every send is a segment (TCP) or skb (Unix) the client's kernel processes, and often a
 * wake-up of the client, so a client that keeps many requests in flight and trickles them in one
 * per send(2), as libnbd does, is served cheaper by fewer, bigger sends. A client with one request
 * in flight must not wait for a batch that never fills, so the batch size adapts: it grows by one
 * after {@link #GROW_AFTER} sends that carried two or more replies (the client had that many in
 * flight at once), and each hold that ends before its batch filled (the client had sent what it
 * had) halves it, at most to the number held. A client that never has two requests in flight at
 * once never waits. The holder ({@link ConnectionShard}) ends holds.
 */
final class ReplyBatcher {
    /** Largest batch: two iovecs a reply fill {@link NbdConnection#IOV_MAX} at 32; 16 measured as good. */
    static final int MAX_REPLIES = 16;
    /** A batch this large leaves at once: a full loopback TCP segment, and big reads gain nothing by waiting. */
    static final long MAX_BYTES = 64 * 1024;
    static final int GROW_AFTER = 4;

    private int target = 1;
    private int fills;

    /** True when {@code replies} queued replies of {@code bytes} should be sent now, false to hold them. */
    boolean sendNow(int replies, long bytes) {
        if (replies < target && bytes < MAX_BYTES) {
            return false;
        }
        if (replies >= 2 && ++fills >= GROW_AFTER) {
            fills = 0;
            target = Math.min(target + 1, MAX_REPLIES);
        }
        return true;
    }

    /** A hold ended before its batch filled, with {@code held} replies queued. */
    void holdExpired(int held) {
        target = Math.max(1, Math.min(target / 2, held));
        fills = 0;
    }

    /** Replies a send currently waits for (1: none held). */
    int target() {
        return target;
    }
}
