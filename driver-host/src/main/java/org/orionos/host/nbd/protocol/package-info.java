/**
 * The NBD protocol, independent of any transport: the wire format ({@link
 * org.orionos.host.nbd.protocol.NbdWire}), the handshake as a state machine fed bytes ({@link
 * org.orionos.host.nbd.protocol.NbdHandshake}, asking an {@link
 * org.orionos.host.nbd.protocol.ExportCatalog} what to offer), and the transmission-phase codec
 * ({@link org.orionos.host.nbd.protocol.RequestDecoder} into a reused {@link
 * org.orionos.host.nbd.protocol.NbdRequest}, {@link org.orionos.host.nbd.protocol.ReplyEncoder}
 * into caller-provided memory).
 *
 * <p>A transport drives one connection like this: feed received bytes to the handshake and send
 * its output until it reports TRANSMISSION (or CLOSED, or START_TLS, where a {@link
 * org.orionos.host.nbd.protocol.TlsFilter} takes over the byte streams); then build a decoder and
 * an encoder from the agreed {@link org.orionos.host.nbd.protocol.TransmissionParams}, and for
 * every {@code headerSize()} bytes decode a request, act on the verdict (execute it on the block
 * device, or reply with its error after discarding its payload, or disconnect), and encode the
 * reply when the device completes, mapping its negative errno with {@link
 * org.orionos.host.nbd.protocol.NbdError#fromErrno}. Replies may go out in any order.
 *
 * <p>Nothing here throws for malformed input or allocates per request; the handshake may allocate
 * (it runs once per connection).
 */
package org.orionos.host.nbd.protocol;
