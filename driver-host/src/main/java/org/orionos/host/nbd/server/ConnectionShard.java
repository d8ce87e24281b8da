package org.orionos.host.nbd.server;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

import org.orionos.host.bdev.IoContext;
import org.orionos.uring.Reactor;

/**
 * The NBD server's state on one reactor: its connections, the ones waiting for room in the ring,
 * the ones with replies to send and the ones holding replies back for a fuller send
 * ({@link NbdConnection#flushOrHold}). Its loop hook runs after the block-device layer's deferred
 * completions, so every reply completed in one turn of the loop leaves in one SENDMSG per
 * connection. Touched only on its reactor's thread.
 */
final class ConnectionShard implements Reactor.LoopHook {
    private final Reactor reactor;
    private final IoContext context;
    private final List<NbdConnection> connections = new ArrayList<>();
    private final ArrayDeque<NbdConnection> waiting = new ArrayDeque<>();
    private final ArrayDeque<NbdConnection> dirty = new ArrayDeque<>();
    private final ArrayDeque<NbdConnection> held = new ArrayDeque<>();

    ConnectionShard(Reactor reactor, IoContext context) {
        this.reactor = reactor;
        this.context = context;
    }

    Reactor reactor() {
        return reactor;
    }

    IoContext context() {
        return context;
    }

    void add(NbdConnection c) {
        connections.add(c);
    }

    void closed(NbdConnection c) {
        connections.remove(c);
    }

    /** Connections on this reactor (reactor thread only). */
    List<NbdConnection> connections() {
        return connections;
    }

    void waitForRing(NbdConnection c) {
        if (!c.queuedForRing) {
            c.queuedForRing = true;
            waiting.add(c);
        }
    }

    void markDirty(NbdConnection c) {
        dirty.add(c);
    }

    @Override
    public boolean run() {
        NbdConnection c;
        int n = dirty.size();
        while (n-- > 0 && (c = dirty.poll()) != null) {
            if (c.flushOrHold()) {
                c.held = false; // its entry in the held queue is dropped below, not searched for here
            } else if (!c.held) {
                c.held = true;
                c.heldSince = System.nanoTime();
                if (!c.inHeldQueue) {
                    c.inHeldQueue = true;
                    held.add(c);
                }
            }
        }
        n = held.size();
        if (n > 0) {
            long now = System.nanoTime();
            // A client quiet for as long as the reactor busy-polls has sent what it had.
            long quiet = reactor.busyPollNanos();
            while (n-- > 0 && (c = held.poll()) != null) {
                if (!c.held) {
                    c.inHeldQueue = false;
                    continue;
                }
                long quietUntil = c.lastRequestNanos + quiet;
                long maxUntil = c.heldSince + NbdConnection.MAX_HOLD_NANOS;
                long until = quietUntil - maxUntil < 0 ? quietUntil : maxUntil;
                if (now - until < 0) {
                    held.add(c);
                    reactor.runHooksBy(until);
                } else {
                    c.held = false;
                    c.inHeldQueue = false;
                    c.releaseHeld();
                }
            }
        }
        n = waiting.size();
        while (n-- > 0 && (c = waiting.poll()) != null) {
            c.queuedForRing = false;
            c.retryRing();
        }
        return !waiting.isEmpty() || !dirty.isEmpty();
    }

    /** The reactor is going idle: nothing more will come to fill a held batch soon. */
    @Override
    public boolean idle() {
        boolean sent = false;
        NbdConnection c;
        while ((c = held.poll()) != null) {
            c.inHeldQueue = false;
            if (c.held) {
                c.held = false;
                c.releaseHeld();
                sent = true;
            }
        }
        return sent;
    }
}
