package org.orionos.uring;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.orionos.bindings.Errno;
import org.orionos.bindings.Libc;
import org.orionos.bindings.uapi.FcntlH;
import org.orionos.bindings.uapi.SocketH.Iovec;
import org.orionos.bindings.uapi.StatxH;
import org.orionos.bindings.uapi.StatxH.Statx;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.orionos.bindings.uapi.IoUringH.IORING_FSYNC_DATASYNC;

/** Every file operation against real files on tmpfs (/dev/shm) and the root filesystem (/tmp). */
class FileOpsTest {

    /** Submits one operation and returns its result. */
    static int run1(Ring ring, Consumer<Sqe> prep) {
        TestSupport.Recorder rec = new TestSupport.Recorder();
        Sqe s = ring.acquire(rec, 7);
        prep.accept(s);
        TestSupport.runUntil(ring, () -> rec.count() == 1);
        assertEquals(7, rec.cookie(0));
        return rec.res(0);
    }

    private static MemorySegment pattern(Arena a, int len, int seed) {
        MemorySegment m = a.allocate(len, 4096);
        for (int i = 0; i < len; i++) {
            m.set(JAVA_BYTE, i, (byte) (i * 31 + seed));
        }
        return m;
    }

    @ParameterizedTest
    @ValueSource(strings = {"/dev/shm", "/tmp"})
    void openFallocateStatxWriteFsyncReadClose(String dir) throws Exception {
        Path p = dir.equals("/dev/shm") ? Path.of(dir, "orion-fileops-" + ProcessHandle.current().pid())
                : Path.of(dir, "orion-fileops-" + ProcessHandle.current().pid());
        Files.deleteIfExists(p);
        try (Ring ring = Ring.open(RingConfig.defaults()); Arena a = Arena.ofConfined()) {
            MemorySegment path = a.allocateFrom(p.toString());
            int fd = run1(ring, s -> s.openat(FcntlH.AT_FDCWD, path.address(),
                    FcntlH.O_RDWR | FcntlH.O_CREAT | FcntlH.O_TRUNC | FcntlH.O_CLOEXEC, 0644));
            assertTrue(fd >= 0, "openat: " + fd);
            assertTrue(Files.exists(p));
            try {
                assertEquals(0, run1(ring, s -> s.fallocate(fd, 0, 0, 1 << 20)));
                MemorySegment stx = a.allocate(Statx.LAYOUT);
                assertEquals(0, run1(ring, s -> s.statx(FcntlH.AT_FDCWD, path.address(), 0, StatxH.STATX_SIZE,
                        stx.address())));
                assertEquals(1 << 20, stx.get(JAVA_LONG, Statx.STX_SIZE));

                MemorySegment out = pattern(a, 4096, 3);
                assertEquals(4096, run1(ring, s -> s.write(fd, out.address(), 4096, 8192)));
                assertEquals(0, run1(ring, s -> s.fsync(fd, 0)));
                assertEquals(0, run1(ring, s -> s.fsync(fd, IORING_FSYNC_DATASYNC)));
                MemorySegment in = a.allocate(4096, 4096);
                assertEquals(4096, run1(ring, s -> s.read(fd, in.address(), 4096, 8192)));
                assertEquals(-1, in.mismatch(out));
                // Preallocated but unwritten range reads as zeroes.
                assertEquals(4096, run1(ring, s -> s.read(fd, in.address(), 4096, 65536)));
                assertEquals(-1, in.mismatch(a.allocate(4096)));
            } finally {
                assertEquals(0, run1(ring, s -> s.close(fd)));
            }
            // The fd is really closed: a second close fails.
            assertEquals(-Errno.EBADF, run1(ring, s -> s.close(fd)));
            // statx of a missing file reports ENOENT through the CQE, not an exception.
            MemorySegment missing = a.allocateFrom(p + ".missing");
            MemorySegment stx = a.allocate(Statx.LAYOUT);
            assertEquals(-Errno.ENOENT, run1(ring, s -> s.statx(FcntlH.AT_FDCWD, missing.address(), 0,
                    StatxH.STATX_SIZE, stx.address())));
        } finally {
            Files.deleteIfExists(p);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"/dev/shm", "/tmp"})
    void vectoredAndFixedBufferIo(String dir) throws Exception {
        Path p = TestSupport.tempFile(dir, "orion-vec");
        int fd = Libc.open(p.toString(), FcntlH.O_RDWR | FcntlH.O_CLOEXEC, 0);
        try (Ring ring = Ring.open(RingConfig.defaults()); Arena a = Arena.ofConfined()) {
            MemorySegment b1 = pattern(a, 4096, 1);
            MemorySegment b2 = pattern(a, 8192, 2);
            MemorySegment iov = a.allocate(Iovec.SIZE * 2, 8);
            iov.set(JAVA_LONG, Iovec.IOV_BASE, b1.address());
            iov.set(JAVA_LONG, Iovec.IOV_LEN, 4096);
            iov.set(JAVA_LONG, Iovec.SIZE + Iovec.IOV_BASE, b2.address());
            iov.set(JAVA_LONG, Iovec.SIZE + Iovec.IOV_LEN, 8192);
            assertEquals(12288, run1(ring, s -> s.writev(fd, iov.address(), 2, 4096)));

            MemorySegment r1 = a.allocate(8192, 4096);
            MemorySegment r2 = a.allocate(4096, 4096);
            MemorySegment riov = a.allocate(Iovec.SIZE * 2, 8);
            riov.set(JAVA_LONG, Iovec.IOV_BASE, r1.address());
            riov.set(JAVA_LONG, Iovec.IOV_LEN, 8192);
            riov.set(JAVA_LONG, Iovec.SIZE + Iovec.IOV_BASE, r2.address());
            riov.set(JAVA_LONG, Iovec.SIZE + Iovec.IOV_LEN, 4096);
            assertEquals(12288, run1(ring, s -> s.readv(fd, riov.address(), 2, 4096)));
            assertEquals(-1, r1.asSlice(0, 4096).mismatch(b1));
            assertEquals(-1, r1.asSlice(4096, 4096).mismatch(b2.asSlice(0, 4096)));
            assertEquals(-1, r2.mismatch(b2.asSlice(4096, 4096)));

            // Fixed buffers and a fixed file: write from buffer 0, read into buffer 1.
            MemorySegment fw = pattern(a, 16384, 9);
            MemorySegment fr = a.allocate(16384, 4096);
            ring.registerBuffers(fw, fr);
            ring.registerFiles(fd);
            assertEquals(16384, run1(ring, s -> s.writeFixed(0, fw.address(), 16384, 65536, 0).fixedFile()));
            assertEquals(4096, run1(ring, s -> s.readFixed(0, fr.address() + 4096, 4096, 65536 + 4096, 1).fixedFile()));
            assertEquals(-1, fr.asSlice(4096, 4096).mismatch(fw.asSlice(4096, 4096)));
            // An address outside the named registered buffer is refused.
            assertEquals(-Errno.EFAULT, run1(ring, s -> s.readFixed(0, fw.address(), 4096, 0, 1).fixedFile()));
            ring.unregisterBuffers();
            ring.unregisterFiles();
        } finally {
            Libc.close(fd);
            Files.deleteIfExists(p);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"/dev/shm", "/tmp"})
    void sparseTablesAreUpdatable(String dir) throws Exception {
        Path p = TestSupport.tempFile(dir, "orion-sparse");
        Files.write(p, new byte[8192]);
        int fd = Libc.open(p.toString(), FcntlH.O_RDWR | FcntlH.O_CLOEXEC, 0);
        try (Ring ring = Ring.open(RingConfig.defaults()); Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(4096, 4096);
            ring.registerFilesSparse(8);
            ring.registerBuffersSparse(4);
            // Empty slots: the file slot reads as a bad fd, the buffer slot as a bad address.
            assertEquals(-Errno.EBADF, run1(ring, s -> s.read(5, buf.address(), 4096, 0).fixedFile()));
            assertEquals(1, ring.updateFiles(5, fd));
            assertEquals(4096, run1(ring, s -> s.read(5, buf.address(), 4096, 0).fixedFile()));
            assertEquals(-Errno.EFAULT, run1(ring, s -> s.readFixed(5, buf.address(), 4096, 0, 3).fixedFile()));
            ring.updateBuffers(3, buf);
            assertEquals(4096, run1(ring, s -> s.readFixed(5, buf.address(), 4096, 0, 3).fixedFile()));
            // Clearing works too.
            ring.updateBuffers(3, (MemorySegment) null);
            assertEquals(-Errno.EFAULT, run1(ring, s -> s.readFixed(5, buf.address(), 4096, 0, 3).fixedFile()));
            assertEquals(1, ring.updateFiles(5, -1));
            assertEquals(-Errno.EBADF, run1(ring, s -> s.read(5, buf.address(), 4096, 0).fixedFile()));

            // openat straight into a fixed slot, use it, close the slot.
            MemorySegment path = a.allocateFrom(p.toString());
            assertEquals(0, run1(ring, s -> s.openatDirect(FcntlH.AT_FDCWD, path.address(), FcntlH.O_RDONLY, 0, 6)));
            assertEquals(4096, run1(ring, s -> s.read(6, buf.address(), 4096, 4096).fixedFile()));
            assertEquals(0, run1(ring, s -> s.closeDirect(6)));
            assertEquals(-Errno.EBADF, run1(ring, s -> s.read(6, buf.address(), 4096, 0).fixedFile()));
        } finally {
            Libc.close(fd);
            Files.deleteIfExists(p);
        }
    }
}
