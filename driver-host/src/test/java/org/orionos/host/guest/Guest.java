package org.orionos.host.guest;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Boots one QEMU guest (TCG, q35, {@code -cpu max}, emulated Intel IOMMU) on the host's Debian
 * kernel, with the host's / mounted read-only over virtio-9p and a fresh writable out folder at
 * /tmp/out, runs a shell script in it as root and powers it off.
 *
 * <p>Each boot gets its own folder under the work root: {@code out/} (shared with the guest:
 * {@code guest-script}, {@code guest-log}, {@code guest-rc} and whatever the script writes),
 * {@code images/} (the spec's disk images, deleted after the boot) and {@code console.log}.
 */
public final class Guest {

    /** Kernel arguments every boot gets: serial console, no reboot loop on panic, the IOMMU that VFIO needs. */
    // no_timer_check: under TCG on a loaded host the IO-APIC timer probe can miss its ticks, and with
    // interrupt remapping (the emulated IOMMU) the kernel then panics before init ("timer doesn't
    // work through Interrupt-remapped IO-APIC"). The timer works; only the probe is impatient.
    static final String BASE_APPEND = "console=ttyS0 quiet panic=-1 intel_iommu=on iommu=pt no_timer_check";

    private Guest() {
    }

    /** Boots {@code spec}, runs {@code script} (POSIX sh, cwd /tmp/out) and returns how it ended. */
    public static GuestResult run(GuestHost host, GuestSpec spec, String script, Path workRoot) throws IOException, InterruptedException {
        Path initrd = GuestInitramfs.forHost(host);
        Files.createDirectories(workRoot);
        Path boot = Files.createTempDirectory(workRoot, "boot-");
        Path out = Files.createDirectory(boot.resolve("out"));
        Path images = Files.createDirectory(boot.resolve("images"));
        Path console = boot.resolve("console.log");
        Files.writeString(out.resolve("guest-script"), script);

        List<String> cmd = new ArrayList<>(List.of(host.qemu().toString(),
                "-machine", "q35", "-cpu", "max", "-accel", "tcg,thread=multi",
                "-smp", Integer.toString(spec.cpus()), "-m", spec.memoryMiB() + "M",
                "-nodefaults", "-display", "none", "-monitor", "none", "-serial", "stdio", "-nic", "none", "-no-reboot",
                "-device", "intel-iommu",
                "-kernel", host.kernel().toString(), "-initrd", initrd.toString(),
                "-append", String.join(" ", BASE_APPEND, String.join(" ", spec.append())).strip(),
                "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
                "-virtfs", "local,path=" + qemuEscape(out.toString()) + ",mount_tag=out,security_model=none"));
        for (GuestSpec.Image image : spec.images()) {
            Path file = images.resolve(image.id() + ".img");
            try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
                f.setLength(image.sizeBytes()); // sparse: costs no space until the guest writes
            }
            cmd.addAll(List.of("-drive", "file=" + qemuEscape(file.toString()) + ",if=none,id=" + image.id() + ",format=raw"));
        }
        for (String device : spec.devices()) {
            cmd.addAll(List.of("-device", device));
        }
        cmd.addAll(spec.qemuArgs());
        Files.writeString(boot.resolve("qemu-command"), String.join(" ", cmd) + "\n");

        long start = System.nanoTime();
        Process qemu = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(console.toFile()).start();
        boolean timedOut = false;
        try {
            if (!qemu.waitFor(spec.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
                timedOut = true;
                qemu.destroy();
                if (!qemu.waitFor(5, TimeUnit.SECONDS)) {
                    qemu.destroyForcibly().waitFor();
                }
            }
        } finally {
            if (qemu.isAlive()) { // interrupted: leave no guest behind
                qemu.destroyForcibly();
            }
        }
        Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
        for (GuestSpec.Image image : spec.images()) {
            Files.deleteIfExists(images.resolve(image.id() + ".img"));
        }
        int status = GuestResult.NO_STATUS;
        Path rc = out.resolve("guest-rc");
        if (Files.isRegularFile(rc)) {
            String s = Files.readString(rc).strip();
            if (s.matches("\\d{1,3}")) {
                status = Integer.parseInt(s);
            }
        }
        return new GuestResult(status, timedOut, read(out.resolve("guest-log")), read(console), out, elapsed);
    }

    /** QEMU option values separate on ',': a literal comma is written twice. */
    static String qemuEscape(String value) {
        return value.replace(",", ",,");
    }

    private static String read(Path p) throws IOException {
        return Files.isRegularFile(p) ? new String(Files.readAllBytes(p), StandardCharsets.UTF_8) : "";
    }
}
