package org.orionos.host.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.backend.FileBdev;
import org.orionos.host.control.ControlClient;
import org.orionos.host.control.ControlException;
import org.orionos.host.lvm.LvmControl;
import org.orionos.host.lvm.LvmReport;
import org.orionos.host.lvm.LvmScan;
import org.orionos.host.lvm.VgLock;
import org.orionos.host.lvm.VolumeGroup;
import org.orionos.host.lvm.metadata.FileMetadataIo;
import org.orionos.host.lvm.metadata.LogicalVolumeMetadata;
import org.orionos.host.lvm.metadata.MetadataIo;
import org.orionos.host.lvm.metadata.OfflineVolumeGroup;
import org.orionos.host.lvm.metadata.PhysicalVolumeFormatter;
import org.orionos.host.lvm.metadata.RaidSegments;
import org.orionos.host.lvm.metadata.SegmentTypes;
import org.orionos.host.lvm.metadata.VolumeGroupMetadata;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code orion lvm ...}: lvm2's commands and options, writing LVM2's own metadata. A VG that a
 * running host has active (it answers on {@code --control-socket}) is changed by that host:
 * lvs, vgs, lvcreate, lvresize and lvremove are sent there. Any other VG is changed offline on
 * device paths (block devices or image files) under the VG's {@link VgLock}, which a running host
 * holds for its VGs, so there is never a second writer. Every refusal (not enough free extents,
 * a shrink without {@code --force}, a volume the kernel has open) is decided before anything is
 * written. Which way a command went is said in one line on stderr.
 */
@Command(name = "lvm", mixinStandardHelpOptions = true,
        description = "Volume manager commands in lvm2's vocabulary: through the running host for the VGs it has "
                + "active, else offline on device paths.",
        subcommands = {LvmCommand.PvCreate.class, LvmCommand.VgCreate.class, LvmCommand.VgExtend.class,
            LvmCommand.VgReduce.class, LvmCommand.LvCreate.class, LvmCommand.LvResize.class,
            LvmCommand.LvRemove.class, LvmCommand.Pvs.class, LvmCommand.Vgs.class, LvmCommand.Lvs.class,
            LvmCommand.LvConvert.class, LvmCommand.LvChange.class, LvmCommand.PvMove.class, LvmBenchCommand.class})
public final class LvmCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Options every subcommand takes, and error reporting lvm2-style (message, non-zero exit). */
    abstract static class Base implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--devices", split = ",", paramLabel = "DEV",
                description = "Only look at these devices (block devices or image files); default: every block device.")
        List<Path> devices = new ArrayList<>();

        @Option(names = "--control-socket", paramLabel = "PATH",
                description = "Management socket of a running orion host (default: ${DEFAULT-VALUE}); its active VGs "
                        + "are changed through it.")
        Path controlSocket = ControlClient.DEFAULT_SOCKET;

        /** Held while an offline command changes a VG. */
        private VgLock offlineLock;

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        void note(String line) {
            spec.commandLine().getErr().println("  " + line);
            spec.commandLine().getErr().flush();
        }

        @Override
        public final Integer call() {
            try {
                run();
                out().flush();
                return 0;
            } catch (ErrnoException | IllegalArgumentException | ControlException e) {
                out().flush();
                spec.commandLine().getErr().println("  " + e.getMessage());
                spec.commandLine().getErr().flush();
                return 5; // lvm2's ECMD_FAILED
            } finally {
                if (offlineLock != null) {
                    offlineLock.close();
                    offlineLock = null;
                }
            }
        }

        abstract void run();

        /** The VGs the host on {@link #controlSocket} has active; empty when no host answers. */
        List<String> hostVgs() {
            if (!ControlClient.hostRunning(controlSocket)) {
                return List.of();
            }
            List<String> out = new ArrayList<>();
            ControlClient.call(controlSocket, "lvm.active", null).path("vgs").forEach(n -> out.add(n.asText()));
            return out;
        }

        /**
         * Where a change to VG {@code vg} runs: true when the running host has it active (the
         * caller sends the operation there); false after taking the VG's offline lock, which fails
         * when another host or command holds it. {@code remote} says whether the command can run
         * on the host at all.
         */
        boolean viaHost(String vg, String cmd, boolean remote) {
            if (hostVgs().contains(vg)) {
                if (!remote) {
                    throw ErrnoException.withMessage(Errno.EBUSY, cmd, vg, "VG " + vg + " is active in the orion host on "
                            + controlSocket + ", and orion lvm " + cmd + " runs offline only; stop the host first");
                }
                note("Using the running orion host on " + controlSocket + " (VG " + vg + " is active there).");
                return true;
            }
            offlineLock = VgLock.acquire(vg, "orion lvm " + cmd + " (pid " + ProcessHandle.current().pid() + ")");
            note("Offline on the VG's devices (no orion host on " + controlSocket + " has VG " + vg + " active).");
            return false;
        }

        ObjectNode args() {
            return JSON.createObjectNode();
        }

        LvmScan scan() {
            return LvmScan.of(devices);
        }

        /** Refuses a device that is a PV of some VG, before anything is written. */
        static void requireNotInVg(LvmScan scan, Path dev, String op) {
            LvmScan.Pv pv = scan.pv(dev);
            if (pv != null && pv.vg() != null) {
                throw new ErrnoException(Errno.EBUSY, op, dev.toString(), "the device is a PV of VG " + pv.vg().name()
                        + "; vgreduce it from there first");
            }
        }

        LvmScan scanWith(List<Path> extra) {
            List<Path> all = new ArrayList<>(devices);
            if (!devices.isEmpty()) {
                for (Path p : extra) {
                    if (!all.contains(p)) {
                        all.add(p);
                    }
                }
            }
            return LvmScan.of(all);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    /** lvm2 sizes: a number with an optional unit (b s k m g t, any case); bare numbers are {@code defaultUnit}. */
    static long parseSize(String text, char defaultUnit) {
        return LvmControl.parseSize(text, defaultUnit);
    }

    static OfflineVolumeGroup openVg(LvmScan scan, String vg) {
        return OfflineVolumeGroup.open(scan.devicesOf(vg));
    }

    /** Refuses to change a volume the kernel has mapped (device-mapper, e.g. after vgchange -ay). */
    static void requireNotActive(String vg, String lv, String op) {
        String mapper = vg.replace("-", "--") + "-" + lv.replace("-", "--");
        if (Files.exists(Path.of("/dev/mapper", mapper))) {
            throw new ErrnoException(Errno.EBUSY, op, vg + "/" + lv, "the volume is active in the kernel as /dev/mapper/"
                    + mapper + "; deactivate it first (vgchange -an " + vg + ")");
        }
    }

    @Command(name = "pvcreate", description = "Initialize devices as physical volumes.")
    static final class PvCreate extends Base {
        @Parameters(arity = "1..*", paramLabel = "DEV")
        List<Path> targets;

        @Option(names = "--pvmetadatacopies", defaultValue = "1")
        int copies;

        @Override
        void run() {
            LvmScan scan = scanWith(targets);
            for (Path d : targets) {
                requireNotInVg(scan, d, "pvcreate");
            }
            for (Path d : targets) {
                try (FileMetadataIo io = FileMetadataIo.open(d, true)) {
                    PhysicalVolumeFormatter.format(io, PhysicalVolumeFormatter.Options.defaults()
                            .withMetadataCopies(copies));
                }
                out().println("  Physical volume \"" + d + "\" successfully created.");
            }
        }
    }

    @Command(name = "vgcreate", description = "Create a volume group.")
    static final class VgCreate extends Base {
        @Option(names = {"-s", "--physicalextentsize"}, defaultValue = "4m")
        String extentSize;

        @Parameters(index = "0", paramLabel = "VG")
        String vg;

        @Parameters(index = "1..*", arity = "1..*", paramLabel = "DEV")
        List<Path> targets;

        @Override
        void run() {
            LvmScan scan = scanWith(targets);
            for (Path d : targets) {
                requireNotInVg(scan, d, "vgcreate " + vg);
            }
            if (scan.vgs().stream().anyMatch(v -> v.name().equals(vg))) {
                throw new ErrnoException(Errno.EEXIST, "vgcreate", vg, "a VG of that name exists");
            }
            long sectors = parseSize(extentSize, 'm') / 512;
            OfflineVolumeGroup.create(vg, targets, sectors, PhysicalVolumeFormatter.Options.defaults()).close();
            out().println("  Volume group \"" + vg + "\" successfully created");
        }
    }

    @Command(name = "vgextend", description = "Add physical volumes to a volume group.")
    static final class VgExtend extends Base {
        @Parameters(index = "0", paramLabel = "VG")
        String vg;

        @Parameters(index = "1..*", arity = "1..*", paramLabel = "DEV")
        List<Path> targets;

        @Override
        void run() {
            viaHost(vg, "vgextend", false);
            LvmScan scan = scanWith(targets);
            for (Path d : targets) {
                requireNotInVg(scan, d, "vgextend " + vg);
            }
            try (OfflineVolumeGroup g = openVg(scan, vg)) {
                List<MetadataIo> ios = new ArrayList<>();
                for (Path d : targets) {
                    ios.add(FileMetadataIo.open(d, true));
                }
                g.extend(ios, true, PhysicalVolumeFormatter.Options.defaults());
            }
            out().println("  Volume group \"" + vg + "\" successfully extended");
        }
    }

    @Command(name = "vgreduce", description = "Remove unused physical volumes from a volume group.")
    static final class VgReduce extends Base {
        @Parameters(index = "0", paramLabel = "VG")
        String vg;

        @Parameters(index = "1..*", arity = "1..*", paramLabel = "DEV")
        List<Path> targets;

        @Override
        void run() {
            viaHost(vg, "vgreduce", false);
            try (OfflineVolumeGroup g = openVg(scan(), vg)) {
                g.reduce(targets.stream().map(Path::toString).toList());
            }
            for (Path d : targets) {
                out().println("  Removed \"" + d + "\" from volume group \"" + vg + "\"");
            }
        }
    }

    /**
     * Runs {@code fn} on VG {@code vg} opened on a one-reactor host over its device paths: the
     * commands that move data or format a thin pool's mappings go through the block-device layer.
     */
    static <T> T online(LvmScan scan, String vg, java.util.function.Function<VolumeGroup, T> fn) {
        List<Path> paths = scan.devicesOf(vg);
        List<BlockDevice> devs = new ArrayList<>();
        try (BdevHost host = BdevHost.start(1, 16L << 20)) {
            try {
                for (int i = 0; i < paths.size(); i++) {
                    devs.add(FileBdev.open("pv" + i, paths.get(i), 0, 512, "auto"));
                }
                try (VolumeGroup g = VolumeGroup.open(host, devs)) {
                    return fn.apply(g);
                }
            } finally {
                devs.forEach(BlockDevice::close);
            }
        }
    }

    /** The device opened for {@code path} by {@link #online}, by its position in the VG's device list. */
    static BlockDevice deviceOf(VolumeGroup g, LvmScan scan, String vg, Path path) {
        List<Path> paths = scan.devicesOf(vg);
        for (int i = 0; i < paths.size(); i++) {
            if (paths.get(i).equals(path)) {
                for (BlockDevice d : g.physicalVolumes()) {
                    if (d.name().equals("pv" + i)) {
                        return d;
                    }
                }
            }
        }
        throw new ErrnoException(Errno.ENODEV, "pvmove", path.toString(), "not a PV of VG " + vg);
    }

    @Command(name = "lvcreate", description = "Create a linear, striped, raid1 (mirror), raid5, raid6, thin-pool or thin "
            + "volume, or a thin snapshot (-s).")
    static final class LvCreate extends Base {
        @Option(names = {"-n", "--name"}, required = true)
        String name;

        @Option(names = {"-L", "--size"})
        String size;

        @Option(names = {"-l", "--extents"})
        Long extents;

        @Option(names = {"-i", "--stripes"}, defaultValue = "1")
        int stripes;

        @Option(names = {"-I", "--stripesize"}, defaultValue = "64k")
        String stripeSize;

        @Option(names = "--type", defaultValue = "")
        String type;

        @Option(names = {"-m", "--mirrors"}, description = "Copies besides the original (raid1/mirror; implies --type raid1).")
        Integer mirrors;

        @Option(names = "--nosync", description = "Skip the initial sync of a new raid volume (lvm2's NOTSYNCED).")
        boolean nosync;

        @Option(names = {"-R", "--regionsize"}, defaultValue = "2m", description = "Raid bitmap region size (default ${DEFAULT-VALUE}).")
        String regionSize;

        @Option(names = {"-V", "--virtualsize"}, description = "Size of a thin volume.")
        String virtualSize;

        @Option(names = {"--thinpool"}, description = "Pool of a thin volume.")
        String thinPool;

        @Option(names = {"-c", "--chunksize"}, defaultValue = "64k", description = "Thin-pool chunk size (default ${DEFAULT-VALUE}).")
        String chunkSize;

        @Option(names = "--poolmetadatasize", description = "Size of a thin pool's metadata volume (default: one extent or more).")
        String poolMetadataSize;

        @Option(names = {"-s", "--snapshot"}, description = "Thin snapshot of VG/LV (no size).")
        boolean snapshot;

        @Option(names = {"-p", "--permission"}, defaultValue = "rw", description = "rw or r (a read-only snapshot).")
        String permission;

        @Parameters(index = "0", paramLabel = "VG|VG/ORIGIN")
        String vg;

        @Override
        void run() {
            String vgName = snapshot ? splitLv(vg)[0] : vg;
            if (viaHost(vgName, "lvcreate", true)) {
                remote();
                return;
            }
            if (snapshot) {
                String[] vl = splitLv(vg);
                if (size != null || extents != null) {
                    throw new ErrnoException(Errno.EOPNOTSUPP, "lvcreate -s", vg, "orion makes thin snapshots only, "
                            + "which take no size; drop -L/-l");
                }
                if (!permission.equals("r") && !permission.equals("rw")) {
                    throw new IllegalArgumentException("-p takes r or rw, got " + permission);
                }
                online(scan(), vl[0], g -> g.snapshot(vl[1], name, permission.equals("r")));
                out().println("  Logical volume \"" + name + "\" created.");
                return;
            }
            String t = type();
            int[] raid = raidImages(t);
            if (raid != null) {
                if ((size == null) == (extents == null)) {
                    throw new IllegalArgumentException("give the size with exactly one of -L SIZE or -l EXTENTS");
                }
                String rt = t.equals(SegmentTypes.MIRROR) ? SegmentTypes.RAID1 : t;
                if (t.equals(SegmentTypes.MIRROR)) {
                    out().println("  orion makes --type mirror as raid1 (lvm2's default mirror segment type).");
                }
                online(scan(), vg, g -> {
                    long ext = g.metadata().extentSize() * 512;
                    long n = extents != null ? extents : (parseSize(size, 'm') + ext - 1) / ext;
                    return g.createRaid(name, rt, raid[0], n, parseSize(stripeSize, 'k') / 512,
                            parseSize(regionSize, 'k') / 512, nosync);
                });
                out().println("  Logical volume \"" + name + "\" created.");
                return;
            }
            if (t.equals("thin")) {
                if (virtualSize == null || thinPool == null || size != null || extents != null) {
                    throw new IllegalArgumentException("--type thin takes --thinpool POOL and -V SIZE (and no -L/-l)");
                }
                long bytes = parseSize(virtualSize, 'm');
                online(scan(), vg, g -> g.createThin(name, thinPool, bytes));
                out().println("  Logical volume \"" + name + "\" created.");
                return;
            }
            if ((size == null) == (extents == null)) {
                throw new IllegalArgumentException("give the size with exactly one of -L SIZE or -l EXTENTS");
            }
            if (t.equals("thin-pool")) {
                long chunk = parseSize(chunkSize, 'k') / 512;
                online(scan(), vg, g -> {
                    long ext = g.metadata().extentSize() * 512;
                    long n = extents != null ? extents : (parseSize(size, 'm') + ext - 1) / ext;
                    // Default: room for every chunk mapped twice over in each of the two slots.
                    long metaBytes = poolMetadataSize != null ? parseSize(poolMetadataSize, 'm')
                            : 2 * (4096 + 2 * 24 * (n * ext / (chunk * 512)) + 4096);
                    return g.createThinPool(name, n, Math.max(1, (metaBytes + ext - 1) / ext), chunk);
                });
                out().println("  Thin pool volume with chunk size " + (chunk / 2) + ".00 KiB can address at most 64.00 TiB of data.");
                out().println("  Logical volume \"" + name + "\" created.");
                return;
            }
            if (!t.equals("linear") && !t.equals("striped")) {
                throw new ErrnoException(Errno.EOPNOTSUPP, "lvcreate --type " + t, vg, "orion lvm creates linear, "
                        + "striped, mirror/raid1, raid5, raid6, thin-pool and thin volumes, not " + t);
            }
            if (t.equals("striped") && stripes < 2) {
                throw new IllegalArgumentException("--type striped needs -i 2 or more stripes");
            }
            if (t.equals("linear") && stripes > 1) {
                throw new IllegalArgumentException("--type linear takes no -i " + stripes);
            }
            try (OfflineVolumeGroup g = openVg(scan(), vg)) {
                long ext = g.metadata().extentSize() * 512;
                long n = extents != null ? extents : (parseSize(size, 'm') + ext - 1) / ext;
                LogicalVolumeMetadata lv = stripes > 1
                        ? g.createStriped(name, n, stripes, parseSize(stripeSize, 'k') / 512)
                        : g.createLinear(name, n);
                out().println("  Logical volume \"" + lv.name() + "\" created.");
            }
        }

        /** --type, or what lvm2 infers: thin with -V, raid1 with -m, striped with -i, else linear. */
        private String type() {
            if (!type.isEmpty()) {
                return type;
            }
            return virtualSize != null ? "thin" : mirrors != null && mirrors > 0 ? SegmentTypes.RAID1
                    : stripes > 1 ? "striped" : "linear";
        }

        /** {images} for a raid type (lvm2's -m N: N + 1 images; -i N: N data images plus parity), null otherwise. */
        private int[] raidImages(String t) {
            if (t.equals(SegmentTypes.MIRROR) || t.equals(SegmentTypes.RAID1)) {
                if (stripes > 1) {
                    throw new IllegalArgumentException("--type " + t + " takes -m COPIES, not -i");
                }
                return new int[] {(mirrors == null ? 1 : mirrors) + 1};
            }
            if (!RaidSegments.TYPES.contains(t)) {
                return null;
            }
            if (mirrors != null) {
                throw new IllegalArgumentException("--type " + t + " takes -i STRIPES, not -m");
            }
            int parity = RaidSegments.parityDevicesOf(t);
            // lvm2's defaults when -i is not given: 2 data stripes for raid5, 3 for raid6.
            int data = stripes > 1 ? stripes : parity == 2 ? 3 : 2;
            return new int[] {data + parity};
        }

        /** lvcreate on the running host: the new volume is also activated there as block device VG/LV. */
        private void remote() {
            ObjectNode a = args().put("name", name);
            if (snapshot) {
                String[] vl = splitLv(vg);
                if (size != null || extents != null) {
                    throw new ErrnoException(Errno.EOPNOTSUPP, "lvcreate -s", vg, "orion makes thin snapshots only, "
                            + "which take no size; drop -L/-l");
                }
                if (!permission.equals("r") && !permission.equals("rw")) {
                    throw new IllegalArgumentException("-p takes r or rw, got " + permission);
                }
                a.put("vg", vl[0]).put("type", "snapshot").put("origin", vl[1]).put("read_only", permission.equals("r"));
            } else {
                String t = type();
                int[] raid = raidImages(t);
                if (t.equals(SegmentTypes.MIRROR)) {
                    t = SegmentTypes.RAID1;
                }
                a.put("vg", vg).put("type", t);
                if (raid != null) {
                    a.put("images", raid[0]).put("region_sectors", parseSize(regionSize, 'k') / 512).put("nosync", nosync);
                }
                if (t.equals("thin")) {
                    if (virtualSize == null || thinPool == null || size != null || extents != null) {
                        throw new IllegalArgumentException("--type thin takes --thinpool POOL and -V SIZE (and no -L/-l)");
                    }
                    a.put("pool", thinPool).put("virtual_bytes", parseSize(virtualSize, 'm'));
                } else {
                    if ((size == null) == (extents == null)) {
                        throw new IllegalArgumentException("give the size with exactly one of -L SIZE or -l EXTENTS");
                    }
                    if (t.equals("striped") && stripes < 2) {
                        throw new IllegalArgumentException("--type striped needs -i 2 or more stripes");
                    }
                    if (t.equals("linear") && stripes > 1) {
                        throw new IllegalArgumentException("--type linear takes no -i " + stripes);
                    }
                    if (extents != null) {
                        a.put("extents", extents);
                    } else {
                        a.put("size_bytes", parseSize(size, 'm'));
                    }
                    a.put("stripes", stripes).put("stripe_sectors", parseSize(stripeSize, 'k') / 512)
                            .put("chunk_sectors", parseSize(chunkSize, 'k') / 512);
                    if (poolMetadataSize != null) {
                        a.put("meta_bytes", parseSize(poolMetadataSize, 'm'));
                    }
                }
            }
            JsonNode r = ControlClient.call(controlSocket, "lvm.lvcreate", a);
            out().println("  Logical volume \"" + name + "\" created" + (r.has("bdev") ? " and active as "
                    + r.path("bdev").asText() : "") + ".");
        }
    }

    @Command(name = "lvchange", description = "lvchange --rebuild PV VG/LV: rebuild the failed or stale images of a raid "
            + "volume that lie on PV, in place, from the other images.")
    static final class LvChange extends Base {
        @Option(names = "--rebuild", required = true, paramLabel = "PV", description = "The PV whose images to rebuild.")
        String rebuild;

        @Parameters(index = "0", paramLabel = "VG/LV")
        String target;

        @Override
        void run() {
            String[] vl = splitLv(target);
            viaHost(vl[0], "lvchange", false);
            LvmScan scan = scan();
            List<Integer> done = online(scan, vl[0], g -> {
                BlockDevice pv = deviceOf(g, scan, vl[0], Path.of(rebuild));
                String pvName = null;
                for (var p : g.metadata().physicalVolumes()) {
                    if (g.physicalVolumes().indexOf(pv) == g.metadata().physicalVolumes().indexOf(p)) {
                        pvName = p.name();
                    }
                }
                g.activateRaid(vl[1], target);
                return g.rebuildRaid(vl[1], pvName);
            });
            out().println("  " + target + ": images " + done + " rebuilt.");
        }
    }

    @Command(name = "lvconvert", description = "lvconvert --merge VG/SNAPSHOT: roll a thin origin back to its snapshot.")
    static final class LvConvert extends Base {
        @Option(names = "--merge", required = true, description = "Merge the snapshot into its origin.")
        boolean merge;

        @Parameters(index = "0", paramLabel = "VG/SNAPSHOT")
        String target;

        @Override
        void run() {
            String[] vl = splitLv(target);
            viaHost(vl[0], "lvconvert", false);
            online(scan(), vl[0], g -> {
                g.merge(vl[1]);
                return null;
            });
            out().println("  Merged " + target + " into its origin.");
        }
    }

    @Command(name = "pvmove", description = "Move the extents of a PV to another PV of its VG (or to any with room).")
    static final class PvMove extends Base {
        @Parameters(index = "0", paramLabel = "SOURCE")
        Path source;

        @Parameters(index = "1", arity = "0..1", paramLabel = "DESTINATION")
        Path destination;

        @Override
        void run() {
            LvmScan scan = scanWith(destination == null ? List.of(source) : List.of(source, destination));
            LvmScan.Pv pv = scan.pv(source);
            if (pv == null || pv.vg() == null) {
                throw new ErrnoException(Errno.EINVAL, "pvmove", source.toString(), "not a PV of any VG");
            }
            String vg = pv.vg().name();
            viaHost(vg, "pvmove", false);
            long moved = online(scan, vg, g -> g.pvmove(deviceOf(g, scan, vg, source),
                    destination == null ? null : deviceOf(g, scan, vg, destination)));
            out().println("  " + source + ": Moved: 100.00% (" + moved + " extents)");
        }
    }

    @Command(name = "lvresize", aliases = {"lvextend", "lvreduce"}, description = "Grow or shrink a logical volume.")
    static final class LvResize extends Base {
        @Option(names = {"-L", "--size"})
        String size;

        @Option(names = {"-l", "--extents"})
        String extents;

        @Option(names = {"-f", "--force"})
        boolean force;

        @Parameters(index = "0", paramLabel = "VG/LV")
        String target;

        private long thinWanted;
        private long thinNow;

        @Override
        void run() {
            String[] vl = splitLv(target);
            if ((size == null) == (extents == null)) {
                throw new IllegalArgumentException("give the new size with exactly one of -L [+|-]SIZE or -l [+|-]EXTENTS");
            }
            if (viaHost(vl[0], "lvresize", true)) {
                ObjectNode a = args().put("vg", vl[0]).put("lv", vl[1]).put("force", force)
                        .put("size", size == null ? "" : size).put("extents", extents == null ? "" : extents);
                JsonNode r = ControlClient.call(controlSocket, "lvm.lvresize", a);
                resized(r.path("from_extents").asLong(), r.path("to_extents").asLong());
                return;
            }
            try (OfflineVolumeGroup g = openVg(scan(), vl[0])) {
                VolumeGroupMetadata meta = g.metadata();
                LogicalVolumeMetadata lv = meta.logicalVolume(vl[1]);
                if (lv == null) {
                    throw new ErrnoException(Errno.ENOENT, "lvresize", target, "no such LV");
                }
                long now = lv.extentCount();
                long wanted = LvmControl.wantedExtents(meta.extentSize() * 512, now, size == null ? "" : size,
                        extents == null ? "" : extents);
                if (wanted < now) {
                    requireNotActive(vl[0], vl[1], "lvresize");
                    if (!force) {
                        throw new ErrnoException(Errno.EINVAL, "lvresize", target, "shrinking from " + now + " to "
                                + wanted + " extents destroys the data past the new end; add --force to do it anyway");
                    }
                }
                if (org.orionos.host.lvm.metadata.ThinSegments.thinOf(lv) != null) {
                    // A thin volume's pool device is resized through the block-device layer, below.
                    thinWanted = wanted;
                    thinNow = now;
                } else {
                    resized(now, g.resize(vl[1], wanted).extentCount());
                }
            }
            if (thinWanted > 0) {
                long w = thinWanted;
                resized(thinNow, online(scan(), vl[0], v -> v.resize(vl[1], w, force)).extentCount());
            }
        }

        private void resized(long now, long next) {
            out().println("  Size of logical volume " + target + " changed from " + now + " extents to "
                    + next + " extents.");
            out().println("  Logical volume " + target + " successfully resized.");
        }
    }

    @Command(name = "lvremove", description = "Remove a logical volume.")
    static final class LvRemove extends Base {
        @Option(names = {"-f", "--force"}, description = "Accepted for lvm2 compatibility; orion never prompts.")
        boolean force;

        @Parameters(index = "0", paramLabel = "VG/LV")
        String target;

        @Override
        void run() {
            String[] vl = splitLv(target);
            if (viaHost(vl[0], "lvremove", true)) {
                ControlClient.call(controlSocket, "lvm.lvremove", args().put("vg", vl[0]).put("lv", vl[1]));
                out().println("  Logical volume \"" + vl[1] + "\" successfully removed.");
                return;
            }
            requireNotActive(vl[0], vl[1], "lvremove");
            try (OfflineVolumeGroup g = openVg(scan(), vl[0])) {
                g.removeLogicalVolume(vl[1]);
            }
            out().println("  Logical volume \"" + vl[1] + "\" successfully removed.");
        }
    }

    static String[] splitLv(String target) {
        String t = target.startsWith("/dev/") ? target.substring(5) : target;
        int slash = t.indexOf('/');
        if (slash <= 0 || slash == t.length() - 1) {
            throw new IllegalArgumentException("name the volume as VG/LV, got " + target);
        }
        return new String[] {t.substring(0, slash), t.substring(slash + 1)};
    }

    abstract static class Report extends Base {
        @Option(names = "--units", defaultValue = "h", description = "h (default), b, s, k, m, g or t.")
        String units;

        @Option(names = "--nosuffix")
        boolean noSuffix;

        @Option(names = "--noheadings")
        boolean noHeadings;

        LvmReport report() {
            return new LvmReport(units, noSuffix, noHeadings);
        }

        /**
         * The host's rows for the VGs it has active (from its memory: the volumes it serves, as
         * it serves them), then the offline scan's rows for the other VGs.
         */
        String merged(String op, String[] header, java.util.function.BiFunction<LvmReport, List<
                org.orionos.host.lvm.metadata.VolumeGroupMetadata>, List<String[]>> offline) {
            List<String> hostVgs = hostVgs();
            List<String[]> rows = new ArrayList<>();
            if (!hostVgs.isEmpty()) {
                note("VGs " + String.join(", ", hostVgs) + " as the running orion host on " + controlSocket
                        + " has them; the rest offline.");
                JsonNode r = ControlClient.call(controlSocket, op, args().put("units", units).put("nosuffix", noSuffix));
                for (JsonNode row : r.path("rows")) {
                    List<String> cells = new ArrayList<>();
                    row.forEach(c -> cells.add(c.asText()));
                    rows.add(cells.toArray(String[]::new));
                }
            } else {
                note("Offline on the devices (no orion host on " + controlSocket + " has a VG active).");
            }
            rows.addAll(offline.apply(report(), LvmReport.except(scan(), hostVgs)));
            return report().table(header, rows);
        }
    }

    @Command(name = "pvs", description = "Report physical volumes (lvm2's columns).")
    static final class Pvs extends Report {
        @Override
        void run() {
            out().print(report().pvs(scan()));
        }
    }

    @Command(name = "vgs", description = "Report volume groups (lvm2's columns).")
    static final class Vgs extends Report {
        @Override
        void run() {
            out().print(merged("lvm.vgs", LvmReport.VG_HEADER, LvmReport::vgRows));
        }
    }

    @Command(name = "lvs", description = "Report logical volumes (lvm2's columns).")
    static final class Lvs extends Report {
        @Override
        void run() {
            out().print(merged("lvm.lvs", LvmReport.LV_HEADER, LvmReport::lvRows));
        }
    }
}
