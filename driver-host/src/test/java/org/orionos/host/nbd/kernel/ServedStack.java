package org.orionos.host.nbd.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.orionos.bindings.Libc;
import org.orionos.bindings.uapi.SocketH;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.backend.ErrorBdev;
import org.orionos.host.config.ConfigLoader;
import org.orionos.host.config.OrionConfig;
import org.orionos.host.nbd.server.NbdServer;

/**
 * TEST ONLY: a real block-device host (two reactors) built from TOML and the real io_uring
 * {@link NbdServer} on it, as the kernel's peer through {@link ServerEndpoint}. The server can be
 * stopped and started again over the same devices (a host restart whose data survives), and the
 * server's end of every kernel socket is remembered so a test can cut one as a failing link would.
 */
final class ServedStack implements AutoCloseable {
    final BdevHost host;
    final OrionConfig config;
    private volatile NbdServer server;
    private final Set<Integer> serverEnds = ConcurrentHashMap.newKeySet();
    final AtomicLong opened = new AtomicLong();

    /** {@code toml}: [[bdev]] and [[nbd.export]] tables; a unix listener is added so the config is servable. */
    ServedStack(String toml) {
        config = ConfigLoader.parse(toml + "\n[[nbd.listen]]\naddress = \"unix:/tmp/orion-served-"
                + System.nanoTime() + ".sock\"\n", "<test>");
        host = BdevHost.start(2, 48L << 20);
        try {
            host.build(config);
            server = NbdServer.start(host, config.nbd(), null);
        } catch (RuntimeException e) {
            host.close();
            throw e;
        }
    }

    NbdServer server() {
        return server;
    }

    /** The endpoint the attacher uses: always the current server; records the server's socket ends. */
    ExportEndpoint endpoint() {
        return new ExportEndpoint() {
            @Override
            public KernelExport describe(String name) {
                return new ServerEndpoint(server).describe(name);
            }

            @Override
            public void serveConnected(int fd, String name) {
                serverEnds.add(fd);
                opened.incrementAndGet();
                new ServerEndpoint(server).serveConnected(fd, name);
            }
        };
    }

    /** Stops the NBD server as a dying host would: its connections close, the devices stay. */
    void stopServer() {
        server.close(2_000);
        serverEnds.clear();
    }

    /** A new server over the same devices (the restarted host). */
    void startServer() {
        server = NbdServer.start(host, config.nbd(), null);
    }

    /** Shuts down the server's end of one kernel connection, as a broken link would. */
    void cutOneConnection() {
        int fd = serverEnds.iterator().next();
        serverEnds.remove(fd);
        Libc.shutdown(fd, SocketH.SHUT_RDWR);
    }

    /** Open connections of the current server (kernel sockets included). */
    int connections() {
        return server.connectionCount();
    }

    ErrorBdev errorBdev(String name) {
        return (ErrorBdev) host.registry().get(name);
    }

    /** Bytes of device {@code name}, read through the block-device layer. */
    byte[] read(String name, long offset, int length) throws Exception {
        try (Arena a = Arena.ofShared()) {
            MemorySegment buf = a.allocate(length, 4096);
            host.client().read(host.registry().get(name), offset, buf).get(30, TimeUnit.SECONDS);
            return buf.toArray(ValueLayout.JAVA_BYTE);
        }
    }

    @Override
    public void close() {
        try {
            server.close(2_000);
        } finally {
            host.close();
        }
    }
}
