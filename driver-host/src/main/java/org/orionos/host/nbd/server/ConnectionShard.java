package org.orionos.host.nbd.server;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

import org.orionos.host.bdev.IoContext;
import org.orionos.uring.Reactor;

/**
 * The NBD server's state on one reactor: its connections, the ones waiting for room in the ring,
 * and the ones with replies to send. Its loop hook runs after the block-device layer's deferred
 * completions, so every reply completed in one turn of the loop leaves in one SENDMSG per
 * connection. Touched only on its reactor's thread.
 */
final class ConnectionShard implements Reactor.LoopHook {
    private final Reactor reactor;
    private final IoContext context;
    private final List<NbdConnection> connections = new ArrayList<>();
    private final ArrayDeque<NbdConnection> waiting = new ArrayDeque<>();
    private final ArrayDeque<NbdConnection> dirty = new ArrayDeque<>();

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
            c.flush();
        }
        n = waiting.size();
        while (n-- > 0 && (c = waiting.poll()) != null) {
            c.queuedForRing = false;
            c.retryRing();
        }
        return !waiting.isEmpty() || !dirty.isEmpty();
    }
}
