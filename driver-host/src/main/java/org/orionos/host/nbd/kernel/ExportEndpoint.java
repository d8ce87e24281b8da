package org.orionos.host.nbd.kernel;

/**
 * The serving side a kernel device is attached to: the NBD server's exports. The kernel's end of
 * each connection speaks plain NBD transmission (no handshake: the parameters travel by netlink;
 * simple replies only, since the kernel client never negotiates structured replies), so the
 * server takes a connected socket straight into its transmission phase, the same code path as a
 * TCP client after negotiation.
 */
public interface ExportEndpoint {
    /**
     * Describes export {@code name}.
     *
     * @throws org.orionos.bindings.ErrnoException ENOENT naming the exports there are, when unknown
     */
    KernelExport describe(String name);

    /**
     * Serves {@code fd} (one end of a connected stream socket) for export {@code name} from now on;
     * takes ownership of the fd (closed when the connection ends, even if this throws).
     */
    void serveConnected(int fd, String name);
}
