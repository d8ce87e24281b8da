package org.orionos.bindings.uapi;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import org.orionos.bindings.CHeader;

import static org.orionos.bindings.Layouts.U16;
import static org.orionos.bindings.Layouts.U32;
import static org.orionos.bindings.Layouts.U8;
import static org.orionos.bindings.Layouts.offset;

/**
 * linux/netlink.h and linux/genetlink.h (plus {@code SOL_NETLINK} from sys/socket.h): message and
 * attribute headers, flags, socket options, and the generic-netlink controller used to resolve a
 * family name (e.g. "nbd") to its id. Wire format: every message is an {@link Nlmsghdr} followed by
 * a payload padded to {@link #NLMSG_ALIGNTO}; generic netlink payloads start with a
 * {@link Genlmsghdr} followed by {@link Nlattr} TLVs, each padded to {@link #NLA_ALIGNTO}.
 * Host byte order throughout (unless an attribute type carries NLA_F_NET_BYTEORDER).
 */
@CHeader({"sys/socket.h", "linux/netlink.h", "linux/genetlink.h"})
public final class NetlinkH {
    private NetlinkH() {
    }

    // ---- protocols (socket(AF_NETLINK, SOCK_RAW, protocol))
    public static final int NETLINK_ROUTE = 0;
    public static final int NETLINK_KOBJECT_UEVENT = 15;
    public static final int NETLINK_GENERIC = 16;

    // ---- nlmsg_flags
    public static final int NLM_F_REQUEST = 0x01;
    public static final int NLM_F_MULTI = 0x02;
    public static final int NLM_F_ACK = 0x04;
    public static final int NLM_F_ECHO = 0x08;
    public static final int NLM_F_DUMP_INTR = 0x10;
    public static final int NLM_F_DUMP_FILTERED = 0x20;
    public static final int NLM_F_ROOT = 0x100;
    public static final int NLM_F_MATCH = 0x200;
    public static final int NLM_F_ATOMIC = 0x400;
    public static final int NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
    public static final int NLM_F_REPLACE = 0x100;
    public static final int NLM_F_EXCL = 0x200;
    public static final int NLM_F_CREATE = 0x400;
    public static final int NLM_F_APPEND = 0x800;
    public static final int NLM_F_NONREC = 0x100;
    public static final int NLM_F_BULK = 0x200;
    /** In an ack: the error's original request was cut to its header. */
    public static final int NLM_F_CAPPED = 0x100;
    /** In an ack: extended ack TLVs (NLMSGERR_ATTR_*) follow the nlmsgerr. */
    public static final int NLM_F_ACK_TLVS = 0x200;

    // ---- message types and sizes
    public static final int NLMSG_ALIGNTO = 4;
    public static final int NLMSG_HDRLEN = 16;
    public static final int NLMSG_NOOP = 0x1;
    public static final int NLMSG_ERROR = 0x2;
    public static final int NLMSG_DONE = 0x3;
    public static final int NLMSG_OVERRUN = 0x4;
    public static final int NLMSG_MIN_TYPE = 0x10;

    // ---- extended ack attributes (enum nlmsgerr_attrs)
    public static final int NLMSGERR_ATTR_UNUSED = 0;
    public static final int NLMSGERR_ATTR_MSG = 1;
    public static final int NLMSGERR_ATTR_OFFS = 2;
    public static final int NLMSGERR_ATTR_COOKIE = 3;
    public static final int NLMSGERR_ATTR_POLICY = 4;
    public static final int NLMSGERR_ATTR_MISS_TYPE = 5;
    public static final int NLMSGERR_ATTR_MISS_NEST = 6;

    // ---- socket options (level SOL_NETLINK)
    public static final int SOL_NETLINK = 270;
    public static final int NETLINK_ADD_MEMBERSHIP = 1;
    public static final int NETLINK_DROP_MEMBERSHIP = 2;
    public static final int NETLINK_PKTINFO = 3;
    public static final int NETLINK_BROADCAST_ERROR = 4;
    public static final int NETLINK_NO_ENOBUFS = 5;
    public static final int NETLINK_LISTEN_ALL_NSID = 8;
    public static final int NETLINK_LIST_MEMBERSHIPS = 9;
    /** Acks carry only the failed request's header, not the whole request. */
    public static final int NETLINK_CAP_ACK = 10;
    /** Acks carry NLMSGERR_ATTR_MSG etc. (the kernel's explanation of an EINVAL). */
    public static final int NETLINK_EXT_ACK = 11;
    public static final int NETLINK_GET_STRICT_CHK = 12;

    // ---- attributes
    public static final int NLA_F_NESTED = 1 << 15;
    public static final int NLA_F_NET_BYTEORDER = 1 << 14;
    public static final int NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER);
    public static final int NLA_ALIGNTO = 4;
    public static final int NLA_HDRLEN = 4;

    // ---- generic netlink (linux/genetlink.h)
    public static final int GENL_NAMSIZ = 16;
    public static final int GENL_MIN_ID = NLMSG_MIN_TYPE;
    public static final int GENL_MAX_ID = 1023;
    public static final int GENL_HDRLEN = 4;
    public static final int GENL_ADMIN_PERM = 0x01;
    public static final int GENL_CMD_CAP_DO = 0x02;
    public static final int GENL_CMD_CAP_DUMP = 0x04;
    public static final int GENL_CMD_CAP_HASPOL = 0x08;
    public static final int GENL_UNS_ADMIN_PERM = 0x10;
    /** The controller family's fixed id: the one family usable before any lookup. */
    public static final int GENL_ID_CTRL = NLMSG_MIN_TYPE;

    public static final int CTRL_CMD_UNSPEC = 0;
    public static final int CTRL_CMD_NEWFAMILY = 1;
    public static final int CTRL_CMD_DELFAMILY = 2;
    public static final int CTRL_CMD_GETFAMILY = 3;
    public static final int CTRL_CMD_NEWOPS = 4;
    public static final int CTRL_CMD_DELOPS = 5;
    public static final int CTRL_CMD_GETOPS = 6;
    public static final int CTRL_CMD_NEWMCAST_GRP = 7;
    public static final int CTRL_CMD_DELMCAST_GRP = 8;
    public static final int CTRL_CMD_GETMCAST_GRP = 9;
    public static final int CTRL_CMD_GETPOLICY = 10;
    public static final int CTRL_CMD_MAX = 10;

    public static final int CTRL_ATTR_UNSPEC = 0;
    public static final int CTRL_ATTR_FAMILY_ID = 1;
    public static final int CTRL_ATTR_FAMILY_NAME = 2;
    public static final int CTRL_ATTR_VERSION = 3;
    public static final int CTRL_ATTR_HDRSIZE = 4;
    public static final int CTRL_ATTR_MAXATTR = 5;
    public static final int CTRL_ATTR_OPS = 6;
    public static final int CTRL_ATTR_MCAST_GROUPS = 7;
    public static final int CTRL_ATTR_POLICY = 8;
    public static final int CTRL_ATTR_OP_POLICY = 9;
    public static final int CTRL_ATTR_OP = 10;
    public static final int CTRL_ATTR_MAX = 10;

    public static final int CTRL_ATTR_OP_UNSPEC = 0;
    public static final int CTRL_ATTR_OP_ID = 1;
    public static final int CTRL_ATTR_OP_FLAGS = 2;

    public static final int CTRL_ATTR_MCAST_GRP_UNSPEC = 0;
    public static final int CTRL_ATTR_MCAST_GRP_NAME = 1;
    public static final int CTRL_ATTR_MCAST_GRP_ID = 2;
    public static final int CTRL_ATTR_MCAST_GRP_MAX = 2;

    /** {@code NLMSG_ALIGN(len)}. */
    public static int nlmsgAlign(int len) {
        return (len + NLMSG_ALIGNTO - 1) & ~(NLMSG_ALIGNTO - 1);
    }

    /** {@code NLA_ALIGN(len)}. */
    public static int nlaAlign(int len) {
        return (len + NLA_ALIGNTO - 1) & ~(NLA_ALIGNTO - 1);
    }

    /** {@code struct sockaddr_nl}: bind/sendto address; nl_pid 0 = the kernel. */
    public static final class SockaddrNl {
        private SockaddrNl() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U16.withName("nl_family"), U16.withName("nl_pad"), U32.withName("nl_pid"), U32.withName("nl_groups"))
                .withName("sockaddr_nl");
        public static final long NL_FAMILY = offset(LAYOUT, "nl_family");
        public static final long NL_PID = offset(LAYOUT, "nl_pid");
        public static final long NL_GROUPS = offset(LAYOUT, "nl_groups");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /** {@code struct nlmsghdr}: 16 bytes at the start of every message. */
    public static final class Nlmsghdr {
        private Nlmsghdr() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U32.withName("nlmsg_len"), U16.withName("nlmsg_type"), U16.withName("nlmsg_flags"),
                U32.withName("nlmsg_seq"), U32.withName("nlmsg_pid"))
                .withName("nlmsghdr");
        public static final long NLMSG_LEN = offset(LAYOUT, "nlmsg_len");
        public static final long NLMSG_TYPE = offset(LAYOUT, "nlmsg_type");
        public static final long NLMSG_FLAGS = offset(LAYOUT, "nlmsg_flags");
        public static final long NLMSG_SEQ = offset(LAYOUT, "nlmsg_seq");
        public static final long NLMSG_PID = offset(LAYOUT, "nlmsg_pid");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /** {@code struct nlmsgerr}: payload of NLMSG_ERROR; error 0 is an ack, else -errno. */
    public static final class Nlmsgerr {
        private Nlmsgerr() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U32.withName("error"), Nlmsghdr.LAYOUT.withName("msg"))
                .withName("nlmsgerr");
        public static final long ERROR = offset(LAYOUT, "error");
        /** The header of the request that failed (its payload follows unless NLM_F_CAPPED). */
        public static final long MSG = offset(LAYOUT, "msg");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /** {@code struct nlattr}: attribute TLV header; nla_len counts header + payload, not padding. */
    public static final class Nlattr {
        private Nlattr() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U16.withName("nla_len"), U16.withName("nla_type"))
                .withName("nlattr");
        public static final long NLA_LEN = offset(LAYOUT, "nla_len");
        public static final long NLA_TYPE = offset(LAYOUT, "nla_type");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /** {@code struct genlmsghdr}: the generic netlink command header after the nlmsghdr. */
    public static final class Genlmsghdr {
        private Genlmsghdr() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U8.withName("cmd"), U8.withName("version"), U16.withName("reserved"))
                .withName("genlmsghdr");
        public static final long CMD = offset(LAYOUT, "cmd");
        public static final long VERSION = offset(LAYOUT, "version");
        public static final long SIZE = LAYOUT.byteSize();
    }
}
