package org.orionos.host.nbd.server;

import java.nio.file.Files;
import java.util.concurrent.CompletableFuture;

import org.orionos.bindings.Errno;
import org.orionos.bindings.Libc;
import org.orionos.host.nbd.protocol.ExportCatalog;
import org.orionos.host.nbd.protocol.TlsMode;
import org.orionos.uring.Completion;
import org.orionos.uring.Reactor;
import org.orionos.uring.Sqe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.orionos.bindings.uapi.IoUringH.IORING_CQE_F_MORE;
import static org.orionos.bindings.uapi.SocketH.SOCK_CLOEXEC;

/**
 * One listening socket, accepting on a reactor's ring with a multishot ACCEPT (one completion per
 * connection); each accepted fd goes to the server, which places it on a reactor. Runs on its
 * reactor's thread only.
 */
final class NbdListener implements Completion {
    private static final Logger LOG = LoggerFactory.getLogger(NbdListener.class);

    private final NbdServer server;
    private final ListenAddress.Bound bound;
    private final Reactor reactor;
    private final ExportCatalog catalog;
    private final TlsMode tls;
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    private long acceptUserData;
    private boolean armed;
    private boolean stopping;
    private boolean multishot = true;
    private int consecutiveErrors;

    NbdListener(NbdServer server, ListenAddress.Bound bound, Reactor reactor, ExportCatalog catalog, TlsMode tls) {
        this.server = server;
        this.bound = bound;
        this.reactor = reactor;
        this.catalog = catalog;
        this.tls = tls;
    }

    ListenAddress.Bound bound() {
        return bound;
    }

    ExportCatalog catalog() {
        return catalog;
    }

    TlsMode tls() {
        return tls;
    }

    /** Starts accepting; call on the reactor. */
    void arm() {
        if (stopping) {
            return;
        }
        Sqe s = reactor.ring().acquire(this, 0);
        if (s == null) {
            reactor.execute(this::arm); // the ring is full: try again next turn
            return;
        }
        if (multishot) {
            s.acceptMultishot(bound.fd(), 0, 0, SOCK_CLOEXEC);
        } else {
            s.accept(bound.fd(), 0, 0, SOCK_CLOEXEC);
        }
        acceptUserData = reactor.ring().lastUserData();
        armed = true;
    }

    @Override
    public void complete(int res, int flags, long cookie) {
        boolean more = (flags & IORING_CQE_F_MORE) != 0;
        if (!more) {
            armed = false;
        }
        if (res >= 0) {
            consecutiveErrors = 0;
            if (stopping) {
                Libc.close(res);
            } else {
                server.accepted(res, this);
            }
        } else if (res == -Errno.EINVAL && multishot && !stopping) {
            multishot = false; // a kernel without multishot accept (before 5.19)
        } else if (res != -Errno.ECANCELED && !stopping) {
            if (++consecutiveErrors <= 3 || consecutiveErrors % 1000 == 0) {
                LOG.warn("{}: accept failed: {} ({} in a row)", bound, Errno.name(res), consecutiveErrors);
            }
        }
        if (!armed) {
            if (stopping) {
                finishStop();
            } else if (consecutiveErrors > 0 && (res == -Errno.EMFILE || res == -Errno.ENFILE)) {
                // Out of descriptors: retry after the loop turned, not in a tight loop here.
                reactor.execute(this::arm);
            } else {
                arm();
            }
        }
    }

    /** Stops accepting and closes the socket; completes when done. Call from any thread. */
    CompletableFuture<Void> stop() {
        reactor.execute(() -> {
            stopping = true;
            if (!armed) {
                finishStop();
                return;
            }
            Sqe s = reactor.ring().acquire(Completion.IGNORE, 0);
            if (s != null) {
                s.cancel(acceptUserData, 0);
            } else {
                reactor.execute(() -> {
                    Sqe again = reactor.ring().acquire(Completion.IGNORE, 0);
                    if (again != null) {
                        again.cancel(acceptUserData, 0);
                    }
                });
            }
        });
        return stopped;
    }

    private void finishStop() {
        if (stopped.isDone()) {
            return;
        }
        Libc.close(bound.fd());
        if (bound.address().isUnix()) {
            try {
                Files.deleteIfExists(bound.address().unixPath());
            } catch (java.io.IOException e) {
                LOG.warn("{}: cannot remove the socket file: {}", bound, e.getMessage());
            }
        }
        stopped.complete(null);
    }
}
