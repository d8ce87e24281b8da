package org.orionos.host.nbd.server;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.orionos.bindings.ErrnoException;
import org.orionos.bindings.Libc;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.Capability;
import org.orionos.host.bdev.Claim;
import org.orionos.host.config.NbdSpec;
import org.orionos.host.nbd.protocol.BlockSizeConstraints;
import org.orionos.host.nbd.protocol.ExportCatalog;
import org.orionos.host.nbd.protocol.NbdExport;
import org.orionos.host.nbd.protocol.NbdWire;
import org.orionos.host.nbd.protocol.TlsFilter;
import org.orionos.host.nbd.protocol.TlsMode;
import org.orionos.host.nbd.protocol.TransmissionParams;
import org.orionos.uring.Reactor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The NBD server: listeners accepting on the io_uring reactors, connections spread over the
 * reactors round-robin, each served by an {@link NbdConnection} on its reactor's ring, exports
 * backed by the block-device layer.
 *
 * <p>{@link #close()} stops accepting, lets every connection finish the requests it has (clients
 * still negotiating get ERR_SHUTDOWN; the kernel's sockets are served until idle, so no request
 * the kernel sent is left unanswered), closes what is left after a grace period, releases the
 * device claims and logs each export's counters. The block-device layer is closed after it.
 */
public final class NbdServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NbdServer.class);
    private static final int BACKLOG = 1024;
    /** How long {@link #close} lets kernel sockets look for an idle moment before they stop reading. */
    private static final long QUIESCE_MILLIS = 2_000;

    private final BdevHost host;
    private final ConnectionShard[] shards;
    private final Map<String, ServerExport> exports;
    private final List<NbdListener> listeners = new ArrayList<>();
    private final TlsFilter.Factory tlsFactory;
    private final int maxConnections;
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger nextShard = new AtomicInteger();
    private final AtomicLong nextId = new AtomicLong(1);
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private volatile boolean stopping;
    private boolean closed;

    private NbdServer(BdevHost host, ConnectionShard[] shards, Map<String, ServerExport> exports,
                      TlsFilter.Factory tlsFactory, int maxConnections) {
        this.host = host;
        this.shards = shards;
        this.exports = exports;
        this.tlsFactory = tlsFactory;
        this.maxConnections = maxConnections;
    }

    /**
     * Claims the exported devices, binds every listener and starts accepting.
     *
     * @param tlsFactory TLS sessions for STARTTLS, or null when no listener offers TLS
     * @throws ErrnoException naming what failed (unknown device, address in use, ...); nothing is
     *                        left open then
     */
    public static NbdServer start(BdevHost host, NbdSpec spec, TlsFilter.Factory tlsFactory) {
        Map<String, ServerExport> exports = new LinkedHashMap<>();
        List<ListenAddress.Bound> bound = new ArrayList<>();
        ConnectionShard[] shards = new ConnectionShard[host.reactorCount()];
        try {
            for (NbdSpec.Export e : spec.exports()) {
                BlockDevice d = host.registry().get(e.bdev());
                Claim c = d.claim("nbd export " + e.name(), !e.readOnly(), null);
                exports.put(e.name(), new ServerExport(describe(e, d), d, c));
            }
            for (NbdSpec.Listen l : spec.listeners()) {
                if (!l.tls().equals("off") && tlsFactory == null) {
                    throw ErrnoException.withMessage(org.orionos.bindings.Errno.EINVAL, "nbd listen", l.address(),
                            "listener " + l.address() + " offers TLS but no TLS credentials were given");
                }
                bound.add(ListenAddress.parse(l.address()).bind(BACKLOG));
            }
            for (int i = 0; i < shards.length; i++) {
                Reactor r = host.reactors().get(i);
                var ctx = host.context(i);
                shards[i] = r.call(() -> {
                    ConnectionShard s = new ConnectionShard(r, ctx);
                    r.addLoopHook(s);
                    return s;
                }).get(30, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            bound.forEach(b -> Libc.close(b.fd()));
            exports.values().forEach(ServerExport::release);
            removeHooks(host, shards);
            if (e instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("cannot start the NBD server: " + e.getMessage(), e);
        }
        NbdServer server = new NbdServer(host, shards, Collections.unmodifiableMap(exports), tlsFactory,
                spec.maxConnections());
        for (int i = 0; i < bound.size(); i++) {
            ListenAddress.Bound b = bound.get(i);
            TlsMode mode = TlsMode.valueOf(spec.listeners().get(i).tls().toUpperCase(java.util.Locale.ROOT));
            Reactor r = host.reactors().get(i % shards.length);
            NbdListener l = new NbdListener(server, b, r, server.catalog(mode), mode);
            server.listeners.add(l);
            r.execute(l::arm);
        }
        return server;
    }

    private static void removeHooks(BdevHost host, ConnectionShard[] shards) {
        for (int i = 0; i < shards.length; i++) {
            ConnectionShard s = shards[i];
            if (s != null) {
                Reactor r = host.reactors().get(i);
                r.execute(() -> r.removeLoopHook(s));
            }
        }
    }

    /** How an export presents the device: every capability it has becomes a transmission flag. */
    private static NbdExport describe(NbdSpec.Export e, BlockDevice d) {
        EnumSet<NbdExport.Feature> f = EnumSet.of(NbdExport.Feature.CACHE);
        if (d.has(Capability.FLUSH)) {
            f.add(NbdExport.Feature.FLUSH);
        }
        if (d.has(Capability.FUA)) {
            f.add(NbdExport.Feature.FUA);
        }
        if (d.has(Capability.TRIM)) {
            f.add(NbdExport.Feature.TRIM);
        }
        if (d.has(Capability.WRITE_ZEROES)) {
            f.add(NbdExport.Feature.WRITE_ZEROES);
            f.add(NbdExport.Feature.FAST_ZERO); // FLAG_NO_FALLBACK: the device refuses rather than writing zeros
        }
        if (d.has(Capability.ALLOCATION_STATUS)) {
            f.add(NbdExport.Feature.ALLOCATION_STATUS);
        }
        // Several connections may only be used as one when a flush on any covers writes from all.
        if (d.has(Capability.SHARED_FLUSH) || !d.has(Capability.WRITE) || e.readOnly()) {
            f.add(NbdExport.Feature.MULTI_CONN);
        }
        int min = d.blockSize();
        BlockSizeConstraints bs = new BlockSizeConstraints(min, Math.max(min, 4096), NbdWire.MAX_PAYLOAD);
        boolean readOnly = e.readOnly() || !d.has(Capability.WRITE);
        return new NbdExport(e.name(), e.description(), d.sizeBytes(), readOnly, bs, false, f,
                TlsMode.valueOf(e.tls().toUpperCase(java.util.Locale.ROOT)));
    }

    private ExportCatalog catalog(TlsMode mode) {
        // Exports are read at each handshake, so a resized device shows its new size to new connections.
        return new ExportCatalog() {
            @Override
            public NbdExport find(String name) {
                if (name.isEmpty()) {
                    List<NbdExport> list = list();
                    return list.isEmpty() ? null : list.get(0); // the default export
                }
                ServerExport e = exports.get(name);
                return e == null ? null : e.export();
            }

            @Override
            public List<NbdExport> list() {
                return exports.values().stream().map(ServerExport::export).toList();
            }

            @Override
            public TlsMode tlsMode() {
                return mode;
            }
        };
    }

    /** The exports by name. */
    public Map<String, ServerExport> exports() {
        return exports;
    }

    ServerExport exportNamed(String name) {
        return exports.get(name);
    }

    TlsFilter.Factory tlsFactory() {
        return tlsFactory;
    }

    boolean isStopping() {
        return stopping;
    }

    /** Where clients reach the server (ports resolved when 0 was asked). */
    public List<ListenAddress.Bound> addresses() {
        return listeners.stream().map(NbdListener::bound).toList();
    }

    /** Connections open now (negotiating or transmitting). */
    public int connectionCount() {
        return connections.get();
    }

    /** Connections accepted since start. */
    public long acceptedConnections() {
        return accepted.get();
    }

    /** Connections closed at once because {@code max_connections} were open. */
    public long refusedConnections() {
        return refused.get();
    }

    /** A listener accepted {@code fd} (on its reactor): admit it on the next reactor, or refuse it. */
    void accepted(int fd, NbdListener listener) {
        if (stopping) {
            Libc.close(fd);
            return;
        }
        if (connections.incrementAndGet() > maxConnections) {
            connections.decrementAndGet();
            long n = refused.incrementAndGet();
            if (n == 1 || n % 1000 == 0) {
                LOG.warn("{}: {} connections open, the limit; refused {} so far", listener.bound(), maxConnections, n);
            }
            Libc.close(fd);
            return;
        }
        accepted.incrementAndGet();
        ConnectionShard shard = shards[Math.floorMod(nextShard.getAndIncrement(), shards.length)];
        long id = nextId.getAndIncrement();
        try {
            shard.reactor().execute(() -> {
                NbdConnection c = new NbdConnection(shard, this, listener, fd, id);
                shard.add(c);
                c.start();
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            connections.decrementAndGet();
            Libc.close(fd);
        }
    }

    /**
     * Serves {@code fd}, one end of an already-connected stream socket whose peer speaks only the
     * transmission phase, for export {@code exportName}: the kernel's nbd client, which learns the
     * export's size and flags over netlink. No handshake; 28-byte requests and simple replies; the
     * transmission flags are the export's without structured replies
     * ({@code export().transmissionFlags(false)}), which is what the peer must be told. From then on
     * the socket is a connection like any accepted one (same reactors, same request path, counted,
     * drained by {@link #close}). Takes ownership of {@code fd}: it is closed on refusal too.
     *
     * @throws ErrnoException ENOENT naming the exports when {@code exportName} is unknown, ESHUTDOWN
     *                        when the server is stopping
     */
    public void serveConnected(int fd, String exportName) {
        ServerExport e = exports.get(exportName);
        if (e == null || stopping) {
            Libc.close(fd);
            if (e == null) {
                throw ErrnoException.withMessage(org.orionos.bindings.Errno.ENOENT, "nbd serve", exportName,
                        "no export \"" + exportName + "\"; exports: " + String.join(", ", exports.keySet()));
            }
            throw ErrnoException.withMessage(org.orionos.bindings.Errno.ESHUTDOWN, "nbd serve", exportName,
                    "the NBD server is stopping");
        }
        NbdExport x = e.export();
        TransmissionParams p = new TransmissionParams(x, x.transmissionFlags(false), false, false, 0, false, false);
        connections.incrementAndGet();
        ConnectionShard shard = shards[Math.floorMod(nextShard.getAndIncrement(), shards.length)];
        long id = nextId.getAndIncrement();
        try {
            shard.reactor().execute(() -> {
                NbdConnection c = new NbdConnection(shard, this, null, fd, id);
                shard.add(c);
                c.startTransmission(p);
            });
        } catch (java.util.concurrent.RejectedExecutionException ex) {
            connections.decrementAndGet();
            Libc.close(fd);
            throw ErrnoException.withMessage(org.orionos.bindings.Errno.ESHUTDOWN, "nbd serve", exportName,
                    "the reactors are stopping");
        }
    }

    void connectionClosed(NbdConnection c, String reason) {
        connections.decrementAndGet();
        ServerExport e = c.export();
        if (e != null) {
            e.detach(c);
            if (stopping) {
                LOG.info("{} closed ({}): {}", c, reason, c.stats());
            } else {
                LOG.debug("{} closed ({}): {}", c, reason, c.stats());
            }
        }
    }

    /**
     * Stops accepting, drains connections (up to {@code graceMillis}, then closes the rest), and
     * releases the exports' claims. Logs per-export counters.
     */
    public void close(long graceMillis) {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        stopping = true;
        List<CompletableFuture<Void>> stops = listeners.stream().map(NbdListener::stop).toList();
        for (CompletableFuture<Void> f : stops) {
            try {
                f.get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.warn("an NBD listener did not stop in time: {}", e.toString());
            }
        }
        forEachConnection(NbdConnection::beginShutdown);
        long start = System.currentTimeMillis();
        long deadline = start + graceMillis;
        // Kernel sockets serve on until idle (see NbdConnection#maybeQuiet); one kept busy by a
        // steady load stops reading after a while and closes once it answered what it read.
        long quiet = start + Math.min(QUIESCE_MILLIS, graceMillis / 2);
        while (connections.get() > 0 && System.currentTimeMillis() < quiet) {
            sleep(10);
        }
        if (connections.get() > 0) {
            forEachConnection(NbdConnection::stopReading);
        }
        while (connections.get() > 0 && System.currentTimeMillis() < deadline) {
            sleep(10);
        }
        if (connections.get() > 0) {
            LOG.warn("{} NBD connection(s) still busy after {} ms; closing them", connections.get(), graceMillis);
            forEachConnection(c -> c.closeHard("server stopped"));
            long hard = System.currentTimeMillis() + 30_000;
            while (connections.get() > 0 && System.currentTimeMillis() < hard) {
                sleep(10);
            }
        }
        removeHooks(host, shards);
        for (ServerExport e : exports.values()) {
            e.release();
            LOG.info("nbd export {}: {}", e.name(), e.stats());
        }
        LOG.info("nbd server stopped: {} connections served, {} refused at the limit", accepted.get(), refused.get());
    }

    @Override
    public void close() {
        close(10_000);
    }

    private void forEachConnection(java.util.function.Consumer<NbdConnection> action) {
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (ConnectionShard s : shards) {
            done.add(s.reactor().call(() -> {
                for (NbdConnection c : List.copyOf(s.connections())) {
                    action.accept(c);
                }
                return (Void) null;
            }));
        }
        for (CompletableFuture<Void> f : done) {
            try {
                f.get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.warn("a reactor did not answer while stopping NBD connections: {}", e.toString());
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
