package org.orionos.host.nbd.kernel;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.bindings.uapi.NbdH;
import org.orionos.host.netlink.GenericNetlinkSocket;
import org.orionos.host.netlink.GenlFamily;
import org.orionos.host.netlink.GenlMessage;
import org.orionos.host.netlink.GenlRequest;
import org.orionos.host.netlink.NetlinkAttributes;
import org.orionos.host.netlink.NetlinkException;

import static org.orionos.bindings.uapi.NbdNetlinkH.*;

/**
 * The kernel's "nbd" generic netlink family: connect /dev/nbdN to sockets, reconfigure (size,
 * timeouts, replacement sockets), disconnect, and list devices. Every kernel refusal becomes an
 * {@link ErrnoException} that says what to do. Blocking; control-path threads only.
 *
 * <p>Attribute widths follow the kernel's policy (drivers/block/nbd.c): index u32; sizes, flags
 * and timeouts u64 (timeouts in seconds); socket fds u32 nested as SOCKETS / SOCK_ITEM / SOCK_FD;
 * backend identifier a string; STATUS replies DEVICE_LIST / DEVICE_ITEM / {INDEX u32, CONNECTED u8}.
 */
public final class NbdNetlink implements AutoCloseable {
    private final GenericNetlinkSocket socket;
    private final GenlFamily family;

    private NbdNetlink(GenericNetlinkSocket socket, GenlFamily family) {
        this.socket = socket;
        this.family = family;
    }

    /**
     * Opens a netlink socket and resolves the nbd family.
     *
     * @throws ErrnoException ENOENT with "modprobe nbd" when the module is not loaded
     */
    public static NbdNetlink open() {
        GenericNetlinkSocket s = GenericNetlinkSocket.open(Duration.ofSeconds(30));
        try {
            return new NbdNetlink(s, resolve(s));
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /** Resolves the "nbd" family on {@code s}, turning "no such family" into "load the module". */
    static GenlFamily resolve(GenericNetlinkSocket s) {
        try {
            return s.resolve(NBD_GENL_FAMILY_NAME);
        } catch (NetlinkException e) {
            if (e.errno() == Errno.ENOENT) {
                throw new ErrnoException(Errno.ENOENT, "find the kernel's nbd netlink family", "nbd",
                        "The nbd kernel module is not loaded: run `modprobe nbd` (as root) and retry");
            }
            throw new ErrnoException(e.errno(), "find the kernel's nbd netlink family", "nbd", e.getMessage());
        }
    }

    public GenlFamily family() {
        return family;
    }

    /** What a connect or reconfigure asks of the kernel. */
    public record Config(long sizeBytes, int blockSize, long serverFlags, long timeoutSeconds,
                         long deadConnTimeoutSeconds, String backendIdentifier, long clientFlags) {
    }

    /**
     * NBD_CMD_CONNECT: binds the device {@code index} (or any free one when negative) to
     * {@code fds} (the kernel takes its own reference on each; the caller still closes its copies).
     *
     * @return the device index the kernel assigned
     */
    public int connect(int index, Config c, int[] fds) {
        GenlRequest r = request(NBD_CMD_CONNECT);
        if (index >= 0) {
            r.u32(NBD_ATTR_INDEX, index);
        }
        r.u64(NBD_ATTR_SIZE_BYTES, c.sizeBytes())
                .u64(NBD_ATTR_BLOCK_SIZE_BYTES, c.blockSize())
                .u64(NBD_ATTR_SERVER_FLAGS, c.serverFlags())
                .u64(NBD_ATTR_TIMEOUT, c.timeoutSeconds())
                .u64(NBD_ATTR_DEAD_CONN_TIMEOUT, c.deadConnTimeoutSeconds())
                .u64(NBD_ATTR_CLIENT_FLAGS, c.clientFlags());
        if (c.backendIdentifier() != null) {
            r.string(NBD_ATTR_BACKEND_IDENTIFIER, c.backendIdentifier());
        }
        sockets(r, fds);
        String dev = index >= 0 ? device(index) : "a free /dev/nbd device";
        List<GenlMessage> replies = send(r, "connect", dev);
        for (GenlMessage m : replies) {
            if (m.attrs().has(NBD_ATTR_INDEX)) {
                return m.attrs().u32(NBD_ATTR_INDEX);
            }
        }
        throw new ErrnoException(Errno.EPROTO, "nbd connect", dev, "the kernel's reply named no device index");
    }

    /**
     * NBD_CMD_RECONFIGURE: replaces dead connections with {@code fds} (the kernel fills dead slots in
     * order and ignores sockets beyond them) and updates size/timeouts when given (non-negative).
     *
     * <p>{@code backendIdentifier} must repeat the one given at connect: a device that has one
     * refuses any reconfigure without it, or with another, as EINVAL ("must specify backend" /
     * "backend image doesn't match" in the kernel log; nbd_genl_reconfigure checks it before
     * anything else).
     */
    public void reconfigure(int index, String backendIdentifier, long sizeBytes, int blockSize, long timeoutSeconds,
                            long deadConnTimeoutSeconds, int[] fds) {
        GenlRequest r = request(NBD_CMD_RECONFIGURE).u32(NBD_ATTR_INDEX, index);
        if (backendIdentifier != null) {
            r.string(NBD_ATTR_BACKEND_IDENTIFIER, backendIdentifier);
        }
        if (sizeBytes >= 0) {
            r.u64(NBD_ATTR_SIZE_BYTES, sizeBytes);
        }
        if (blockSize > 0) {
            r.u64(NBD_ATTR_BLOCK_SIZE_BYTES, blockSize);
        }
        if (timeoutSeconds >= 0) {
            r.u64(NBD_ATTR_TIMEOUT, timeoutSeconds);
        }
        if (deadConnTimeoutSeconds >= 0) {
            r.u64(NBD_ATTR_DEAD_CONN_TIMEOUT, deadConnTimeoutSeconds);
        }
        if (fds != null && fds.length > 0) {
            sockets(r, fds);
        }
        send(r, "reconfigure", device(index));
    }

    /** NBD_CMD_DISCONNECT: the kernel sends NBD_CMD_DISC, shuts the sockets and fails queued I/O. */
    public void disconnect(int index) {
        send(request(NBD_CMD_DISCONNECT).u32(NBD_ATTR_INDEX, index), "disconnect", device(index));
    }

    /** One device as NBD_CMD_STATUS reports it. */
    public record DeviceStatus(int index, boolean connected) {
        public String path() {
            return device(index);
        }
    }

    /** NBD_CMD_STATUS for every device (index negative) or one. */
    public List<DeviceStatus> status(int index) {
        GenlRequest r = request(NBD_CMD_STATUS);
        if (index >= 0) {
            r.u32(NBD_ATTR_INDEX, index);
        }
        List<DeviceStatus> out = new ArrayList<>();
        for (GenlMessage m : send(r, "status", index >= 0 ? device(index) : "nbd devices")) {
            if (!m.attrs().has(NBD_ATTR_DEVICE_LIST)) {
                continue;
            }
            NetlinkAttributes list = m.attrs().nested(NBD_ATTR_DEVICE_LIST);
            for (int i = 0; i < list.size(); i++) {
                if (list.typeAt(i) == NBD_DEVICE_ITEM) {
                    NetlinkAttributes d = list.nestedAt(i);
                    out.add(new DeviceStatus(d.u32(NBD_DEVICE_INDEX),
                            d.has(NBD_DEVICE_CONNECTED) && d.u8(NBD_DEVICE_CONNECTED) != 0));
                }
            }
        }
        return out;
    }

    /** The multicast group carrying NBD_CMD_LINK_DEAD, or -1 when this kernel has none. */
    public int multicastGroup() {
        return family.group(NBD_GENL_MCAST_GROUP_NAME);
    }

    /** {@code /dev/nbdN}. */
    public static String device(int index) {
        return "/dev/nbd" + index;
    }

    /** The index in {@code /dev/nbdN} or {@code nbdN}. */
    public static int parseDevice(String path) {
        String p = path.startsWith("/dev/") ? path.substring(5) : path;
        if (p.startsWith("nbd")) {
            try {
                int n = Integer.parseInt(p.substring(3));
                if (n >= 0) {
                    return n;
                }
            } catch (NumberFormatException ignored) {
                // falls through to the error below
            }
        }
        throw ErrnoException.withMessage(Errno.EINVAL, "nbd device", path,
                "\"" + path + "\" is not an NBD device name: expected /dev/nbdN (e.g. /dev/nbd0)");
    }

    /** Flags for SERVER_FLAGS from what the export offers. */
    public static long serverFlags(KernelExport e, int connections) {
        long f = NbdH.NBD_FLAG_HAS_FLAGS;
        if (e.readOnly()) {
            f |= NbdH.NBD_FLAG_READ_ONLY;
        }
        if (e.flush()) {
            f |= NbdH.NBD_FLAG_SEND_FLUSH;
        }
        if (e.fua()) {
            f |= NbdH.NBD_FLAG_SEND_FUA;
        }
        if (e.trim()) {
            f |= NbdH.NBD_FLAG_SEND_TRIM;
        }
        if (connections > 1) {
            // With several sockets the kernel sends a flush on one of them: the export must make it cover all.
            f |= NbdH.NBD_FLAG_CAN_MULTI_CONN;
        }
        return f;
    }

    private GenlRequest request(int cmd) {
        return new GenlRequest(family.id(), cmd, NBD_GENL_VERSION);
    }

    private static void sockets(GenlRequest r, int[] fds) {
        int nest = r.beginNest(NBD_ATTR_SOCKETS);
        for (int fd : fds) {
            int item = r.beginNest(NBD_SOCK_ITEM);
            r.u32(NBD_SOCK_FD, fd);
            r.endNest(item);
        }
        r.endNest(nest);
    }

    private List<GenlMessage> send(GenlRequest r, String op, String dev) {
        try {
            return socket.request(r, "nbd " + op + " " + dev);
        } catch (NetlinkException e) {
            throw explain(e, op, dev);
        }
    }

    /** A kernel refusal, with what to do about it. */
    static ErrnoException explain(NetlinkException e, String op, String dev) {
        String kernel = e.extAck() != null ? " (kernel: " + e.extAck() + ")" : "";
        String hint = switch (e.errno()) {
            case Errno.EPERM, Errno.EACCES ->
                    "NBD devices need CAP_SYS_ADMIN: run orion as root" + kernel;
            case Errno.EBUSY -> dev + " is in use by another NBD client or mount: pick another device"
                    + " (--device /dev/nbdN, see `./orion devices`) or detach it first" + kernel;
            case Errno.ENOENT, Errno.ENODEV -> dev + " does not exist or is not set up" + kernel;
            case Errno.EINVAL -> op.equals("reconfigure")
                    ? dev + " is not connected, or was connected with another backend identifier"
                      + " (see /sys/block/nbdN/backend, `./orion devices` and dmesg)" + kernel
                    : op.equals("disconnect")
                    ? dev + " is not connected (nothing to " + op + "); see `./orion devices`" + kernel
                    : "the kernel refused the request as invalid" + kernel
                      + "; check the export's size and block size (see dmesg)";
            case Errno.ENOSPC -> "no free /dev/nbd device: name one with --device or load nbd with more"
                    + " (modprobe nbd nbds_max=N)" + kernel;
            default -> "the kernel refused it" + kernel + "; see dmesg";
        };
        return new ErrnoException(e.errno(), "nbd " + op, dev, hint);
    }

    @Override
    public void close() {
        socket.close();
    }
}
