package org.orionos.host.nvme;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.bindings.nvme.NvmeTypesH.NvmeIdCtrl;
import org.orionos.bindings.nvme.NvmeTypesH.NvmeIdNs;
import org.orionos.bindings.nvme.NvmeTypesH.NvmeSmartLog;
import org.orionos.host.config.BdevSpec;
import org.orionos.host.config.ConfigLoader;
import org.orionos.host.config.OrionConfig;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.orionos.bindings.nvme.NvmeTypesH.LE16;
import static org.orionos.bindings.nvme.NvmeTypesH.LE32;
import static org.orionos.bindings.nvme.NvmeTypesH.LE64;

/** Host-side logic of the NVMe package: JSON shaping, status to errno, health thresholds, config. */
class NvmeUnitTest {

    @Test
    void kernelUeventWithNvmeAenIsParsedOthersIgnored() {
        try (Arena a = Arena.ofConfined()) {
            NvmeEvents.Event e = parse(a, "change@/devices/pci0000:00/0000:00:03.0/nvme/nvme0",
                    "ACTION=change", "DEVPATH=/devices/pci0000:00/0000:00:03.0/nvme/nvme0", "SUBSYSTEM=nvme",
                    "NVME_AEN=0x020101", "MAJOR=241", "MINOR=0", "DEVNAME=nvme0", "SEQNUM=1812");
            assertEquals("nvme0", e.controller());
            assertEquals(1, e.type());
            assertEquals("SMART/health", e.typeName());
            assertEquals(0x01, e.info());
            assertEquals(0x02, e.logPage());
            // A uevent of another subsystem, and an NVMe one without NVME_AEN (e.g. a rescan), are not events.
            assertNull(parse(a, "change@/devices/virtual/block/loop0", "ACTION=change",
                    "SUBSYSTEM=block", "DEVNAME=loop0", "NVME_AEN=0x1"));
            assertNull(parse(a, "change@/devices/x/nvme/nvme1", "ACTION=change",
                    "SUBSYSTEM=nvme", "DEVNAME=nvme1", "NVME_EVENT=rediscover"));
        }
    }

    /** Parses a kernel uevent datagram: header and KEY=VALUE strings, each NUL-terminated. */
    private static NvmeEvents.Event parse(Arena a, String... parts) {
        byte[] b = (String.join("\0", parts) + "\0").getBytes(StandardCharsets.UTF_8);
        MemorySegment m = a.allocate(b.length);
        m.copyFrom(MemorySegment.ofArray(b));
        return NvmeEvents.parse(m, b.length);
    }

    @Test
    void idCtrlJsonUsesNvmeCliShapes() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment id = a.allocate(NvmeIdCtrl.LAYOUT);
            id.set(LE16, NvmeIdCtrl.VID, (short) 0x1b36);
            ascii(id, NvmeIdCtrl.SN, 20, "orion0");
            ascii(id, NvmeIdCtrl.MN, 40, "QEMU NVMe Ctrl");
            id.set(JAVA_BYTE, NvmeIdCtrl.IEEE, (byte) 0x00);
            id.set(JAVA_BYTE, NvmeIdCtrl.IEEE + 1, (byte) 0x54);
            id.set(JAVA_BYTE, NvmeIdCtrl.IEEE + 2, (byte) 0x52);
            id.set(JAVA_BYTE, NvmeIdCtrl.MDTS, (byte) 7);
            id.set(LE32, NvmeIdCtrl.VER, 0x10400);
            id.set(LE64, NvmeIdCtrl.TNVMCAP, 1L << 40);
            id.set(JAVA_BYTE, NvmeIdCtrl.NPSS, (byte) 1);
            ObjectNode o = NvmeJson.idCtrl(id);
            assertEquals(0x1b36, o.path("vid").asInt());
            assertEquals("orion0", o.path("sn").asText());
            assertEquals("QEMU NVMe Ctrl", o.path("mn").asText());
            assertEquals(0x525400, o.path("ieee").asInt(), "IEEE OUI is little-endian on the wire");
            assertEquals(7, o.path("mdts").asInt());
            assertEquals(0x10400, o.path("ver").asInt());
            assertEquals(BigInteger.ONE.shiftLeft(40), o.path("tnvmcap").bigIntegerValue());
            assertEquals(2, o.path("psds").size(), "npss is 0-based");
            assertFalse(o.has("rsvd102") || o.has("vs"), "reserved and vendor areas are not printed");
        }
    }

    @Test
    void idNsJsonListsTheFormatsInUse() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ns = a.allocate(NvmeIdNs.LAYOUT);
            ns.set(LE64, NvmeIdNs.NSZE, 262144);
            ns.set(JAVA_BYTE, NvmeIdNs.NLBAF, (byte) 1);
            ns.set(JAVA_BYTE, NvmeIdNs.FLBAS, (byte) 1);
            ns.set(JAVA_BYTE, NvmeIdNs.LBAF + 2, (byte) 9);
            ns.set(JAVA_BYTE, NvmeIdNs.LBAF + 4 + 2, (byte) 12);
            ObjectNode o = NvmeJson.idNs(ns);
            assertEquals(262144, o.path("nsze").asLong());
            assertEquals(2, o.path("lbafs").size());
            assertEquals(12, o.path("lbafs").path(1).path("ds").asInt());
        }
    }

    @Test
    void smartJsonAndHealthWarnings() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment log = a.allocate(NvmeSmartLog.LAYOUT);
            MemorySegment id = a.allocate(NvmeIdCtrl.LAYOUT);
            log.set(LE16.withByteAlignment(1), NvmeSmartLog.TEMPERATURE, (short) 360); // at byte 1
            log.set(JAVA_BYTE, NvmeSmartLog.AVAIL_SPARE, (byte) 5);
            log.set(JAVA_BYTE, NvmeSmartLog.SPARE_THRESH, (byte) 10);
            log.set(JAVA_BYTE, NvmeSmartLog.PERCENT_USED, (byte) 95);
            log.set(JAVA_BYTE, NvmeSmartLog.MEDIA_ERRORS, (byte) 3);
            log.set(JAVA_BYTE, NvmeSmartLog.UNSAFE_SHUTDOWNS, (byte) 2);
            log.set(JAVA_BYTE, NvmeSmartLog.CRITICAL_WARNING, (byte) 0x3);
            id.set(LE16, NvmeIdCtrl.WCTEMP, (short) 343);
            id.set(LE16, NvmeIdCtrl.CCTEMP, (short) 373);
            ObjectNode o = NvmeJson.smartLog(log);
            assertEquals(360, o.path("temperature").asInt());
            assertEquals(3, o.path("media_errors").asInt());
            assertEquals(2, o.path("unsafe_shutdowns").asInt());
            assertTrue(o.has("host_read_commands") && o.has("controller_busy_time"), o.toString());
            NvmeHealth h = NvmeHealth.of(log, id);
            assertEquals(87, h.temperatureCelsius());
            String w = String.join("; ", h.warnings());
            assertTrue(w.contains("warning threshold 70 C"), w);
            assertTrue(w.contains("available spare 5% below the threshold 10%"), w);
            assertTrue(w.contains("percentage used 95%"), w);
            assertTrue(w.contains("3 media"), w);
            assertTrue(w.contains("critical warning: temperature threshold crossed"), w);
            assertEquals(6, h.log("test"));
        }
    }

    @Test
    void nvmeStatusesMapToTheKernelsErrnos() {
        assertEquals(Errno.ENOSPC, NvmeErrors.errno(0x80)); // LBA out of range
        assertEquals(Errno.EOPNOTSUPP, NvmeErrors.errno(0x01));
        assertEquals(Errno.EINVAL, NvmeErrors.errno(0x0b | 0x4000)); // invalid namespace, DNR
        assertEquals(Errno.EIO, NvmeErrors.errno(0x1b9)); // zone full
        assertEquals(Errno.ENOTCONN, NvmeErrors.errno(0x370)); // path error
        assertEquals(-Errno.EIO, NvmeErrors.negErrno(0x281)); // media: unrecovered read
    }

    @Test
    void nvmeTablesBecomeNamespaceDevicesNeedingBigRingEntries() {
        OrionConfig c = ConfigLoader.parse("""
                [[nvme]]
                name = "nvme0n1"
                path = "/dev/ng0n1"
                [[bdev]]
                name = "slow"
                type = "delay"
                base = "nvme0n1"
                """, "t.toml");
        assertEquals(new BdevSpec.Nvme("nvme0n1", Path.of("/dev/ng0n1")), c.bdev("nvme0n1").orElseThrow());
        assertEquals("nvme0n1", c.bdevs().getFirst().name(), "the namespace is built before the layer over it");
        assertTrue(c.needsBigRingEntries());
        assertFalse(ConfigLoader.embeddedDefault().needsBigRingEntries());
        ErrnoException bad = assertThrows(ErrnoException.class,
                () -> ConfigLoader.parse("[[nvme]]\nname = \"a\"\npath = \"/dev/sda\"\n", "t.toml"));
        assertTrue(bad.getMessage().contains("/dev/ng0n1"), bad.getMessage());
        ErrnoException dup = assertThrows(ErrnoException.class, () -> ConfigLoader.parse(
                "[[nvme]]\nname = \"a\"\npath = \"/dev/ng0n1\"\n[[bdev]]\nname = \"a\"\ntype = \"memory\"\nsize = \"1M\"\n",
                "t.toml"));
        assertTrue(dup.getMessage().contains("more than one"), dup.getMessage());
        ErrnoException unknownKey = assertThrows(ErrnoException.class,
                () -> ConfigLoader.parse("[[nvme]]\nname = \"a\"\npath = \"/dev/ng0n1\"\nsize = 3\n", "t.toml"));
        assertTrue(unknownKey.getMessage().contains("size"), unknownKey.getMessage());
    }

    @Test
    void healthWatchesEachControllerOnceAtTheShortestIntervalAsked() {
        OrionConfig c = ConfigLoader.parse("""
                [[nvme]]
                name = "a"
                path = "/dev/ng97n1"
                health_interval_s = 30
                [[nvme]]
                name = "b"
                path = "/dev/ng97n2"
                [[nvme]]
                name = "m"
                paths = ["/dev/ng97n3", "/dev/ng98n3"]
                health_interval_s = 0
                """, "t.toml");
        assertEquals(new BdevSpec.Nvme("b", Path.of("/dev/ng97n2")), c.bdev("b").orElseThrow(), "60 s by default");
        var t = NvmeHealthMonitor.targets(c);
        assertEquals(2, t.size(), t.toString());
        assertEquals(new NvmeHealthMonitor.Target(Path.of("/dev/nvme97"), 30, java.util.List.of("a", "b", "m")), t.get(0));
        assertEquals(new NvmeHealthMonitor.Target(Path.of("/dev/nvme98"), 0, java.util.List.of("m")), t.get(1),
                "events only when every device on it asks for that");
        ErrnoException bad = assertThrows(ErrnoException.class, () -> ConfigLoader.parse(
                "[[nvme]]\nname = \"a\"\npath = \"/dev/ng0n1\"\nhealth_interval_s = -1\n", "t.toml"));
        assertTrue(bad.getMessage().contains("health_interval_s"), bad.getMessage());
        try (NvmeHealthMonitor none = NvmeHealthMonitor.start(ConfigLoader.embeddedDefault())) {
            assertEquals(0, none.json().path("controllers").size());
        }
    }

    @Test
    void healthConditionsKeepTheirKeyWhileTheNumbersChange() {
        NvmeHealth warm = new NvmeHealth(0, 350, 343, 373, 100, 10, 0, BigInteger.ZERO, BigInteger.ONE);
        NvmeHealth warmer = new NvmeHealth(2, 360, 343, 373, 5, 10, 95, BigInteger.TWO, BigInteger.ONE);
        assertEquals(java.util.List.of("temperature"), java.util.List.copyOf(warm.conditions().keySet()));
        assertEquals(java.util.List.of("temperature", "avail_spare", "percent_used", "media_errors", "critical_warning.1"),
                java.util.List.copyOf(warmer.conditions().keySet()));
        assertEquals(java.util.List.copyOf(warmer.conditions().values()), warmer.warnings());
        assertTrue(warmer.conditions().get("temperature").contains("87 C"), warmer.conditions().toString());
    }

    @Test
    void nodesNameTheirController() {
        assertEquals(Path.of("/dev/nvme3"), NvmeController.controllerOf(Path.of("/dev/nvme3")));
        assertEquals(Path.of("/dev/ng4n1"), NvmeNamespaceBdev.genericNode(Path.of("/dev/nvme4n1")));
        assertEquals(Path.of("/dev/ng4n1"), NvmeNamespaceBdev.genericNode(Path.of("/dev/ng4n1")));
        assertThrows(ErrnoException.class, () -> NvmeController.controllerOf(Path.of("/dev/sda")));
        ErrnoException e = assertThrows(ErrnoException.class, () -> NvmeController.open(Path.of("/dev/nvme97")));
        assertTrue(e.getMessage().contains("orion nvme list"), e.getMessage());
    }

    private static void ascii(MemorySegment s, long off, int len, String text) {
        byte[] b = text.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < len; i++) {
            s.set(JAVA_BYTE, off + i, i < b.length ? b[i] : (byte) ' ');
        }
    }
}
