package org.orionos.host.netlink;

import java.util.Map;

/**
 * A generic netlink family as the controller (CTRL_CMD_GETFAMILY) describes it.
 *
 * @param name            the family name, e.g. {@code "nbd"}
 * @param id              the message type to address it with (assigned when the module loaded)
 * @param version         the family's version
 * @param headerSize      bytes of family header after the genlmsghdr (0 for most families)
 * @param maxAttr         the highest attribute type it accepts
 * @param multicastGroups group name to group id (for NETLINK_ADD_MEMBERSHIP)
 */
public record GenlFamily(String name, int id, int version, int headerSize, int maxAttr,
                         Map<String, Integer> multicastGroups) {
    public GenlFamily {
        multicastGroups = Map.copyOf(multicastGroups);
    }

    /** The id of multicast group {@code group}, or -1 when the family has none by that name. */
    public int group(String group) {
        Integer g = multicastGroups.get(group);
        return g == null ? -1 : g;
    }
}
