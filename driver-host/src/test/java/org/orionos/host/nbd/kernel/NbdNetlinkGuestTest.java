package org.orionos.host.nbd.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.bindings.Libc;
import org.orionos.bindings.uapi.FcntlH;
import org.orionos.host.guest.GuestSpec;
import org.orionos.host.guest.GuestTest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The nbd netlink family and {@link KernelAttacher} against the guest's real nbd module, served by
 * the test-only {@link BlockingTestEndpoint}: connect with N sockets, size/backend/flags as the
 * kernel reports them, flush and trim reaching the server, disconnect, a busy device refused, an
 * unknown export refused, a restarted host re-attaching with RECONFIGURE while I/O waits, a dead
 * connection replaced after LINK_DEAD, a disconnect from outside noticed, a resize.
 */
@GuestTest(spec = NbdNetlinkGuestTest.Spec.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NbdNetlinkGuestTest {
    static final long SIZE = 64L << 20;

    /** No disks: the nbd module is all this needs. */
    public static final class Spec implements Supplier<GuestSpec> {
        @Override
        public GuestSpec get() {
            return GuestSpec.builder().memoryMiB(1024).build();
        }
    }

    @BeforeAll
    static void loadNbd() throws Exception {
        if (!Files.exists(Path.of("/sys/module/nbd"))) {
            run("modprobe", "nbd", "nbds_max=16");
        }
    }

    @Test
    @Order(1)
    void attachServesIoFlushTrimThenDetach() throws Exception {
        BlockingTestEndpoint ep = new BlockingTestEndpoint("vol0", SIZE);
        try (KernelAttacher k = KernelAttacher.open(ep)) {
            KernelAttacher.Attachment a = k.attach(KernelAttacher.Spec.of("vol0", 0, 2));
            assertEquals(0, a.index());
            assertFalse(a.reattached());
            assertEquals(SIZE / 512, Long.parseLong(sysfs(0, "size")));
            assertEquals("orion:vol0", KernelAttacher.backendOf(0));
            assertTrue(k.devices().stream().anyMatch(d -> d.index() == 0 && d.connected()), k.devices().toString());
            byte[] data = pattern(1 << 20, 7);
            directWrite("/dev/nbd0", 4L << 20, data);
            assertArrayEquals(data, ep.disk().asSlice(4L << 20, data.length).toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(data, directRead("/dev/nbd0", 4L << 20, data.length));
            assertTrue(ep.flushes.get() > 0, "fsync of the block device sends FLUSH");
            run("blkdiscard", "-o", "0", "-l", String.valueOf(1 << 20), "/dev/nbd0");
            assertTrue(ep.trims.get() > 0, "blkdiscard sends TRIM");
            k.detach(0);
            assertFalse(k.devices().stream().anyMatch(d -> d.index() == 0 && d.connected()));
            assertTrue(ep.disconnects.get() >= 1, "the kernel sent NBD_CMD_DISC");
            assertTrue(k.attachments().isEmpty());
        }
    }

    @Test
    @Order(2)
    void busyDeviceAndUnknownExportAreRefusedWithWhatToDo() {
        BlockingTestEndpoint vol = new BlockingTestEndpoint("vol0", SIZE);
        BlockingTestEndpoint other = new BlockingTestEndpoint("other", SIZE);
        try (KernelAttacher k = KernelAttacher.open(vol); KernelAttacher k2 = KernelAttacher.open(other)) {
            k.attach(KernelAttacher.Spec.of("vol0", 1, 1));
            ErrnoException busy = assertThrows(ErrnoException.class, () -> k2.attach(KernelAttacher.Spec.of("other", 1, 1)));
            assertEquals(Errno.EBUSY, busy.errno());
            assertTrue(busy.getMessage().contains("pick another device"), busy.getMessage());
            ErrnoException unknown = assertThrows(ErrnoException.class, () -> k2.attach(KernelAttacher.Spec.of("nope", 2, 1)));
            assertEquals(Errno.ENOENT, unknown.errno());
            ErrnoException notConnected = assertThrows(ErrnoException.class, () -> k2.detach(9));
            assertTrue(notConnected.getMessage().contains("/dev/nbd9"), notConnected.getMessage());
            k.detach(1);
        }
    }

    @Test
    @Order(3)
    void restartedHostReattachesWhileIoWaits() throws Exception {
        BlockingTestEndpoint ep = new BlockingTestEndpoint("vol0", SIZE);
        byte[] before = pattern(1 << 16, 3);
        try (KernelAttacher k = KernelAttacher.open(ep)) {
            k.attach(new KernelAttacher.Spec("vol0", 2, 1, 30, 120));
            directWrite("/dev/nbd2", 0, before);
        } // the attacher stops; the device stays configured
        ep.killConnections(); // ... and the server dies
        byte[] during = pattern(1 << 16, 5);
        CompletableFuture<Void> waiting = CompletableFuture.runAsync(() -> directWrite("/dev/nbd2", 1L << 20, during));
        Thread.sleep(1000);
        assertFalse(waiting.isDone(), "I/O waits for the server to come back");
        try (KernelAttacher k = KernelAttacher.open(ep)) {
            KernelAttacher.Attachment a = k.attach(new KernelAttacher.Spec("vol0", 2, 1, 30, 120));
            assertTrue(a.reattached(), "took the device over with RECONFIGURE");
            waiting.get(60, TimeUnit.SECONDS);
            assertArrayEquals(before, directRead("/dev/nbd2", 0, before.length));
            assertArrayEquals(during, directRead("/dev/nbd2", 1L << 20, during.length));
            k.detach(2);
        }
    }

    @Test
    @Order(4)
    void deadConnectionIsReplaced() throws Exception {
        BlockingTestEndpoint ep = new BlockingTestEndpoint("vol0", SIZE);
        try (KernelAttacher k = KernelAttacher.open(ep)) {
            k.attach(KernelAttacher.Spec.of("vol0", 3, 2));
            assertEquals(2, ep.liveConnections());
            ep.killOne();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (ep.opened.get() < 3 || ep.liveConnections() != 2) {
                assertTrue(System.nanoTime() < deadline, "no replacement connection: opened " + ep.opened.get()
                        + ", live " + ep.liveConnections());
                Thread.sleep(50);
            }
            byte[] data = pattern(1 << 16, 9);
            directWrite("/dev/nbd3", 0, data);
            assertArrayEquals(data, directRead("/dev/nbd3", 0, data.length));
            k.detach(3);
        }
    }

    @Test
    @Order(5)
    void disconnectFromOutsideIsNoticed() throws Exception {
        BlockingTestEndpoint ep = new BlockingTestEndpoint("vol0", SIZE);
        try (KernelAttacher k = KernelAttacher.open(ep)) {
            k.attach(KernelAttacher.Spec.of("vol0", 4, 1));
            run("nbd-client", "-d", "/dev/nbd4");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!k.attachments().isEmpty()) {
                assertTrue(System.nanoTime() < deadline, "still attached: " + k.attachments());
                Thread.sleep(100);
            }
            assertTrue(ep.disconnects.get() >= 1);
        }
    }

    @Test
    @Order(6)
    void resizeReachesTheKernel() throws Exception {
        BlockingTestEndpoint ep = new BlockingTestEndpoint("vol0", SIZE);
        try (KernelAttacher k = KernelAttacher.open(ep)) {
            k.attach(KernelAttacher.Spec.of("vol0", 5, 1));
            k.resized("vol0", SIZE / 2);
            assertEquals(SIZE / 2 / 512, Long.parseLong(sysfs(5, "size")));
            k.detach(5);
        }
    }

    @Test
    @Order(7)
    void anyFreeDeviceIsDestroyedOnDetach() throws Exception {
        BlockingTestEndpoint ep = new BlockingTestEndpoint("vol0", SIZE);
        try (KernelAttacher k = KernelAttacher.open(ep)) {
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

    static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), String.join(" ", cmd) + " did not finish");
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ":\n" + out);
        return out;
    }
}
