package org.orionos.host.bdev.backend;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.bindings.Libc;
import org.orionos.bindings.uapi.StatxH.Statx;
import org.orionos.host.bdev.BdevOp;
import org.orionos.host.bdev.BdevRequest;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.BufferPool;
import org.orionos.host.bdev.Capability;
import org.orionos.host.bdev.IoContext;
import org.orionos.uring.Sqe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.orionos.bindings.uapi.FcntlH.AT_FDCWD;
import static org.orionos.bindings.uapi.FcntlH.FALLOC_FL_KEEP_SIZE;
import static org.orionos.bindings.uapi.FcntlH.FALLOC_FL_PUNCH_HOLE;
import static org.orionos.bindings.uapi.FcntlH.FALLOC_FL_ZERO_RANGE;
import static org.orionos.bindings.uapi.FcntlH.O_CLOEXEC;
import static org.orionos.bindings.uapi.FcntlH.O_CREAT;
import static org.orionos.bindings.uapi.FcntlH.O_DIRECT;
import static org.orionos.bindings.uapi.FcntlH.O_EXCL;
import static org.orionos.bindings.uapi.FcntlH.O_RDWR;
import static org.orionos.bindings.uapi.FcntlH.SEEK_DATA;
import static org.orionos.bindings.uapi.FcntlH.SEEK_HOLE;
import static org.orionos.bindings.uapi.IoUringH.IORING_FSYNC_DATASYNC;
import static org.orionos.bindings.uapi.StatxH.STATX_BASIC_STATS;
import static org.orionos.bindings.uapi.StatxH.STATX_DIOALIGN;
import static org.orionos.bindings.uapi.StatxH.S_IFBLK;
import static org.orionos.bindings.uapi.StatxH.S_IFMT;
import static org.orionos.bindings.uapi.StatxH.S_IFREG;

/**
 * A regular file or a block device, served through the reactors' io_uring rings.
 *
 * <ul>
 * <li>O_DIRECT when the file system supports it and the block size meets its alignment
 *     ({@code direct = "auto"}); the log says when it cannot. A second, buffered descriptor
 *     serves callers whose buffers are not aligned for direct I/O.</li>
 * <li>Each reactor registers the descriptor in its ring's fixed-file table, and buffers from the
 *     reactor's pool go through READ_FIXED/WRITE_FIXED.</li>
 * <li>FUA = RWF_DSYNC on the write; flush = fdatasync; trim = punch hole; write-zeroes = zero
 *     range (punch hole or written zeros where the file system lacks it); allocation status from
 *     SEEK_DATA/SEEK_HOLE, which may block and so runs on a worker thread.</li>
 * </ul>
 */
public final class FileBdev extends BlockDevice {
    private static final Logger LOG = LoggerFactory.getLogger(FileBdev.class);
    private static final int RWF_DSYNC = 2;
    private static final long BLKGETSIZE64 = 0x80081272L;
    private static final long BLKSSZGET = 0x1268L;
    private static final long ZERO_CHUNK = 1 << 20;
    private static final MemorySegment ZEROS = Arena.global().allocate(ZERO_CHUNK, 4096);
    /** Blocking helpers (SEEK_DATA/SEEK_HOLE) run here, never on a reactor. */
    private static final ExecutorService BLOCKING = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "orion-file-blocking");
        t.setDaemon(true);
        return t;
    });

    // Stages of a request, kept in BdevRequest.backendLong's top byte; the rest counts bytes done.
    private static final long STAGE_SHIFT = 56;
    private static final long DONE_MASK = (1L << STAGE_SHIFT) - 1;
    private static final long STAGE_IO = 0;
    private static final long STAGE_ZERO_RANGE = 1;
    private static final long STAGE_PUNCH = 2;
    private static final long STAGE_WRITE_ZEROS = 3;
    private static final long STAGE_SYNC = 4;

    private final Path path;
    private final int fd;
    private final int bufferedFd;
    private final boolean direct;
    private final long memAlign;
    private final boolean blockDevice;

    /** Per-reactor state: the fixed-file slot of {@link #fd} on that ring, or -1. */
    private static final class Channel {
        final IoContext context;
        final int slot;

        Channel(IoContext context, int slot) {
            this.context = context;
            this.slot = slot;
        }
    }

    private FileBdev(String name, Path path, int fd, int bufferedFd, boolean direct, long memAlign, boolean blockDevice,
                     long size, int blockSize) {
        super(name, blockSize, size / blockSize, capabilities(blockDevice), 0, 0);
        this.path = path;
        this.fd = fd;
        this.bufferedFd = bufferedFd;
        this.direct = direct;
        this.memAlign = memAlign;
        this.blockDevice = blockDevice;
    }

    private static int capabilities(boolean blockDevice) {
        int caps = Capability.READ | Capability.WRITE | Capability.FLUSH | Capability.FUA | Capability.TRIM
                | Capability.WRITE_ZEROES | Capability.SHARED_FLUSH;
        return blockDevice ? caps : caps | Capability.ALLOCATION_STATUS;
    }

    /**
     * Opens (or creates, sparse, when {@code createSize > 0} and the file is missing) a file device.
     *
     * @param directMode {@code auto}, {@code on} or {@code off}
     */
    public static FileBdev open(String name, Path path, long createSize, int blockSize, String directMode) {
        String target = name + " (" + path + ")";
        try (Arena a = Arena.ofConfined()) {
            MemorySegment cpath = a.allocateFrom(path.toString());
            MemorySegment stx = a.allocate(Statx.LAYOUT);
            int r = Libc.statx(AT_FDCWD, cpath, 0, STATX_BASIC_STATS | STATX_DIOALIGN, stx);
            if (r == -Errno.ENOENT) {
                if (createSize <= 0) {
                    throw ErrnoException.withMessage(Errno.ENOENT, "open", target, "bdev " + name + ": " + path
                            + " does not exist; set size (e.g. size = \"10G\") to create it as a sparse file");
                }
                createSparse(name, path, cpath, createSize);
                r = Libc.statx(AT_FDCWD, cpath, 0, STATX_BASIC_STATS | STATX_DIOALIGN, stx);
            }
            ErrnoException.check(r, "statx", target);
            int type = Short.toUnsignedInt(stx.get(JAVA_SHORT, Statx.STX_MODE)) & S_IFMT;
            if (type != S_IFREG && type != S_IFBLK) {
                throw ErrnoException.withMessage(Errno.EINVAL, "open", target,
                        "bdev " + name + ": " + path + " is neither a regular file nor a block device");
            }
            boolean isBlock = type == S_IFBLK;
            long dioMem = Integer.toUnsignedLong(stx.get(JAVA_INT, Statx.STX_DIO_MEM_ALIGN));
            long dioOff = Integer.toUnsignedLong(stx.get(JAVA_INT, Statx.STX_DIO_OFFSET_ALIGN));

            int bfd = ErrnoException.check(Libc.open(cpath, O_RDWR | O_CLOEXEC, 0), "open", target);
            long size;
            int dfd = -1;
            try {
                if (isBlock) {
                    MemorySegment out = a.allocate(JAVA_LONG);
                    ErrnoException.check(Libc.ioctl(bfd, BLKGETSIZE64, out), "ioctl(BLKGETSIZE64)", target);
                    size = out.get(JAVA_LONG, 0);
                    MemorySegment lbs = a.allocate(JAVA_INT);
                    ErrnoException.check(Libc.ioctl(bfd, BLKSSZGET, lbs), "ioctl(BLKSSZGET)", target);
                    int logical = lbs.get(JAVA_INT, 0);
                    if (blockSize < logical) {
                        throw ErrnoException.withMessage(Errno.EINVAL, "open", target, "bdev " + name + ": block_size "
                                + blockSize + " is smaller than " + path + "'s logical block size " + logical);
                    }
                    if (dioOff == 0) {
                        dioOff = logical;
                        dioMem = logical;
                    }
                } else {
                    size = stx.get(JAVA_LONG, Statx.STX_SIZE);
                    if (createSize > 0 && createSize != size) {
                        if (createSize < size) {
                            throw ErrnoException.withMessage(Errno.EINVAL, "open", target, "bdev " + name + ": " + path
                                    + " is " + size + " bytes but size asks for " + createSize
                                    + "; orion does not shrink files (data would be lost): remove size or set it to " + size);
                        }
                        ErrnoException.check(Libc.ftruncate(bfd, createSize), "ftruncate (grow)", target);
                        LOG.info("{}: grew {} from {} to {} bytes (sparse)", name, path, size, createSize);
                        size = createSize;
                    }
                }
                size -= size % blockSize;
                if (size <= 0) {
                    throw ErrnoException.withMessage(Errno.EINVAL, "open", target,
                            "bdev " + name + ": " + path + " is smaller than one block (" + blockSize + " bytes)");
                }
                boolean wantDirect = !"off".equals(directMode);
                if (wantDirect) {
                    String why = null;
                    if (dioOff == 0) {
                        why = "the file system does not support O_DIRECT here";
                    } else if (blockSize % dioOff != 0) {
                        why = "block_size " + blockSize + " is not a multiple of the direct-I/O alignment " + dioOff;
                    } else {
                        int x = Libc.open(cpath, O_RDWR | O_CLOEXEC | O_DIRECT, 0);
                        if (x < 0) {
                            why = "open with O_DIRECT failed: " + Errno.name(x);
                        } else {
                            dfd = x;
                        }
                    }
                    if (dfd < 0) {
                        if ("on".equals(directMode)) {
                            throw ErrnoException.withMessage(Errno.EINVAL, "open", target, "bdev " + name
                                    + ": direct = \"on\" but " + why + "; use direct = \"auto\" or \"off\"");
                        }
                        LOG.info("{}: using buffered I/O (page cache) for {}: {}", name, path, why);
                    }
                }
            } catch (RuntimeException e) {
                Libc.close(bfd);
                throw e;
            }
            boolean isDirect = dfd >= 0;
            return new FileBdev(name, path, isDirect ? dfd : bfd, bfd, isDirect, isDirect ? Math.max(dioMem, 1) : 1,
                    isBlock, size, blockSize);
        }
    }

    private static void createSparse(String name, Path path, MemorySegment cpath, long size) {
        try {
            Path parent = path.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
        } catch (java.io.IOException e) {
            throw ErrnoException.withMessage(Errno.EIO, "create", path.toString(),
                    "bdev " + name + ": cannot create the folder of " + path + ": " + e.getMessage());
        }
        int cfd = Libc.open(cpath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        ErrnoException.check(cfd, "create", path.toString());
        int r = Libc.ftruncate(cfd, size);
        Libc.close(cfd);
        ErrnoException.check(r, "ftruncate", path.toString());
        LOG.info("{}: created sparse file {} of {} bytes", name, path, size);
    }

    public Path path() {
        return path;
    }

    public boolean isDirect() {
        return direct;
    }

    public boolean isBlockDevice() {
        return blockDevice;
    }

    @Override
    protected Object createChannel(IoContext context) {
        return new Channel(context, context.registerFile(fd));
    }

    @Override
    protected void destroyChannel(IoContext context, Object channel) {
        // The ring's file table holds a reference to the file: drop it so close() really closes.
        context.unregisterFile(((Channel) channel).slot);
    }

    @Override
    protected void doSubmit(BdevRequest r) {
        Channel ch = (Channel) channel(r.context());
        switch (r.op()) {
            case BdevOp.READ, BdevOp.WRITE -> {
                r.backendLong = 0;
                submitIo(r, ch);
            }
            case BdevOp.FLUSH -> submitSync(r, ch);
            case BdevOp.TRIM -> {
                r.backendLong = STAGE_PUNCH << STAGE_SHIFT;
                submitFallocate(r, ch, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE);
            }
            case BdevOp.WRITE_ZEROES -> {
                r.backendLong = STAGE_ZERO_RANGE << STAGE_SHIFT;
                submitFallocate(r, ch, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE);
            }
            case BdevOp.BLOCK_STATUS -> blockStatus(r);
            default -> r.completeDeferred(-Errno.EOPNOTSUPP);
        }
    }

    @Override
    protected void resume(BdevRequest r) {
        Channel ch = (Channel) channel(r.context());
        long stage = r.backendLong >>> STAGE_SHIFT;
        switch (r.op()) {
            case BdevOp.READ, BdevOp.WRITE -> submitIo(r, ch);
            case BdevOp.TRIM -> submitFallocate(r, ch, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE);
            case BdevOp.WRITE_ZEROES -> {
                if (stage == STAGE_ZERO_RANGE) {
                    submitFallocate(r, ch, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE);
                } else if (stage == STAGE_PUNCH) {
                    submitFallocate(r, ch, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE);
                } else if (stage == STAGE_WRITE_ZEROS) {
                    submitZeroWrite(r, ch);
                } else {
                    submitSync(r, ch);
                }
            }
            default -> doSubmit(r);
        }
    }

    private void submitSync(BdevRequest r, Channel ch) {
        Sqe s = acquire(r, ch);
        if (s != null) {
            fileOf(s, ch).fsync(ch.slot >= 0 ? ch.slot : fd, IORING_FSYNC_DATASYNC);
        }
    }

    private Sqe acquire(BdevRequest r, Channel ch) {
        Sqe s = ch.context.reactor().ring().acquire(r.ringCompletion, 0);
        if (s == null) {
            ch.context.waitForRing(r); // back-pressure: resubmitted after the next reap
        }
        return s;
    }

    private Sqe fileOf(Sqe s, Channel ch) {
        return ch.slot >= 0 ? s.fixedFile() : s;
    }

    private void submitIo(BdevRequest r, Channel ch) {
        long done = r.backendLong & DONE_MASK;
        boolean write = r.op() == BdevOp.WRITE;
        long off = r.offset() + done;
        long len = r.length() - done;
        MemorySegment buf = r.buffer();
        if (buf != null) {
            long addr = buf.address() + r.bufferOffset() + done;
            // O_DIRECT needs aligned memory; an unaligned caller gets the buffered descriptor.
            boolean useDirectFd = !direct || (addr & (memAlign - 1)) == 0;
            Sqe s = acquire(r, ch);
            if (s == null) {
                return;
            }
            int n = (int) Math.min(len, Integer.MAX_VALUE & ~4095);
            BufferPool pool = ch.context.buffers();
            if (useDirectFd) {
                int f = ch.slot >= 0 ? ch.slot : fd;
                if (pool.isFixed(addr, n)) {
                    if (write) {
                        s.writeFixed(f, addr, n, off, BufferPool.FIXED_INDEX);
                    } else {
                        s.readFixed(f, addr, n, off, BufferPool.FIXED_INDEX);
                    }
                } else if (write) {
                    s.write(f, addr, n, off);
                } else {
                    s.read(f, addr, n, off);
                }
                fileOf(s, ch);
            } else if (write) {
                s.write(bufferedFd, addr, n, off);
            } else {
                s.read(bufferedFd, addr, n, off);
            }
            if (write && r.fua()) {
                s.rwFlags(RWF_DSYNC);
            }
        } else {
            if (done != 0) {
                // A short vectored transfer on a file or block device means it shrank or filled up.
                r.complete(write ? -Errno.ENOSPC : -Errno.EIO);
                return;
            }
            boolean aligned = !direct || iovAligned(r);
            Sqe s = acquire(r, ch);
            if (s == null) {
                return;
            }
            int f = aligned ? (ch.slot >= 0 ? ch.slot : fd) : bufferedFd;
            if (write) {
                s.writev(f, r.iov().address(), r.iovCount(), off);
            } else {
                s.readv(f, r.iov().address(), r.iovCount(), off);
            }
            if (aligned && ch.slot >= 0) {
                s.fixedFile();
            }
            if (write && r.fua()) {
                s.rwFlags(RWF_DSYNC);
            }
        }
    }

    private boolean iovAligned(BdevRequest r) {
        long mask = memAlign - 1;
        for (int i = 0; i < r.iovCount(); i++) {
            if ((iovBase(r.iov(), i) & mask) != 0 || (iovLen(r.iov(), i) & (blockSize() - 1)) != 0) {
                return false;
            }
        }
        return true;
    }

    private void submitFallocate(BdevRequest r, Channel ch, int mode) {
        Sqe s = acquire(r, ch);
        if (s != null) {
            fileOf(s, ch).fallocate(ch.slot >= 0 ? ch.slot : fd, mode, r.offset(), r.length());
        }
    }

    /** Writes zeros from a shared zero buffer, up to 1 MiB per step. */
    private void submitZeroWrite(BdevRequest r, Channel ch) {
        long done = r.backendLong & DONE_MASK;
        Sqe s = acquire(r, ch);
        if (s != null) {
            int n = (int) Math.min(ZERO_CHUNK, r.length() - done);
            s.write(bufferedFd, ZEROS.address(), n, r.offset() + done);
            if (r.fua()) {
                s.rwFlags(RWF_DSYNC);
            }
        }
    }

    @Override
    protected void ringCompleted(BdevRequest r, int res, int cqeFlags, long cookie) {
        Channel ch = (Channel) channel(r.context());
        long stage = r.backendLong >>> STAGE_SHIFT;
        switch (r.op()) {
            case BdevOp.READ, BdevOp.WRITE -> {
                if (res == -Errno.EAGAIN || res == -Errno.EINTR) {
                    submitIo(r, ch);
                } else if (res <= 0) {
                    r.complete(res == 0 ? (r.op() == BdevOp.WRITE ? -Errno.ENOSPC : -Errno.EIO) : res);
                } else {
                    long done = (r.backendLong & DONE_MASK) + res;
                    if (done >= r.length()) {
                        r.complete(0);
                    } else {
                        r.backendLong = done; // short transfer: continue where it stopped
                        submitIo(r, ch);
                    }
                }
            }
            case BdevOp.TRIM -> r.complete(res == -Errno.EOPNOTSUPP ? 0 : res); // trim is advisory
            case BdevOp.WRITE_ZEROES -> zeroesCompleted(r, ch, stage, res);
            default -> r.complete(res < 0 ? res : 0);
        }
    }

    private void zeroesCompleted(BdevRequest r, Channel ch, long stage, int res) {
        boolean unsupported = res == -Errno.EOPNOTSUPP || res == -Errno.EINVAL;
        if (stage == STAGE_ZERO_RANGE && unsupported) {
            if ((r.flags() & BdevOp.FLAG_NO_HOLE) == 0) {
                r.backendLong = STAGE_PUNCH << STAGE_SHIFT;
                submitFallocate(r, ch, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE);
                return;
            }
            stage = STAGE_PUNCH;
        }
        if (stage == STAGE_PUNCH && unsupported) {
            if ((r.flags() & BdevOp.FLAG_NO_FALLBACK) != 0) {
                r.complete(-Errno.EOPNOTSUPP);
                return;
            }
            r.backendLong = STAGE_WRITE_ZEROS << STAGE_SHIFT;
            submitZeroWrite(r, ch);
            return;
        }
        if (stage == STAGE_WRITE_ZEROS && res > 0) {
            long done = (r.backendLong & DONE_MASK) + res;
            if (done < r.length()) {
                r.backendLong = (STAGE_WRITE_ZEROS << STAGE_SHIFT) | done;
                submitZeroWrite(r, ch);
                return;
            }
            r.complete(0);
            return;
        }
        if ((stage == STAGE_ZERO_RANGE || stage == STAGE_PUNCH) && res >= 0 && r.fua()) {
            // fallocate is not durable by itself: FUA asks for an fdatasync before completing.
            r.backendLong = STAGE_SYNC << STAGE_SHIFT;
            submitSync(r, ch);
            return;
        }
        r.complete(res < 0 ? res : 0);
    }

    /** SEEK_DATA/SEEK_HOLE can read file-system metadata, so it runs off the reactor and posts back. */
    private void blockStatus(BdevRequest r) {
        long off = r.offset();
        long end = off + r.length();
        BLOCKING.execute(() -> {
            long data = Libc.lseek(fd, off, SEEK_DATA);
            long len;
            int flags;
            if (data == -Errno.ENXIO || (data >= 0 && data >= end)) {
                len = end - off;
                flags = BdevOp.EXTENT_HOLE | BdevOp.EXTENT_ZERO;
            } else if (data < 0) {
                len = end - off; // no SEEK_DATA support: report the range as data
                flags = 0;
            } else if (data > off) {
                len = data - off;
                flags = BdevOp.EXTENT_HOLE | BdevOp.EXTENT_ZERO;
            } else {
                long hole = Libc.lseek(fd, off, SEEK_HOLE);
                len = (hole < 0 ? end : Math.min(hole, end)) - off;
                flags = 0;
            }
            long alignedLen = Math.max(blockSize(), len - len % blockSize());
            int f = flags;
            r.context().reactor().execute(() -> {
                r.setExtent(Math.min(alignedLen, end - off), f);
                r.complete(0);
            });
        });
    }

    @Override
    public void close() {
        if (fd != bufferedFd) {
            Libc.close(fd);
        }
        Libc.close(bufferedFd);
    }
}
