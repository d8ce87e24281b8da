package org.orionos.host.nbd.kernel;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.nbd.protocol.NbdExport;
import org.orionos.host.nbd.protocol.NbdWire;
import org.orionos.host.nbd.server.NbdServer;
import org.orionos.host.nbd.server.ServerExport;

/**
 * The io_uring {@link NbdServer} as the kernel's peer: the kernel is told exactly the flags a
 * client without structured replies negotiates with the server, and its sockets are served by
 * the server's own connections ({@link NbdServer#serveConnected}).
 */
public final class ServerEndpoint implements ExportEndpoint {
    private final NbdServer server;

    public ServerEndpoint(NbdServer server) {
        this.server = server;
    }

    @Override
    public KernelExport describe(String name) {
        ServerExport e = server.exports().get(name);
        if (e == null) {
            throw ErrnoException.withMessage(Errno.ENOENT, "nbd attach", name, "no export \"" + name
                    + "\"; exports: " + (server.exports().isEmpty() ? "(none: add an [[nbd.export]])"
                    : String.join(", ", server.exports().keySet())));
        }
        NbdExport x = e.export();
        int f = x.transmissionFlags(false);
        return new KernelExport(name, x.size(), e.device().blockSize(), (f & NbdWire.FLAG_READ_ONLY) != 0,
                (f & NbdWire.FLAG_SEND_FLUSH) != 0, (f & NbdWire.FLAG_SEND_FUA) != 0, (f & NbdWire.FLAG_SEND_TRIM) != 0,
                (f & NbdWire.FLAG_CAN_MULTI_CONN) != 0);
    }

    @Override
    public void serveConnected(int fd, String name) {
        server.serveConnected(fd, name);
    }
}
