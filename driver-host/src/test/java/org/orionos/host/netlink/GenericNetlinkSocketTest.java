package org.orionos.host.netlink;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.orionos.bindings.Errno;
import org.orionos.bindings.uapi.NetlinkH;
import org.orionos.bindings.uapi.NetlinkH.Genlmsghdr;
import org.orionos.bindings.uapi.NetlinkH.Nlmsghdr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.orionos.bindings.uapi.NetlinkH.*;

/**
 * The generic netlink client against this machine's kernel (which has no nbd module): the
 * controller resolves itself with its multicast group, an unknown family fails with ENOENT (what
 * the attach path turns into "modprobe nbd"), a policy violation carries the kernel's extended-ack
 * text and the offset of the attribute it blamed, a dump collects replies up to NLMSG_DONE, and the
 * attribute codec round-trips nests.
 */
class GenericNetlinkSocketTest {
    private GenericNetlinkSocket nl;

    @BeforeEach
    void open() {
        nl = GenericNetlinkSocket.open(Duration.ofSeconds(5));
    }

    @AfterEach
    void close() {
        nl.close();
    }

    @Test
    void resolvesTheControllerWithItsMulticastGroup() {
        GenlFamily f = nl.resolve("nlctrl");
        assertEquals("nlctrl", f.name());
        assertEquals(GENL_ID_CTRL, f.id());
        assertTrue(f.version() >= 1);
        assertTrue(f.maxAttr() >= 0, "maxattr " + f.maxAttr()); // 0 on kernels where nlctrl has per-op policies
        assertTrue(f.group("notify") > 0, f.multicastGroups().toString());
        assertEquals(-1, f.group("no-such-group"));
        assertTrue(nl.portId() != 0);
    }

    @Test
    void unknownFamilyIsEnoent() {
        NetlinkException e = assertThrows(NetlinkException.class, () -> nl.resolve("orion-nosuch"));
        assertEquals(Errno.ENOENT, e.errno());
        assertTrue(e.getMessage().contains("orion-nosuch"), e.getMessage());
        // The socket stays usable after an error: sequence numbers keep replies apart.
        assertEquals(GENL_ID_CTRL, nl.resolve("nlctrl").id());
    }

    @Test
    void policyViolationCarriesExtendedAckTextAndOffset() {
        // CTRL_ATTR_FAMILY_NAME is an NLA_NUL_STRING of at most GENL_NAMSIZ - 1 characters.
        GenlRequest r = new GenlRequest(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 2)
                .string(CTRL_ATTR_FAMILY_NAME, "a-family-name-longer-than-genl-namsiz");
        NetlinkException e = assertThrows(NetlinkException.class, () -> nl.request(r, "getfamily"));
        assertEquals(Errno.EINVAL, e.errno());
        assertNotNull(e.extAck(), "the kernel explains a policy violation");
        assertTrue(e.getMessage().contains(e.extAck()), e.getMessage());
        // The blamed attribute is the only one: right after nlmsghdr + genlmsghdr.
        assertEquals(Nlmsghdr.SIZE + Genlmsghdr.SIZE, e.attributeOffset());
    }

    @Test
    void dumpListsEveryFamilyUpToDone() {
        List<GenlMessage> all = nl.request(new GenlRequest(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 2).dump(), "dump");
        assertTrue(all.size() > 1, "families: " + all.size());
        assertTrue(all.stream().anyMatch(m -> m.attrs().string(CTRL_ATTR_FAMILY_NAME).equals("nlctrl")));
        assertTrue(all.stream().allMatch(m -> (m.flags() & NLM_F_MULTI) != 0));
    }

    @Test
    void subscribesToAGroupAndTimesOutQuietlyWithoutEvents() {
        try (GenericNetlinkSocket events = GenericNetlinkSocket.open(Duration.ofMillis(50))) {
            events.subscribe(nl.resolve("nlctrl").group("notify"));
            assertEquals(List.of(), events.receiveEvents());
        }
    }

    @Test
    void unknownMulticastGroupIsRefused() {
        var e = assertThrows(org.orionos.bindings.ErrnoException.class, () -> nl.subscribe(1 << 30));
        assertEquals(Errno.EINVAL, e.errno());
    }

    @Test
    void attributesRoundTripIncludingNests() {
        GenlRequest r = new GenlRequest(0x20, 7, 1);
        r.u8(1, 0xAB).u16(2, 0xBEEF).u32(3, 0xDEADBEEF).u64(4, 0x0123_4567_89AB_CDEFL).string(5, "nbd").flag(6);
        int outer = r.beginNest(7);
        for (int fd = 10; fd < 13; fd++) {
            int item = r.beginNest(1);
            r.u32(1, fd);
            r.endNest(item);
        }
        r.endNest(outer);
        MemorySegment m = MemorySegment.ofArray(new byte[r.length()]);
        r.writeTo(m, 42, 0);
        assertEquals(r.length(), m.get(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, Nlmsghdr.NLMSG_LEN));
        assertEquals(0, r.length() % NetlinkH.NLMSG_ALIGNTO);
        NetlinkAttributes a = NetlinkAttributes.parse(m, Nlmsghdr.SIZE + Genlmsghdr.SIZE, r.length());
        assertEquals(0xAB, a.u8(1));
        assertEquals(0xBEEF, a.u16(2));
        assertEquals(0xDEADBEEF, a.u32(3));
        assertEquals(0x0123_4567_89AB_CDEFL, a.u64(4));
        assertEquals("nbd", a.string(5));
        assertEquals(0, a.length(6));
        NetlinkAttributes items = a.nested(7);
        assertEquals(3, items.size());
        for (int i = 0; i < 3; i++) {
            assertEquals(1, items.typeAt(i));
            assertEquals(10 + i, items.nestedAt(i).u32(1));
        }
    }

    @Test
    void truncatedAttributeIsRejected() {
        GenlRequest r = new GenlRequest(0x20, 1, 1).u32(1, 5);
        MemorySegment m = MemorySegment.ofArray(new byte[r.length()]);
        r.writeTo(m, 1, 0);
        long end = r.length() - 2; // cut inside the u32's payload
        assertThrows(IllegalArgumentException.class,
                () -> NetlinkAttributes.parse(m, Nlmsghdr.SIZE + Genlmsghdr.SIZE, end));
    }
}
