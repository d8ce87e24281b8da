package org.orionos.host.nvme;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.bindings.Libc;
import org.orionos.bindings.nvme.NvmeStatus;
import org.orionos.bindings.uapi.NvmeIoctlH.NvmePassthruCmd64;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_CSI_ZNS;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_IDENTIFY_CNS_CSI_NS;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_IDENTIFY_CNS_CTRL;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_IDENTIFY_CNS_NS;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_IDENTIFY_CNS_NS_ACTIVE_LIST;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_LOG_LID_SMART;
import static org.orionos.bindings.nvme.NvmeTypesH.nvme_admin_get_features;
import static org.orionos.bindings.nvme.NvmeTypesH.nvme_admin_get_log_page;
import static org.orionos.bindings.nvme.NvmeTypesH.nvme_admin_identify;
import static org.orionos.bindings.nvme.NvmeTypesH.nvme_admin_set_features;
import static org.orionos.bindings.uapi.FcntlH.O_CLOEXEC;
import static org.orionos.bindings.uapi.FcntlH.O_RDWR;
import static org.orionos.bindings.uapi.NvmeIoctlH.NVME_IOCTL_ADMIN64_CMD;

/**
 * An NVMe controller driven through the kernel's admin passthrough ioctl (NVME_IOCTL_ADMIN64_CMD on
 * /dev/nvmeN). Every command blocks the calling thread until the controller answers (or the kernel's
 * admin timeout aborts it), so this is management-path code: never call it on a reactor.
 *
 * <p>Asynchronous Event Requests are not issued through this path: the kernel driver keeps its own AER
 * outstanding and a passthrough AER would hold the calling thread until an event, steal that event from
 * the kernel, and on the admin timeout make the driver reset the controller. The kernel reports the
 * events it receives as {@code NVME_AEN} uevents of the controller; {@link NvmeEvents} listens for them
 * and follows up by reading the log page they name here.
 */
public final class NvmeController implements AutoCloseable {
    /** Identify, log pages and feature data are at most 4 KiB in the commands this class issues. */
    public static final int PAGE = 4096;

    private final Path path;
    private final int fd;

    private NvmeController(Path path, int fd) {
        this.path = path;
        this.fd = fd;
    }

    /** Opens /dev/nvmeN; needs CAP_SYS_ADMIN for admin passthrough. */
    public static NvmeController open(Path path) {
        if (!Files.exists(path)) {
            throw ErrnoException.withMessage(Errno.ENOENT, "open", path.toString(), path
                    + " does not exist: run `orion nvme list` to see the controllers (/dev/nvmeN) this host has");
        }
        int fd = ErrnoException.check(Libc.open(path.toString(), O_RDWR | O_CLOEXEC, 0), "open", path.toString());
        return new NvmeController(path, fd);
    }

    /** The controller of a namespace node /dev/nvmeXnY or /dev/ngXnY (or a controller node itself). */
    public static Path controllerOf(Path node) {
        String n = node.getFileName().toString();
        String prefix = n.startsWith("ng") ? "ng" : n.startsWith("nvme") ? "nvme" : null;
        if (prefix == null) {
            throw ErrnoException.withMessage(Errno.EINVAL, "nvme", node.toString(),
                    node + " is not an NVMe node (expected /dev/nvmeN, /dev/nvmeNnM or /dev/ngNnM)");
        }
        String rest = n.substring(prefix.length());
        int cut = rest.indexOf('n');
        String instance = cut < 0 ? rest : rest.substring(0, cut);
        if (instance.isEmpty() || !instance.chars().allMatch(Character::isDigit)) {
            throw ErrnoException.withMessage(Errno.EINVAL, "nvme", node.toString(),
                    node + " is not an NVMe node (expected /dev/nvmeN, /dev/nvmeNnM or /dev/ngNnM)");
        }
        if (cut < 0) {
            return node.resolveSibling("nvme" + instance);
        }
        // A namespace's number is its subsystem's under native multipath (nvme_core.multipath=Y), which
        // need not be its controller's: sysfs lists it under the controller as nvmeSnN or nvmeScCnN.
        String ns = rest.substring(cut + 1);
        Path cls = Path.of("/sys/class/nvme");
        if (Files.isDirectory(cls)) {
            try (var ctrls = Files.list(cls)) {
                for (Path c : ctrls.sorted().toList()) {
                    try (var entries = Files.list(c)) {
                        if (entries.anyMatch(e -> e.getFileName().toString()
                                .matches("nvme" + instance + "(c[0-9]+)?n" + ns))) {
                            return node.resolveSibling(c.getFileName().toString());
                        }
                    }
                }
            } catch (java.io.IOException e) {
                // fall through to the name-based guess
            }
        }
        return node.resolveSibling("nvme" + instance);
    }

    public Path path() {
        return path;
    }

    /**
     * Issues one admin command. {@code data} (may be null) is the transfer buffer of {@code dataLen}
     * bytes; {@code result} (may be null) receives completion dword 0 in element 0.
     *
     * @return 0, a positive NVMe status (decode with {@link NvmeStatus}), or a negative errno
     */
    public int admin(int opcode, int nsid, MemorySegment data, int dataLen, int cdw10, int cdw11, int cdw12,
                     int cdw13, int cdw14, int cdw15, long[] result) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment c = a.allocate(NvmePassthruCmd64.LAYOUT);
            c.set(JAVA_BYTE, NvmePassthruCmd64.OPCODE, (byte) opcode);
            c.set(JAVA_INT, NvmePassthruCmd64.NSID, nsid);
            c.set(JAVA_LONG, NvmePassthruCmd64.ADDR, data == null ? 0 : data.address());
            c.set(JAVA_INT, NvmePassthruCmd64.DATA_LEN, data == null ? 0 : dataLen);
            c.set(JAVA_INT, NvmePassthruCmd64.CDW10, cdw10);
            c.set(JAVA_INT, NvmePassthruCmd64.CDW11, cdw11);
            c.set(JAVA_INT, NvmePassthruCmd64.CDW12, cdw12);
            c.set(JAVA_INT, NvmePassthruCmd64.CDW13, cdw13);
            c.set(JAVA_INT, NvmePassthruCmd64.CDW14, cdw14);
            c.set(JAVA_INT, NvmePassthruCmd64.CDW15, cdw15);
            int r = Libc.ioctl(fd, NVME_IOCTL_ADMIN64_CMD, c);
            if (result != null) {
                result[0] = c.get(JAVA_LONG, NvmePassthruCmd64.RESULT);
            }
            return r;
        }
    }

    /** {@link #admin} that throws on an NVMe status or errno, naming the command. Returns dword 0. */
    public long adminOrThrow(String what, int opcode, int nsid, MemorySegment data, int cdw10, int cdw11, int cdw12,
                             int cdw13, int cdw14, int cdw15) {
        long[] res = new long[1];
        int r = admin(opcode, nsid, data, data == null ? 0 : (int) data.byteSize(), cdw10, cdw11, cdw12, cdw13, cdw14,
                cdw15, res);
        check(r, what, path.toString());
        return res[0];
    }

    /** Throws an actionable exception for a passthrough result: positive NVMe status or -errno. */
    static void check(int r, String what, String target) {
        if (r < 0) {
            String hint = r == -Errno.EACCES || r == -Errno.EPERM ? "NVMe passthrough needs root (CAP_SYS_ADMIN)" : null;
            throw new ErrnoException(-r, what, target, hint);
        }
        if (r > 0) {
            throw ErrnoException.withMessage(NvmeErrors.errno(r), what, target, what + " on " + target
                    + " failed with NVMe status " + NvmeStatus.describe(r)
                    + (NvmeStatus.dnr(r) ? "; the controller says retrying will not help" : ""));
        }
    }

    /** Identify (CNS, nsid, CSI) into a fresh 4 KiB segment of {@code arena}. */
    public MemorySegment identify(Arena arena, int cns, int nsid, int csi) {
        MemorySegment d = arena.allocate(PAGE, PAGE);
        adminOrThrow("identify (CNS " + cns + ", nsid " + nsid + ")", nvme_admin_identify, nsid, d, cns, csi << 24, 0,
                0, 0, 0);
        return d;
    }

    public MemorySegment identifyController(Arena arena) {
        return identify(arena, NVME_IDENTIFY_CNS_CTRL, 0, 0);
    }

    public MemorySegment identifyNamespace(Arena arena, int nsid) {
        return identify(arena, NVME_IDENTIFY_CNS_NS, nsid, 0);
    }

    /** The ZNS command-set-specific Identify Namespace (zone size, active/open limits). */
    public MemorySegment identifyZnsNamespace(Arena arena, int nsid) {
        return identify(arena, NVME_IDENTIFY_CNS_CSI_NS, nsid, NVME_CSI_ZNS);
    }

    /** The active namespace ids, ascending (first 1024). */
    public int[] activeNamespaces() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment d = identify(a, NVME_IDENTIFY_CNS_NS_ACTIVE_LIST, 0, 0);
            int n = 0;
            while (n < PAGE / 4 && d.get(JAVA_INT, 4L * n) != 0) {
                n++;
            }
            int[] ids = new int[n];
            for (int i = 0; i < n; i++) {
                ids[i] = d.get(JAVA_INT, 4L * i);
            }
            return ids;
        }
    }

    /**
     * Get Log Page {@code lid} for {@code nsid} (0xffffffff = controller-wide), {@code len} bytes
     * (a multiple of 4) from byte {@code offset}.
     */
    public MemorySegment logPage(Arena arena, int lid, int nsid, int len, long offset) {
        if (len <= 0 || (len & 3) != 0) {
            throw new IllegalArgumentException("log page length must be a positive multiple of 4, got " + len);
        }
        MemorySegment d = arena.allocate(len, PAGE);
        int numd = len / 4 - 1;
        adminOrThrow("get log page 0x" + Integer.toHexString(lid), nvme_admin_get_log_page, nsid, d,
                lid | (numd & 0xffff) << 16, numd >>> 16, (int) offset, (int) (offset >>> 32), 0, 0);
        return d;
    }

    /** The SMART / health log, controller-wide. */
    public MemorySegment smartLog(Arena arena) {
        return logPage(arena, NVME_LOG_LID_SMART, 0xffffffff, 512, 0);
    }

    /**
     * Get Features {@code fid} with {@code sel} (0 current, 1 default, 2 saved, 3 capabilities);
     * {@code data} receives the feature's data structure when it has one (power-state... none; LBA
     * range, host id, ...). Returns completion dword 0, the feature value for most features.
     */
    public long getFeature(int fid, int nsid, int sel, int cdw11, MemorySegment data) {
        return adminOrThrow("get feature 0x" + Integer.toHexString(fid), nvme_admin_get_features, nsid, data,
                fid | (sel & 7) << 8, cdw11, 0, 0, 0, 0);
    }

    /** Set Features {@code fid} to {@code cdw11}; {@code save} asks the controller to keep it across resets. */
    public long setFeature(int fid, int nsid, int cdw11, boolean save, MemorySegment data) {
        return adminOrThrow("set feature 0x" + Integer.toHexString(fid), nvme_admin_set_features, nsid, data,
                fid | (save ? 1 << 31 : 0), cdw11, 0, 0, 0, 0);
    }

    @Override
    public void close() {
        Libc.close(fd);
    }
}
