package org.orionos.host.nbd.server;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.config.ConfigLoader;
import org.orionos.host.config.NbdSpec;
import org.orionos.host.config.OrionConfig;
import org.orionos.host.nbd.protocol.TlsFilter;

/**
 * TEST ONLY: a real {@link BdevHost} (two reactors) built from a TOML string and the real
 * {@link NbdServer} on it, listening on a free TCP port and a unix socket.
 */
final class LiveServer implements AutoCloseable {
    final BdevHost host;
    final NbdServer server;
    final OrionConfig config;

    /**
     * @param toml    [[bdev]] and [[nbd.export]] tables; listeners are added here
     * @param sockDir where the unix socket goes
     */
    LiveServer(String toml, Path sockDir, String extraListen) throws Exception {
        String full = toml + "\n[[nbd.listen]]\naddress = \"tcp:127.0.0.1:0\"\n"
                + "[[nbd.listen]]\naddress = \"unix:" + sockDir.resolve("nbd.sock") + "\"\n"
                + (extraListen == null ? "" : extraListen);
        config = ConfigLoader.parse(full, "<test>");
        host = BdevHost.start(2, 48L << 20);
        try {
            host.build(config);
            TlsFilter.Factory tls = JsseTlsFilter.factoryFor(config.nbd().tls());
            server = NbdServer.start(host, config.nbd(), tls);
        } catch (Exception e) {
            host.close();
            throw e;
        }
    }

    LiveServer(String toml, Path sockDir) throws Exception {
        this(toml, sockDir, null);
    }

    ListenAddress.Bound tcp() {
        return server.addresses().get(0);
    }

    ListenAddress.Bound unix() {
        return server.addresses().get(1);
    }

    int port() {
        return tcp().port();
    }

    String uri(String export) {
        return tcp().uri(export);
    }

    String unixUri(String export) {
        return unix().uri(export);
    }

    BlockDevice device(String name) {
        return host.registry().get(name);
    }

    /** The whole device's content, read through the block-device layer. */
    byte[] contents(String name) throws Exception {
        BlockDevice d = device(name);
        try (Arena a = Arena.ofShared()) {
            MemorySegment buf = a.allocate(d.sizeBytes(), 4096);
            host.client().read(d, 0, buf).get(30, TimeUnit.SECONDS);
            return buf.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        }
    }

    /** Writes {@code data} at {@code offset} through the block-device layer. */
    void write(String name, long offset, byte[] data) throws Exception {
        try (Arena a = Arena.ofShared()) {
            MemorySegment buf = a.allocate(data.length, 4096);
            MemorySegment.copy(data, 0, buf, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, data.length);
            host.client().write(device(name), offset, buf, 0).get(30, TimeUnit.SECONDS);
        }
    }

    NbdSpec spec() {
        return config.nbd();
    }

    List<ListenAddress.Bound> addresses() {
        return server.addresses();
    }

    @Override
    public void close() {
        try {
            server.close(5_000);
        } finally {
            host.close();
        }
    }
}
