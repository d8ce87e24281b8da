package org.orionos.host.guest;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What a test guest looks like: its memory, CPUs, extra kernel arguments, the disk images it gets
 * (fresh, sparse, one set per boot) and the QEMU devices on top of them. Value semantics: two equal
 * specs can share one boot, which is how {@link GuestSuiteIT} groups guest test classes.
 *
 * <pre>{@code
 * GuestSpec.builder()
 *     .nvme("orion0", 1L << 30)                          // NVMe controller, serial orion0, one 1 GiB namespace
 *     .zonedNvme("zns0", 1L << 30, 64L << 20)             // a controller with a zoned namespace, 64 MiB zones
 *     .nvmeSubsystem("orionss", 256L << 20, 2)            // one subsystem, two controllers, one shared namespace
 *     .image("raw1", 4L << 30)                            // a bare image for hand-built devices ...
 *     .device("nvme,id=ctrl9,serial=orion9")
 *     .device("nvme-ns,drive=raw1,bus=ctrl9,nsid=1")      // ... attached however a test needs
 *     .append("nvme_core.multipath=N")
 *     .build();
 * }</pre>
 *
 * @param memoryMiB  guest RAM
 * @param cpus       guest vCPUs (TCG runs one host thread per vCPU)
 * @param append     extra kernel command-line arguments
 * @param images     disk images created empty for each boot; a device refers to one by its id as {@code drive=ID}
 * @param devices    QEMU {@code -device} values, in order
 * @param qemuArgs   any other QEMU arguments, passed as given
 * @param timeout    bound on the whole boot, from QEMU start to power-off
 */
public record GuestSpec(int memoryMiB, int cpus, List<String> append, List<Image> images, List<String> devices,
                        List<String> qemuArgs, Duration timeout) {

    private static final Pattern ID = Pattern.compile("[A-Za-z][A-Za-z0-9_-]{0,30}");

    /** A raw disk image, created sparse and empty for every boot and attached as QEMU drive {@code id}. */
    public record Image(String id, long sizeBytes) {
        public Image {
            if (!ID.matcher(id).matches()) {
                throw new IllegalArgumentException("image id '" + id + "': use a letter then letters, digits, '-' or '_'");
            }
            if (sizeBytes <= 0 || sizeBytes % 512 != 0) {
                throw new IllegalArgumentException("image " + id + ": size " + sizeBytes + " must be a positive multiple of 512");
            }
        }
    }

    public GuestSpec {
        append = List.copyOf(append);
        images = List.copyOf(images);
        devices = List.copyOf(devices);
        qemuArgs = List.copyOf(qemuArgs);
        Objects.requireNonNull(timeout, "timeout");
        if (memoryMiB < 256) {
            throw new IllegalArgumentException("memoryMiB " + memoryMiB + ": a guest running a JVM needs at least 256");
        }
        if (cpus < 1) {
            throw new IllegalArgumentException("cpus " + cpus + " must be >= 1");
        }
        if (images.stream().map(Image::id).distinct().count() != images.size()) {
            throw new IllegalArgumentException("image ids must be distinct: " + images);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder; every call adds to what was set before. */
    public static final class Builder {
        private int memoryMiB = 1536;
        private int cpus = 2;
        private final List<String> append = new ArrayList<>();
        private final List<Image> images = new ArrayList<>();
        private final List<String> devices = new ArrayList<>();
        private final List<String> qemuArgs = new ArrayList<>();
        private Duration timeout = Duration.ofMinutes(10);

        private Builder() {
        }

        /** An NVMe controller with serial {@code serial} and one namespace backed by a fresh image of {@code sizeBytes}. */
        public Builder nvme(String serial, long sizeBytes) {
            String id = "nvm-" + serial;
            image(id, sizeBytes);
            return device("nvme,serial=" + serial + ",drive=" + id);
        }

        /**
         * An NVMe controller with serial {@code serial} whose namespace 1 is zoned (ZNS) with zones of
         * {@code zoneBytes}; {@code sizeBytes} must be a multiple of it.
         */
        public Builder zonedNvme(String serial, long sizeBytes, long zoneBytes) {
            if (zoneBytes <= 0 || sizeBytes % zoneBytes != 0) {
                throw new IllegalArgumentException("zoned namespace " + serial + ": size " + sizeBytes
                        + " must be a positive multiple of the zone size " + zoneBytes);
            }
            String ctrl = "ctl-" + serial;
            String id = "zns-" + serial;
            image(id, sizeBytes);
            device("nvme,id=" + ctrl + ",serial=" + serial);
            return device("nvme-ns,drive=" + id + ",bus=" + ctrl + ",nsid=1,zoned=on,zoned.zone_size=" + zoneBytes);
        }

        /**
         * An NVMe subsystem {@code nqn} with {@code controllers} controllers (one serial, as the spec
         * wants for one subsystem) that all see one shared namespace of {@code sizeBytes}: two or more
         * paths to one namespace, for multipath tests.
         */
        public Builder nvmeSubsystem(String nqn, long sizeBytes, int controllers) {
            if (controllers < 1) {
                throw new IllegalArgumentException("subsystem " + nqn + ": needs at least one controller");
            }
            String subsys = "ss-" + nqn;
            device("nvme-subsys,id=" + subsys + ",nqn=" + nqn);
            for (int i = 0; i < controllers; i++) {
                device("nvme,id=" + subsys + "-c" + i + ",serial=" + nqn + ",subsys=" + subsys);
            }
            String id = "ns-" + nqn;
            image(id, sizeBytes);
            // no bus: a shared namespace of a subsystem attaches to every controller in it
            return device("nvme-ns,drive=" + id + ",nsid=1,shared=on");
        }

        /** A fresh empty image attached as drive {@code id} (no device: add one with {@link #device}). */
        public Builder image(String id, long sizeBytes) {
            images.add(new Image(id, sizeBytes));
            return this;
        }

        /** A QEMU {@code -device} value, e.g. {@code nvme-subsys,id=subsys0,nqn=orion}. */
        public Builder device(String device) {
            devices.add(Objects.requireNonNull(device));
            return this;
        }

        /** Kernel command-line arguments appended to the harness's own, e.g. {@code nvme_core.multipath=N}. */
        public Builder append(String kernelArgs) {
            append.add(Objects.requireNonNull(kernelArgs));
            return this;
        }

        /** Other QEMU arguments, passed as given. */
        public Builder qemu(String... args) {
            qemuArgs.addAll(List.of(args));
            return this;
        }

        public Builder memoryMiB(int mib) {
            memoryMiB = mib;
            return this;
        }

        public Builder cpus(int n) {
            cpus = n;
            return this;
        }

        public Builder timeout(Duration t) {
            timeout = t;
            return this;
        }

        public GuestSpec build() {
            return new GuestSpec(memoryMiB, cpus, append, images, devices, qemuArgs, timeout);
        }
    }
}
