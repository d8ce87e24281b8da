package org.orionos.host.nvme;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.bindings.Libc;
import org.orionos.bindings.nvme.NvmeTypesH.NvmeIdCtrl;
import org.orionos.bindings.nvme.NvmeTypesH.NvmeIdNs;
import org.orionos.bindings.nvme.NvmeTypesH.NvmeLbaf;
import org.orionos.bindings.uapi.IoUringH.IoUringSqe;
import org.orionos.bindings.uapi.NvmeIoctlH.NvmePassthruCmd64;
import org.orionos.bindings.uapi.NvmeIoctlH.NvmeUringCmd;
import org.orionos.host.bdev.BdevOp;
import org.orionos.host.bdev.BdevRequest;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.BufferPool;
import org.orionos.host.bdev.Capability;
import org.orionos.host.bdev.IoContext;
import org.orionos.uring.Ring;
import org.orionos.uring.Sqe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.orionos.bindings.nvme.NvmeTypesH.LE16;
import static org.orionos.bindings.nvme.NvmeTypesH.nvme_cmd_dsm;
import static org.orionos.bindings.nvme.NvmeTypesH.nvme_cmd_flush;
import static org.orionos.bindings.nvme.NvmeTypesH.nvme_cmd_read;
import static org.orionos.bindings.nvme.NvmeTypesH.nvme_cmd_write;
import static org.orionos.bindings.nvme.NvmeTypesH.nvme_cmd_write_zeroes;
import static org.orionos.bindings.nvme.NvmeTypesH.nvme_zns_cmd_append;
import static org.orionos.bindings.uapi.FcntlH.O_CLOEXEC;
import static org.orionos.bindings.uapi.FcntlH.O_RDWR;
import static org.orionos.bindings.uapi.IoUringH.IORING_OP_URING_CMD;
import static org.orionos.bindings.uapi.IoUringH.IORING_URING_CMD_FIXED;
import static org.orionos.bindings.uapi.NvmeIoctlH.NVME_IOCTL_ID;
import static org.orionos.bindings.uapi.NvmeIoctlH.NVME_IOCTL_IO64_CMD;
import static org.orionos.bindings.uapi.NvmeIoctlH.NVME_IOCTL_IO64_CMD_VEC;
import static org.orionos.bindings.uapi.NvmeIoctlH.NVME_URING_CMD_IO;
import static org.orionos.bindings.uapi.NvmeIoctlH.NVME_URING_CMD_IO_VEC;

/**
 * One NVMe namespace as a {@link BlockDevice}, driven through its generic character node /dev/ngXnY:
 * every request becomes one NVMe command in an {@code IORING_OP_URING_CMD} (cmd_op NVME_URING_CMD_IO)
 * on the reactor's ring, which must be set up with SQE128/CQE32 (the 72-byte {@code nvme_uring_cmd}
 * does not fit a 64-byte SQE). Buffers from the reactor's registered pool go as
 * {@code IORING_URING_CMD_FIXED} so the kernel skips pinning pages per I/O.
 *
 * <p>Geometry comes from Identify: the LBA format in use gives the block size, MDTS (capped by the
 * kernel queue's max_hw_sectors, which also bounds passthrough) the max transfer, VWC the flush/FUA
 * capability. Read/Write map to the NVM commands, FLUSH to Flush, WRITE_ZEROES to Write Zeroes
 * (at most 65536 blocks per command), TRIM to Dataset Management/deallocate (one range per command).
 * NVMe status codes complete as the errno the kernel's driver would use ({@link NvmeErrors}); the
 * last status per reactor is kept for diagnostics.
 *
 * <p>Fallback: when the ring has no big entries or the kernel lacks URING_CMD, commands go through
 * NVME_IOCTL_IO64_CMD on a worker thread that posts the completion back to the reactor (slower,
 * allocates per I/O; logged once at open).
 */
public final class NvmeNamespaceBdev extends BlockDevice {
    private static final Logger LOG = LoggerFactory.getLogger(NvmeNamespaceBdev.class);
    private static final int MAX_ZEROES_BLOCKS = 1 << 16;
    private static final long MAX_DSM_BLOCKS = 0xffffffffL;
    private static final int FUA = 1 << 30;
    private static final int DSM_AD = 1 << 2;
    /** backendLong bit: this WRITE is a Zone Append (its offset is the zone start); the rest counts blocks done. */
    static final long APPEND = 1L << 62;
    /** Ring cookie bit: the command went with IORING_URING_CMD_FIXED. */
    private static final long SENT_FIXED = 1L << 32;
    private static final ExecutorService FALLBACK = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "orion-nvme-ioctl");
        t.setDaemon(true);
        return t;
    });

    private final Path path;
    private final int fd;
    private final int nsid;
    private final NvmeGeometry geometry;
    private final List<Channel> channels = new ArrayList<>();
    private final AtomicBoolean fdClosed = new AtomicBoolean();

    /** Per-reactor state. */
    private static final class Channel {
        final IoContext context;
        final Ring ring;
        final int slot;
        final boolean uring;
        boolean fixed = true;
        int lastStatus;
        /** Set on the reactor just around {@code submit} of a Zone Append (see {@link #submitAppend}). */
        boolean appendNext;
        /** Requests of this device in flight on this reactor (submitted, not yet completed). */
        int active;
        /** The device was replaced (multipath failback): release the file slot once {@link #active} is 0. */
        boolean retired;
        boolean released;
        /** DSM range slots (16 bytes each), one per possible in-flight command: a free-list stack. */
        final MemorySegment dsmSlab;
        final int[] dsmFree;
        int dsmTop;

        Channel(IoContext context, int slot, boolean uring) {
            this.context = context;
            this.ring = context.reactor().ring();
            this.slot = slot;
            this.uring = uring;
            int n = Math.max(1, ring.maxInFlight());
            this.dsmSlab = Arena.ofAuto().allocate(16L * n, 4096);
            this.dsmFree = new int[n];
            for (int i = 0; i < n; i++) {
                dsmFree[i] = i;
            }
            this.dsmTop = n;
        }
    }

    private NvmeNamespaceBdev(String name, Path path, int fd, int nsid, NvmeGeometry g) {
        super(name, g.blockSize(), g.blocks(), capabilities(g), 0, g.maxTransfer());
        this.path = path;
        this.fd = fd;
        this.nsid = nsid;
        this.geometry = g;
    }

    private static int capabilities(NvmeGeometry g) {
        int caps = Capability.READ | Capability.WRITE | Capability.TRIM | Capability.WRITE_ZEROES;
        if (g.volatileWriteCache()) {
            caps |= Capability.FLUSH | Capability.FUA;
        }
        if (g.zoned()) {
            caps |= Capability.ZONED;
        }
        return caps;
    }

    /** Opens /dev/ngXnY (or /dev/nvmeXnY, whose generic twin is used) and identifies the namespace. */
    public static NvmeNamespaceBdev open(String name, Path path) {
        Path node = genericNode(path);
        String target = name + " (" + node + ")";
        if (!Files.exists(node)) {
            throw ErrnoException.withMessage(Errno.ENOENT, "open", target, "nvme " + name + ": " + node
                    + " does not exist; `orion nvme list` shows the namespaces (the kernel creates /dev/ngXnY"
                    + " for each, Linux 5.13+)");
        }
        int fd = ErrnoException.check(Libc.open(node.toString(), O_RDWR | O_CLOEXEC, 0), "open", target);
        try {
            int nsid = ErrnoException.check(Libc.ioctl(fd, NVME_IOCTL_ID, 0L), "ioctl(NVME_IOCTL_ID)", target);
            NvmeGeometry g = NvmeGeometry.identify(node, nsid);
            NvmeNamespaceBdev b = new NvmeNamespaceBdev(name, node, fd, nsid, g);
            LOG.info("{}: {} nsid {}: {} blocks of {} bytes, max transfer {} KiB, write cache {}, {}", name, node, nsid,
                    g.blocks(), g.blockSize(), g.maxTransfer() >> 10, g.volatileWriteCache() ? "volatile" : "none",
                    g.zoned() ? "zoned (zone " + g.zoneBlocks() + " blocks)" : "conventional");
            return b;
        } catch (RuntimeException e) {
            Libc.close(fd);
            throw e;
        }
    }

    /** /dev/nvmeXnY → /dev/ngXnY; other paths unchanged. */
    static Path genericNode(Path p) {
        String n = p.getFileName().toString();
        if (n.startsWith("nvme") && n.indexOf('n', 4) > 0) {
            return p.resolveSibling("ng" + n.substring(4));
        }
        return p;
    }

    public Path path() {
        return path;
    }

    public int nsid() {
        return nsid;
    }

    public NvmeGeometry geometry() {
        return geometry;
    }

    /** The passthrough descriptor (for the zone management API, which runs off the reactors). */
    int fd() {
        return fd;
    }

    /** The last NVMe status this reactor saw from the device (0 = none failed yet); call on the reactor. */
    public int lastStatus(IoContext context) {
        return ((Channel) channel(context)).lastStatus;
    }

    @Override
    protected Object createChannel(IoContext context) {
        Ring ring = context.reactor().ring();
        boolean uring = ring.config().sqe128() && ring.config().cqe32() && ring.supports(IORING_OP_URING_CMD);
        if (!uring) {
            LOG.warn("{}: reactor {} ring has no SQE128/CQE32 or no URING_CMD: using the NVME_IOCTL_IO64_CMD fallback"
                    + " on a worker thread (start the host with big ring entries for passthrough at full speed)",
                    name(), context.reactor().name());
        }
        Channel ch = new Channel(context, uring ? context.registerFile(fd) : -1, uring);
        synchronized (channels) {
            channels.add(ch);
        }
        return ch;
    }

    /** After a hot removal drained this reactor's I/O: empties the registered file slot. */
    @Override
    protected void destroyChannel(IoContext context, Object channel) {
        Channel ch = (Channel) channel;
        synchronized (channels) {
            channels.remove(ch);
        }
        if (!ch.released) {
            ch.released = true;
            if (ch.slot >= 0) {
                context.unregisterFile(ch.slot);
            }
        }
    }

    @Override
    protected void doSubmit(BdevRequest r) {
        Channel ch = (Channel) channel(r.context());
        r.backendLong = ch.appendNext ? APPEND : 0;
        ch.appendNext = false;
        ch.active++;
        submitStep(ch, r);
    }

    /**
     * Zone Append on the calling reactor: {@code r} is a WRITE prepared on this reactor's context
     * whose offset is the start of a zone and whose length fits {@link #maxAppend()}. The controller
     * writes it at the zone's write pointer; when {@code r} completes with 0, {@link #appendedLba}
     * gives the LBA it chose (from the CQE32's result words). Zone state errors come back as the
     * NVMe status's errno (zone full: EIO with {@link #lastStatus} ZONE_FULL, and so on).
     */
    public void submitAppend(BdevRequest r) {
        long zoneBytes = geometry.zoneBlocks() * blockSize();
        if (r.op() != BdevOp.WRITE || zoneBytes == 0 || r.offset() % zoneBytes != 0 || r.length() > maxAppend()) {
            // Not an append this namespace can take (not zoned, not a zone start, over the limit): refused
            // here, as the core refuses a bad request, rather than sent as a plain write.
            r.completeDeferred(-Errno.EINVAL);
            return;
        }
        Channel ch = (Channel) channel(r.context());
        ch.appendNext = true;
        try {
            submit(r); // runs doSubmit now unless the core refuses the request
        } finally {
            ch.appendNext = false;
        }
    }

    /** The LBA a completed {@link #submitAppend} wrote its first block at. */
    public static long appendedLba(BdevRequest r) {
        return r.backendLong;
    }

    /** The largest Zone Append this namespace takes: the transfer limit and the kernel's zone append limit. */
    public long maxAppend() {
        return geometry.maxAppend();
    }

    @Override
    protected void resume(BdevRequest r) {
        submitStep((Channel) channel(r.context()), r);
    }

    /** Issues the next command of {@code r}; backendLong counts blocks already done (zeroes, trim). */
    private void submitStep(Channel ch, BdevRequest r) {
        int op = r.op();
        int shift = Integer.numberOfTrailingZeros(blockSize());
        boolean append = (r.backendLong & APPEND) != 0;
        long done = r.backendLong & ~APPEND;
        long slba = (r.offset() >>> shift) + done;
        long left = (r.length() >>> shift) - done;
        int opcode;
        long addr = 0;
        int len = 0;
        int cdw10 = (int) slba;
        int cdw11 = (int) (slba >>> 32);
        int cdw12 = 0;
        boolean vec = false;
        int dsmSlot = -1;
        switch (op) {
            case BdevOp.READ, BdevOp.WRITE -> {
                // Zone Append takes the zone start (ZSLBA) where Write takes the SLBA: same dwords.
                opcode = op == BdevOp.READ ? nvme_cmd_read : append ? nvme_zns_cmd_append : nvme_cmd_write;
                cdw12 = (int) (left - 1) | (r.fua() ? FUA : 0);
                if (r.buffer() != null) {
                    addr = r.buffer().address() + r.bufferOffset();
                    len = (int) r.length();
                } else {
                    addr = r.iov().address();
                    len = r.iovCount();
                    vec = true;
                }
            }
            case BdevOp.FLUSH -> {
                opcode = nvme_cmd_flush;
                cdw10 = 0;
                cdw11 = 0;
            }
            case BdevOp.WRITE_ZEROES -> {
                opcode = nvme_cmd_write_zeroes;
                cdw12 = (int) (Math.min(left, MAX_ZEROES_BLOCKS) - 1) | (r.fua() ? FUA : 0);
            }
            case BdevOp.TRIM -> {
                opcode = nvme_cmd_dsm;
                if (ch.dsmTop == 0) {
                    ch.context.waitForRing(r); // every range slot is in flight, so the ring is full too
                    return;
                }
                dsmSlot = ch.dsmFree[--ch.dsmTop];
                long range = 16L * dsmSlot;
                ch.dsmSlab.set(JAVA_INT, range, 0); // context attributes: none
                ch.dsmSlab.set(JAVA_INT, range + 4, (int) Math.min(left, MAX_DSM_BLOCKS));
                ch.dsmSlab.set(JAVA_LONG, range + 8, slba);
                addr = ch.dsmSlab.address() + range;
                len = 16;
                cdw10 = 0; // number of ranges, 0-based
                cdw11 = DSM_AD;
            }
            default -> {
                ch.active--;
                r.completeDeferred(-Errno.EOPNOTSUPP);
                return;
            }
        }
        if (!ch.uring) {
            fallback(ch, r, opcode, addr, len, vec, cdw10, cdw11, cdw12, dsmSlot);
            return;
        }
        boolean fixed = !vec && len > 0 && op != BdevOp.TRIM && ch.fixed && ch.context.buffers().isFixed(addr, len);
        // The cookie carries the DSM slot (+1; 0 = none) so the completion can free it, and whether the buffer went FIXED.
        Sqe s = ch.ring.acquire(r.ringCompletion, (dsmSlot + 1) | (fixed ? SENT_FIXED : 0));
        if (s == null) {
            if (dsmSlot >= 0) {
                ch.dsmFree[ch.dsmTop++] = dsmSlot;
            }
            ch.context.waitForRing(r); // back-pressure: resumed after the next reap
            return;
        }
        s.uringCmd(ch.slot >= 0 ? ch.slot : fd, (int) (vec ? NVME_URING_CMD_IO_VEC : NVME_URING_CMD_IO));
        if (ch.slot >= 0) {
            s.fixedFile();
        }
        MemorySegment seg = s.segment();
        long base = s.cmdOffset();
        long sqe = base - IoUringSqe.CMD;
        seg.set(JAVA_BYTE, base + NvmeUringCmd.OPCODE, (byte) opcode);
        seg.set(JAVA_INT, base + NvmeUringCmd.NSID, nsid);
        seg.set(JAVA_LONG, base + NvmeUringCmd.ADDR, addr);
        seg.set(JAVA_INT, base + NvmeUringCmd.DATA_LEN, len);
        seg.set(JAVA_INT, base + NvmeUringCmd.CDW10, cdw10);
        seg.set(JAVA_INT, base + NvmeUringCmd.CDW11, cdw11);
        seg.set(JAVA_INT, base + NvmeUringCmd.CDW12, cdw12);
        if (fixed) {
            // Registered pool buffer: the kernel maps it from the ring's table instead of pinning pages.
            seg.set(JAVA_INT, sqe + IoUringSqe.OP_FLAGS, IORING_URING_CMD_FIXED);
            seg.set(JAVA_SHORT, sqe + IoUringSqe.BUF_INDEX, (short) BufferPool.FIXED_INDEX);
        }
    }

    @Override
    protected void ringCompleted(BdevRequest r, int res, int cqeFlags, long cookie) {
        Channel ch = (Channel) channel(r.context());
        if (res == 0 && (r.backendLong & APPEND) != 0) {
            // Zone Append's completion dwords 0-1 (the LBA written) arrive as the CQE32's first extra word.
            r.backendLong = APPEND | ch.ring.bigCqe(0);
        }
        int dsm = (int) cookie; // low word: DSM slot + 1
        if (dsm > 0) {
            ch.dsmFree[ch.dsmTop++] = dsm - 1;
        }
        if (res == -Errno.EINVAL && (cookie & SENT_FIXED) != 0) {
            // Kernels before 6.1 do not know IORING_URING_CMD_FIXED, and 6.1 itself refuses it whenever more
            // pages follow the buffer in its registered region than the queue's max_segments (it counts the
            // rest of the region, not the buffer). Retry this request unregistered and stop using it here;
            // every request already sent with it comes back the same way.
            if (ch.fixed) {
                ch.fixed = false;
                LOG.info("{}: kernel refused IORING_URING_CMD_FIXED (EINVAL) on reactor {}; passing buffers"
                        + " unregistered (the kernel pins their pages per command)", name(), ch.context.reactor().name());
            }
            submitStep(ch, r);
            return;
        }
        stepDone(ch, r, res);
    }

    private void stepDone(Channel ch, BdevRequest r, int res) {
        if (res != 0) {
            if (res > 0) {
                ch.lastStatus = res;
            }
            finish(ch, r, res > 0 ? NvmeErrors.negErrno(res) : res);
            return;
        }
        int op = r.op();
        if (op == BdevOp.WRITE_ZEROES || op == BdevOp.TRIM) {
            long total = r.length() >>> Integer.numberOfTrailingZeros(blockSize());
            long step = op == BdevOp.TRIM ? MAX_DSM_BLOCKS : MAX_ZEROES_BLOCKS;
            r.backendLong = Math.min(total, r.backendLong + step);
            if (r.backendLong < total) {
                submitStep(ch, r);
                return;
            }
        }
        if ((r.backendLong & APPEND) != 0) {
            r.backendLong &= ~APPEND; // what appendedLba reads
        }
        finish(ch, r, 0);
    }

    private void finish(Channel ch, BdevRequest r, int status) {
        ch.active--;
        r.complete(status);
        if (ch.retired) {
            release(ch);
        }
    }

    /**
     * This device was replaced (multipath failback): on each reactor, once its last request here
     * completes, its registered file slot is emptied; when every reactor has done so the descriptor
     * is closed. Requests still in flight complete normally meanwhile.
     */
    void retire() {
        List<Channel> chs;
        synchronized (channels) {
            chs = List.copyOf(channels);
        }
        if (chs.isEmpty()) {
            close();
            return;
        }
        retiredLeft = new AtomicInteger(chs.size());
        for (Channel ch : chs) {
            ch.context.reactor().execute(() -> {
                ch.retired = true;
                release(ch);
            });
        }
    }

    /** Reactors that have not yet released their channel of a retired device. */
    private volatile AtomicInteger retiredLeft;

    /** On the channel's reactor. */
    private void release(Channel ch) {
        if (ch.active != 0 || ch.released || !ch.retired) {
            return;
        }
        ch.released = true;
        if (ch.slot >= 0) {
            ch.context.unregisterFile(ch.slot);
        }
        if (retiredLeft.decrementAndGet() == 0) {
            close();
        }
    }

    /** NVME_IOCTL_IO64_CMD on a worker; the result is posted back to the request's reactor. */
    private void fallback(Channel ch, BdevRequest r, int opcode, long addr, int len, boolean vec, int cdw10,
                          int cdw11, int cdw12, int dsmSlot) {
        FALLBACK.execute(() -> {
            int res;
            long result;
            try (Arena a = Arena.ofConfined()) {
                MemorySegment c = a.allocate(NvmePassthruCmd64.LAYOUT);
                c.set(JAVA_BYTE, NvmePassthruCmd64.OPCODE, (byte) opcode);
                c.set(JAVA_INT, NvmePassthruCmd64.NSID, nsid);
                c.set(JAVA_LONG, NvmePassthruCmd64.ADDR, addr);
                c.set(JAVA_INT, NvmePassthruCmd64.DATA_LEN, len);
                c.set(JAVA_INT, NvmePassthruCmd64.CDW10, cdw10);
                c.set(JAVA_INT, NvmePassthruCmd64.CDW11, cdw11);
                c.set(JAVA_INT, NvmePassthruCmd64.CDW12, cdw12);
                res = Libc.ioctl(fd, vec ? NVME_IOCTL_IO64_CMD_VEC : NVME_IOCTL_IO64_CMD, c);
                result = c.get(JAVA_LONG, NvmePassthruCmd64.RESULT);
            }
            int status = res;
            ch.context.reactor().execute(() -> {
                if (dsmSlot >= 0) {
                    ch.dsmFree[ch.dsmTop++] = dsmSlot;
                }
                if (status == 0 && (r.backendLong & APPEND) != 0) {
                    r.backendLong = APPEND | result; // the LBA Zone Append wrote at
                }
                stepDone(ch, r, status);
            });
        });
    }

    /** Closes the descriptor (once; a retired device may be closed by its last reactor and again by its owner). */
    @Override
    public void close() {
        if (fdClosed.compareAndSet(false, true)) {
            Libc.close(fd);
        }
    }

    /**
     * What Identify says about a namespace, as the block layer needs it.
     *
     * @param zoneBlocks zone size in blocks for a zoned namespace, else 0
     * @param maxAppend  bytes one Zone Append may carry (the kernel's zone_append_max_bytes, from
     *                   the controller's ZASL, capped by maxTransfer); 0 when not zoned
     */
    public record NvmeGeometry(int blockSize, long blocks, long maxTransfer, boolean volatileWriteCache, boolean zoned,
                               long zoneBlocks, int metadataBytes, long maxAppend) {

        /** Identifies namespace {@code nsid} behind {@code node} through its controller's admin ioctl. */
        static NvmeGeometry identify(Path node, int nsid) {
            Path ctrlPath = NvmeController.controllerOf(node);
            try (NvmeController ctrl = NvmeController.open(ctrlPath); Arena a = Arena.ofConfined()) {
                MemorySegment ns = ctrl.identifyNamespace(a, nsid);
                MemorySegment id = ctrl.identifyController(a);
                int flbas = Byte.toUnsignedInt(ns.get(JAVA_BYTE, NvmeIdNs.FLBAS));
                int nlbaf = Byte.toUnsignedInt(ns.get(JAVA_BYTE, NvmeIdNs.NLBAF));
                int fmt = (flbas & 0xf) | (nlbaf > 16 ? ((flbas >> 5) & 3) << 4 : 0);
                long lbaf = NvmeIdNs.LBAF + fmt * NvmeLbaf.LAYOUT.byteSize();
                int ds = Byte.toUnsignedInt(ns.get(JAVA_BYTE, lbaf + 2));
                int ms = Short.toUnsignedInt(ns.get(LE16, lbaf));
                if (ds < 9 || ds > 16) {
                    throw ErrnoException.withMessage(Errno.EINVAL, "identify", node.toString(), node
                            + ": LBA format " + fmt + " has data size 2^" + ds + ", which orion cannot serve");
                }
                if (ms != 0 && (flbas & 0x10) != 0) {
                    throw ErrnoException.withMessage(Errno.EOPNOTSUPP, "identify", node.toString(), node
                            + " uses extended LBAs (" + ms + " metadata bytes inline with each block): reformat it"
                            + " to a format without metadata, e.g. `nvme format " + node + " --lbaf=0`");
                }
                int bs = 1 << ds;
                long blocks = ns.get(JAVA_LONG, NvmeIdNs.NSZE);
                int mdts = Byte.toUnsignedInt(id.get(JAVA_BYTE, NvmeIdCtrl.MDTS));
                // MDTS is in units of the controller's minimum page size (CAP.MPSMIN); the kernel only
                // exposes its effect as max_hw_sectors, which bounds passthrough too, so take the smaller.
                long mdtsBytes = mdts == 0 ? 1L << 30 : Math.min(1L << 30, 4096L << mdts);
                long hw = sysfsLong(node, "max_hw_sectors_kb") << 10;
                long segs = sysfsLong(node, "max_segments");
                long max = mdtsBytes;
                if (hw > 0) {
                    max = Math.min(max, hw);
                }
                if (segs > 0) {
                    max = Math.min(max, segs * 4096); // an unaligned-to-page user buffer may need one segment per page
                }
                max = Math.max(bs, max - max % bs);
                boolean vwc = (id.get(JAVA_BYTE, NvmeIdCtrl.VWC) & 1) != 0;
                boolean zoned = "host-managed".equals(sysfsString(node, "zoned"));
                long zoneBlocks = zoned ? sysfsLong(node, "chunk_sectors") * 512 / bs : 0;
                long zasl = zoned ? sysfsLong(node, "zone_append_max_bytes") : 0;
                long maxAppend = zoned ? (zasl > 0 ? Math.min(max, zasl - zasl % bs) : max) : 0;
                return new NvmeGeometry(bs, blocks, max, vwc, zoned, zoneBlocks, ms, maxAppend);
            }
        }

        /** /sys/block/nvmeXnY/queue/{attr} of the block twin of /dev/ngXnY; -1 when absent. */
        private static long sysfsLong(Path node, String attr) {
            String s = sysfsString(node, attr);
            try {
                return s == null ? -1 : Long.parseLong(s);
            } catch (NumberFormatException e) {
                return -1;
            }
        }

        private static String sysfsString(Path node, String attr) {
            String n = node.getFileName().toString();
            String block = n.startsWith("ng") ? "nvme" + n.substring(2) : n;
            Path p = Path.of("/sys/block", block, "queue", attr);
            try {
                return Files.exists(p) ? Files.readString(p).strip() : null;
            } catch (IOException e) {
                return null;
            }
        }
    }
}
