package org.orionos.host.config;

import java.nio.file.Path;
import java.util.List;

/**
 * The {@code [nbd]} section: where the NBD server listens, what it exports, and its TLS
 * credentials. Validated when read (addresses parse, exports name existing devices, TLS modes
 * other than "off" have credentials).
 *
 * @param listeners      {@code [[nbd.listen]]} entries
 * @param exports        {@code [[nbd.export]]} entries
 * @param tls            {@code [nbd.tls]}, or null when absent
 * @param maxConnections {@code [nbd] max_connections}: further connections are closed at accept
 * @param attach         {@code [[nbd.attach]]}: exports the host presents as kernel {@code /dev/nbdN}
 */
public record NbdSpec(List<Listen> listeners, List<Export> exports, Tls tls, int maxConnections,
                      List<NbdAttachSpec> attach) {

    /** Default connection limit. */
    public static final int DEFAULT_MAX_CONNECTIONS = 1024;

    /** No NBD server. */
    public static final NbdSpec NONE = new NbdSpec(List.of(), List.of(), null, DEFAULT_MAX_CONNECTIONS);

    public NbdSpec {
        attach = List.copyOf(attach);
    }

    /** Without kernel attachments. */
    public NbdSpec(List<Listen> listeners, List<Export> exports, Tls tls, int maxConnections) {
        this(listeners, exports, tls, maxConnections, List.of());
    }

    /** The server runs: it has listeners, or exports (which kernel devices can be attached to). */
    public boolean enabled() {
        return !listeners.isEmpty() || !exports.isEmpty();
    }

    /**
     * @param address {@code tcp:HOST:PORT}, {@code tcp:[IPv6]:PORT} or {@code unix:PATH}
     * @param tls     {@code off}, {@code optional} or {@code required}: whether STARTTLS is offered
     *                and whether it must be used before anything else
     */
    public record Listen(String address, String tls) {
    }

    /**
     * @param tls {@code off}, {@code optional} or {@code required} (reachable only over TLS)
     */
    public record Export(String name, String bdev, boolean readOnly, String description, String tls) {
    }

    /**
     * X.509 credentials: PEM {@code certificate} (chain) and {@code key} (PKCS#8, or PKCS#1/SEC1
     * RSA/EC), or a PKCS#12 {@code keystore} with {@code password}; {@code ca} (optional, PEM):
     * when set, clients must present a certificate it signed.
     */
    public record Tls(Path certificate, Path key, Path keystore, String password, Path ca) {
    }
}
