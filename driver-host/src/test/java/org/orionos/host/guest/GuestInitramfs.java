package org.orionos.host.guest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPOutputStream;

/**
 * The test guest's initramfs: a static busybox, the harness's {@code init} (resource
 * {@code guest/init}) and the virtio/9p modules it needs to mount the host's root. Built once and
 * cached under {@code /tmp/orion-guest}, keyed by kernel version and a digest of everything that goes
 * in (so a changed init script or kernel update builds a new one). Written in Java as a newc cpio
 * archive, so no cpio tool is needed.
 */
final class GuestInitramfs {

    /** Bump when the layout of the archive changes in a way its inputs do not show. */
    static final int HARNESS_VERSION = 2;

    /** Modules init loads before mounting the host's root; their dependencies come along from modules.dep. */
    private static final List<String> ROOT_MODULES = List.of("virtio_pci", "9pnet_virtio", "9p");

    static final Path CACHE = Path.of(System.getProperty("java.io.tmpdir"), "orion-guest");

    private GuestInitramfs() {
    }

    /** The cached initramfs for this host's kernel, built first if absent. Safe against concurrent builders. */
    static Path forHost(GuestHost host) throws IOException {
        byte[] init = resource("guest/init");
        List<Path> modules = moduleLoadOrder(host.modules(), ROOT_MODULES);
        MessageDigest d = sha256();
        d.update(("harness " + HARNESS_VERSION + "\nkernel " + host.kernelVersion() + "\n").getBytes(StandardCharsets.UTF_8));
        d.update(init);
        for (Path m : modules) {
            d.update((m + " " + Files.size(m) + " " + Files.getLastModifiedTime(m) + "\n").getBytes(StandardCharsets.UTF_8));
        }
        d.update((host.busybox() + " " + Files.size(host.busybox()) + " " + Files.getLastModifiedTime(host.busybox()))
                .getBytes(StandardCharsets.UTF_8));
        String key = HexFormat.of().formatHex(d.digest()).substring(0, 16);
        Path out = CACHE.resolve("initramfs-" + host.kernelVersion() + "-" + key + ".cpio.gz");
        if (Files.isRegularFile(out)) {
            return out;
        }
        Files.createDirectories(CACHE);
        Path tmp = Files.createTempFile(CACHE, "initramfs-", ".tmp");
        try {
            try (OutputStream os = new GZIPOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
                NewcWriter w = new NewcWriter(os);
                for (String dir : List.of("bin", "dev", "proc", "sys", "newroot", "mods")) {
                    w.directory(dir);
                }
                w.charDevice("dev/console", 5, 1);
                w.file("init", 0755, init);
                w.file("bin/busybox", 0755, Files.readAllBytes(host.busybox()));
                StringBuilder order = new StringBuilder();
                for (Path m : modules) {
                    String name = m.getFileName().toString();
                    w.file("mods/" + name, 0644, Files.readAllBytes(m));
                    order.append(name).append('\n');
                }
                w.file("mods/order", 0644, order.toString().getBytes(StandardCharsets.UTF_8));
                w.trailer();
            }
            try {
                Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
        return out;
    }

    /** The module files for {@code roots}, each after everything it depends on (modules.dep order). */
    static List<Path> moduleLoadOrder(Path moduleDir, List<String> roots) throws IOException {
        Map<String, String> pathByName = new HashMap<>();
        Map<String, List<String>> deps = new HashMap<>();
        for (String line : Files.readAllLines(moduleDir.resolve("modules.dep"))) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String path = line.substring(0, colon);
            String rest = line.substring(colon + 1).trim();
            pathByName.put(moduleName(path), path);
            deps.put(path, rest.isEmpty() ? List.of() : List.of(rest.split("\\s+")));
        }
        Set<String> ordered = new LinkedHashSet<>();
        for (String root : roots) {
            String path = pathByName.get(root);
            if (path == null) {
                throw new IOException("kernel module " + root + " is not in " + moduleDir
                        + "/modules.dep: this kernel cannot mount the host's root over virtio-9p");
            }
            visit(path, deps, ordered, new LinkedHashSet<>());
        }
        List<Path> files = new ArrayList<>();
        for (String p : ordered) {
            if (!p.endsWith(".ko")) {
                throw new IOException(moduleDir.resolve(p) + " is compressed; busybox insmod in the initramfs loads only plain .ko files");
            }
            files.add(moduleDir.resolve(p));
        }
        return files;
    }

    private static void visit(String path, Map<String, List<String>> deps, Set<String> ordered, Set<String> onStack) throws IOException {
        if (ordered.contains(path)) {
            return;
        }
        if (!onStack.add(path)) {
            throw new IOException("dependency cycle in modules.dep at " + path);
        }
        for (String dep : deps.getOrDefault(path, List.of())) {
            visit(dep, deps, ordered, onStack);
        }
        onStack.remove(path);
        ordered.add(path);
    }

    /** "kernel/drivers/vfio/pci/vfio-pci.ko" -> "vfio_pci": the kernel treats '-' and '_' alike in module names. */
    static String moduleName(String path) {
        String base = path.substring(path.lastIndexOf('/') + 1);
        int dot = base.indexOf(".ko");
        return (dot < 0 ? base : base.substring(0, dot)).replace('-', '_');
    }

    private static byte[] resource(String name) {
        try (InputStream in = GuestInitramfs.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("test resource " + name + " is missing from the test classpath");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /**
     * The "newc" cpio format the kernel unpacks: per entry a 110-byte ASCII header ("070701" and 13
     * eight-digit hex fields), the NUL-terminated name padded to 4 bytes, then the data padded to 4 bytes;
     * the archive ends with an entry named TRAILER!!!.
     */
    static final class NewcWriter {
        private final OutputStream out;
        private long written;
        private int ino = 1;

        NewcWriter(OutputStream out) {
            this.out = out;
        }

        void directory(String name) throws IOException {
            entry(name, 0040755, 2, 0, 0, new byte[0]);
        }

        void file(String name, int perm, byte[] data) throws IOException {
            entry(name, 0100000 | perm, 1, 0, 0, data);
        }

        void charDevice(String name, int major, int minor) throws IOException {
            entry(name, 0020600, 1, major, minor, new byte[0]);
        }

        void trailer() throws IOException {
            ino = 0;
            entry("TRAILER!!!", 0, 1, 0, 0, new byte[0]);
            out.flush();
        }

        private void entry(String name, int mode, int nlink, int rdevMajor, int rdevMinor, byte[] data) throws IOException {
            byte[] nameBytes = name.getBytes(StandardCharsets.US_ASCII);
            ByteArrayOutputStream h = new ByteArrayOutputStream(128);
            h.writeBytes("070701".getBytes(StandardCharsets.US_ASCII));
            long[] fields = {ino == 0 ? 0 : ino++, mode, 0, 0, nlink, 0, data.length, 0, 0, rdevMajor, rdevMinor,
                nameBytes.length + 1, 0};
            for (long f : fields) {
                h.writeBytes(String.format("%08x", f).getBytes(StandardCharsets.US_ASCII));
            }
            h.writeBytes(nameBytes);
            h.write(0);
            write(h.toByteArray());
            pad();
            write(data);
            pad();
        }

        private void write(byte[] b) throws IOException {
            out.write(b);
            written += b.length;
        }

        private void pad() throws IOException {
            while (written % 4 != 0) {
                out.write(0);
                written++;
            }
        }
    }
}
