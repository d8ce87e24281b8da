package org.orionos.host.nbd.protocol;

/**
 * What a finished handshake agreed on: everything the transmission phase needs to decode requests
 * and shape replies for one connection.
 *
 * @param export              the export the client selected
 * @param transmissionFlags   the transmission flags sent to the client
 * @param structuredReplies   structured replies negotiated (implied by extended headers)
 * @param extendedHeaders     32-byte requests and extended reply headers in use
 * @param allocationContextId metadata context id of base:allocation, 0 when not selected
 * @param blockSizeAgreed     the client asked for INFO_BLOCK_SIZE in its GO, so it promised to
 *                            honour the constraints
 * @param tls                 the connection runs over TLS
 */
public record TransmissionParams(NbdExport export, int transmissionFlags, boolean structuredReplies,
                                 boolean extendedHeaders, int allocationContextId,
                                 boolean blockSizeAgreed, boolean tls) {

    /** Bytes in one request header on this connection: 28, or 32 with extended headers. */
    public int requestHeaderSize() {
        return extendedHeaders ? NbdWire.EXTENDED_REQUEST_SIZE : NbdWire.REQUEST_SIZE;
    }
}
