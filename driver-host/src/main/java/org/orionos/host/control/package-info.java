/**
 * The running host's management socket: one JSON request per line in, one JSON reply per line
 * out, over a Unix socket only root can open. CLI commands that act on a running host
 * ({@code orion status}, and the attach, RAID and LVM commands as they move onto it) are clients.
 * Requests run on their own threads, never on a reactor.
 */
package org.orionos.host.control;
