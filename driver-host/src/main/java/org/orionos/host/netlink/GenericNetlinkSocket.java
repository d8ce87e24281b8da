package org.orionos.host.netlink;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.bindings.Libc;
import org.orionos.bindings.uapi.NetlinkH;
import org.orionos.bindings.uapi.NetlinkH.Genlmsghdr;
import org.orionos.bindings.uapi.NetlinkH.Nlmsgerr;
import org.orionos.bindings.uapi.NetlinkH.Nlmsghdr;
import org.orionos.bindings.uapi.NetlinkH.SockaddrNl;
import org.orionos.bindings.uapi.SocketH;

import static org.orionos.bindings.uapi.NetlinkH.*;

/**
 * A generic netlink socket ({@code AF_NETLINK, NETLINK_GENERIC}) with extended acks on and acks
 * capped to the request's header: requests with sequence numbers, replies collected up to the ack
 * (or NLMSG_DONE for dumps), errors as {@link NetlinkException} with the kernel's explanation,
 * family and multicast-group resolution through the controller, and multicast subscription.
 *
 * <p>Blocking, for control-path threads only (never a reactor). {@link #request} is synchronized;
 * a socket that listens for multicast events should be a separate instance from the one that sends
 * requests, so events and replies do not interleave on one reader.
 */
public final class GenericNetlinkSocket implements AutoCloseable {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    /** Larger than any single datagram the kernel builds for a reply (NLMSG_GOODSIZE-ish skbs). */
    private static final int RX_SIZE = 64 * 1024;
    private static final int TX_SIZE = 16 * 1024;
    /** The controller's version as libnl and iproute2 send it. */
    private static final int CTRL_VERSION = 2;

    private final Arena arena = Arena.ofShared();
    private final int fd;
    private final int portId;
    private final MemorySegment tx;
    private final MemorySegment rx;
    private int seq;
    private boolean closed;

    private GenericNetlinkSocket(int fd, int portId) {
        this.fd = fd;
        this.portId = portId;
        tx = arena.allocate(TX_SIZE, 8);
        rx = arena.allocate(RX_SIZE, 8);
        seq = (int) (System.nanoTime() & 0x3fff_ffff) | 1; // not 0 (events) and unlikely to match a stale reply
    }

    /**
     * Opens and binds a socket; {@code receiveTimeout} bounds every wait for the kernel (the kernel
     * answers requests at once, so this only matters for event listeners and for a wedged kernel).
     */
    public static GenericNetlinkSocket open(Duration receiveTimeout) {
        int fd = Libc.socket(SocketH.AF_NETLINK, SocketH.SOCK_RAW | SocketH.SOCK_CLOEXEC, NETLINK_GENERIC);
        if (fd < 0) {
            throw new ErrnoException(-fd, "socket(AF_NETLINK, NETLINK_GENERIC)", "generic netlink");
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment one = a.allocate(ValueLayout.JAVA_INT);
            one.set(ValueLayout.JAVA_INT, 0, 1);
            check(Libc.setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, one, 4), fd, "setsockopt(NETLINK_EXT_ACK)");
            check(Libc.setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, one, 4), fd, "setsockopt(NETLINK_CAP_ACK)");
            MemorySegment tv = a.allocate(16, 8); // struct timeval: tv_sec, tv_usec (longs on 64-bit)
            long micros = Math.max(1, receiveTimeout.toNanos() / 1000);
            tv.set(ValueLayout.JAVA_LONG, 0, micros / 1_000_000);
            tv.set(ValueLayout.JAVA_LONG, 8, micros % 1_000_000);
            check(Libc.setsockopt(fd, SocketH.SOL_SOCKET, SocketH.SO_RCVTIMEO, tv, 16), fd, "setsockopt(SO_RCVTIMEO)");
            MemorySegment addr = a.allocate(SockaddrNl.LAYOUT);
            addr.set(U16, SockaddrNl.NL_FAMILY, (short) SocketH.AF_NETLINK);
            check(Libc.bind(fd, addr, (int) SockaddrNl.SIZE), fd, "bind(AF_NETLINK)");
            MemorySegment len = a.allocate(ValueLayout.JAVA_INT);
            len.set(ValueLayout.JAVA_INT, 0, (int) SockaddrNl.SIZE);
            check(Libc.getsockname(fd, addr, len), fd, "getsockname(AF_NETLINK)");
            return new GenericNetlinkSocket(fd, addr.get(U32, SockaddrNl.NL_PID));
        }
    }

    private static void check(int r, int fd, String op) {
        if (r < 0) {
            Libc.close(fd);
            throw new ErrnoException(-r, op, "generic netlink");
        }
    }

    /** The port id the kernel assigned at bind (nl_pid). */
    public int portId() {
        return portId;
    }

    /**
     * Resolves a family by name with CTRL_CMD_GETFAMILY.
     *
     * @throws NetlinkException with {@link Errno#ENOENT} when no such family is registered (for a
     *                          family provided by a module: the module is not loaded)
     */
    public GenlFamily resolve(String name) {
        GenlRequest r = new GenlRequest(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_VERSION)
                .string(CTRL_ATTR_FAMILY_NAME, name);
        List<GenlMessage> replies = request(r, "resolve generic netlink family \"" + name + "\"");
        if (replies.isEmpty()) {
            throw new NetlinkException("resolve generic netlink family \"" + name + "\"", Errno.EIO,
                    "the controller acknowledged without describing the family", -1);
        }
        NetlinkAttributes a = replies.getFirst().attrs();
        Map<String, Integer> groups = new HashMap<>();
        if (a.has(CTRL_ATTR_MCAST_GROUPS)) {
            NetlinkAttributes list = a.nested(CTRL_ATTR_MCAST_GROUPS);
            for (int i = 0; i < list.size(); i++) {
                NetlinkAttributes g = list.nestedAt(i);
                groups.put(g.string(CTRL_ATTR_MCAST_GRP_NAME), g.u32(CTRL_ATTR_MCAST_GRP_ID));
            }
        }
        return new GenlFamily(a.string(CTRL_ATTR_FAMILY_NAME), a.u16(CTRL_ATTR_FAMILY_ID),
                a.has(CTRL_ATTR_VERSION) ? a.u32(CTRL_ATTR_VERSION) : 0,
                a.has(CTRL_ATTR_HDRSIZE) ? a.u32(CTRL_ATTR_HDRSIZE) : 0,
                a.has(CTRL_ATTR_MAXATTR) ? a.u32(CTRL_ATTR_MAXATTR) : 0, groups);
    }

    /**
     * Sends {@code r} and returns the replies up to its ack (for a dump: up to NLMSG_DONE).
     * Messages that carry another sequence number (a late reply, an event) are skipped.
     *
     * @param what names the request in an error ("connect /dev/nbd0", ...)
     * @throws NetlinkException when the kernel answers with an error
     * @throws ErrnoException   when the socket itself fails (or the kernel does not answer in time)
     */
    public synchronized List<GenlMessage> request(GenlRequest r, String what) {
        ensureOpen();
        int s = nextSeq();
        int n = r.writeTo(tx, s, portId);
        long w = Libc.write(fd, tx, n);
        if (w < 0) {
            throw new ErrnoException((int) -w, "netlink send", what);
        }
        boolean dump = (r.flags() & NLM_F_DUMP) == NLM_F_DUMP;
        List<GenlMessage> out = new ArrayList<>();
        while (true) {
            long got = Libc.read(fd, rx, RX_SIZE);
            if (got < 0) {
                int e = (int) -got;
                throw new ErrnoException(e, "netlink receive", what, e == Errno.EAGAIN
                        ? "the kernel did not answer within the receive timeout" : null);
            }
            for (long m = 0; m + Nlmsghdr.SIZE <= got; ) {
                int len = rx.get(U32, m + Nlmsghdr.NLMSG_LEN);
                if (len < Nlmsghdr.SIZE || m + len > got) {
                    throw new ErrnoException(Errno.EPROTO, "netlink receive", what,
                            "malformed message of length " + len + " at " + m + " in a datagram of " + got);
                }
                int type = Short.toUnsignedInt(rx.get(U16, m + Nlmsghdr.NLMSG_TYPE));
                int mseq = rx.get(U32, m + Nlmsghdr.NLMSG_SEQ);
                if (mseq == s) {
                    if (type == NLMSG_ERROR) {
                        int err = rx.get(U32, m + Nlmsghdr.SIZE + Nlmsgerr.ERROR);
                        if (err == 0) {
                            return out; // the ack ends a non-dump request
                        }
                        throw error(m, len, -err, what);
                    }
                    if (type == NLMSG_DONE) {
                        // A dump's end; a failed dump puts its errno in the DONE payload.
                        int err = len >= Nlmsghdr.SIZE + 4 ? rx.get(U32, m + Nlmsghdr.SIZE) : 0;
                        if (err < 0) {
                            throw new NetlinkException(what, -err, null, -1);
                        }
                        return out;
                    }
                    if (type != NLMSG_NOOP) {
                        out.add(copyMessage(m, len, type));
                    }
                }
                m += NetlinkH.nlmsgAlign(len);
            }
            if (!dump && !out.isEmpty() && (r.flags() & NLM_F_ACK) == 0) {
                return out;
            }
        }
    }

    /** Joins multicast group {@code groupId} (see {@link GenlFamily#group}). */
    public synchronized void subscribe(int groupId) {
        ensureOpen();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment g = a.allocate(ValueLayout.JAVA_INT);
            g.set(ValueLayout.JAVA_INT, 0, groupId);
            int r = Libc.setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, g, 4);
            if (r < 0) {
                throw new ErrnoException(-r, "netlink join multicast group " + groupId, "generic netlink");
            }
        }
    }

    /**
     * Waits up to the receive timeout for multicast messages; returns those of one datagram (empty
     * when the timeout passed). For a socket used only to listen: replies are not expected here.
     */
    public List<GenlMessage> receiveEvents() {
        ensureOpen();
        long got = Libc.read(fd, rx, RX_SIZE);
        if (got == -Errno.EAGAIN || got == -Errno.EINTR) {
            return List.of();
        }
        if (got < 0) {
            if (got == -Errno.ENOBUFS) {
                // Events were dropped because we read too slowly: the caller must re-check state.
                throw new ErrnoException(Errno.ENOBUFS, "netlink receive events", "generic netlink",
                        "events were lost; re-read the state you were following");
            }
            throw new ErrnoException((int) -got, "netlink receive events", "generic netlink");
        }
        List<GenlMessage> out = new ArrayList<>();
        for (long m = 0; m + Nlmsghdr.SIZE <= got; ) {
            int len = rx.get(U32, m + Nlmsghdr.NLMSG_LEN);
            if (len < Nlmsghdr.SIZE || m + len > got) {
                break;
            }
            int type = Short.toUnsignedInt(rx.get(U16, m + Nlmsghdr.NLMSG_TYPE));
            if (type >= NLMSG_MIN_TYPE) {
                out.add(copyMessage(m, len, type));
            }
            m += NetlinkH.nlmsgAlign(len);
        }
        return out;
    }

    private GenlMessage copyMessage(long m, int len, int type) {
        if (len < Nlmsghdr.SIZE + Genlmsghdr.SIZE) {
            throw new ErrnoException(Errno.EPROTO, "netlink receive", "family " + type,
                    "message of " + len + " bytes is shorter than its generic netlink header");
        }
        // Copied out of the receive buffer, which the next read reuses.
        MemorySegment copy = MemorySegment.ofArray(rx.asSlice(m, len).toArray(ValueLayout.JAVA_BYTE));
        int flags = Short.toUnsignedInt(copy.get(U16, Nlmsghdr.NLMSG_FLAGS));
        int mseq = copy.get(U32, Nlmsghdr.NLMSG_SEQ);
        int cmd = Byte.toUnsignedInt(copy.get(ValueLayout.JAVA_BYTE, Nlmsghdr.SIZE + Genlmsghdr.CMD));
        int version = Byte.toUnsignedInt(copy.get(ValueLayout.JAVA_BYTE, Nlmsghdr.SIZE + Genlmsghdr.VERSION));
        NetlinkAttributes attrs = NetlinkAttributes.parse(copy, Nlmsghdr.SIZE + Genlmsghdr.SIZE, len);
        return new GenlMessage(type, cmd, version, flags, mseq, attrs);
    }

    /** An NLMSG_ERROR at {@code m}: the errno plus the extended-ack TLVs when the kernel sent them. */
    private NetlinkException error(long m, int len, int errno, String what) {
        int flags = Short.toUnsignedInt(rx.get(U16, m + Nlmsghdr.NLMSG_FLAGS));
        String msg = null;
        int offs = -1;
        if ((flags & NLM_F_ACK_TLVS) != 0) {
            long tlv = m + Nlmsghdr.SIZE + Nlmsgerr.SIZE;
            if ((flags & NLM_F_CAPPED) == 0) {
                // Uncapped: the whole original request sits between the nlmsgerr header and the TLVs.
                int orig = rx.get(U32, m + Nlmsghdr.SIZE + Nlmsgerr.MSG + Nlmsghdr.NLMSG_LEN);
                tlv += NetlinkH.nlmsgAlign(orig) - Nlmsghdr.SIZE;
            }
            if (tlv < m + len) {
                NetlinkAttributes t = NetlinkAttributes.parse(rx, tlv, m + len);
                if (t.has(NLMSGERR_ATTR_MSG)) {
                    msg = t.string(NLMSGERR_ATTR_MSG);
                }
                if (t.has(NLMSGERR_ATTR_OFFS)) {
                    offs = t.u32(NLMSGERR_ATTR_OFFS);
                }
            }
        }
        return new NetlinkException(what, errno, msg, offs);
    }

    private int nextSeq() {
        seq = seq == Integer.MAX_VALUE ? 1 : seq + 1;
        return seq;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("netlink socket closed");
        }
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            Libc.close(fd);
            arena.close();
        }
    }
}
