package org.orionos.host.bdev;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;

import org.orionos.bindings.Errno;
import org.orionos.bindings.uapi.SocketH.Iovec;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Random I/O against a byte-exact model, driven on one reactor through the real data path.
 * The region is cut into slots with at most one I/O in flight each, so the model stays exact
 * with many I/Os in flight. Reads are compared byte for byte; block-status answers are checked
 * against the model (a hole must read as zeros). Trimmed blocks become "unknown" until rewritten,
 * because a trim may leave old data.
 */
public final class ModelWorkload implements BdevCallback {
    public static final long SLOT = 256 * 1024;

    private final IoContext ctx;
    private final BlockDevice dev;
    private final long base;
    private final int slots;
    private final byte[] model;
    private final boolean[] unknown;
    private final int bs;
    private final SplittableRandom rnd;
    private final long target;
    private final int qd;
    private final boolean zeroAfterTrim;
    private final MemorySegment[] buffers;
    private final MemorySegment[] iovs;
    private final boolean[] busy;
    public final CompletableFuture<String> done = new CompletableFuture<>();
    private long issued;
    private long completed;
    public long reads;
    public long writes;
    long others;
    public long vectored;

    public ModelWorkload(IoContext ctx, BlockDevice dev, long base, long size, long ops, int qd, long seed,
                  boolean zeroAfterTrim, Arena arena) {
        this.ctx = ctx;
        this.dev = dev;
        this.base = base;
        this.slots = (int) (size / SLOT);
        this.model = new byte[(int) size];
        this.bs = dev.blockSize();
        this.unknown = new boolean[(int) (size / bs)];
        this.rnd = new SplittableRandom(seed);
        this.target = ops;
        this.qd = qd;
        this.zeroAfterTrim = zeroAfterTrim;
        this.buffers = new MemorySegment[slots];
        this.iovs = new MemorySegment[slots];
        this.busy = new boolean[slots];
        for (int i = 0; i < slots; i++) {
            buffers[i] = arena.allocate(SLOT, 4096);
            iovs[i] = arena.allocate(4 * Iovec.SIZE, 8);
        }
    }

    /** Starts on the reactor; {@link #done} completes with null, or with a failure description. */
    public void start() {
        ctx.reactor().execute(() -> {
            for (int i = 0; i < qd; i++) {
                issue();
            }
        });
    }

    private void issue() {
        if (issued >= target || done.isDone()) {
            return;
        }
        int slot = rnd.nextInt(slots);
        for (int tries = 0; busy[slot] && tries < slots; tries++) {
            slot = (slot + 1) % slots;
        }
        if (busy[slot]) {
            return;
        }
        busy[slot] = true;
        issued++;
        long blocksInSlot = SLOT / bs;
        long first = rnd.nextLong(blocksInSlot);
        long count = 1 + rnd.nextLong(Math.min(blocksInSlot - first, rnd.nextBoolean() ? 4 : blocksInSlot));
        long off = slot * SLOT + first * bs;
        long len = count * bs;
        BdevRequest r = ctx.request();
        int dice = rnd.nextInt(100);
        MemorySegment buf = buffers[slot];
        if (dice < 45) {
            for (long i = 0; i < len; i++) {
                buf.set(JAVA_BYTE, i, (byte) rnd.nextInt());
            }
            if (rnd.nextInt(4) == 0) {
                prepareVectored(r, BdevOp.WRITE, off, len, slot);
            } else {
                r.prepareWrite(base + off, len, buf, 0, rnd.nextInt(8) == 0 ? BdevOp.FLAG_FUA : 0);
            }
        } else if (dice < 80) {
            buf.asSlice(0, len).fill((byte) 0x5a);
            if (rnd.nextInt(4) == 0) {
                prepareVectored(r, BdevOp.READ, off, len, slot);
            } else {
                r.prepareRead(base + off, len, buf, 0);
            }
        } else if (dice < 85 && dev.has(Capability.TRIM)) {
            r.prepareNoData(BdevOp.TRIM, base + off, len, 0);
        } else if (dice < 90 && dev.has(Capability.WRITE_ZEROES)) {
            r.prepareNoData(BdevOp.WRITE_ZEROES, base + off, len, 0);
        } else if (dice < 95 && dev.has(Capability.ALLOCATION_STATUS)) {
            r.prepareNoData(BdevOp.BLOCK_STATUS, base + off, len, 0);
        } else {
            r.prepareNoData(BdevOp.FLUSH, 0, 0, 0);
        }
        r.callback(this, slot);
        dev.submit(r);
    }

    /** Two or three iovecs over the slot's buffer, with uneven (block-multiple) pieces. */
    private void prepareVectored(BdevRequest r, int op, long off, long len, int slot) {
        long blocks = len / bs;
        int n = (int) Math.min(blocks, 1 + rnd.nextInt(3));
        MemorySegment iov = iovs[slot];
        long pos = 0;
        for (int i = 0; i < n; i++) {
            long piece = i == n - 1 ? len - pos : bs * (1 + rnd.nextLong(blocks - (pos / bs) - (n - 1 - i)));
            iov.set(JAVA_LONG, i * Iovec.SIZE + Iovec.IOV_BASE, buffers[slot].address() + pos);
            iov.set(JAVA_LONG, i * Iovec.SIZE + Iovec.IOV_LEN, piece);
            pos += piece;
        }
        r.prepareVectored(op, base + off, len, iov, n, 0);
        vectored++;
    }

    @Override
    public void onComplete(BdevRequest r, int status) {
        int slot = (int) r.cookie();
        String problem = status < 0 ? r + " failed: " + Errno.name(status) : check(r, slot);
        r.release();
        busy[slot] = false;
        completed++;
        if (problem != null) {
            done.complete(dev.name() + ": " + problem);
            return;
        }
        if (completed == target) {
            done.complete(null);
            return;
        }
        issue();
    }

    private String check(BdevRequest r, int slot) {
        long off = r.offset() - base;
        int len = (int) r.length();
        MemorySegment buf = buffers[slot];
        switch (r.op()) {
            case BdevOp.WRITE -> {
                writes++;
                MemorySegment.copy(buf, JAVA_BYTE, 0, model, (int) off, len);
                setUnknown(off, len, false);
            }
            case BdevOp.READ -> {
                reads++;
                for (int i = 0; i < len; i++) {
                    int at = (int) off + i;
                    if (!unknown[at / bs] && buf.get(JAVA_BYTE, i) != model[at]) {
                        return "read " + r + ": byte " + (base + at) + " is " + buf.get(JAVA_BYTE, i)
                                + ", model says " + model[at];
                    }
                }
            }
            case BdevOp.TRIM -> {
                others++;
                java.util.Arrays.fill(model, (int) off, (int) off + len, (byte) 0);
                setUnknown(off, len, !zeroAfterTrim);
            }
            case BdevOp.WRITE_ZEROES -> {
                others++;
                java.util.Arrays.fill(model, (int) off, (int) off + len, (byte) 0);
                setUnknown(off, len, false);
            }
            case BdevOp.BLOCK_STATUS -> {
                others++;
                long ext = r.extentLength();
                if (ext <= 0 || ext > len || ext % bs != 0) {
                    return "block status " + r + " answered a bad extent length " + ext;
                }
                if ((r.extentFlags() & BdevOp.EXTENT_ZERO) != 0) {
                    for (int i = 0; i < ext; i++) {
                        int at = (int) off + i;
                        if (!unknown[at / bs] && model[at] != 0) {
                            return "block status " + r + " says zeros, but byte " + (base + at) + " is " + model[at];
                        }
                    }
                }
            }
            default -> others++;
        }
        return null;
    }

    private void setUnknown(long off, int len, boolean value) {
        for (long b = off / bs; b < (off + len) / bs; b++) {
            unknown[(int) b] = value;
        }
    }
}
