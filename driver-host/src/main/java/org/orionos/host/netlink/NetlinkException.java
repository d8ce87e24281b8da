package org.orionos.host.netlink;

import java.io.Serial;

import org.orionos.bindings.Errno;

/**
 * The kernel refused a netlink request: the errno of its NLMSG_ERROR and, when the kernel gave one,
 * the extended-ack explanation (NLMSGERR_ATTR_MSG) and the offset of the offending attribute in the
 * request (NLMSGERR_ATTR_OFFS). Callers above the netlink layer turn it into an
 * {@link org.orionos.bindings.ErrnoException} that says what to do.
 */
public final class NetlinkException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final int errno;
    private final String extAck;
    private final int attributeOffset;

    public NetlinkException(String request, int errno, String extAck, int attributeOffset) {
        super(request + " failed: " + Errno.name(errno) + " (" + Errno.describe(errno) + ")"
                + (extAck == null ? "" : ": kernel says \"" + extAck + "\""));
        this.errno = errno;
        this.extAck = extAck;
        this.attributeOffset = attributeOffset;
    }

    /** Positive errno. */
    public int errno() {
        return errno;
    }

    /** The kernel's extended-ack message, or null when it sent none. */
    public String extAck() {
        return extAck;
    }

    /** Byte offset in the request of the attribute the kernel blamed, or -1. */
    public int attributeOffset() {
        return attributeOffset;
    }
}
