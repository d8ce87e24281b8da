package org.orionos.bindings.uapi;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.orionos.bindings.Errno;
import org.orionos.bindings.Libc;
import org.orionos.bindings.uapi.NetlinkH.Genlmsghdr;
import org.orionos.bindings.uapi.NetlinkH.Nlattr;
import org.orionos.bindings.uapi.NetlinkH.Nlmsgerr;
import org.orionos.bindings.uapi.NetlinkH.Nlmsghdr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.orionos.bindings.uapi.NetlinkH.*;

/**
 * The netlink bindings against this machine's kernel: resolve the generic netlink controller's own
 * family ("nlctrl", always present) with CTRL_CMD_GETFAMILY, parse the reply with the layouts, and
 * see an unknown family fail with -ENOENT in an NLMSG_ERROR. This is a check of the bindings, not a
 * netlink client: it writes and reads raw buffers with the layout offsets.
 */
class GenericNetlinkKernelTest {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;

    private Arena arena;
    private int fd = -1;

    @BeforeEach
    void open() {
        arena = Arena.ofConfined();
        fd = Libc.socket(SocketH.AF_NETLINK, SocketH.SOCK_RAW | SocketH.SOCK_CLOEXEC, NETLINK_GENERIC);
        assertTrue(fd >= 0, "socket(AF_NETLINK, NETLINK_GENERIC): " + Errno.name(-fd));
        MemorySegment one = arena.allocate(ValueLayout.JAVA_INT);
        one.set(ValueLayout.JAVA_INT, 0, 1);
        assertEquals(0, Libc.setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, one, 4));
        assertEquals(0, Libc.setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, one, 4));
    }

    @AfterEach
    void close() {
        if (fd >= 0) {
            Libc.close(fd);
        }
        arena.close();
    }

    /** Writes a GETFAMILY request for {@code name} and returns the reply bytes. */
    private MemorySegment getFamily(String name, int seq) {
        byte[] n = (name + "\0").getBytes(StandardCharsets.US_ASCII);
        int attrLen = (int) Nlattr.SIZE + n.length;
        int len = (int) (Nlmsghdr.SIZE + Genlmsghdr.SIZE) + nlaAlign(attrLen);
        MemorySegment req = arena.allocate(len, 4);
        req.set(U32, Nlmsghdr.NLMSG_LEN, len);
        req.set(U16, Nlmsghdr.NLMSG_TYPE, (short) GENL_ID_CTRL);
        req.set(U16, Nlmsghdr.NLMSG_FLAGS, (short) (NLM_F_REQUEST | NLM_F_ACK));
        req.set(U32, Nlmsghdr.NLMSG_SEQ, seq);
        long g = Nlmsghdr.SIZE;
        req.set(ValueLayout.JAVA_BYTE, g + Genlmsghdr.CMD, (byte) CTRL_CMD_GETFAMILY);
        req.set(ValueLayout.JAVA_BYTE, g + Genlmsghdr.VERSION, (byte) 2);
        long a = g + Genlmsghdr.SIZE;
        req.set(U16, a + Nlattr.NLA_LEN, (short) attrLen);
        req.set(U16, a + Nlattr.NLA_TYPE, (short) CTRL_ATTR_FAMILY_NAME);
        MemorySegment.copy(n, 0, req, ValueLayout.JAVA_BYTE, a + Nlattr.SIZE, n.length);
        assertEquals(len, Libc.write(fd, req, len));
        MemorySegment buf = arena.allocate(16384, 8);
        long got = Libc.read(fd, buf, buf.byteSize());
        assertTrue(got >= Nlmsghdr.SIZE, "read: " + got);
        return buf.asSlice(0, got);
    }

    /** Top-level attributes of a message payload: type to (offset, payload length). */
    private static Map<Integer, long[]> attrs(MemorySegment m, long from, long end) {
        Map<Integer, long[]> out = new HashMap<>();
        for (long a = from; a + Nlattr.SIZE <= end; ) {
            int len = Short.toUnsignedInt(m.get(U16, a + Nlattr.NLA_LEN));
            int type = Short.toUnsignedInt(m.get(U16, a + Nlattr.NLA_TYPE)) & NLA_TYPE_MASK;
            assertTrue(len >= Nlattr.SIZE, "attribute length " + len);
            out.put(type, new long[] {a + Nlattr.SIZE, len - Nlattr.SIZE});
            a += nlaAlign(len);
        }
        return out;
    }

    private static String string(MemorySegment m, long[] at) {
        return m.asSlice(at[0], at[1]).getString(0, StandardCharsets.US_ASCII);
    }

    @Test
    void resolvesTheControllerFamilyByName() {
        MemorySegment r = getFamily("nlctrl", 7);
        int len = r.get(U32, Nlmsghdr.NLMSG_LEN);
        assertEquals(GENL_ID_CTRL, Short.toUnsignedInt(r.get(U16, Nlmsghdr.NLMSG_TYPE)));
        assertEquals(7, r.get(U32, Nlmsghdr.NLMSG_SEQ));
        assertEquals(CTRL_CMD_NEWFAMILY, r.get(ValueLayout.JAVA_BYTE, Nlmsghdr.SIZE + Genlmsghdr.CMD));
        Map<Integer, long[]> at = attrs(r, Nlmsghdr.SIZE + Genlmsghdr.SIZE, len);
        assertEquals(GENL_ID_CTRL, Short.toUnsignedInt(r.get(U16, at.get(CTRL_ATTR_FAMILY_ID)[0])));
        assertEquals("nlctrl", string(r, at.get(CTRL_ATTR_FAMILY_NAME)));
        assertTrue(r.get(U32, at.get(CTRL_ATTR_HDRSIZE)[0]) >= 0);
        // Multicast groups: nested list of nested {name, id}; nlctrl's own group is "notify".
        long[] groups = at.get(CTRL_ATTR_MCAST_GROUPS);
        Map<Integer, long[]> first = attrs(r, groups[0], groups[0] + groups[1]);
        long[] grp = first.values().iterator().next();
        Map<Integer, long[]> g = attrs(r, grp[0], grp[0] + grp[1]);
        assertEquals("notify", string(r, g.get(CTRL_ATTR_MCAST_GRP_NAME)));
        assertTrue(r.get(U32, g.get(CTRL_ATTR_MCAST_GRP_ID)[0]) > 0);
    }

    @Test
    void unknownFamilyIsAnNlmsgErrorWithEnoent() {
        MemorySegment r = getFamily("orion-nosuch", 9); // fits GENL_NAMSIZ
        assertEquals(NLMSG_ERROR, Short.toUnsignedInt(r.get(U16, Nlmsghdr.NLMSG_TYPE)));
        long e = Nlmsghdr.SIZE;
        assertEquals(-Errno.ENOENT, r.get(U32, e + Nlmsgerr.ERROR));
        // The error echoes our request header (capped, since NETLINK_CAP_ACK is set).
        assertEquals(9, r.get(U32, e + Nlmsgerr.MSG + Nlmsghdr.NLMSG_SEQ));
        assertEquals(GENL_ID_CTRL, Short.toUnsignedInt(r.get(U16, e + Nlmsgerr.MSG + Nlmsghdr.NLMSG_TYPE)));
        assertTrue((Short.toUnsignedInt(r.get(U16, Nlmsghdr.NLMSG_FLAGS)) & NLM_F_CAPPED) != 0);
    }

    @Test
    void policyViolationCarriesAnExtendedAckMessage() {
        MemorySegment r = getFamily("a-family-name-longer-than-genl-namsiz", 11);
        int len = r.get(U32, Nlmsghdr.NLMSG_LEN);
        assertEquals(NLMSG_ERROR, Short.toUnsignedInt(r.get(U16, Nlmsghdr.NLMSG_TYPE)));
        assertEquals(-Errno.EINVAL, r.get(U32, Nlmsghdr.SIZE + Nlmsgerr.ERROR));
        int flags = Short.toUnsignedInt(r.get(U16, Nlmsghdr.NLMSG_FLAGS));
        assertTrue((flags & NLM_F_ACK_TLVS) != 0, "flags 0x" + Integer.toHexString(flags));
        // Capped: the TLVs follow the nlmsgerr with just the request's header.
        Map<Integer, long[]> tlv = attrs(r, Nlmsghdr.SIZE + Nlmsgerr.SIZE, len);
        assertTrue(tlv.containsKey(NLMSGERR_ATTR_MSG), tlv.keySet().toString());
        assertTrue(string(r, tlv.get(NLMSGERR_ATTR_MSG)).length() > 0);
    }
}
