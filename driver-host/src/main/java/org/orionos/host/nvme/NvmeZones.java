package org.orionos.host.nvme;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.bindings.Libc;
import org.orionos.bindings.nvme.NvmeStatus;
import org.orionos.bindings.nvme.NvmeTypesH.NvmeZnsDesc;
import org.orionos.bindings.nvme.NvmeTypesH.NvmeZoneReport;
import org.orionos.bindings.uapi.NvmeIoctlH.NvmePassthruCmd64;
import org.orionos.host.bdev.BdevRequest;
import org.orionos.host.bdev.IoContext;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_ZNS_ZRAS_REPORT_ALL;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_ZNS_ZRA_REPORT_ZONES;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_ZNS_ZSA_CLOSE;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_ZNS_ZSA_FINISH;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_ZNS_ZSA_OPEN;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_ZNS_ZSA_RESET;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_ZNS_ZS_CLOSED;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_ZNS_ZS_EMPTY;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_ZNS_ZS_EXPL_OPEN;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_ZNS_ZS_FULL;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_ZNS_ZS_IMPL_OPEN;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_ZNS_ZS_OFFLINE;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_ZNS_ZS_READ_ONLY;
import static org.orionos.bindings.nvme.NvmeTypesH.nvme_zns_cmd_append;
import static org.orionos.bindings.nvme.NvmeTypesH.nvme_zns_cmd_mgmt_recv;
import static org.orionos.bindings.nvme.NvmeTypesH.nvme_zns_cmd_mgmt_send;
import static org.orionos.bindings.uapi.NvmeIoctlH.NVME_IOCTL_IO64_CMD;

/**
 * The zone API of a zoned (ZNS) namespace: report zones, open, close, finish, reset, and Zone
 * Append returning the LBA the controller chose.
 *
 * <p>Zone Append goes through io_uring passthrough on a reactor ({@link #append(IoContext, long,
 * MemorySegment, int)}, or {@link NvmeNamespaceBdev#submitAppend} on the data path): the controller
 * picks the LBA and the kernel hands it back in the CQE32's result words, so appends from many
 * reactors to one zone need no coordination between them. The other calls, and {@link #append(long,
 * MemorySegment, int)} for tools without reactors, are one blocking NVME_IOCTL_IO64_CMD each on
 * the namespace's passthrough node: management-path code, never on a reactor. Before
 * sending a transition the zone's current state is checked, so an impossible request (opening a
 * full zone, appending more than the zone has left) fails with a message naming the zone and its
 * state instead of a bare ZNS status; the controller's own status is still reported if it refuses.
 */
public final class NvmeZones {
    /** One zone. Numbers are logical blocks. */
    public record Zone(long start, long capacity, long writePointer, int state, int type) {
        public String stateName() {
            return NvmeZones.stateName(state);
        }

        /** Blocks still writable in this zone. */
        public long remaining() {
            return switch (state) {
                case NVME_ZNS_ZS_FULL, NVME_ZNS_ZS_READ_ONLY, NVME_ZNS_ZS_OFFLINE -> 0;
                default -> start + capacity - writePointer;
            };
        }
    }

    private final NvmeNamespaceBdev ns;
    private final long zoneBlocks;

    public NvmeZones(NvmeNamespaceBdev ns) {
        if (!ns.geometry().zoned()) {
            throw ErrnoException.withMessage(Errno.EOPNOTSUPP, "zones", ns.name(), ns.name() + " (" + ns.path()
                    + ") is not a zoned namespace");
        }
        this.ns = ns;
        this.zoneBlocks = ns.geometry().zoneBlocks();
    }

    public long zoneBlocks() {
        return zoneBlocks;
    }

    /** Number of zones. */
    public long zoneCount() {
        return (ns.blockCount() + zoneBlocks - 1) / zoneBlocks;
    }

    public static String stateName(int state) {
        return switch (state) {
            case NVME_ZNS_ZS_EMPTY -> "EMPTY";
            case NVME_ZNS_ZS_IMPL_OPEN -> "IMP_OPENED";
            case NVME_ZNS_ZS_EXPL_OPEN -> "EXP_OPENED";
            case NVME_ZNS_ZS_CLOSED -> "CLOSED";
            case NVME_ZNS_ZS_READ_ONLY -> "READONLY";
            case NVME_ZNS_ZS_FULL -> "FULL";
            case NVME_ZNS_ZS_OFFLINE -> "OFFLINE";
            default -> "STATE_0x" + Integer.toHexString(state);
        };
    }

    /** Up to {@code max} zones starting with the one holding {@code fromLba}. */
    public List<Zone> report(long fromLba, int max) {
        int bytes = (int) (NvmeZoneReport.SIZE + (long) max * NvmeZnsDesc.SIZE);
        List<Zone> out = new ArrayList<>();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment d = a.allocate(bytes, 4096);
            int numd = bytes / 4 - 1;
            io(a, "report zones", nvme_zns_cmd_mgmt_recv, d, bytes, fromLba, numd,
                    NVME_ZNS_ZRA_REPORT_ZONES | NVME_ZNS_ZRAS_REPORT_ALL << 8);
            long n = Math.min(d.get(JAVA_LONG, NvmeZoneReport.NR_ZONES), max);
            for (int i = 0; i < n; i++) {
                long e = NvmeZoneReport.SIZE + i * NvmeZnsDesc.SIZE;
                out.add(new Zone(d.get(JAVA_LONG, e + NvmeZnsDesc.ZSLBA), d.get(JAVA_LONG, e + NvmeZnsDesc.ZCAP),
                        d.get(JAVA_LONG, e + NvmeZnsDesc.WP), (d.get(JAVA_BYTE, e + NvmeZnsDesc.ZS) >> 4) & 0xf,
                        d.get(JAVA_BYTE, e + NvmeZnsDesc.ZT) & 0xf));
            }
        }
        return out;
    }

    /** The zone starting at {@code zslba}. */
    public Zone zone(long zslba) {
        if (zslba < 0 || zslba % zoneBlocks != 0 || zslba >= ns.blockCount()) {
            throw ErrnoException.withMessage(Errno.EINVAL, "zone", ns.name(), ns.name() + ": " + zslba
                    + " is not the start of a zone (zones are " + zoneBlocks + " blocks, the namespace has "
                    + ns.blockCount() + ")");
        }
        return report(zslba, 1).getFirst();
    }

    public Zone open(long zslba) {
        return transition(zslba, NVME_ZNS_ZSA_OPEN, "open", NVME_ZNS_ZS_EMPTY, NVME_ZNS_ZS_IMPL_OPEN,
                NVME_ZNS_ZS_EXPL_OPEN, NVME_ZNS_ZS_CLOSED);
    }

    public Zone close(long zslba) {
        return transition(zslba, NVME_ZNS_ZSA_CLOSE, "close", NVME_ZNS_ZS_IMPL_OPEN, NVME_ZNS_ZS_EXPL_OPEN,
                NVME_ZNS_ZS_CLOSED);
    }

    public Zone finish(long zslba) {
        return transition(zslba, NVME_ZNS_ZSA_FINISH, "finish", NVME_ZNS_ZS_EMPTY, NVME_ZNS_ZS_IMPL_OPEN,
                NVME_ZNS_ZS_EXPL_OPEN, NVME_ZNS_ZS_CLOSED, NVME_ZNS_ZS_FULL);
    }

    public Zone reset(long zslba) {
        return transition(zslba, NVME_ZNS_ZSA_RESET, "reset", NVME_ZNS_ZS_EMPTY, NVME_ZNS_ZS_IMPL_OPEN,
                NVME_ZNS_ZS_EXPL_OPEN, NVME_ZNS_ZS_CLOSED, NVME_ZNS_ZS_FULL);
    }

    private Zone transition(long zslba, int action, String what, int... allowedFrom) {
        Zone z = zone(zslba);
        boolean ok = false;
        for (int s : allowedFrom) {
            ok |= s == z.state();
        }
        if (!ok) {
            throw ErrnoException.withMessage(Errno.EINVAL, what + " zone", ns.name(), ns.name() + ": cannot " + what
                    + " the zone at LBA " + zslba + ": it is " + z.stateName());
        }
        try (Arena a = Arena.ofConfined()) {
            io(a, what + " zone " + zslba, nvme_zns_cmd_mgmt_send, null, 0, zslba, 0, action);
        }
        return zone(zslba);
    }

    /**
     * Zone Append: writes {@code length} bytes of {@code data} at the zone's write pointer and
     * returns the LBA where the controller placed them.
     */
    public long append(long zslba, MemorySegment data, int length) {
        int bs = ns.blockSize();
        if (length <= 0 || length % bs != 0) {
            throw ErrnoException.withMessage(Errno.EINVAL, "zone append", ns.name(), ns.name() + ": append length "
                    + length + " is not a positive multiple of the block size " + bs);
        }
        if (length > ns.maxTransfer()) {
            throw ErrnoException.withMessage(Errno.EINVAL, "zone append", ns.name(), ns.name() + ": append of "
                    + length + " bytes exceeds the transfer limit of " + ns.maxTransfer() + " bytes");
        }
        Zone z = zone(zslba);
        if (z.remaining() * bs < length) {
            throw ErrnoException.withMessage(Errno.ENOSPC, "zone append", ns.name(), ns.name() + ": the zone at LBA "
                    + zslba + " is " + z.stateName() + " with " + z.remaining() + " blocks left; " + length / bs
                    + " blocks do not fit (reset or finish it, or use another zone)");
        }
        try (Arena a = Arena.ofConfined()) {
            return io(a, "zone append at " + zslba, nvme_zns_cmd_append, data, length, zslba, length / bs - 1, 0);
        }
    }

    /**
     * Zone Append through io_uring passthrough on {@code ctx}'s reactor: {@code length} bytes of
     * {@code data} (a multiple of the block size, at most {@link NvmeNamespaceBdev#maxAppend()})
     * written at the zone's write pointer. Completes with the LBA of the first block written, or
     * with an {@link ErrnoException} naming the NVMe status (a full zone, a zone boundary). Call off
     * the reactor or on it; the zone's state is not read first (that would be a blocking ioctl).
     */
    public CompletableFuture<Long> append(IoContext ctx, long zslba, MemorySegment data, int length) {
        CompletableFuture<Long> f = new CompletableFuture<>();
        int bs = ns.blockSize();
        if (zslba < 0 || zslba % zoneBlocks != 0 || zslba >= ns.blockCount() || length <= 0 || length % bs != 0
                || length > ns.maxAppend() || data.byteSize() < length) {
            f.completeExceptionally(ErrnoException.withMessage(Errno.EINVAL, "zone append", ns.name(), ns.name()
                    + ": append of " + length + " bytes at LBA " + zslba + " needs a zone start (zones are " + zoneBlocks
                    + " blocks) and a length that is a positive multiple of " + bs + " up to " + ns.maxAppend()
                    + " bytes within the buffer (" + data.byteSize() + " bytes)"));
            return f;
        }
        ctx.reactor().execute(() -> {
            BdevRequest r = ctx.request().prepareWrite(zslba * bs, length, data, 0, 0);
            r.callback((req, status) -> {
                long lba = NvmeNamespaceBdev.appendedLba(req);
                req.release();
                if (status == 0) {
                    f.complete(lba);
                    return;
                }
                int nvme = ns.lastStatus(ctx);
                f.completeExceptionally(ErrnoException.withMessage(-status, "zone append", ns.name(), ns.name()
                        + ": zone append to the zone at LBA " + zslba + " failed: " + Errno.name(status)
                        + (nvme > 0 ? " (last NVMe status on this reactor: " + NvmeStatus.describe(nvme) + ")" : "")));
            }, 0);
            ns.submitAppend(r);
        });
        return f;
    }

    /** One I/O command on the passthrough node; returns completion dword 0/1 (the 64-bit result). */
    private long io(Arena a, String what, int opcode, MemorySegment data, int len, long slba, int cdw12, int cdw13) {
        MemorySegment c = a.allocate(NvmePassthruCmd64.LAYOUT);
        c.set(JAVA_BYTE, NvmePassthruCmd64.OPCODE, (byte) opcode);
        c.set(JAVA_INT, NvmePassthruCmd64.NSID, ns.nsid());
        c.set(JAVA_LONG, NvmePassthruCmd64.ADDR, data == null ? 0 : data.address());
        c.set(JAVA_INT, NvmePassthruCmd64.DATA_LEN, data == null ? 0 : len);
        c.set(JAVA_INT, NvmePassthruCmd64.CDW10, (int) slba);
        c.set(JAVA_INT, NvmePassthruCmd64.CDW11, (int) (slba >>> 32));
        c.set(JAVA_INT, NvmePassthruCmd64.CDW12, cdw12);
        c.set(JAVA_INT, NvmePassthruCmd64.CDW13, cdw13);
        int r = Libc.ioctl(ns.fd(), NVME_IOCTL_IO64_CMD, c);
        NvmeController.check(r, what, ns.name() + " (" + ns.path() + ")");
        return c.get(JAVA_LONG, NvmePassthruCmd64.RESULT);
    }
}
