package org.orionos.host.lvm;

import org.orionos.bindings.Errno;
import org.orionos.host.bdev.BdevCallback;
import org.orionos.host.bdev.BdevOp;
import org.orionos.host.bdev.BdevRequest;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.Capability;
import org.orionos.host.bdev.IoContext;

/**
 * A logical volume as a block device: each request is mapped through the volume's linear and
 * striped segments to one request on one PV (dm-linear and dm-stripe's arithmetic, see
 * {@link LvMap}). The core splits requests at the map's boundary (the gcd of the extent size and
 * every stripe chunk), so no request handed to {@link #doSubmit} spans two PV pieces and nothing
 * is allocated per I/O: the PV request comes from the reactor's pool via {@link IoContext#forward}.
 * FLUSH goes to every PV the volume maps to and completes when all did.
 *
 * <p>The map is an immutable object behind a volatile field: a resize publishes a new one, and
 * each request reads the field once, so it is mapped entirely by one version.
 */
public final class LogicalVolume extends BlockDevice implements BdevCallback {
    private static final long PENDING_MASK = 0xffff_ffffL;

    private final String vgName;
    private final String lvName;
    /** Read once per request; replaced whole by a resize (the new map extends or truncates the old). */
    private volatile LvMap map;
    /** Bytes of the moving stripe area pvmove is copying right now: writes there wait (see {@link #mirroredWrite}). */
    private volatile Window window = Window.NONE;
    /** Parity selects which per-reactor counter a write joins; a flip lets pvmove drain the other. */
    private volatile int epoch;
    private static final int MIRROR = 1;
    private static final long RETRY = 1;

    /** A byte range of the moving stripe area, immutable. */
    record Window(long lo, long hi) {
        static final Window NONE = new Window(0, 0);
    }

    LogicalVolume(String deviceName, String vgName, String lvName, LvMap map, int blockSize, int capabilities) {
        super(deviceName, blockSize, map.size() / blockSize, capabilities, map.boundary, 0);
        this.vgName = vgName;
        this.lvName = lvName;
        this.map = map;
    }

    /** Capabilities every PV offers (a flush must reach all of them, a trim any of them). */
    static int capabilitiesOf(LvMap map) {
        int caps = Capability.READ | Capability.WRITE | Capability.FLUSH | Capability.FUA | Capability.TRIM
                | Capability.WRITE_ZEROES | Capability.ALLOCATION_STATUS | Capability.SHARED_FLUSH;
        for (BlockDevice d : map.allDevices) {
            caps &= d.capabilities();
        }
        return caps;
    }

    public String vgName() {
        return vgName;
    }

    public String lvName() {
        return lvName;
    }

    LvMap map() {
        return map;
    }

    void publish(LvMap next) {
        map = next;
    }

    /** Sets the volume's size in blocks and tells its claimers (the VG orders this against the map). */
    void setSize(long blocks) {
        announceResize(blocks);
    }

    /** Per-reactor count of requests this volume passed down and has not completed yet. */
    private static final class Channel {
        int inFlight;
        /** Writes in flight (mirrored by pvmove or not), by the epoch parity they entered under. */
        final int[] writes = new int[2];
    }

    /** Sets the range (relative to the moving area) pvmove copies next; writes entering it wait until it moves on. */
    void setWindow(long lo, long hi) {
        window = new Window(lo, hi);
    }

    /** Flips the epoch; returns the parity whose writes the caller must wait out. */
    int flipEpoch() {
        int old = epoch;
        epoch = old + 1;
        return old & 1;
    }

    /** Writes of {@code parity} still in flight on {@code ctx}'s reactor; call on that reactor. */
    int writesInFlight(IoContext ctx, int parity) {
        return ((Channel) channel(ctx)).writes[parity];
    }

    @Override
    protected Object createChannel(IoContext context) {
        return new Channel();
    }

    /** Requests in flight through this volume on {@code ctx}'s reactor; call on that reactor. */
    int inFlight(IoContext ctx) {
        return ((Channel) channel(ctx)).inFlight;
    }

    @Override
    protected void doSubmit(BdevRequest r) {
        // The epoch before the map: a write that read the map pvmove replaced is counted under the
        // parity pvmove waits out after publishing its new map.
        int parity = epoch & 1;
        LvMap m = map;
        IoContext ctx = r.context();
        int op = r.op();
        if (op == BdevOp.FLUSH) {
            ((Channel) channel(ctx)).inFlight++;
            BlockDevice[] all = m.allDevices;
            // Children complete later (deferred or from the ring), never inside submit, so the
            // count is complete before the first of them can decrement it.
            r.backendLong = all.length;
            for (BlockDevice d : all) {
                d.submit(ctx.forward(r, this));
            }
            return;
        }
        long off = r.offset();
        int s = m.segment(off);
        if (s < 0) {
            // Only a shrink racing this request gets here: the core checked it against the old size.
            r.completeDeferred(op == BdevOp.WRITE || op == BdevOp.WRITE_ZEROES ? -Errno.ENOSPC : -Errno.EINVAL);
            return;
        }
        long rel = off - m.start[s];
        long chunk = m.chunk[s];
        BlockDevice dev;
        long pvOff;
        long room;
        int stripe = 0;
        if (chunk == 0) {
            dev = m.devices[s][0];
            pvOff = m.base[s][0] + rel;
            room = m.start[s + 1] - off;
        } else {
            long c = rel / chunk;
            long within = rel - c * chunk;
            int n = m.devices[s].length;
            stripe = (int) (c % n);
            dev = m.devices[s][stripe];
            pvOff = m.base[s][stripe] + (c / n) * chunk + within;
            room = chunk - within;
        }
        long len = r.length();
        if (len > room) {
            if (op != BdevOp.BLOCK_STATUS) {
                // The core split at the boundary, so only an unsplit status query may reach past the piece.
                r.completeDeferred(-Errno.EIO);
                return;
            }
            len = room;
        }
        if (s == m.moveSeg && stripe == m.moveStripe && (op == BdevOp.WRITE || op == BdevOp.WRITE_ZEROES || op == BdevOp.TRIM)) {
            long inArea = pvOff - m.base[s][stripe];
            if (inArea >= m.moveLo && inArea < m.moveHi) {
                mirroredWrite(r, m, dev, pvOff, inArea, parity);
                return;
            }
        }
        Channel ch = (Channel) channel(ctx);
        ch.inFlight++;
        if (op == BdevOp.WRITE || op == BdevOp.WRITE_ZEROES || op == BdevOp.TRIM) {
            ch.writes[parity]++;
            r.backendLong = 1 | ((long) parity << 1);
        } else {
            r.backendLong = 0;
        }
        BdevRequest down = ctx.forward(r, this);
        switch (op) {
            case BdevOp.READ, BdevOp.WRITE -> {
                if (r.buffer() != null) {
                    if (op == BdevOp.READ) {
                        down.prepareRead(pvOff, len, r.buffer(), r.bufferOffset());
                    } else {
                        down.prepareWrite(pvOff, len, r.buffer(), r.bufferOffset(), r.flags());
                    }
                } else {
                    down.prepareVectored(op, pvOff, len, r.iov(), r.iovCount(), r.flags());
                }
            }
            default -> down.prepareNoData(op, pvOff, len, r.flags());
        }
        dev.submit(down);
    }

    /**
     * A write inside the range pvmove is moving goes to the source and to the destination, so
     * that the copy never has to chase it; while the copy works on the write's own range the
     * write waits (a 50 µs ring timer). The epoch is read before the window: pvmove sets the
     * window, then flips the epoch, then waits for the old parity's writes, so a write that saw
     * the old window is counted under the old parity and waited for.
     */
    private void mirroredWrite(BdevRequest r, LvMap m, BlockDevice dev, long pvOff, long rel, int parity) {
        Window w = window;
        long len = r.length();
        if (rel < w.hi && rel + len > w.lo) {
            if (!r.context().startTimer(r, 50, RETRY)) {
                r.completeDeferred(-Errno.EAGAIN);
            }
            return;
        }
        Channel ch = (Channel) channel(r.context());
        ch.inFlight++;
        ch.writes[parity]++;
        r.backendLong = 2 | ((long) parity << 31);
        submitCopy(r, dev, pvOff);
        submitCopy(r, m.moveDev, m.moveBase + (rel - m.moveLo));
    }

    private void submitCopy(BdevRequest r, BlockDevice dev, long pvOff) {
        BdevRequest down = r.context().forward(r, this).callback(this, MIRROR);
        int op = r.op();
        long len = r.length();
        if (op == BdevOp.WRITE) {
            if (r.buffer() != null) {
                down.prepareWrite(pvOff, len, r.buffer(), r.bufferOffset(), r.flags());
            } else {
                down.prepareVectored(op, pvOff, len, r.iov(), r.iovCount(), r.flags());
            }
        } else {
            down.prepareNoData(op, pvOff, len, r.flags());
        }
        dev.submit(down);
    }

    @Override
    protected void ringCompleted(BdevRequest r, int res, int cqeFlags, long cookie) {
        doSubmit(r); // a write that waited for pvmove's copy window tries again
    }

    @Override
    public void onComplete(BdevRequest down, int status) {
        BdevRequest up = down.forwardedFor();
        if (down.cookie() == MIRROR) {
            down.release();
            long v = up.backendLong;
            if (status < 0 && (v >>> 32) == 0) {
                v |= ((long) -status) << 32;
            }
            v--;
            up.backendLong = v;
            if ((v & 0xffff) == 0) {
                Channel ch = (Channel) channel(up.context());
                ch.inFlight--;
                ch.writes[(int) ((v >>> 31) & 1)]--;
                up.complete(-(int) (v >>> 32));
            }
            return;
        }
        if (up.op() == BdevOp.FLUSH) {
            down.release();
            long v = up.backendLong;
            if (status < 0 && (v >>> 32) == 0) {
                v |= ((long) -status) << 32; // the first failure is the one reported
            }
            v--;
            up.backendLong = v;
            if ((v & PENDING_MASK) == 0) {
                ((Channel) channel(up.context())).inFlight--;
                up.complete(-(int) (v >>> 32));
            }
            return;
        }
        if (up.op() == BdevOp.BLOCK_STATUS) {
            up.setExtent(down.extentLength(), down.extentFlags());
        }
        down.release();
        Channel ch = (Channel) channel(up.context());
        ch.inFlight--;
        long v = up.backendLong;
        if ((v & 1) != 0) {
            ch.writes[(int) ((v >>> 1) & 1)]--;
        }
        up.complete(status);
    }

    @Override
    public String toString() {
        return name() + " (LV " + vgName + "/" + lvName + ", " + sizeBytes() + " bytes)";
    }
}
