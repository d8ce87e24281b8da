package org.orionos.host.netlink;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.orionos.bindings.uapi.NetlinkH;
import org.orionos.bindings.uapi.NetlinkH.Genlmsghdr;
import org.orionos.bindings.uapi.NetlinkH.Nlattr;
import org.orionos.bindings.uapi.NetlinkH.Nlmsghdr;

/**
 * One generic netlink request being built: nlmsghdr + genlmsghdr + attributes (nests included).
 * The length, sequence number and port id are filled in by {@link GenericNetlinkSocket} when it
 * sends. Built on the heap (requests are control-path, a few per device operation) and copied into
 * the socket's native buffer.
 *
 * <pre>{@code
 * GenlRequest r = new GenlRequest(family.id(), NbdNetlinkH.NBD_CMD_CONNECT, 1);
 * r.u64(NBD_ATTR_SIZE_BYTES, size);
 * int socks = r.beginNest(NBD_ATTR_SOCKETS);
 *   int item = r.beginNest(NBD_SOCK_ITEM); r.u32(NBD_SOCK_FD, fd); r.endNest(item);
 * r.endNest(socks);
 * }</pre>
 */
public final class GenlRequest {
    private final int familyId;
    private final int cmd;
    private final int version;
    private int flags = NetlinkH.NLM_F_REQUEST | NetlinkH.NLM_F_ACK;
    private byte[] buf = new byte[256];
    private int len;

    public GenlRequest(int familyId, int cmd, int version) {
        this.familyId = familyId;
        this.cmd = cmd;
        this.version = version;
        len = (int) (Nlmsghdr.SIZE + Genlmsghdr.SIZE);
    }

    /** Adds NLM_F_DUMP: the kernel answers with a multi-part reply ended by NLMSG_DONE. */
    public GenlRequest dump() {
        flags |= NetlinkH.NLM_F_DUMP;
        return this;
    }

    public int familyId() {
        return familyId;
    }

    public int cmd() {
        return cmd;
    }

    public int flags() {
        return flags;
    }

    public GenlRequest u8(int type, int v) {
        int p = header(type, 1);
        buf[p] = (byte) v;
        return this;
    }

    public GenlRequest u16(int type, int v) {
        int p = header(type, 2);
        putShort(p, v);
        return this;
    }

    public GenlRequest u32(int type, int v) {
        int p = header(type, 4);
        putInt(p, v);
        return this;
    }

    public GenlRequest u64(int type, long v) {
        int p = header(type, 8);
        MemorySegment.ofArray(buf).set(ValueLayout.JAVA_LONG_UNALIGNED, p, v);
        return this;
    }

    /** A NUL-terminated string attribute (NLA_NUL_STRING / NLA_STRING both accept it). */
    public GenlRequest string(int type, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        int p = header(type, b.length + 1);
        System.arraycopy(b, 0, buf, p, b.length);
        buf[p + b.length] = 0;
        return this;
    }

    /** A zero-length flag attribute. */
    public GenlRequest flag(int type) {
        header(type, 0);
        return this;
    }

    /** Opens a nested attribute; returns the mark to pass to {@link #endNest(int)}. */
    public int beginNest(int type) {
        int mark = len;
        ensure((int) Nlattr.SIZE);
        putShort(len + (int) Nlattr.NLA_TYPE, type | NetlinkH.NLA_F_NESTED);
        len += (int) Nlattr.SIZE;
        return mark;
    }

    /** Closes the nest opened at {@code mark}: its length now covers everything added since. */
    public void endNest(int mark) {
        putShort(mark + (int) Nlattr.NLA_LEN, len - mark);
    }

    /** Bytes of the message so far (header fields other than type/flags/cmd are filled at send). */
    public int length() {
        return len;
    }

    /** Writes the complete message into {@code dst} with {@code seq} and {@code portId}; returns its length. */
    public int writeTo(MemorySegment dst, int seq, int portId) {
        if (dst.byteSize() < len) {
            throw new IllegalArgumentException("netlink request of " + len + " bytes does not fit " + dst.byteSize());
        }
        putInt((int) Nlmsghdr.NLMSG_LEN, len);
        putShort((int) Nlmsghdr.NLMSG_TYPE, familyId);
        putShort((int) Nlmsghdr.NLMSG_FLAGS, flags);
        putInt((int) Nlmsghdr.NLMSG_SEQ, seq);
        putInt((int) Nlmsghdr.NLMSG_PID, portId);
        int g = (int) Nlmsghdr.SIZE;
        buf[g + (int) Genlmsghdr.CMD] = (byte) cmd;
        buf[g + (int) Genlmsghdr.VERSION] = (byte) version;
        putShort(g + 2, 0); // genlmsghdr.reserved
        MemorySegment.copy(buf, 0, dst, ValueLayout.JAVA_BYTE, 0, len);
        return len;
    }

    /** A copy of the bytes (tests). */
    byte[] bytes() {
        return Arrays.copyOf(buf, len);
    }

    /** Appends an attribute header for a payload of {@code payload} bytes; returns the payload's offset. */
    private int header(int type, int payload) {
        int total = (int) Nlattr.SIZE + payload;
        int padded = NetlinkH.nlaAlign(total);
        ensure(padded);
        putShort(len + (int) Nlattr.NLA_LEN, total);
        putShort(len + (int) Nlattr.NLA_TYPE, type);
        Arrays.fill(buf, len + total, len + padded, (byte) 0);
        int p = len + (int) Nlattr.SIZE;
        len += padded;
        return p;
    }

    private void ensure(int more) {
        if (len + more > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + more));
        }
    }

    // Netlink is host byte order: the JAVA_* layouts are native order.
    private void putShort(int at, int v) {
        MemorySegment.ofArray(buf).set(ValueLayout.JAVA_SHORT_UNALIGNED, at, (short) v);
    }

    private void putInt(int at, int v) {
        MemorySegment.ofArray(buf).set(ValueLayout.JAVA_INT_UNALIGNED, at, v);
    }
}
