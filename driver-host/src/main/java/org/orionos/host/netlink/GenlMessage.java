package org.orionos.host.netlink;

/**
 * One received generic netlink message: a reply to a request or a multicast event (sequence 0).
 *
 * @param familyId the nlmsg_type (the family's id)
 * @param cmd      genlmsghdr.cmd
 * @param version  genlmsghdr.version
 * @param flags    nlmsg_flags
 * @param seq      nlmsg_seq (0 for multicast events)
 * @param attrs    the top-level attributes (after the family's own header, if any)
 */
public record GenlMessage(int familyId, int cmd, int version, int flags, int seq, NetlinkAttributes attrs) {
}
