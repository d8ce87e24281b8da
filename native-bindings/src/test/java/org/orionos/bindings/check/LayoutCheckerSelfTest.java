package org.orionos.bindings.check;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;
import org.orionos.bindings.check.fixture.BrokenInitH;
import org.orionos.bindings.check.fixture.MissingHeaderH;
import org.orionos.bindings.check.fixture.WrongNbdNetlinkH;
import org.orionos.bindings.check.fixture.WrongNetlinkH;
import org.orionos.bindings.uapi.IoUringH;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The checker catches exactly the defects planted in {@link WrongNetlinkH}, and nothing else. */
class LayoutCheckerSelfTest {
    @Test
    void reportsExactlyThePlantedDefects() {
        List<LayoutChecker.Mismatch> ms = LayoutChecker.check(List.of(WrongNetlinkH.class));
        Set<String> keys = new TreeSet<>();
        ms.forEach(m -> keys.add(m.key()));
        assertEquals(new TreeSet<>(Set.of(
                "|NLM_F_ACK|value",
                "|NLM_F_AKC|value",
                "|CTRL_ATTR_FAMILY_ID|value",
                "|CTRL_ATTR_FAMILY_NAM|value",
                "struct nlmsghdr|nlmsg_pid|offsetof",
                "struct nlmsghdr|nlmsg_seq|offsetof",
                "struct genlmsghdr||sizeof",
                "struct nlattr|nla_typ|offsetof",
                "struct nlattr|nla_typ|member sizeof",
                "|NLM_F_ECHO|value",
                "struct nlmsgerr|(unnamed @0)|name",
                "struct no_such_struct||sizeof")), keys,
                () -> String.join("\n", ms.stream().map(Object::toString).toList()));
        assertEquals(keys.size(), ms.size(), "one line per defect");
        LayoutChecker.Mismatch ack = ms.stream().filter(m -> m.field().equals("NLM_F_ACK")).findFirst().orElseThrow();
        assertTrue(ack.javaValue().startsWith("8") && ack.cValue().startsWith("4"), ack.toString());
        LayoutChecker.Mismatch pid = ms.stream().filter(m -> m.field().equals("nlmsg_pid")).findFirst().orElseThrow();
        assertEquals("8", pid.javaValue());
        assertEquals("12", pid.cValue());
        assertEquals("WrongNetlinkH.Nlmsghdr: struct nlmsghdr.nlmsg_pid offsetof: java=8 c=12", pid.toString());
        LayoutChecker.Mismatch typo = ms.stream().filter(m -> m.field().equals("NLM_F_AKC")).findFirst().orElseThrow();
        assertTrue(typo.cValue().contains("NLM_F_AKC") && typo.cValue().contains("undeclared"), typo.toString());
    }

    @Test
    void missingHeaderIsOneMismatchNamingThePackage() {
        List<LayoutChecker.Mismatch> ms = LayoutChecker.check(List.of(MissingHeaderH.class));
        assertEquals(1, ms.size(), ms::toString);
        assertEquals(LayoutChecker.HEADER_MISSING, ms.get(0).what());
        assertTrue(ms.get(0).cValue().contains("orion_no_such_header.h")
                && ms.get(0).cValue().contains("apt-get install linux-libc-dev"), ms.get(0).toString());
    }

    @Test
    void holderThatFailsToInitialiseIsReportedNotThrown() {
        List<LayoutChecker.Mismatch> ms = LayoutChecker.check(List.of(BrokenInitH.class));
        assertEquals(1, ms.size(), ms::toString);
        assertEquals("class initialisation", ms.get(0).what());
        assertTrue(ms.get(0).cValue().contains("nla_flags"), ms.get(0).toString());
    }

    @Test
    void membersFlattensAnonymousGroupsAndNamesNestedOnes() {
        var m = LayoutChecker.members(IoUringH.IoUringParams.LAYOUT);
        assertEquals(40, m.get("sq_off")[0]);
        assertEquals(44, m.get("sq_off.tail")[0]);
        var sqe = LayoutChecker.members(IoUringH.IoUringSqe.LAYOUT);
        assertEquals(8, sqe.get("cmd_op")[0]); // inside an anonymous struct inside an anonymous union
        assertEquals(4, sqe.get("cmd_op")[1]);
    }

    @Test
    void missingGccMessageSaysWhatToInstall() {
        assertTrue(Gcc.find("/nonexistent-dir").isEmpty());
        assertTrue(Gcc.missing("/x").contains("apt-get install gcc linux-libc-dev"), Gcc.missing("/x"));
    }

    @Test
    void checksStringMacros() {
        List<LayoutChecker.Mismatch> ms = LayoutChecker.check(List.of(WrongNbdNetlinkH.class));
        assertEquals(2, ms.size(), ms::toString);
        LayoutChecker.Mismatch name = ms.stream().filter(m -> m.field().equals("NBD_GENL_FAMILY_NAME")).findFirst()
                .orElseThrow();
        assertEquals("WrongNbdNetlinkH: NBD_GENL_FAMILY_NAME value: java=\"nbdx\" c=\"nbd\"", name.toString());
        LayoutChecker.Mismatch version = ms.stream().filter(m -> m.field().equals("NBD_GENL_VERSION")).findFirst()
                .orElseThrow();
        assertTrue(version.cValue().startsWith("not defined as a string literal"), version.toString());
    }

    @Test
    void scanFindsMainHoldersButNotTestFixtures() {
        List<Class<?>> hs = LayoutChecker.holdersBeside(IoUringH.class);
        assertTrue(hs.contains(IoUringH.class), hs.toString());
        assertFalse(hs.contains(WrongNetlinkH.class), hs.toString());
    }
}
