package org.orionos.bindings.uapi;

import org.orionos.bindings.CHeader;

/**
 * linux/nbd-netlink.h: the "nbd" generic netlink family, the modern way to connect, reconfigure and
 * disconnect /dev/nbdX (sockets handed over as NBD_SOCK_FD attributes nested in NBD_ATTR_SOCKETS).
 * Its command names ({@code NBD_CMD_CONNECT}, ...) share the {@code NBD_CMD_} prefix with the
 * transmission commands of {@link NbdH} but not a name; client flags (NBD_CFLAG_*) live in
 * {@link NbdH}, as in the headers. Attribute payloads: u32 index/flags/fd, u64 sizes and timeouts
 * (seconds), string backend identifier.
 */
@CHeader("linux/nbd-netlink.h")
public final class NbdNetlinkH {
    private NbdNetlinkH() {
    }

    public static final String NBD_GENL_FAMILY_NAME = "nbd";
    public static final int NBD_GENL_VERSION = 0x1;
    public static final String NBD_GENL_MCAST_GROUP_NAME = "nbd_mc_group";

    // ---- top-level attributes
    public static final int NBD_ATTR_UNSPEC = 0;
    public static final int NBD_ATTR_INDEX = 1;
    public static final int NBD_ATTR_SIZE_BYTES = 2;
    public static final int NBD_ATTR_BLOCK_SIZE_BYTES = 3;
    public static final int NBD_ATTR_TIMEOUT = 4;
    public static final int NBD_ATTR_SERVER_FLAGS = 5;
    public static final int NBD_ATTR_CLIENT_FLAGS = 6;
    public static final int NBD_ATTR_SOCKETS = 7;
    public static final int NBD_ATTR_DEAD_CONN_TIMEOUT = 8;
    public static final int NBD_ATTR_DEVICE_LIST = 9;
    public static final int NBD_ATTR_BACKEND_IDENTIFIER = 10;
    public static final int NBD_ATTR_MAX = 10;

    // ---- NBD_ATTR_DEVICE_LIST items
    public static final int NBD_DEVICE_ITEM_UNSPEC = 0;
    public static final int NBD_DEVICE_ITEM = 1;
    public static final int NBD_DEVICE_ITEM_MAX = 1;
    public static final int NBD_DEVICE_UNSPEC = 0;
    public static final int NBD_DEVICE_INDEX = 1;
    public static final int NBD_DEVICE_CONNECTED = 2;
    public static final int NBD_DEVICE_ATTR_MAX = 2;

    // ---- NBD_ATTR_SOCKETS items
    public static final int NBD_SOCK_ITEM_UNSPEC = 0;
    public static final int NBD_SOCK_ITEM = 1;
    public static final int NBD_SOCK_ITEM_MAX = 1;
    public static final int NBD_SOCK_UNSPEC = 0;
    public static final int NBD_SOCK_FD = 1;
    public static final int NBD_SOCK_MAX = 1;

    // ---- commands
    public static final int NBD_CMD_UNSPEC = 0;
    public static final int NBD_CMD_CONNECT = 1;
    public static final int NBD_CMD_DISCONNECT = 2;
    public static final int NBD_CMD_RECONFIGURE = 3;
    /** Multicast notification: a connection died. */
    public static final int NBD_CMD_LINK_DEAD = 4;
    public static final int NBD_CMD_STATUS = 5;
    public static final int NBD_CMD_MAX = 5;
}
