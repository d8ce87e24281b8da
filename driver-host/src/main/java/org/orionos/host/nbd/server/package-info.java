/**
 * The NBD server on the io_uring reactors.
 *
 * <p>{@link org.orionos.host.nbd.server.NbdServer} binds each configured
 * {@link org.orionos.host.nbd.server.ListenAddress} (TCP, IPv6, unix) and accepts with a multishot
 * ACCEPT on a reactor's ring ({@code NbdListener}); accepted sockets are handed round-robin to the
 * reactors, where one {@code NbdConnection} per socket runs the handshake
 * ({@link org.orionos.host.nbd.protocol.NbdHandshake}) and then the transmission phase entirely
 * from ring completions: RECV into a per-connection buffer, in-place decoding, block-device
 * requests from the reactor's pool, replies gathered into one SENDMSG per loop turn (and held a
 * little longer for a fuller one while a client keeps many requests in flight,
 * {@code ReplyBatcher}) with read data sent straight from the pool buffer the device filled. A device whose storage is memory is served
 * in place instead ({@link org.orionos.host.bdev.BlockDevice#directAccess}): read replies leave
 * from its memory and write payloads land in it, with no buffer and no request. STARTTLS runs
 * JSSE's SSLEngine ({@link org.orionos.host.nbd.server.JsseTlsFilter}) behind the protocol's
 * TlsFilter hook.
 *
 * <p>Per-connection and per-export counters live in {@link org.orionos.host.nbd.server.NbdStats}
 * objects, reachable from {@link org.orionos.host.nbd.server.ServerExport#stats()}.
 */
package org.orionos.host.nbd.server;
