package org.orionos.host.nvme;

import org.orionos.host.guest.Commands;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.bindings.Libc;
import org.orionos.bindings.nvme.NvmeStatus;
import org.orionos.bindings.uapi.FcntlH;
import org.orionos.bindings.uapi.NvmeIoctlH.NvmePassthruCmd64;
import org.orionos.bindings.uapi.NvmeIoctlH.NvmeUringCmd;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.Capability;
import org.orionos.host.config.ConfigLoader;
import org.orionos.host.control.ControlClient;
import org.orionos.host.guest.GuestTest;
import org.orionos.uring.Ring;
import org.orionos.uring.RingConfig;
import org.orionos.uring.Sqe;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.orionos.bindings.nvme.NvmeTypesH.nvme_cmd_read;
import static org.orionos.bindings.uapi.NvmeIoctlH.NVME_IOCTL_IO64_CMD;
import static org.orionos.bindings.uapi.NvmeIoctlH.NVME_URING_CMD_IO;

/**
 * NVMe through the guest kernel: Identify and SMART equal nvme-cli's JSON for the same controller,
 * data written through io_uring passthrough reads back through the kernel's block device and the
 * reverse, bad input is answered with a clear status, and the ZNS zone state machine and append.
 */
@GuestTest(spec = NvmeGuestSpec.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NvmeGuestTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    @Order(1)
    void smartLogEqualsNvmeCli() throws Exception {
        Path ctrl = controller(NvmeGuestSpec.SERIAL);
        // Before any I/O of ours, so the counters are the same for both reads.
        JsonNode cli = JSON.readTree(run("nvme", "smart-log", ctrl.toString(), "-o", "json"));
        JsonNode ours;
        NvmeHealth health;
        try (NvmeController c = NvmeController.open(ctrl); Arena a = Arena.ofConfined()) {
            MemorySegment log = c.smartLog(a);
            ours = NvmeJson.smartLog(log);
            health = NvmeHealth.of(log, c.identifyController(a));
        }
        int compared = compare("smart-log", cli, ours);
        assertTrue(compared >= 15, "compared only " + compared + " fields: " + cli);
        assertEquals(cli.path("temperature").asInt(), health.temperatureK());
        assertEquals(cli.path("avail_spare").asInt(), health.availSpare());
        System.out.println("health: " + health + " warnings " + health.warnings());
    }

    @Test
    @Order(2)
    void idCtrlEqualsNvmeCli() throws Exception {
        Path ctrl = controller(NvmeGuestSpec.SERIAL);
        JsonNode cli = JSON.readTree(run("nvme", "id-ctrl", ctrl.toString(), "-o", "json"));
        JsonNode ours;
        try (NvmeController c = NvmeController.open(ctrl); Arena a = Arena.ofConfined()) {
            ours = NvmeJson.idCtrl(c.identifyController(a));
        }
        assertEquals(NvmeGuestSpec.SERIAL, ours.path("sn").asText());
        int compared = compare("id-ctrl", cli, ours);
        assertTrue(compared >= 60, "compared only " + compared + " fields");
    }

    @Test
    @Order(3)
    void idNsEqualsNvmeCli() throws Exception {
        Path ctrl = controller(NvmeGuestSpec.SERIAL);
        Path ns = blockNode(ctrl);
        JsonNode cli = JSON.readTree(run("nvme", "id-ns", ns.toString(), "-o", "json"));
        JsonNode ours;
        try (NvmeController c = NvmeController.open(NvmeController.controllerOf(ns)); Arena a = Arena.ofConfined()) {
            ours = NvmeJson.idNs(c.identifyNamespace(a, 1));
        }
        int compared = compare("id-ns", cli, ours);
        assertTrue(compared >= 30, "compared only " + compared + " fields");
    }

    @Test
    @Order(4)
    void cliJsonMatchesNvmeCli() throws Exception {
        Path ctrl = controller(NvmeGuestSpec.SERIAL);
        JsonNode cli = JSON.readTree(run("nvme", "id-ctrl", ctrl.toString(), "-o", "json"));
        JsonNode ours = JSON.readTree(orion("nvme", "id-ctrl", ctrl.toString(), "--json"));
        compare("orion nvme id-ctrl --json", cli, ours);
        JsonNode feat = JSON.readTree(orion("nvme", "get-feature", ctrl.toString(), "0x07", "--json"));
        assertTrue(feat.path("nsqa").asInt() >= 1, "number of queues: " + feat);
        String human = orion("nvme", "list");
        assertTrue(human.contains(NvmeGuestSpec.SERIAL), human);
    }

    @Test
    @Order(5)
    void featuresGetAndSet() throws Exception {
        try (NvmeController c = NvmeController.open(controller(NvmeGuestSpec.SERIAL))) {
            long th = c.getFeature(org.orionos.bindings.nvme.NvmeTypesH.NVME_FEAT_FID_TEMP_THRESH, 0, 0, 0, null);
            int kelvin = (int) th & 0xffff;
            c.setFeature(org.orionos.bindings.nvme.NvmeTypesH.NVME_FEAT_FID_TEMP_THRESH, 0, kelvin - 5, false, null);
            long now = c.getFeature(org.orionos.bindings.nvme.NvmeTypesH.NVME_FEAT_FID_TEMP_THRESH, 0, 0, 0, null);
            assertEquals(kelvin - 5, (int) now & 0xffff, "temperature threshold after set");
            c.setFeature(org.orionos.bindings.nvme.NvmeTypesH.NVME_FEAT_FID_TEMP_THRESH, 0, kelvin, false, null);
            long vwc = c.getFeature(org.orionos.bindings.nvme.NvmeTypesH.NVME_FEAT_FID_VOLATILE_WC, 0, 0, 0, null);
            assertEquals(1, vwc & 1, "QEMU's controller reports its volatile write cache enabled");
            c.getFeature(org.orionos.bindings.nvme.NvmeTypesH.NVME_FEAT_FID_ARBITRATION, 0, 0, 0, null);
            c.getFeature(org.orionos.bindings.nvme.NvmeTypesH.NVME_FEAT_FID_POWER_MGMT, 0, 0, 0, null);
        }
    }

    @Test
    @Order(6)
    void passthroughWritesReadBackThroughTheBlockDeviceAndTheReverse() throws Exception {
        Path ctrl = controller(NvmeGuestSpec.SERIAL);
        Path block = blockNode(ctrl);
        Path generic = genericNode(block);
        try (BdevHost host = BdevHost.start(1, 8 << 20, true); Arena a = Arena.ofShared()) {
            host.build(ConfigLoader.parse("[[nvme]]\nname = \"n0\"\npath = \"" + generic + "\"\n", "test"));
            BlockDevice d = host.registry().get("n0");
            assertTrue(d.has(Capability.FLUSH), "VWC present: flush capability");
            int len = 1 << 20;
            MemorySegment src = a.allocate(len, 4096);
            fill(src, 7);
            host.client().write(d, 8L << 20, src, 0).get(30, TimeUnit.SECONDS);
            host.client().flush(d).get(30, TimeUnit.SECONDS);
            MemorySegment viaKernel = a.allocate(len, 4096);
            int fd = Libc.open(block.toString(), FcntlH.O_RDWR | FcntlH.O_DIRECT | FcntlH.O_CLOEXEC, 0);
            assertTrue(fd >= 0, "open " + block + ": " + Errno.name(fd));
            try {
                assertEquals(len, Libc.pread(fd, viaKernel, len, 8L << 20));
                assertArrayEquals(src.toArray(JAVA_BYTE), viaKernel.toArray(JAVA_BYTE), "orion wrote, kernel read");
                fill(src, 99);
                assertEquals(len, Libc.pwrite(fd, src, len, 16L << 20));
            } finally {
                Libc.close(fd);
            }
            MemorySegment viaOrion = a.allocate(len, 4096);
            host.client().read(d, 16L << 20, viaOrion).get(30, TimeUnit.SECONDS);
            assertArrayEquals(src.toArray(JAVA_BYTE), viaOrion.toArray(JAVA_BYTE), "kernel wrote, orion read");

            // Larger than the max transfer: the core splits it, every piece lands in place.
            long big = d.maxTransfer() * 3 + d.blockSize();
            MemorySegment bigBuf = a.allocate(big, 4096);
            fill(bigBuf, 3);
            host.client().write(d, 32L << 20, bigBuf, 0).get(30, TimeUnit.SECONDS);
            MemorySegment back = a.allocate(big, 4096);
            host.client().read(d, 32L << 20, back).get(30, TimeUnit.SECONDS);
            assertArrayEquals(bigBuf.toArray(JAVA_BYTE), back.toArray(JAVA_BYTE), "read across " + big + " bytes");

            // A buffer that is not page aligned: the kernel bounces it; the data must still be right.
            MemorySegment odd = a.allocate(8192 + 4, 4096).asSlice(4, 8192);
            fill(odd, 5);
            host.client().write(d, 40L << 20, odd, 0).get(30, TimeUnit.SECONDS);
            MemorySegment oddBack = a.allocate(8192 + 4, 4096).asSlice(4, 8192);
            host.client().read(d, 40L << 20, oddBack).get(30, TimeUnit.SECONDS);
            assertArrayEquals(odd.toArray(JAVA_BYTE), oddBack.toArray(JAVA_BYTE), "misaligned buffer");

            // Buffers from the reactor's registered pool go as IORING_URING_CMD_FIXED; where the kernel refuses
            // that (Linux 6.1 with a large registered region), every such command is re-sent unregistered.
            int n = 64;
            MemorySegment[] pool = new MemorySegment[n];
            List<java.util.concurrent.CompletableFuture<Void>> writes = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                pool[i] = host.reactors().get(0).call(() -> host.context(0).buffers().allocate(4096)).get(30,
                        TimeUnit.SECONDS);
                fill(pool[i], 200 + i);
                writes.add(host.client().write(d, (48L << 20) + 4096L * i, pool[i], 0)); // all in flight together
            }
            for (var w : writes) {
                w.get(30, TimeUnit.SECONDS);
            }
            MemorySegment poolBack = a.allocate(4096L * n, 4096);
            host.client().read(d, 48L << 20, poolBack).get(30, TimeUnit.SECONDS);
            for (int i = 0; i < n; i++) {
                assertArrayEquals(pool[i].toArray(JAVA_BYTE), poolBack.asSlice(4096L * i, 4096).toArray(JAVA_BYTE),
                        "registered-pool write " + i);
            }

            // Write zeroes and deallocate go through as NVMe commands and read back as zeros.
            host.client().writeZeroes(d, 8L << 20, 1 << 20, 0).get(30, TimeUnit.SECONDS);
            host.client().read(d, 8L << 20, viaOrion).get(30, TimeUnit.SECONDS);
            assertTrue(allZero(viaOrion), "write zeroes");
            host.client().trim(d, 16L << 20, 1 << 20).get(30, TimeUnit.SECONDS);

            // Past the end: refused before reaching the device, with the errno the layer uses.
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> host.client().read(d, d.sizeBytes(), viaOrion).get(30, TimeUnit.SECONDS));
            System.out.println("read past end: " + e.getCause());
        }
    }

    @Test
    @Order(7)
    void badPassthroughCommandsGetAClearStatusNeverAHang() throws Exception {
        Path ctrl = controller(NvmeGuestSpec.SERIAL);
        Path generic = genericNode(blockNode(ctrl));
        try (Arena a = Arena.ofConfined()) {
            int fd = Libc.open(generic.toString(), FcntlH.O_RDWR | FcntlH.O_CLOEXEC, 0);
            assertTrue(fd >= 0);
            try {
                long blocks;
                try (NvmeController c = NvmeController.open(ctrl)) {
                    blocks = c.identifyNamespace(a, 1).get(JAVA_LONG, 0);
                }
                MemorySegment buf = a.allocate(4096, 4096);
                int r = io64(a, fd, nvme_cmd_read, 1, buf, 4096, blocks, 0);
                assertTrue(r > 0, "read past the end: " + r);
                assertEquals("LBA_RANGE", NvmeStatus.name(r), NvmeStatus.describe(r));
                System.out.println("read past end: NVMe status " + NvmeStatus.describe(r));
                r = io64(a, fd, nvme_cmd_read, 77, buf, 4096, 0, 0);
                assertEquals(-Errno.EINVAL, r, "a namespace this node does not lead to: refused by the kernel");
                System.out.println("nsid 77: " + (r > 0 ? NvmeStatus.describe(r) : Errno.name(r)));
                MemorySegment huge = a.allocate(64L << 20, 4096);
                r = io64(a, fd, nvme_cmd_read, 1, huge, (int) huge.byteSize(), 0, (int) (huge.byteSize() / 512 - 1));
                assertTrue(r != 0, "a transfer far over MDTS must be refused: " + r);
                System.out.println("64 MiB read: " + (r > 0 ? NvmeStatus.describe(r) : Errno.name(r)));
            } finally {
                Libc.close(fd);
            }
            try (NvmeController c = NvmeController.open(ctrl)) {
                ErrnoException e = assertThrows(ErrnoException.class, () -> c.identifyNamespace(a, 0x7777));
                assertTrue(e.getMessage().contains("NVMe status INVALID_NS"), e.getMessage());
                System.out.println("identify nsid 0x7777: " + e.getMessage());
            }
        }
        ErrnoException e = assertThrows(ErrnoException.class, () -> NvmeNamespaceBdev.open("x", Path.of("/dev/ng9n9")));
        assertTrue(e.getMessage().contains("orion nvme list"), e.getMessage());
    }

    @Test
    @Order(8)
    void zonedNamespaceStateMachineAndAppend() throws Exception {
        Path ctrl = controller(NvmeGuestSpec.ZNS_SERIAL);
        Path generic = genericNode(blockNode(ctrl));
        NvmeNamespaceBdev ns = NvmeNamespaceBdev.open("z0", generic);
        try (Arena a = Arena.ofConfined()) {
            assertTrue(ns.geometry().zoned(), "zoned geometry: " + ns.geometry());
            NvmeZones z = new NvmeZones(ns);
            long zb = z.zoneBlocks();
            assertEquals((16L << 20) / ns.blockSize(), zb);
            List<NvmeZones.Zone> all = z.report(0, 64);
            assertEquals(8, all.size(), "zones: " + all);
            JsonNode cli = JSON.readTree(run("nvme", "zns", "report-zones", generic.toString(), "-o", "json"));
            assertEquals(all.size(), cli.path("nr_zones").asInt(), cli.toString());
            assertEquals("EMPTY", z.zone(0).stateName());
            assertEquals("EXP_OPENED", z.open(0).stateName());
            assertEquals("CLOSED", z.close(0).stateName());
            assertEquals("FULL", z.finish(0).stateName());
            ErrnoException bad = assertThrows(ErrnoException.class, () -> z.open(0));
            assertTrue(bad.getMessage().contains("it is FULL"), bad.getMessage());
            assertThrows(ErrnoException.class, () -> z.close(zb)); // an EMPTY zone cannot be closed
            assertEquals("EMPTY", z.reset(0).stateName());

            int bs = ns.blockSize();
            MemorySegment data = a.allocate(4L * bs, 4096);
            fill(data, 11);
            long first = z.append(zb, data, 2 * bs);
            long second = z.append(zb, data.asSlice(2L * bs), 2 * bs);
            assertEquals(zb, first, "first append lands at the zone start");
            assertEquals(zb + 2, second, "second append lands after the first");
            NvmeZones.Zone after = z.zone(zb);
            assertEquals(zb + 4, after.writePointer());
            assertEquals("IMP_OPENED", after.stateName());
            assertEquals("ZNS is zoned", after.type() == 2 ? "ZNS is zoned" : "type " + after.type());

            // Read the appended blocks back through the kernel's block node.
            MemorySegment back = a.allocate(4L * bs, 4096);
            int fd = Libc.open(blockNode(ctrl).toString(), FcntlH.O_RDONLY | FcntlH.O_DIRECT | FcntlH.O_CLOEXEC, 0);
            try {
                assertEquals(4L * bs, Libc.pread(fd, back, 4L * bs, zb * bs));
            } finally {
                Libc.close(fd);
            }
            assertArrayEquals(data.toArray(JAVA_BYTE), back.toArray(JAVA_BYTE), "appended data");

            // More than the zone has left: refused with the zone's state in the message.
            z.finish(2 * zb);
            ErrnoException full = assertThrows(ErrnoException.class, () -> z.append(2 * zb, data, bs));
            assertTrue(full.getMessage().contains("FULL"), full.getMessage());
            // A write not at the write pointer: the device's status comes back readable.
            try (BdevHost host = BdevHost.start(1, 8 << 20, true)) {
                ExecutionException w = assertThrows(ExecutionException.class,
                        () -> host.client().write(ns, (3 * zb + 8) * bs, data, 0).get(30, TimeUnit.SECONDS));
                System.out.println("write off the write pointer: " + w.getCause());
                int st = host.reactors().get(0).call(() -> ns.lastStatus(host.context(0))).get(30, TimeUnit.SECONDS);
                assertEquals("ZNS_INVALID_WRITE", NvmeStatus.name(st), NvmeStatus.describe(st));
            }
        } finally {
            ns.close();
        }
    }

    @Test
    @Order(9)
    void zoneAppendsFromSeveralReactorsThroughTheRing() throws Exception {
        Path ctrl = controller(NvmeGuestSpec.ZNS_SERIAL);
        Path block = blockNode(ctrl);
        Path generic = genericNode(block);
        int reactors = 3;
        int perReactor = 16;
        try (BdevHost host = BdevHost.start(reactors, 8 << 20, true); Arena a = Arena.ofShared()) {
            NvmeNamespaceBdev ns = NvmeNamespaceBdev.open("za", generic);
            try {
                NvmeZones z = new NvmeZones(ns);
                long zb = z.zoneBlocks();
                long zone = 4 * zb;
                assertEquals("EMPTY", z.zone(zone).stateName());
                int bs = ns.blockSize();
                assertTrue(ns.maxAppend() >= 4L * bs, "max append " + ns.maxAppend());
                // Every reactor appends perReactor pieces of 1-4 blocks to one zone, all in flight at once.
                int n = reactors * perReactor;
                MemorySegment[] bufs = new MemorySegment[n];
                List<java.util.concurrent.CompletableFuture<Long>> lbas = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    int blocks = 1 + i % 4;
                    bufs[i] = a.allocate((long) blocks * bs, 4096);
                    fill(bufs[i], 1000 + i);
                    lbas.add(z.append(host.context(i % reactors), zone, bufs[i], blocks * bs));
                }
                long total = 0;
                long[][] placed = new long[n][];
                for (int i = 0; i < n; i++) {
                    long lba = lbas.get(i).get(30, TimeUnit.SECONDS);
                    long blocks = bufs[i].byteSize() / bs;
                    assertTrue(lba >= zone && lba + blocks <= zone + zb, "append " + i + " at " + lba);
                    placed[i] = new long[] {lba, blocks};
                    total += blocks;
                }
                java.util.Arrays.sort(placed, java.util.Comparator.comparingLong(x -> x[0]));
                long expect = zone;
                for (long[] x : placed) {
                    assertEquals(expect, x[0], "appends tile the zone from its start without overlap or gap");
                    expect += x[1];
                }
                assertEquals(zone + total, z.zone(zone).writePointer(), "write pointer after " + n + " appends");

                // Each piece reads back, through the kernel's block device, where the controller said it put it.
                int fd = Libc.open(block.toString(), FcntlH.O_RDONLY | FcntlH.O_DIRECT | FcntlH.O_CLOEXEC, 0);
                assertTrue(fd >= 0, "open " + block + ": " + Errno.name(fd));
                try {
                    MemorySegment back = a.allocate(4L * bs, 4096);
                    for (int i = 0; i < n; i++) {
                        long len = bufs[i].byteSize();
                        long lba = lbas.get(i).get();
                        assertEquals(len, Libc.pread(fd, back, len, lba * bs));
                        assertArrayEquals(bufs[i].toArray(JAVA_BYTE), back.asSlice(0, len).toArray(JAVA_BYTE),
                                "append " + i + " at LBA " + lba);
                    }
                } finally {
                    Libc.close(fd);
                }
                System.out.println(n + " appends from " + reactors + " reactors: " + total + " blocks, distinct LBAs");

                // A full zone: the controller's status comes back through the ring, never a hang.
                long full = 2 * zb;
                assertEquals("FULL", z.zone(full).stateName());
                ExecutionException e = assertThrows(ExecutionException.class,
                        () -> z.append(host.context(1), full, bufs[0], bs).get(30, TimeUnit.SECONDS));
                assertTrue(e.getCause().getMessage().contains("ZNS_FULL"), e.getCause().getMessage());
                System.out.println("append to a full zone: " + e.getCause().getMessage());
                // Not a zone start: refused before the device.
                e = assertThrows(ExecutionException.class,
                        () -> z.append(host.context(0), zone + 1, bufs[0], bs).get(30, TimeUnit.SECONDS));
                assertEquals(Errno.EINVAL, ((ErrnoException) e.getCause()).errno());
            } finally {
                ns.close();
            }
        }
    }

    @Test
    @Order(10)
    void badInputThroughIoUringPassthroughGetsAClearAnswerNeverAHang() throws Exception {
        Path ctrl = controller(NvmeGuestSpec.SERIAL);
        Path block = blockNode(ctrl);
        Path generic = genericNode(block);
        NvmeNamespaceBdev probe = NvmeNamespaceBdev.open("probe", generic);
        long blocks = probe.blockCount();
        int bs = probe.blockSize();
        probe.close();
        try (Ring ring = Ring.open(RingConfig.defaults().withBigEntries(true, true)); Arena a = Arena.ofShared()) {
            int fd = Libc.open(generic.toString(), FcntlH.O_RDWR | FcntlH.O_CLOEXEC, 0);
            assertTrue(fd >= 0, "open " + generic + ": " + Errno.name(fd));
            try {
                MemorySegment buf = a.allocate(2L * bs + 1, 4096);
                // LBA past the end, and a read that starts inside and runs past it: LBA Out of Range.
                for (long slba : new long[] {blocks, blocks - 1}) {
                    int r = uringCmd(ring, fd, nvme_cmd_read, 1, buf.address(), 2 * bs, slba, 1);
                    assertEquals("LBA_RANGE", NvmeStatus.name(r), "read 2 blocks at " + slba + ": " + r);
                    assertEquals(-Errno.ENOSPC, NvmeErrors.negErrno(r));
                }
                // An opcode the controller does not implement.
                int r = uringCmd(ring, fd, 0x7f, 1, 0, 0, 0, 0);
                assertEquals("INVALID_OPCODE", NvmeStatus.name(r), "opcode 0x7f: " + r);
                // A namespace this node does not lead to: the kernel refuses before the controller sees it.
                r = uringCmd(ring, fd, nvme_cmd_read, 77, buf.address(), bs, 0, 0);
                assertEquals(-Errno.EINVAL, r, "nsid 77 on " + generic);
                // Far over MDTS (64 MiB in one command): the kernel cannot map it for one request.
                MemorySegment huge = a.allocate(64L << 20, 4096);
                r = uringCmd(ring, fd, nvme_cmd_read, 1, huge.address(), (int) huge.byteSize(), 0,
                        (int) Math.min(0xffff, huge.byteSize() / bs - 1));
                assertTrue(r < 0, "64 MiB read: " + r);
                System.out.println("64 MiB read over MDTS: " + Errno.name(r));
                // A buffer at an odd address: the kernel bounces it, and the data is still right both ways.
                MemorySegment odd = buf.asSlice(1, 2L * bs);
                fill(odd, 42);
                long at = (48L << 20) / bs;
                assertEquals(0, uringCmd(ring, fd, org.orionos.bindings.nvme.NvmeTypesH.nvme_cmd_write, 1,
                        odd.address(), 2 * bs, at, 1));
                MemorySegment oddBack = a.allocate(2L * bs + 3, 4096).asSlice(3, 2L * bs);
                assertEquals(0, uringCmd(ring, fd, nvme_cmd_read, 1, oddBack.address(), 2 * bs, at, 1));
                assertArrayEquals(odd.toArray(JAVA_BYTE), oddBack.toArray(JAVA_BYTE), "odd-address buffers");
            } finally {
                Libc.close(fd);
            }
        }
        // The same mistakes through orion's device are refused by its core with the errno, before the device.
        try (BdevHost host = BdevHost.start(1, 8 << 20, true); Arena a = Arena.ofShared()) {
            host.build(ConfigLoader.parse("[[nvme]]\nname = \"n0\"\npath = \"" + generic + "\"\n", "test"));
            BlockDevice d = host.registry().get("n0");
            MemorySegment buf = a.allocate(8192, 4096);
            assertEquals(Errno.EINVAL, cause(() -> host.client().read(d, d.sizeBytes() - 4096, buf)));
            assertEquals(Errno.EINVAL, cause(() -> host.client().read(d, 100, buf.asSlice(0, 4096))));
            assertEquals(Errno.ENOSPC, cause(() -> host.client().write(d, d.sizeBytes(), buf.asSlice(0, 4096), 0)));
        }
        ErrnoException e = assertThrows(ErrnoException.class,
                () -> NvmeNamespaceBdev.open("x", generic.resolveSibling(generic.getFileName() + "9")));
        assertEquals(Errno.ENOENT, e.errno());
        System.out.println("unknown namespace node: " + e.getMessage());
    }

    @Test
    @Order(11)
    void smartTemperatureEventArrivesAsAUeventAndIsFollowedUp() throws Exception {
        Path ctrl = controller(NvmeGuestSpec.SERIAL);
        java.util.concurrent.BlockingQueue<NvmeEvents.Event> events = new java.util.concurrent.LinkedBlockingQueue<>();
        java.util.concurrent.BlockingQueue<NvmeHealth> healths = new java.util.concurrent.LinkedBlockingQueue<>();
        int thresh = org.orionos.bindings.nvme.NvmeTypesH.NVME_FEAT_FID_TEMP_THRESH;
        NvmeEvents listener = NvmeEvents.listen(e -> {
            events.add(e);
            NvmeHealth h = NvmeEvents.healthHandler(e);
            if (h != null) {
                healths.add(h);
            }
        });
        try (NvmeController c = NvmeController.open(ctrl); Arena a = Arena.ofConfined()) {
            int aec = NvmeEvents.enableHealthEvents(c);
            assertEquals(NvmeEvents.SMART_CRITICAL_WARNINGS, aec & NvmeEvents.SMART_CRITICAL_WARNINGS,
                    "async event configuration 0x" + Integer.toHexString(aec));
            int kelvin = (int) c.getFeature(thresh, 0, 0, 0, null) & 0xffff;
            int now = NvmeHealth.of(c.smartLog(a), c.identifyController(a)).temperatureK();
            // An over-temperature threshold below the current temperature: the controller raises a SMART event.
            c.setFeature(thresh, 0, now - 10, false, null);
            try {
                NvmeEvents.Event e = events.poll(30, TimeUnit.SECONDS);
                assertTrue(e != null, "no NVME_AEN uevent within 30 s");
                System.out.println("event: " + e + " (NVME_AEN=0x" + Integer.toHexString(e.result()) + ")");
                assertEquals(ctrl.getFileName().toString(), e.controller());
                assertEquals(1, e.type(), "SMART/health event: " + e);
                assertEquals(1, e.info(), "temperature threshold: " + e);
                assertEquals(2, e.logPage(), "names the SMART log: " + e);
                NvmeHealth h = healths.poll(30, TimeUnit.SECONDS);
                assertTrue(h != null, "the handler read no SMART log");
                assertTrue(h.warnings().contains("critical warning: temperature threshold crossed"), h.warnings().toString());
                System.out.println("health after the event: " + h.warnings());
            } finally {
                c.setFeature(thresh, 0, kelvin, false, null);
            }
        } finally {
            listener.close();
        }
    }

    @Test
    @Order(12)
    void serveWatchesHealthLogsCrossingAndClearingOnceAndReportsItOverTheControlSocket() throws Exception {
        Path ctrl = controller(NvmeGuestSpec.SERIAL);
        Path generic = genericNode(blockNode(ctrl));
        Path work = Files.createTempDirectory("orion-health");
        Path sock = work.resolve("control.sock");
        Path log = work.resolve("serve.log");
        Path cfg = work.resolve("orion.toml");
        Files.writeString(cfg, "[[nvme]]\nname = \"n0\"\npath = \"" + generic + "\"\nhealth_interval_s = 2\n");
        String jar = System.getProperty("orion.jar");
        Process serve = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-XX:-UsePerfData", "-jar", jar, "serve", "--config", cfg.toString(), "--reactors", "1",
                "--control-socket", sock.toString()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        int thresh = org.orionos.bindings.nvme.NvmeTypesH.NVME_FEAT_FID_TEMP_THRESH;
        int original;
        try (NvmeController c = NvmeController.open(ctrl)) {
            original = (int) c.getFeature(thresh, 0, 0, 0, null) & 0xffff;
        }
        String crossed = "health: critical warning: temperature threshold crossed";
        String cleared = "health: cleared: critical warning: temperature threshold crossed";
        try {
            awaitLog(serve, log, "ready;", 120);
            JsonNode c0 = awaitHealth(sock, serve, log, h -> h.has("smart_log"), "a first SMART reading");
            assertEquals(ctrl.toString(), c0.path("path").asText());
            assertEquals(NvmeGuestSpec.SERIAL, c0.path("sn").asText());
            assertEquals("n0", c0.path("devices").path(0).asText());
            assertTrue(c0.path("health_events").asBoolean(), "SMART events turned on: " + c0);
            assertEquals(0, c0.path("warnings").size(), "healthy at start: " + c0);
            assertEquals(original, c0.path("tmpth").asInt());
            // The reading names its fields as nvme-cli's smart-log does; the slow-changing ones must agree.
            JsonNode cli = JSON.readTree(run("nvme", "smart-log", ctrl.toString(), "-o", "json"));
            for (String f : List.of("critical_warning", "temperature", "avail_spare", "spare_thresh", "percent_used",
                    "media_errors", "unsafe_shutdowns", "num_err_log_entries")) {
                assertTrue(sameValue(cli.path(f), c0.path("smart_log").path(f)), f + ": nvme-cli " + cli.path(f)
                        + ", orion " + c0.path("smart_log").path(f));
            }
            int tempK = c0.path("smart_log").path("temperature").asInt();

            // Another tool lowers the over-temperature threshold below the current temperature.
            run("nvme", "set-feature", ctrl.toString(), "--feature-id=4", "--value=" + (tempK - 10));
            awaitLog(serve, log, crossed, 30);
            JsonNode hot = awaitHealth(sock, serve, log,
                    h -> h.path("warnings").toString().contains("temperature threshold crossed"), "the warning in status");
            assertEquals(tempK - 10, hot.path("tmpth").asInt());
            assertEquals(2, hot.path("smart_log").path("critical_warning").asInt() & 2, hot.toString());
            JsonNode viaStatus = awaitStatus(sock, serve, log);
            assertTrue(viaStatus.toString().contains("temperature threshold crossed"), viaStatus.toString());
            String status = orion("status", "--control-socket", sock.toString());
            assertTrue(status.contains("nvme health: " + ctrl + " critical warning: temperature threshold crossed"),
                    status);
            // The controller raised a SMART event and the host followed it up.
            awaitHealth(sock, serve, log, h -> h.path("events").asLong() >= 1, "the SMART event counted");
            awaitLog(serve, log, "SMART/health event, info 0x1, log page 0x2", 30);
            // Later polls still see the condition but do not repeat the warning.
            JsonNode first = ControlClient.call(sock, "nvme.health", null).path("controllers").path(0);
            awaitHealth(sock, serve, log, h -> !h.path("read_at").equals(first.path("read_at"))
                    && h.path("read_by").asText().equals("poll"), "a later poll");
            assertEquals(1, count(Files.readString(log), crossed), "warned once per change:\n" + Files.readString(log));

            // Put the threshold back: the next poll sees the condition gone and says so once.
            run("nvme", "set-feature", ctrl.toString(), "--feature-id=4", "--value=" + original);
            awaitLog(serve, log, cleared, 30);
            JsonNode cool = awaitHealth(sock, serve, log, h -> h.path("warnings").isEmpty(), "the warning cleared");
            assertEquals(original, cool.path("tmpth").asInt());

            // A controller reset: the kernel rewrites Asynchronous Event Configuration with its notice bits only;
            // the next check finds the SMART bits gone and puts them back.
            run("nvme", "reset", ctrl.toString());
            awaitLog(serve, log, "SMART/health events were off (controller reset?); on again", 30);
            try (NvmeController c = NvmeController.open(ctrl)) {
                int aec = (int) c.getFeature(org.orionos.bindings.nvme.NvmeTypesH.NVME_FEAT_FID_ASYNC_EVENT, 0, 0, 0,
                        null);
                assertEquals(NvmeEvents.SMART_CRITICAL_WARNINGS, aec & NvmeEvents.SMART_CRITICAL_WARNINGS,
                        "after the reset: 0x" + Integer.toHexString(aec));
            }
            awaitHealth(sock, serve, log, h -> h.path("health_events").asBoolean() && !h.has("error"),
                    "events on and the controller readable after the reset");
            String human = orion("nvme", "health", "--control-socket", sock.toString());
            assertTrue(human.contains(ctrl.toString()) && !human.contains("warning:"), human);
            JsonNode viaCli = JSON.readTree(orion("nvme", "health", "--control-socket", sock.toString(), "--json"));
            assertEquals(NvmeGuestSpec.SERIAL, viaCli.path("controllers").path(0).path("sn").asText(), viaCli.toString());
            assertEquals(1, count(Files.readString(log), cleared), Files.readString(log));
        } finally {
            try (NvmeController c = NvmeController.open(ctrl)) {
                c.setFeature(thresh, 0, original, false, null);
            }
            serve.destroy(); // SIGTERM
            boolean exited = serve.waitFor(60, TimeUnit.SECONDS);
            System.out.println(Files.readString(log));
            assertTrue(exited, "orion serve did not stop on SIGTERM");
            assertEquals(0, serve.exitValue(), "orion serve exit status");
        }
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }

    private static void awaitLog(Process p, Path log, String what, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!Files.readString(log).contains(what)) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                fail("no \"" + what + "\" in the serve log (" + (p.isAlive() ? "timeout" : "exit " + p.exitValue())
                        + "):\n" + Files.readString(log));
            }
            Thread.sleep(100);
        }
    }

    /** The first controller of {@code nvme.health} once {@code ok} holds, within 30 s. */
    private static JsonNode awaitHealth(Path sock, Process p, Path log, java.util.function.Predicate<JsonNode> ok,
                                        String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        JsonNode last = null;
        while (System.nanoTime() < deadline && p.isAlive()) {
            last = ControlClient.call(sock, "nvme.health", null).path("controllers").path(0);
            if (ok.test(last)) {
                return last;
            }
            Thread.sleep(200);
        }
        return fail("waited for " + what + "; last answer " + last + "\nserve log:\n" + Files.readString(log));
    }

    private static JsonNode awaitStatus(Path sock, Process p, Path log) throws Exception {
        JsonNode s = ControlClient.call(sock, "status", null);
        assertTrue(s.has("host") && s.has("bdevs") && s.has("nbd"), "status keeps its sections: " + s);
        assertEquals("n0", s.path("bdevs").path(0).path("name").asText(), s.toString());
        return s.path("nvme");
    }

    // ------------------------------------------------------------------ helpers

    private static int cause(java.util.concurrent.Callable<java.util.concurrent.Future<?>> io) throws Exception {
        ExecutionException e = assertThrows(ExecutionException.class, () -> io.call().get(30, TimeUnit.SECONDS));
        System.out.println("refused: " + e.getCause().getMessage());
        return ((ErrnoException) e.getCause()).errno();
    }

    /** One NVMe I/O command through IORING_OP_URING_CMD; its CQE's res, within 10 s or the test fails. */
    private static int uringCmd(Ring ring, int fd, int opcode, int nsid, long addr, int len, long slba, int nlb0) {
        int[] res = {Integer.MIN_VALUE};
        Sqe sqe = ring.acquire((r, flags, cookie) -> res[0] = r, 0);
        sqe.uringCmd(fd, (int) NVME_URING_CMD_IO);
        MemorySegment seg = sqe.segment();
        long base = sqe.cmdOffset();
        seg.set(JAVA_BYTE, base + NvmeUringCmd.OPCODE, (byte) opcode);
        seg.set(JAVA_INT, base + NvmeUringCmd.NSID, nsid);
        seg.set(JAVA_LONG, base + NvmeUringCmd.ADDR, addr);
        seg.set(JAVA_INT, base + NvmeUringCmd.DATA_LEN, len);
        seg.set(JAVA_INT, base + NvmeUringCmd.CDW10, (int) slba);
        seg.set(JAVA_INT, base + NvmeUringCmd.CDW11, (int) (slba >>> 32));
        seg.set(JAVA_INT, base + NvmeUringCmd.CDW12, nlb0);
        seg.set(JAVA_INT, base + NvmeUringCmd.TIMEOUT_MS, 10_000);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        ring.submitAndWait(1, TimeUnit.SECONDS.toNanos(10));
        ring.reap();
        while (res[0] == Integer.MIN_VALUE) {
            if (System.nanoTime() > deadline) {
                fail("uring_cmd opcode 0x" + Integer.toHexString(opcode) + " did not complete within 10 s");
            }
            ring.submitAndWait(1, TimeUnit.MILLISECONDS.toNanos(100));
            ring.reap();
        }
        return res[0];
    }

    private static int io64(Arena a, int fd, int opcode, int nsid, MemorySegment buf, int len, long slba, int nlb0) {
        MemorySegment c = a.allocate(NvmePassthruCmd64.LAYOUT);
        c.set(JAVA_BYTE, NvmePassthruCmd64.OPCODE, (byte) opcode);
        c.set(JAVA_INT, NvmePassthruCmd64.NSID, nsid);
        c.set(JAVA_LONG, NvmePassthruCmd64.ADDR, buf.address());
        c.set(JAVA_INT, NvmePassthruCmd64.DATA_LEN, len);
        c.set(JAVA_INT, NvmePassthruCmd64.CDW10, (int) slba);
        c.set(JAVA_INT, NvmePassthruCmd64.CDW11, (int) (slba >>> 32));
        c.set(JAVA_INT, NvmePassthruCmd64.CDW12, nlb0);
        c.set(JAVA_INT, NvmePassthruCmd64.TIMEOUT_MS, 10_000);
        return Libc.ioctl(fd, NVME_IOCTL_IO64_CMD, c);
    }

    /**
     * Every scalar nvme-cli prints must be in ours with the same value (numbers compared as numbers);
     * arrays element by element. Returns how many scalars were compared.
     */
    static int compare(String what, JsonNode cli, JsonNode ours) {
        List<String> diffs = new ArrayList<>();
        int n = compareInto("", cli, ours, diffs);
        if (!diffs.isEmpty()) {
            fail(what + ": " + diffs.size() + " fields differ from nvme-cli:\n  " + String.join("\n  ", diffs)
                    + "\nnvme-cli: " + cli + "\norion: " + ours);
        }
        System.out.println(what + ": " + n + " fields equal nvme-cli's");
        return n;
    }

    private static int compareInto(String prefix, JsonNode cli, JsonNode ours, List<String> diffs) {
        int n = 0;
        Iterator<Map.Entry<String, JsonNode>> it = cli.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = prefix + e.getKey();
            JsonNode c = e.getValue();
            JsonNode o = ours.get(e.getKey());
            if (o == null) {
                diffs.add(key + ": missing (nvme-cli: " + c + ")");
            } else if (c.isArray()) {
                if (!o.isArray() || o.size() != c.size()) {
                    diffs.add(key + ": array of " + c.size() + " vs " + o);
                    continue;
                }
                for (int i = 0; i < c.size(); i++) {
                    n += compareInto(key + "[" + i + "].", c.get(i), o.get(i), diffs);
                }
            } else if (c.isObject()) {
                n += compareInto(key + ".", c, o, diffs);
            } else {
                n++;
                if (!sameValue(c, o)) {
                    diffs.add(key + ": nvme-cli " + c + " orion " + o);
                }
            }
        }
        return n;
    }

    private static boolean sameValue(JsonNode c, JsonNode o) {
        String a = c.asText().strip();
        String b = o.asText().strip();
        if (a.equals(b)) {
            return true;
        }
        try {
            return new BigDecimal(a).compareTo(new BigDecimal(b)) == 0;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static void fill(MemorySegment s, int seed) {
        for (long i = 0; i < s.byteSize(); i++) {
            s.set(JAVA_BYTE, i, (byte) (i * 31 + seed + (i >> 12)));
        }
    }

    private static boolean allZero(MemorySegment s) {
        for (long i = 0; i < s.byteSize(); i++) {
            if (s.get(JAVA_BYTE, i) != 0) {
                return false;
            }
        }
        return true;
    }

    /** /dev/nvmeN of the controller with {@code serial}. */
    static Path controller(String serial) throws IOException {
        List<String> seen = new ArrayList<>();
        try (Stream<Path> s = Files.list(Path.of("/sys/class/nvme"))) {
            for (Path c : s.sorted().toList()) {
                String sn = Files.readString(c.resolve("serial")).strip();
                if (sn.equals(serial)) {
                    Path dev = Path.of("/dev", c.getFileName().toString());
                    await(dev);
                    return dev;
                }
                seen.add(c.getFileName() + "=" + sn);
            }
        }
        return fail("no NVMe controller with serial " + serial + " (have " + seen + ")");
    }

    /** /dev/nvmeXnY of namespace 1 of a controller (X is the subsystem's number under native multipath). */
    static Path blockNode(Path ctrl) throws IOException {
        Path sys = Path.of("/sys/class/nvme", ctrl.getFileName().toString());
        try (Stream<Path> s = Files.list(sys)) {
            for (Path e : s.sorted().toList()) {
                String n = e.getFileName().toString();
                if (n.matches("nvme[0-9]+n1")) {
                    Path dev = Path.of("/dev", n);
                    await(dev);
                    return dev;
                }
                if (n.matches("nvme[0-9]+c[0-9]+n1")) {
                    Path dev = Path.of("/dev", n.replaceAll("c[0-9]+", ""));
                    await(dev);
                    return dev;
                }
            }
        }
        return fail("no namespace 1 under " + sys);
    }

    static Path genericNode(Path block) throws IOException {
        Path g = block.resolveSibling("ng" + block.getFileName().toString().substring(4));
        await(g);
        return g;
    }

    private static void await(Path p) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.exists(p)) {
            if (System.nanoTime() > deadline) {
                fail(p + " did not appear within 10 s");
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
        }
    }

    static String orion(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:-UsePerfData",
                "--enable-native-access=ALL-UNNAMED", "-jar", System.getProperty("orion.jar")));
        cmd.addAll(List.of(args));
        return run(cmd.toArray(String[]::new));
    }

    static String run(String... cmd) throws java.io.IOException, InterruptedException {
        return Commands.run(cmd);
    }
}
