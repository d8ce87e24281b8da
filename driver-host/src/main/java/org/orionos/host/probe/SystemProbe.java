package org.orionos.host.probe;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.orionos.bindings.Errno;
import org.orionos.bindings.Libc;
import org.orionos.bindings.uapi.IoUringH;
import org.orionos.bindings.uapi.IoUringH.IoUringParams;
import org.orionos.bindings.uapi.IoUringH.IoUringProbe;
import org.orionos.bindings.uapi.IoUringH.IoUringProbeOp;

import static org.orionos.bindings.Layouts.U8;
import static org.orionos.bindings.Layouts.U16;

/**
 * What this kernel and process can do for Orion: kernel release, io_uring features and opcodes
 * (IORING_REGISTER_PROBE), which kernel device nodes exist, which modules are loaded, and whether
 * we hold CAP_SYS_ADMIN. Read-only; safe to run anywhere.
 */
public final class SystemProbe {
    private static final int CAP_SYS_ADMIN = 21;
    private static final int PROBE_OPS = 256;

    private SystemProbe() {
    }

    /** The probe's findings. */
    public record Report(String kernel, UringSupport ioUring, Map<String, List<String>> devices,
                         Map<String, Boolean> modules, boolean capSysAdmin) {

        /** JSON-ready view with stable keys (used by {@code orion probe --json} and the guest tests). */
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("kernel", kernel);
            Map<String, Object> u = new LinkedHashMap<>();
            u.put("available", ioUring.available());
            if (!ioUring.available()) {
                u.put("error", ioUring.error());
            }
            u.put("features", ioUring.features());
            u.put("opcodes", ioUring.opcodes());
            m.put("io_uring", u);
            m.put("devices", devices);
            m.put("modules", modules);
            m.put("cap_sys_admin", capSysAdmin);
            return m;
        }
    }

    /** io_uring availability; {@code error} says why when it is not available. */
    public record UringSupport(boolean available, String error, List<String> features, List<String> opcodes) {
    }

    /** Runs every check. */
    public static Report run() {
        return new Report(kernelRelease(), probeUring(), devices(), modules(), hasCapability(CAP_SYS_ADMIN));
    }

    static String kernelRelease() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment uts = arena.allocate(Libc.UTSNAME_SIZE);
            int r = Libc.uname(uts);
            if (r < 0) {
                return "unknown (" + Errno.name(r) + ")";
            }
            return uts.getString(Libc.UTSNAME_RELEASE, StandardCharsets.US_ASCII);
        }
    }

    static UringSupport probeUring() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = arena.allocate(IoUringParams.LAYOUT);
            int fd = Libc.ioUringSetup(2, params);
            if (fd < 0) {
                String why = Errno.name(fd) + " (" + Errno.describe(fd) + ")";
                if (-fd == Errno.ENOSYS) {
                    why += ": kernel built without io_uring";
                } else if (-fd == Errno.EPERM) {
                    why += ": io_uring disabled (sysctl kernel.io_uring_disabled) or blocked by seccomp";
                }
                return new UringSupport(false, why, List.of(), List.of());
            }
            try {
                List<String> features = new ArrayList<>();
                int bits = IoUringParams.features(params);
                for (int b = 0; b < 32; b++) {
                    if ((bits & (1 << b)) != 0) {
                        features.add(b < IoUringH.FEATURE_NAMES.length ? IoUringH.FEATURE_NAMES[b] : "BIT_" + b);
                    }
                }
                MemorySegment probe = arena.allocate(IoUringProbe.SIZE + PROBE_OPS * IoUringProbeOp.SIZE, 8);
                int r = Libc.ioUringRegister(fd, IoUringH.IORING_REGISTER_PROBE, probe, PROBE_OPS);
                List<String> ops = new ArrayList<>();
                if (r >= 0) {
                    int len = Byte.toUnsignedInt(probe.get(U8, IoUringProbe.OPS_LEN));
                    for (int i = 0; i < len; i++) {
                        long op = IoUringProbe.OPS + i * IoUringProbeOp.SIZE;
                        short flags = probe.get(U16, op + IoUringProbeOp.FLAGS);
                        if ((flags & IoUringH.IO_URING_OP_SUPPORTED) != 0) {
                            ops.add(IoUringH.opName(Byte.toUnsignedInt(probe.get(U8, op + IoUringProbeOp.OP))));
                        }
                    }
                }
                return new UringSupport(true, null, features, ops);
            } finally {
                Libc.close(fd);
            }
        }
    }

    static Map<String, List<String>> devices() {
        Map<String, List<String>> m = new LinkedHashMap<>();
        m.put("nbd", list(Path.of("/dev"), "nbd*"));
        List<String> nvme = list(Path.of("/dev"), "nvme*");
        nvme.addAll(list(Path.of("/dev"), "ng*"));
        m.put("nvme", nvme);
        m.put("vfio", list(Path.of("/dev/vfio"), "*"));
        return m;
    }

    static Map<String, Boolean> modules() {
        Map<String, Boolean> m = new LinkedHashMap<>();
        for (String mod : new String[] {"nbd", "nvme", "vfio_pci", "md_mod", "dm_thin_pool", "loop"}) {
            m.put(mod, Files.isDirectory(Path.of("/sys/module", mod)));
        }
        return m;
    }

    private static List<String> list(Path dir, String glob) {
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, glob)) {
            for (Path p : ds) {
                out.add(p.toString());
            }
        } catch (IOException e) {
            return out;
        }
        out.sort(SystemProbe::naturalOrder);
        return out;
    }

    /** nbd2 before nbd10. */
    private static int naturalOrder(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            char ca = a.charAt(i);
            char cb = b.charAt(j);
            if (Character.isDigit(ca) && Character.isDigit(cb)) {
                int si = i;
                int sj = j;
                while (i < a.length() && Character.isDigit(a.charAt(i))) {
                    i++;
                }
                while (j < b.length() && Character.isDigit(b.charAt(j))) {
                    j++;
                }
                int c = Long.compare(Long.parseLong(a.substring(si, Math.min(i, si + 18))),
                        Long.parseLong(b.substring(sj, Math.min(j, sj + 18))));
                if (c != 0) {
                    return c;
                }
            } else {
                if (ca != cb) {
                    return Character.compare(ca, cb);
                }
                i++;
                j++;
            }
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }

    /** Reads CapEff from /proc/self/status. */
    static boolean hasCapability(int cap) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("CapEff:")) {
                    long eff = Long.parseUnsignedLong(line.substring(7).trim(), 16);
                    return (eff & (1L << cap)) != 0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return false;
        }
        return false;
    }
}
