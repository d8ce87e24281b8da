package org.orionos.host.nbd.server;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.bindings.Libc;
import org.orionos.bindings.uapi.SocketH.SockaddrIn;
import org.orionos.bindings.uapi.SocketH.SockaddrIn6;
import org.orionos.bindings.uapi.SocketH.SockaddrUn;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.orionos.bindings.uapi.SocketH.AF_INET;
import static org.orionos.bindings.uapi.SocketH.AF_INET6;
import static org.orionos.bindings.uapi.SocketH.AF_UNIX;
import static org.orionos.bindings.uapi.SocketH.SOCK_CLOEXEC;
import static org.orionos.bindings.uapi.SocketH.SOCK_STREAM;
import static org.orionos.bindings.uapi.SocketH.SOL_SOCKET;
import static org.orionos.bindings.uapi.SocketH.SO_REUSEADDR;

/**
 * Where an NBD listener binds: {@code tcp:HOST:PORT} (an IPv4 address or name, or {@code [IPv6]}),
 * or {@code unix:PATH}. Port 0 picks a free port; {@link #bind()} reports the one chosen.
 *
 * @param unixPath the socket path for {@code unix:}, else null
 * @param host     the address for {@code tcp:}, else null
 * @param port     the TCP port (0: any free port)
 */
public record ListenAddress(String text, Path unixPath, InetAddress host, int port) {

    /** Parses an address as written in the config; throws IllegalArgumentException saying what is wrong. */
    public static ListenAddress parse(String text) {
        if (text.startsWith("unix:")) {
            String p = text.substring(5);
            if (p.isEmpty()) {
                throw new IllegalArgumentException("unix: needs a socket path, e.g. unix:/run/orion/nbd.sock");
            }
            if (p.getBytes(StandardCharsets.UTF_8).length > SockaddrUn.MAX_PATH) {
                throw new IllegalArgumentException("unix socket path '" + p + "' is longer than the kernel's "
                        + SockaddrUn.MAX_PATH + " bytes; use a shorter path");
            }
            return new ListenAddress(text, Path.of(p), null, 0);
        }
        if (!text.startsWith("tcp:")) {
            throw new IllegalArgumentException("address '" + text
                    + "' must start with tcp: or unix: (e.g. tcp:127.0.0.1:10809, tcp:[::1]:10809, unix:/run/orion/nbd.sock)");
        }
        String rest = text.substring(4);
        String hostPart;
        String portPart;
        if (rest.startsWith("[")) {
            int close = rest.indexOf(']');
            if (close < 0 || close + 1 >= rest.length() || rest.charAt(close + 1) != ':') {
                throw new IllegalArgumentException("address '" + text + "': write IPv6 as tcp:[ADDRESS]:PORT");
            }
            hostPart = rest.substring(1, close);
            portPart = rest.substring(close + 2);
        } else {
            int colon = rest.lastIndexOf(':');
            if (colon <= 0 || rest.indexOf(':') != colon) {
                throw new IllegalArgumentException("address '" + text
                        + "' must be tcp:HOST:PORT (IPv6 in brackets: tcp:[::1]:10809)");
            }
            hostPart = rest.substring(0, colon);
            portPart = rest.substring(colon + 1);
        }
        int port;
        try {
            port = Integer.parseInt(portPart);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("address '" + text + "': port '" + portPart + "' is not a number");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("address '" + text + "': port " + port + " is outside 0..65535");
        }
        InetAddress addr;
        try {
            addr = InetAddress.getByName(hostPart);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("address '" + text + "': cannot resolve host '" + hostPart + "'");
        }
        return new ListenAddress(text, null, addr, port);
    }

    public boolean isUnix() {
        return unixPath != null;
    }

    /** A bound, listening socket: its fd and the address clients reach it at. */
    public record Bound(int fd, ListenAddress address, int port) {
        /** An NBD URI for {@code export} (nbd+unix:///NAME?socket=PATH or nbd://HOST:PORT/NAME). */
        public String uri(String export) {
            if (address.isUnix()) {
                return "nbd+unix:///" + export + "?socket=" + address.unixPath();
            }
            String h = address.host() instanceof Inet6Address ? "[" + address.host().getHostAddress() + "]"
                    : address.host().getHostAddress();
            return "nbd://" + h + ":" + port + "/" + export;
        }

        @Override
        public String toString() {
            return address.isUnix() ? "unix:" + address.unixPath()
                    : "tcp:" + (address.host() instanceof Inet6Address ? "[" + address.host().getHostAddress() + "]"
                    : address.host().getHostAddress()) + ":" + port;
        }
    }

    /**
     * Creates, binds and listens (blocking syscalls: call off the reactors). A stale unix socket
     * file from an earlier run is replaced; any other existing file is an error.
     */
    public Bound bind(int backlog) {
        try (Arena a = Arena.ofConfined()) {
            int family = isUnix() ? AF_UNIX : host instanceof Inet4Address ? AF_INET : AF_INET6;
            int fd = ErrnoException.check(Libc.socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket", text);
            try {
                MemorySegment sa;
                if (isUnix()) {
                    prepareUnixPath();
                    sa = a.allocate(SockaddrUn.LAYOUT);
                    sa.set(JAVA_SHORT, SockaddrUn.SUN_FAMILY, (short) AF_UNIX);
                    byte[] p = unixPath.toString().getBytes(StandardCharsets.UTF_8);
                    MemorySegment.copy(p, 0, sa, JAVA_BYTE, SockaddrUn.SUN_PATH, p.length);
                } else {
                    MemorySegment one = a.allocate(JAVA_INT);
                    one.set(JAVA_INT, 0, 1);
                    ErrnoException.check(Libc.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, one, 4), "setsockopt(SO_REUSEADDR)", text);
                    sa = sockaddr(a, host, port);
                }
                int r = Libc.bind(fd, sa, (int) sa.byteSize());
                if (r < 0) {
                    throw ErrnoException.withMessage(-r, "bind", text, "cannot bind NBD listener " + text + ": "
                            + Errno.name(r) + (r == -Errno.EADDRINUSE ? " (another process listens there; pick another address)"
                            : r == -Errno.EACCES ? " (permission denied)" : ""));
                }
                ErrnoException.check(Libc.listen(fd, backlog), "listen", text);
                int actual = port;
                if (!isUnix()) {
                    MemorySegment out = a.allocate(SockaddrIn6.LAYOUT);
                    MemorySegment len = a.allocate(JAVA_INT);
                    len.set(JAVA_INT, 0, (int) out.byteSize());
                    ErrnoException.check(Libc.getsockname(fd, out, len), "getsockname", text);
                    long portOff = host instanceof Inet4Address ? SockaddrIn.SIN_PORT : SockaddrIn6.SIN6_PORT;
                    actual = Short.toUnsignedInt(Short.reverseBytes(out.get(JAVA_SHORT, portOff)));
                }
                return new Bound(fd, this, actual);
            } catch (RuntimeException e) {
                Libc.close(fd);
                throw e;
            }
        }
    }

    private void prepareUnixPath() {
        try {
            Path parent = unixPath.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            if (Files.exists(unixPath, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                if (!Files.readAttributes(unixPath, java.nio.file.attribute.BasicFileAttributes.class,
                        java.nio.file.LinkOption.NOFOLLOW_LINKS).isOther()) {
                    throw ErrnoException.withMessage(Errno.EEXIST, "bind", text, unixPath
                            + " exists and is not a socket; refusing to replace it");
                }
                Files.delete(unixPath);
            }
        } catch (java.io.IOException e) {
            throw ErrnoException.withMessage(Errno.EIO, "bind", text, "cannot prepare " + unixPath + ": " + e.getMessage());
        }
    }

    private static MemorySegment sockaddr(Arena a, InetAddress host, int port) {
        byte[] ip = host.getAddress();
        short netPort = Short.reverseBytes((short) port);
        if (host instanceof Inet4Address) {
            MemorySegment sa = a.allocate(SockaddrIn.LAYOUT);
            sa.set(JAVA_SHORT, SockaddrIn.SIN_FAMILY, (short) AF_INET);
            sa.set(JAVA_SHORT, SockaddrIn.SIN_PORT, netPort);
            MemorySegment.copy(ip, 0, sa, JAVA_BYTE, SockaddrIn.SIN_ADDR, 4);
            return sa;
        }
        MemorySegment sa = a.allocate(SockaddrIn6.LAYOUT);
        sa.set(JAVA_SHORT, SockaddrIn6.SIN6_FAMILY, (short) AF_INET6);
        sa.set(JAVA_SHORT, SockaddrIn6.SIN6_PORT, netPort);
        MemorySegment.copy(ip, 0, sa, JAVA_BYTE, SockaddrIn6.SIN6_ADDR, 16);
        if (host instanceof Inet6Address i6) {
            sa.set(JAVA_INT, SockaddrIn6.SIN6_SCOPE_ID, i6.getScopeId());
        }
        return sa;
    }

    @Override
    public String toString() {
        return text;
    }
}
