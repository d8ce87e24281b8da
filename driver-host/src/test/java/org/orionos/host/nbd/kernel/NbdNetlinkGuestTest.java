package org.orionos.host.nbd.kernel;

import org.orionos.host.guest.Commands;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.bindings.Libc;
import org.orionos.bindings.uapi.FcntlH;
import org.orionos.host.bdev.BdevOp;
import org.orionos.host.bdev.backend.ErrorBdev;
import org.orionos.host.guest.GuestSpec;
import org.orionos.host.guest.GuestTest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The nbd netlink family and {@link KernelAttacher} against the guest's real nbd module, the
 * kernel's sockets served by the real io_uring NBD server ({@link ServerEndpoint}) over an
 * error-injection device that counts what reaches it: connect with N sockets, size/backend/flags as
 * the kernel reports them, flush and trim reaching the device, disconnect, a busy device refused, an
 * unknown export refused, a restarted server re-attaching with RECONFIGURE while I/O waits, a dead
 * connection replaced after LINK_DEAD, a disconnect from outside noticed, a resize, and the
 * kernel's refusal of a RECONFIGURE without the backend identifier (why it once failed).
 */
@GuestTest(spec = NbdNetlinkGuestTest.Spec.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NbdNetlinkGuestTest {
    static final long SIZE = 64L << 20;
    static final String STACK = """
            [[bdev]]
            name = "mem"
            type = "memory"
            size = "64M"
            block_size = 512
            [[bdev]]
            name = "counted"
            type = "error"
            base = "mem"
            [[nbd.export]]
            name = "vol0"
            bdev = "counted"
            [[bdev]]
            name = "mem2"
            type = "memory"
            size = "64M"
            [[nbd.export]]
            name = "other"
            bdev = "mem2"
            """;

    /** No disks: the nbd module is all this needs. Shared with {@link NbdAttachGuestTest} (one boot). */
    public static final class Spec implements Supplier<GuestSpec> {
        @Override
        public GuestSpec get() {
            return GuestSpec.builder().memoryMiB(1536).cpus(2).build();
        }
    }

    static ServedStack stack;

    @BeforeAll
    static void loadNbd() throws Exception {
        if (!Files.exists(Path.of("/sys/module/nbd"))) {
            run("modprobe", "nbd", "nbds_max=16");
        }
        stack = new ServedStack(STACK);
    }

    @AfterAll
    static void stop() {
        if (stack != null) {
            stack.close();
        }
    }

    /** After each test: no device it used stays connected, whatever failed (later tests count connections). */
    @AfterEach
    void disconnectLeftovers() {
        disconnectAll();
    }

    static void disconnectAll() {
        try (NbdNetlink nl = NbdNetlink.open()) {
            for (NbdNetlink.DeviceStatus d : nl.status(-1)) {
                if (d.connected()) {
                    nl.disconnect(d.index());
                }
            }
        }
    }

    @Test
    @Order(1)
    void attachServesIoFlushTrimThenDetach() throws Exception {
        ErrorBdev counted = stack.errorBdev("counted");
        long flushes = counted.count(BdevOp.FLUSH);
        long trims = counted.count(BdevOp.TRIM);
        try (KernelAttacher k = KernelAttacher.open(stack.endpoint())) {
            KernelAttacher.Attachment a = k.attach(KernelAttacher.Spec.of("vol0", 0, 2));
            assertEquals(0, a.index());
            assertFalse(a.reattached());
            assertEquals(SIZE / 512, Long.parseLong(sysfs(0, "size")));
            assertEquals("orion:vol0", KernelAttacher.backendOf(0));
            assertTrue(k.devices().stream().anyMatch(d -> d.index() == 0 && d.connected()), k.devices().toString());
            assertEquals(2, stack.connections(), "two kernel sockets served by the io_uring server");
            byte[] data = pattern(1 << 20, 7);
            directWrite("/dev/nbd0", 4L << 20, data);
            assertArrayEquals(data, stack.read("mem", 4L << 20, data.length), "the write reached the device");
            assertArrayEquals(data, directRead("/dev/nbd0", 4L << 20, data.length));
            assertTrue(counted.count(BdevOp.FLUSH) > flushes, "fsync of the block device sends FLUSH to the device");
            run("blkdiscard", "-o", "0", "-l", String.valueOf(1 << 20), "/dev/nbd0");
            assertTrue(counted.count(BdevOp.TRIM) > trims, "blkdiscard sends TRIM to the device");
            k.detach(0);
            assertFalse(k.devices().stream().anyMatch(d -> d.index() == 0 && d.connected()));
            assertTrue(k.attachments().isEmpty());
            awaitTrue(() -> stack.connections() == 0, "the server closed both connections after NBD_CMD_DISC");
        }
    }

    @Test
    @Order(2)
    void busyDeviceAndUnknownExportAreRefusedWithWhatToDo() {
        try (KernelAttacher k = KernelAttacher.open(stack.endpoint()); KernelAttacher k2 = KernelAttacher.open(stack.endpoint())) {
            k.attach(KernelAttacher.Spec.of("vol0", 1, 1));
            ErrnoException busy = assertThrows(ErrnoException.class, () -> k2.attach(KernelAttacher.Spec.of("other", 1, 1)));
            assertEquals(Errno.EBUSY, busy.errno());
            assertTrue(busy.getMessage().contains("pick another device"), busy.getMessage());
            ErrnoException unknown = assertThrows(ErrnoException.class, () -> k2.attach(KernelAttacher.Spec.of("nope", 2, 1)));
            assertEquals(Errno.ENOENT, unknown.errno());
            assertTrue(unknown.getMessage().contains("vol0"), unknown.getMessage());
            ErrnoException notConnected = assertThrows(ErrnoException.class, () -> k2.detach(9));
            assertTrue(notConnected.getMessage().contains("/dev/nbd9"), notConnected.getMessage());
            k.detach(1);
        }
    }

    @Test
    @Order(3)
    void restartedHostReattachesWhileIoWaits() throws Exception {
        byte[] before = pattern(1 << 16, 3);
        try (KernelAttacher k = KernelAttacher.open(stack.endpoint())) {
            k.attach(new KernelAttacher.Spec("vol0", 2, 1, 30, 120));
            directWrite("/dev/nbd2", 0, before);
        } // the attacher stops; the device stays configured
        stack.stopServer(); // ... and the server goes away: the kernel sees its connection die
        byte[] during = pattern(1 << 16, 5);
        CompletableFuture<Void> waiting = CompletableFuture.runAsync(() -> directWrite("/dev/nbd2", 1L << 20, during));
        Thread.sleep(1000);
        assertFalse(waiting.isDone(), "I/O waits for the server to come back");
        assertTrue(new NbdNetlinkProbe().connected(2), "the kernel keeps nbd2 configured while it waits");
        stack.startServer();
        try (KernelAttacher k = KernelAttacher.open(stack.endpoint())) {
            KernelAttacher.Attachment a = k.attach(new KernelAttacher.Spec("vol0", 2, 1, 30, 120));
            assertTrue(a.reattached(), "took the device over with RECONFIGURE");
            waiting.get(60, TimeUnit.SECONDS);
            assertArrayEquals(before, directRead("/dev/nbd2", 0, before.length));
            assertArrayEquals(during, directRead("/dev/nbd2", 1L << 20, during.length));
            assertArrayEquals(during, stack.read("mem", 1L << 20, during.length), "the waiting write reached the device");
            k.detach(2);
        }
    }

    @Test
    @Order(4)
    void deadConnectionIsReplaced() throws Exception {
        try (KernelAttacher k = KernelAttacher.open(stack.endpoint())) {
            k.attach(KernelAttacher.Spec.of("vol0", 3, 2));
            long opened = stack.opened.get();
            assertEquals(2, stack.connections());
            stack.cutOneConnection();
            awaitTrue(() -> stack.opened.get() == opened + 1 && stack.connections() == 2,
                    "a replacement connection after LINK_DEAD");
            byte[] data = pattern(1 << 16, 9);
            directWrite("/dev/nbd3", 0, data);
            assertArrayEquals(data, directRead("/dev/nbd3", 0, data.length));
            k.detach(3);
        }
    }

    @Test
    @Order(5)
    void disconnectFromOutsideIsNoticed() throws Exception {
        try (KernelAttacher k = KernelAttacher.open(stack.endpoint())) {
            k.attach(KernelAttacher.Spec.of("vol0", 4, 1));
            run("nbd-client", "-d", "/dev/nbd4");
            awaitTrue(() -> k.attachments().isEmpty(), "the attacher forgets nbd4");
            awaitTrue(() -> stack.connections() == 0, "the server closed the connection after NBD_CMD_DISC");
        }
    }

    @Test
    @Order(6)
    void resizeReachesTheKernelAndReconfigureNeedsTheBackend() throws Exception {
        try (KernelAttacher k = KernelAttacher.open(stack.endpoint())) {
            k.attach(KernelAttacher.Spec.of("vol0", 5, 1));
            k.resized("vol0", SIZE / 2);
            assertEquals(SIZE / 2 / 512, Long.parseLong(sysfs(5, "size")));
            // Why RECONFIGURE used to fail: a device connected with a backend identifier refuses one without it.
            try (NbdNetlink nl = NbdNetlink.open()) {
                ErrnoException e = assertThrows(ErrnoException.class, () -> nl.reconfigure(5, null, SIZE, 0, -1, -1, null));
                assertEquals(Errno.EINVAL, e.errno());
                ErrnoException other = assertThrows(ErrnoException.class,
                        () -> nl.reconfigure(5, "orion:other", SIZE, 0, -1, -1, null));
                assertEquals(Errno.EINVAL, other.errno());
            }
            String dmesg = run("dmesg");
            assertTrue(dmesg.contains("must specify backend"), "kernel log: " + tail(dmesg));
            assertTrue(dmesg.contains("backend image doesn't match with orion:vol0"), "kernel log: " + tail(dmesg));
            assertEquals(SIZE / 2 / 512, Long.parseLong(sysfs(5, "size")), "the refused requests changed nothing");
            k.detach(5);
        }
    }

    @Test
    @Order(7)
    void anyFreeDeviceIsDestroyedOnDetach() throws Exception {
        try (KernelAttacher k = KernelAttacher.open(stack.endpoint())) {
            KernelAttacher.Attachment a = k.attach(KernelAttacher.Spec.of("vol0", -1, 1));
            assertTrue(a.index() >= 0);
            assertEquals(SIZE / 512, Long.parseLong(sysfs(a.index(), "size")));
            k.detach(a.index());
        }
    }

    // ---------------------------------------------------------------- helpers

    static String sysfs(int index, String attr) throws Exception {
        return Files.readString(Path.of("/sys/block/nbd" + index + "/" + attr), StandardCharsets.UTF_8).strip();
    }

    static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        new java.util.Random(seed).nextBytes(b);
        return b;
    }

    static void directWrite(String dev, long offset, byte[] data) {
        try (Arena a = Arena.ofConfined()) {
            int fd = ErrnoException.check(Libc.open(dev, FcntlH.O_RDWR | FcntlH.O_DIRECT | FcntlH.O_CLOEXEC, 0), "open", dev);
            try {
                MemorySegment buf = a.allocate(data.length, 4096);
                MemorySegment.copy(data, 0, buf, ValueLayout.JAVA_BYTE, 0, data.length);
                assertEquals(data.length, Libc.pwrite(fd, buf, data.length, offset), "pwrite " + dev);
                assertEquals(0, Libc.fsync(fd), "fsync " + dev);
            } finally {
                Libc.close(fd);
            }
        }
    }

    static byte[] directRead(String dev, long offset, int n) {
        try (Arena a = Arena.ofConfined()) {
            int fd = ErrnoException.check(Libc.open(dev, FcntlH.O_RDONLY | FcntlH.O_DIRECT | FcntlH.O_CLOEXEC, 0), "open", dev);
            try {
                MemorySegment buf = a.allocate(n, 4096);
                assertEquals(n, Libc.pread(fd, buf, n, offset), "pread " + dev);
                return buf.toArray(ValueLayout.JAVA_BYTE);
            } finally {
                Libc.close(fd);
            }
        }
    }

    /** NBD_CMD_STATUS of one device. */
    static final class NbdNetlinkProbe {
        boolean connected(int index) {
            try (NbdNetlink nl = NbdNetlink.open()) {
                return nl.status(index).stream().anyMatch(d -> d.index() == index && d.connected());
            }
        }
    }

    static void awaitTrue(java.util.function.BooleanSupplier c, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!c.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for: " + what);
            Thread.sleep(50);
        }
    }

    static String tail(String s) {
        return s.length() > 3000 ? s.substring(s.length() - 3000) : s;
    }

    static String run(String... cmd) throws java.io.IOException, InterruptedException {
        return Commands.runMerged(cmd);
    }
}
