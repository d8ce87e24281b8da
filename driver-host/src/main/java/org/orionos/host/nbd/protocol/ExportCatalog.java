package org.orionos.host.nbd.protocol;

import java.util.List;

/**
 * What the handshake may offer a client: the exports by name and the listener's TLS policy.
 *
 * <p>Called during negotiation only (never on the request path). Implementations must be safe to
 * call from whichever thread runs the connection's handshake.
 */
public interface ExportCatalog {

    /**
     * The export a client asks for by name.
     *
     * @param name the name as sent; the empty string asks for the default export
     * @return the export, or null if there is none by that name
     */
    NbdExport find(String name);

    /** Every export, in the order NBD_OPT_LIST reports them. */
    List<NbdExport> list();

    /** The listener's TLS policy; see {@link TlsMode}. */
    TlsMode tlsMode();
}
