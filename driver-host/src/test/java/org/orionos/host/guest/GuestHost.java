package org.orionos.host.guest;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

/**
 * What the host must provide to boot a test guest: QEMU, a Debian kernel with its module tree, a
 * statically linked busybox, and kmod's modprobe (the guest runs the host's, on the host's module tree). {@link #find()} either returns all of them or says exactly what is
 * missing and what to install.
 *
 * @param qemu        qemu-system-x86_64
 * @param kernel      the kernel image (/boot/vmlinuz-VERSION)
 * @param kernelVersion VERSION, also the name of its folder under /lib/modules
 * @param busybox     a static busybox for the initramfs
 */
public record GuestHost(Path qemu, Path kernel, String kernelVersion, Path busybox) {

    /** Environment variable naming the guest kernel (/boot/vmlinuz-VERSION) when the newest one is not wanted. */
    public static final String KERNEL_ENV = "ORION_GUEST_KERNEL";

    /** The Debian packages that provide everything {@link #find()} looks for. */
    public static final String INSTALL = "apt-get install qemu-system-x86 linux-image-amd64 busybox-static kmod";

    /** The outcome of {@link #find()}: a host, or why there is none. */
    public sealed interface Lookup permits Found, Missing {
    }

    public record Found(GuestHost host) implements Lookup {
    }

    public record Missing(String reason) implements Lookup {
        /** The reason plus what to install, for a skip or a failure message. */
        public String message() {
            return "guest-kernel tests cannot run: " + reason + ". Install what they need with: " + INSTALL
                    + " (or scripts/install-deps)";
        }
    }

    /**
     * The host's guest tools for a test: when something is missing the test is skipped with
     * {@link Missing#message()}, or fails with it under {@code CI=true}, where guest tests must run.
     */
    public static GuestHost requireOrSkip() {
        return switch (find()) {
            case Found f -> f.host();
            case Missing m -> {
                if ("true".equals(System.getenv("CI"))) {
                    throw new AssertionFailedError(m.message() + " [CI=true: guest-kernel tests must run, not skip]");
                }
                throw new TestAbortedException(m.message());
            }
        };
    }

    public static Lookup find() {
        List<String> missing = new ArrayList<>();
        Optional<Path> qemu = onPath("qemu-system-x86_64");
        if (qemu.isEmpty()) {
            missing.add("qemu-system-x86_64 is not on PATH");
        }
        String chosen = System.getenv(KERNEL_ENV);
        Optional<Path> kernel = chosen == null || chosen.isBlank() ? newestKernel() : Optional.of(Path.of(chosen));
        if (kernel.isEmpty()) {
            missing.add(unreadableKernel().map(k -> k + " is not readable by this user (run as root, or chmod a+r it)")
                    .orElse("no /boot/vmlinuz-* with a matching /lib/modules/VERSION/modules.dep"));
        } else if (!kernel.get().getFileName().toString().startsWith("vmlinuz-") || !Files.isReadable(kernel.get())
                || !Files.isRegularFile(Path.of("/lib/modules", kernel.get().getFileName().toString().substring(8), "modules.dep"))) {
            missing.add(KERNEL_ENV + "=" + chosen + " is not a readable /boot/vmlinuz-VERSION with /lib/modules/VERSION/modules.dep");
        }
        Optional<Path> busybox = Stream.of("/bin/busybox", "/usr/bin/busybox").map(Path::of)
                .filter(GuestHost::isStaticExecutable).findFirst();
        if (busybox.isEmpty()) {
            missing.add("no statically linked busybox at /bin/busybox (busybox-static)");
        }
        if (!Files.isExecutable(Path.of("/sbin/modprobe"))) {
            missing.add("no /sbin/modprobe (kmod), which the guest uses from the host's root to load drivers");
        }
        if (!missing.isEmpty()) {
            return new Missing(String.join("; ", missing));
        }
        String version = kernel.get().getFileName().toString().substring("vmlinuz-".length());
        return new Found(new GuestHost(qemu.get(), kernel.get(), version, busybox.get()));
    }

    /** The guest's module tree: the host's, seen at the same path inside the guest. */
    public Path modules() {
        return Path.of("/lib/modules", kernelVersion);
    }

    private static Optional<Path> onPath(String name) {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : path.split(":")) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    private static Optional<Path> newestKernel() {
        try (Stream<Path> s = Files.list(Path.of("/boot"))) {
            return s.filter(p -> p.getFileName().toString().startsWith("vmlinuz-"))
                    .filter(p -> Files.isReadable(p))
                    .filter(p -> Files.isRegularFile(Path.of("/lib/modules",
                            p.getFileName().toString().substring("vmlinuz-".length()), "modules.dep")))
                    .max(Comparator.comparing(p -> p.getFileName().toString(), GuestHost::compareVersions));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static Optional<Path> unreadableKernel() {
        try (Stream<Path> s = Files.list(Path.of("/boot"))) {
            return s.filter(p -> p.getFileName().toString().startsWith("vmlinuz-") && !Files.isReadable(p)).findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Orders "6.1.0-56-amd64" before "6.10.0-1-amd64": numeric runs compare as numbers. */
    static int compareVersions(String a, String b) {
        String[] x = a.split("(?<=\\d)(?=\\D)|(?<=\\D)(?=\\d)");
        String[] y = b.split("(?<=\\d)(?=\\D)|(?<=\\D)(?=\\d)");
        for (int i = 0; i < Math.min(x.length, y.length); i++) {
            boolean nx = Character.isDigit(x[i].charAt(0));
            boolean ny = Character.isDigit(y[i].charAt(0));
            int c = nx && ny ? Long.compare(Long.parseLong(x[i]), Long.parseLong(y[i])) : x[i].compareTo(y[i]);
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(x.length, y.length);
    }

    /** An ELF executable without a PT_INTERP program header needs no dynamic loader, so it runs alone in an initramfs. */
    static boolean isStaticExecutable(Path p) {
        if (!Files.isRegularFile(p) || !Files.isExecutable(p)) {
            return false;
        }
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "r")) {
            byte[] ident = new byte[16];
            f.readFully(ident);
            // ELF magic, 64-bit class, little endian: the only kind an x86-64 guest runs
            if (ident[0] != 0x7f || ident[1] != 'E' || ident[2] != 'L' || ident[3] != 'F' || ident[4] != 2 || ident[5] != 1) {
                return false;
            }
            f.seek(0x20);
            long phoff = Long.reverseBytes(f.readLong());
            f.seek(0x36);
            int phentsize = Short.toUnsignedInt(Short.reverseBytes(f.readShort()));
            int phnum = Short.toUnsignedInt(Short.reverseBytes(f.readShort()));
            for (int i = 0; i < phnum; i++) {
                f.seek(phoff + (long) i * phentsize);
                if (Integer.reverseBytes(f.readInt()) == 3) { // PT_INTERP
                    return false;
                }
            }
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
