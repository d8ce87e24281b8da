package org.orionos.bindings.uapi;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import org.orionos.bindings.CHeader;

import static org.orionos.bindings.Layouts.PTR;
import static org.orionos.bindings.Layouts.U16;
import static org.orionos.bindings.Layouts.U32;
import static org.orionos.bindings.Layouts.U64;
import static org.orionos.bindings.Layouts.U8;
import static org.orionos.bindings.Layouts.offset;
import static org.orionos.bindings.Layouts.pad;

/**
 * sys/socket.h, sys/un.h, netinet/in.h, netinet/tcp.h, sys/uio.h: address families, socket types
 * and options, message flags, socket addresses, iovec and msghdr.
 */
@CHeader({"sys/socket.h", "sys/un.h", "netinet/in.h", "netinet/tcp.h", "sys/uio.h"})
public final class SocketH {
    private SocketH() {
    }

    public static final int AF_UNIX = 1;
    public static final int AF_INET = 2;
    public static final int AF_INET6 = 10;
    public static final int AF_NETLINK = 16;

    public static final int SOCK_STREAM = 1;
    public static final int SOCK_DGRAM = 2;
    public static final int SOCK_RAW = 3;
    public static final int SOCK_SEQPACKET = 5;
    public static final int SOCK_NONBLOCK = 04000;
    public static final int SOCK_CLOEXEC = 02000000;

    public static final int SOL_SOCKET = 1;
    public static final int SO_REUSEADDR = 2;
    public static final int SO_ERROR = 4;
    public static final int SO_SNDBUF = 7;
    public static final int SO_RCVBUF = 8;
    public static final int SO_KEEPALIVE = 9;
    public static final int SO_LINGER = 13;
    public static final int SO_REUSEPORT = 15;
    public static final int SO_PEERCRED = 17;
    /** Receive timeout, a {@code struct timeval} (two longs: seconds, microseconds) on 64-bit. */
    public static final int SO_RCVTIMEO = 20;
    public static final int SCM_RIGHTS = 1;
    public static final int SOMAXCONN = 4096;

    public static final int IPPROTO_TCP = 6;
    public static final int TCP_NODELAY = 1;
    public static final int TCP_CORK = 3;
    public static final int TCP_QUICKACK = 12;
    public static final int INADDR_ANY = 0;
    public static final int INADDR_LOOPBACK = 0x7f000001;

    public static final int MSG_PEEK = 0x2;
    public static final int MSG_CTRUNC = 0x8;
    public static final int MSG_TRUNC = 0x20;
    public static final int MSG_DONTWAIT = 0x40;
    public static final int MSG_WAITALL = 0x100;
    public static final int MSG_NOSIGNAL = 0x4000;
    public static final int MSG_MORE = 0x8000;

    public static final int SHUT_RD = 0;
    public static final int SHUT_WR = 1;
    public static final int SHUT_RDWR = 2;

    /** {@code struct sockaddr_in}; port and address are in network byte order. */
    public static final class SockaddrIn {
        private SockaddrIn() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U16.withName("sin_family"), U16.withName("sin_port"), U32.withName("sin_addr"),
                MemoryLayout.sequenceLayout(8, U8).withName("sin_zero"))
                .withName("sockaddr_in");
        public static final long SIN_FAMILY = offset(LAYOUT, "sin_family");
        public static final long SIN_PORT = offset(LAYOUT, "sin_port");
        public static final long SIN_ADDR = offset(LAYOUT, "sin_addr");
        public static final int SIZE = (int) LAYOUT.byteSize();
    }

    /** {@code struct sockaddr_in6}. */
    public static final class SockaddrIn6 {
        private SockaddrIn6() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U16.withName("sin6_family"), U16.withName("sin6_port"), U32.withName("sin6_flowinfo"),
                MemoryLayout.sequenceLayout(16, U8).withName("sin6_addr"), U32.withName("sin6_scope_id"))
                .withName("sockaddr_in6");
        public static final long SIN6_FAMILY = offset(LAYOUT, "sin6_family");
        public static final long SIN6_PORT = offset(LAYOUT, "sin6_port");
        public static final long SIN6_ADDR = offset(LAYOUT, "sin6_addr");
        public static final long SIN6_SCOPE_ID = offset(LAYOUT, "sin6_scope_id");
        public static final int SIZE = (int) LAYOUT.byteSize();
    }

    /** {@code struct sockaddr_un}: a 108-byte path, NUL-terminated unless it fills the array. */
    public static final class SockaddrUn {
        private SockaddrUn() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U16.withName("sun_family"), MemoryLayout.sequenceLayout(108, U8).withName("sun_path"))
                .withName("sockaddr_un");
        public static final long SUN_FAMILY = offset(LAYOUT, "sun_family");
        public static final long SUN_PATH = offset(LAYOUT, "sun_path");
        public static final int SIZE = (int) LAYOUT.byteSize();
        /** Longest path that fits with its terminating NUL. */
        public static final int MAX_PATH = 107;
    }

    /** {@code struct iovec}. */
    public static final class Iovec {
        private Iovec() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                PTR.withName("iov_base"), U64.withName("iov_len"))
                .withName("iovec");
        public static final long IOV_BASE = offset(LAYOUT, "iov_base");
        public static final long IOV_LEN = offset(LAYOUT, "iov_len");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /** {@code struct msghdr}. */
    public static final class Msghdr {
        private Msghdr() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                PTR.withName("msg_name"), U32.withName("msg_namelen"), pad(4),
                PTR.withName("msg_iov"), U64.withName("msg_iovlen"),
                PTR.withName("msg_control"), U64.withName("msg_controllen"),
                U32.withName("msg_flags"), pad(4))
                .withName("msghdr");
        public static final long MSG_NAME = offset(LAYOUT, "msg_name");
        public static final long MSG_NAMELEN = offset(LAYOUT, "msg_namelen");
        public static final long MSG_IOV = offset(LAYOUT, "msg_iov");
        public static final long MSG_IOVLEN = offset(LAYOUT, "msg_iovlen");
        public static final long MSG_CONTROL = offset(LAYOUT, "msg_control");
        public static final long MSG_CONTROLLEN = offset(LAYOUT, "msg_controllen");
        public static final long MSG_FLAGS = offset(LAYOUT, "msg_flags");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /** {@code struct cmsghdr}; data follows at {@link #DATA} (CMSG_DATA on x86-64). */
    public static final class Cmsghdr {
        private Cmsghdr() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U64.withName("cmsg_len"), U32.withName("cmsg_level"), U32.withName("cmsg_type"))
                .withName("cmsghdr");
        public static final long CMSG_LEN = offset(LAYOUT, "cmsg_len");
        public static final long CMSG_LEVEL = offset(LAYOUT, "cmsg_level");
        public static final long CMSG_TYPE = offset(LAYOUT, "cmsg_type");
        public static final long DATA = LAYOUT.byteSize();
    }
}
