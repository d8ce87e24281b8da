package org.orionos.bindings.uapi;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.orionos.bindings.Errno;
import org.orionos.bindings.Libc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The block-device ioctl numbers ({@link FsH}, {@link BlkzonedH}) against this machine's kernel on a
 * loop device with 4096-byte sectors: a wrong number would come back as -ENOTTY or a wrong value.
 * Needs root and loop devices: fails under {@code CI=true} without them, skips elsewhere.
 */
class BlockIoctlKernelTest {
    private static final long SIZE = 8L << 20;

    @TempDir
    static Path dir;
    private static String loop;
    private static Path backing;

    private static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }

    @BeforeAll
    static void attach() throws Exception {
        String why = null;
        if (!"root".equals(System.getProperty("user.name"))) {
            why = "needs root to attach a loop device";
        } else if (!Files.exists(Path.of("/dev/loop-control"))) {
            why = "no /dev/loop-control (loop driver missing)";
        }
        if (why == null) {
            backing = dir.resolve("disk.img");
            byte[] pattern = new byte[(int) SIZE];
            Arrays.fill(pattern, (byte) 0x5a);
            Files.write(backing, pattern);
            try {
                loop = run("losetup", "--find", "--show", "--sector-size", "4096", backing.toString());
            } catch (IOException e) {
                why = "losetup cannot attach a loop device: " + e.getMessage();
            }
        }
        if (why != null) {
            if ("true".equals(System.getenv("CI"))) {
                Assertions.fail(why);
            }
            Assumptions.abort(why + " (run as root on a kernel with loop devices; apt-get install util-linux)");
        }
    }

    @AfterAll
    static void detach() throws Exception {
        if (loop != null) {
            run("losetup", "-d", loop);
        }
    }

    private static int open() {
        int fd = Libc.open(loop, FcntlH.O_RDWR | FcntlH.O_CLOEXEC, 0);
        assertTrue(fd >= 0, "open " + loop + ": " + Errno.name(-fd));
        return fd;
    }

    @Test
    void sizeAndGeometry() {
        int fd = open();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment u64 = a.allocate(ValueLayout.JAVA_LONG);
            MemorySegment i32 = a.allocate(ValueLayout.JAVA_INT);
            assertEquals(0, Libc.ioctl(fd, FsH.BLKGETSIZE64, u64));
            assertEquals(SIZE, u64.get(ValueLayout.JAVA_LONG, 0));
            assertEquals(0, Libc.ioctl(fd, FsH.BLKGETSIZE, u64));
            assertEquals(SIZE / 512, u64.get(ValueLayout.JAVA_LONG, 0));
            assertEquals(0, Libc.ioctl(fd, FsH.BLKSSZGET, i32));
            assertEquals(4096, i32.get(ValueLayout.JAVA_INT, 0));
            assertEquals(0, Libc.ioctl(fd, FsH.BLKPBSZGET, i32));
            assertEquals(4096, i32.get(ValueLayout.JAVA_INT, 0));
            assertEquals(0, Libc.ioctl(fd, FsH.BLKIOMIN, i32));
            assertEquals(4096, i32.get(ValueLayout.JAVA_INT, 0));
            assertEquals(0, Libc.ioctl(fd, FsH.BLKIOOPT, i32));
            assertEquals(0, Libc.ioctl(fd, FsH.BLKROGET, i32));
            assertEquals(0, i32.get(ValueLayout.JAVA_INT, 0));
            assertEquals(0, Libc.ioctl(fd, FsH.BLKFLSBUF, 0L));
            assertEquals(0, Libc.ioctl(fd, FsH.BLKGETDISKSEQ, u64));
            assertTrue(u64.get(ValueLayout.JAVA_LONG, 0) > 0);
            // Not zoned: the zone size is 0 (a wrong request number would be -ENOTTY).
            assertEquals(0, Libc.ioctl(fd, BlkzonedH.BLKGETZONESZ, i32));
            assertEquals(0, i32.get(ValueLayout.JAVA_INT, 0));
            MemorySegment report = a.allocate(BlkzonedH.BlkZoneReport.LAYOUT);
            assertEquals(-Errno.ENOTTY, Libc.ioctl(fd, BlkzonedH.BLKREPORTZONE, report));
        } finally {
            Libc.close(fd);
        }
    }

    @Test
    void zeroOutAndDiscardReachTheBackingFile() throws IOException {
        int fd = open();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment range = a.allocate(ValueLayout.JAVA_LONG, 2);
            range.setAtIndex(ValueLayout.JAVA_LONG, 0, 4096);
            range.setAtIndex(ValueLayout.JAVA_LONG, 1, 8192);
            assertEquals(0, Libc.ioctl(fd, FsH.BLKZEROOUT, range));
            range.setAtIndex(ValueLayout.JAVA_LONG, 0, 1L << 20);
            range.setAtIndex(ValueLayout.JAVA_LONG, 1, 1L << 20);
            assertEquals(0, Libc.ioctl(fd, FsH.BLKDISCARD, range)); // loop punches a hole: reads zeroes
            MemorySegment buf = a.allocate(SIZE, 4096);
            assertEquals(SIZE, Libc.pread(fd, buf, SIZE, 0));
            for (long off : List.of(0L, 4095L, 12288L, (1L << 20) - 1, 2L << 20)) {
                assertEquals((byte) 0x5a, buf.get(ValueLayout.JAVA_BYTE, off), "at " + off);
            }
            for (long off : List.of(4096L, 12287L, 1L << 20, (2L << 20) - 1)) {
                assertEquals(0, buf.get(ValueLayout.JAVA_BYTE, off), "at " + off);
            }
        } finally {
            Libc.close(fd);
        }
    }
}
