package org.orionos.host.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.backend.FileBdev;
import org.orionos.host.control.ControlClient;
import org.orionos.host.control.ControlException;
import org.orionos.host.raid.MdArray;
import org.orionos.host.raid.MdSuperblock1;
import org.orionos.host.raid.ParityLayout;
import org.orionos.host.raid.RaidLevel;

import com.fasterxml.jackson.databind.JsonNode;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code orion raid ...}: md arrays offline on device paths (image files or block devices), in
 * mdadm's vocabulary, writing md's own v1.2 metadata (so {@code mdadm --examine} agrees and the
 * kernel's md assembles the result). Every refusal is decided before anything is written.
 * Rebuild and resync run when a host ({@code orion serve}) assembles the array; offline commands
 * only record what is to be done in the superblocks, as md does.
 */
@Command(name = "raid", mixinStandardHelpOptions = true,
        description = "md RAID arrays in mdadm's vocabulary, offline on device paths.",
        subcommands = {RaidCommand.Create.class, RaidCommand.Status.class, RaidCommand.Fail.class,
            RaidCommand.Add.class, RaidCommand.Remove.class, RaidCommand.Check.class, RaidCommand.Repair.class,
            RaidCommand.Grow.class})
public final class RaidCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Opens device paths on a one-reactor host; errors print mdadm-style and exit 1. */
    abstract static class Base implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        /** A command that can ask a running host instead returns its exit code here; null: work offline. */
        Integer live() {
            return null;
        }

        @Override
        public final Integer call() {
            Integer l = live();
            if (l != null) {
                return l;
            }
            try (BdevHost host = BdevHost.start(1, 16L << 20)) {
                List<FileBdev> opened = new ArrayList<>();
                try {
                    run(host, opened);
                } finally {
                    for (FileBdev f : opened) {
                        f.close();
                    }
                }
                out().flush();
                return 0;
            } catch (ErrnoException | IllegalArgumentException e) {
                out().flush();
                spec.commandLine().getErr().println("orion raid: " + e.getMessage());
                spec.commandLine().getErr().flush();
                return 1;
            }
        }

        abstract void run(BdevHost host, List<FileBdev> opened);

        static List<BlockDevice> open(List<Path> paths, List<FileBdev> opened) {
            List<BlockDevice> out = new ArrayList<>();
            for (Path p : paths) {
                FileBdev f = FileBdev.open(p.toString(), p, 0, 4096, "auto");
                opened.add(f);
                out.add(f);
            }
            return out;
        }

        static BlockDevice find(List<BlockDevice> devs, Path p) {
            for (BlockDevice d : devs) {
                if (d.name().equals(p.toString())) {
                    return d;
                }
            }
            throw new IllegalArgumentException(p + " is not among --devices");
        }
    }

    /** mdadm sizes: a number with K, M or G (bare numbers are KiB, as mdadm's --chunk). */
    static long parseKib(String text) {
        String t = text.trim().toUpperCase(Locale.ROOT);
        long mult = 1024;
        char last = t.isEmpty() ? ' ' : t.charAt(t.length() - 1);
        if (last == 'K' || last == 'M' || last == 'G') {
            mult = last == 'K' ? 1024 : last == 'M' ? 1 << 20 : 1 << 30;
            t = t.substring(0, t.length() - 1);
        }
        try {
            return Long.parseLong(t) * mult;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a size: " + text + " (e.g. 512K)");
        }
    }

    static RaidLevel level(String text) {
        String t = text.toLowerCase(Locale.ROOT).replace("raid", "");
        return switch (t) {
            case "0", "stripe" -> RaidLevel.RAID0;
            case "1", "mirror" -> RaidLevel.RAID1;
            case "5" -> RaidLevel.RAID5;
            case "6" -> RaidLevel.RAID6;
            case "10" -> RaidLevel.RAID10;
            default -> throw new IllegalArgumentException("--level " + text + ": orion builds 0, 1, 5, 6 and 10");
        };
    }

    @Command(name = "create", description = "Create an array (mdadm --create): members first, then spares.")
    static final class Create extends Base {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Option(names = {"-l", "--level"}, required = true)
        String level;

        @Option(names = {"-n", "--raid-devices"}, required = true)
        int raidDevices;

        @Option(names = {"-x", "--spare-devices"}, defaultValue = "0")
        int spareDevices;

        @Option(names = {"-c", "--chunk"}, defaultValue = "512K")
        String chunk;

        @Option(names = {"-p", "--layout"})
        String layout;

        @Option(names = "--assume-clean", description = "Skip the initial resync (members known to be zero or in sync).")
        boolean assumeClean;

        @Parameters(index = "1..*", arity = "1..*", paramLabel = "DEV")
        List<Path> paths;

        @Override
        void run(BdevHost host, List<FileBdev> opened) {
            if (paths.size() != raidDevices + spareDevices) {
                throw new IllegalArgumentException(paths.size() + " devices given for --raid-devices " + raidDevices
                        + " and --spare-devices " + spareDevices);
            }
            long chunkBytes = parseKib(chunk);
            if (chunkBytes < 4096 || Long.bitCount(chunkBytes) != 1) {
                throw new IllegalArgumentException("--chunk " + chunk + ": a power of two of at least 4K");
            }
            RaidLevel l = level(level);
            List<BlockDevice> devs = open(paths, opened);
            MdArray a = MdArray.create(host, name, new MdArray.CreateOptions(l, layout, (int) (chunkBytes / 512), assumeClean),
                    devs.subList(0, raidDevices), devs.subList(raidDevices, devs.size()), MdArray.DEFAULT_SYNC_BYTES_PER_SEC);
            long size = a.bdev().sizeBytes();
            a.close();
            out().println("orion raid: array " + name + " started: " + l.mdadmName() + ", " + raidDevices + " devices, "
                    + spareDevices + " spares, " + size / 1024 + " KiB"
                    + (assumeClean || l == RaidLevel.RAID0 ? "" : "; initial resync runs when a host assembles it"));
        }
    }

    @Command(name = "status", description = "Show the array and each device's role and state, from the superblocks (mdadm --examine).")
    static final class Status extends Base {
        @Parameters(arity = "1..*", paramLabel = "NAME|DEV",
                description = "An array NAME on the running host, or the device paths of an array to examine offline.")
        List<Path> paths;

        @Option(names = "--control-socket", paramLabel = "PATH",
                description = "The running host's management socket (default: ${DEFAULT-VALUE}).")
        Path controlSocket = ControlClient.DEFAULT_SOCKET;

        @Option(names = "--json", description = "The running host's answer as JSON.")
        boolean json;

        /** One argument that is no file: the array of that name on the running host. */
        @Override
        Integer live() {
            if (paths.size() != 1 || Files.exists(paths.get(0))) {
                return null;
            }
            String name = paths.get(0).toString();
            JsonNode s;
            try {
                s = ControlClient.call(controlSocket, "raid.status",
                        com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("name", name));
            } catch (ControlException e) {
                spec.commandLine().getErr().println("orion raid: " + name + " is no device path, and asking the host for"
                        + " array " + name + " failed: " + e.getMessage());
                spec.commandLine().getErr().flush();
                return 1;
            }
            PrintWriter o = out();
            if (json) {
                o.println(s.toPrettyString());
                o.flush();
                return 0;
            }
            o.println("        Name : " + s.path("name").asText());
            o.println("  Raid Level : " + s.path("level").asText());
            o.println("Raid Devices : " + s.path("raid_devices").asInt());
            if (!"raid1".equals(s.path("level").asText())) {
                o.println("  Chunk Size : " + s.path("chunk_sectors").asInt() / 2 + "K");
            }
            o.println("  Array Size : " + s.path("size_bytes").asLong() + " bytes");
            o.println("      Events : " + s.path("events").asLong());
            o.println("       State : " + s.path("state").asText());
            long dirty = s.path("bitmap_dirty_regions").asLong(-1);
            o.println("      Bitmap : " + (dirty < 0 ? "none in use" : dirty + " dirty region(s)"));
            JsonNode p = s.path("sync");
            if (!p.isMissingNode()) {
                long eta = p.path("eta_s").asLong();
                String kind = p.path("kind").asText();
                o.printf(Locale.ROOT, "%12s : %.1f%% complete (%d/%d units)%s, %.1f MB/s, ETA %d:%02d:%02d%s%n",
                        Character.toUpperCase(kind.charAt(0)) + kind.substring(1) + " Status", p.path("percent").asDouble(),
                        p.path("done_units").asLong(), p.path("total_units").asLong(),
                        "rebuild".equals(kind) ? " onto " + p.path("target").asText() : "", p.path("mb_per_s").asDouble(),
                        eta / 3600, eta / 60 % 60, eta % 60, p.path("running").asBoolean() ? "" : " (finished or stopped)");
            }
            o.println("    Number   State");
            for (JsonNode m : s.path("members")) {
                o.printf(Locale.ROOT, "    %6d   %-10s %s%n", m.path("role").asInt(), m.path("state").asText(),
                        m.path("device").isNull() ? "-" : m.path("device").asText());
            }
            for (JsonNode sp : s.path("spares")) {
                o.printf(Locale.ROOT, "         -   %-10s %s%n", "spare", sp.asText());
            }
            o.flush();
            return 0;
        }

        @Override
        void run(BdevHost host, List<FileBdev> opened) {
            List<BlockDevice> devs = open(paths, opened);
            List<MdSuperblock1> sbs = new ArrayList<>();
            MdSuperblock1 fresh = null;
            for (BlockDevice d : devs) {
                MdSuperblock1 sb = MdArray.readSuperblock(host.client(), d);
                if (sb == null) {
                    throw new ErrnoException(Errno.EINVAL, "raid status", d.name(), d.name() + ": no md superblock");
                }
                if (fresh != null && !java.util.Arrays.equals(fresh.setUuid, sb.setUuid)) {
                    throw new ErrnoException(Errno.EINVAL, "raid status", d.name(), d.name() + " belongs to another array ("
                            + sb.setName + ")");
                }
                sbs.add(sb);
                if (fresh == null || Long.compareUnsigned(sb.events, fresh.events) > 0) {
                    fresh = sb;
                }
            }
            RaidLevel l = RaidLevel.ofMdLevel(fresh.level);
            StringBuilder state = new StringBuilder();
            for (int r = 0; r < fresh.raidDisks; r++) {
                boolean present = false;
                for (int role : fresh.devRoles) {
                    present |= role == r;
                }
                state.append(present ? 'A' : '.');
            }
            PrintWriter o = out();
            o.println("        Name : " + fresh.setName);
            o.println("  Array UUID : " + mdadmUuid(fresh.setUuid));
            o.println("  Raid Level : " + (l == null ? "level " + fresh.level : l.mdadmName()));
            o.println("Raid Devices : " + fresh.raidDisks);
            if (l == RaidLevel.RAID5 || l == RaidLevel.RAID6) {
                o.println("      Layout : " + ParityLayout.ofMdNumber(fresh.layout).mdadmName());
            }
            if (l != RaidLevel.RAID1) {
                o.println("  Chunk Size : " + fresh.chunksize / 2 + "K");
            }
            o.println("      Events : " + fresh.events);
            String st = state.indexOf(".") >= 0 ? "degraded" : "clean";
            if (fresh.resyncOffset != MdSuperblock1.MAX_SECTOR) {
                st += ", resync pending from sector " + fresh.resyncOffset;
            }
            o.println("       State : " + st);
            if ((fresh.featureMap & MdSuperblock1.MD_FEATURE_RESHAPE_ACTIVE) != 0) {
                int dataNew = fresh.raidDisks - (l == RaidLevel.RAID6 ? 2 : 1);
                o.printf(Locale.ROOT, "     Reshape : %.1f%% (reshape_position %d sectors), %d -> %d devices, data offset %d -> %d"
                                + " sectors; resumes when assembled (orion serve, or orion raid grow NAME --devices ...)%n",
                        100.0 * fresh.reshapePosition / Math.max(1, fresh.size * dataNew), fresh.reshapePosition,
                        fresh.raidDisks - fresh.deltaDisks, fresh.raidDisks, fresh.dataOffset,
                        fresh.dataOffset + fresh.newOffset);
            }
            o.println(" Array State : " + state);
            for (int i = 0; i < devs.size(); i++) {
                MdSuperblock1 sb = sbs.get(i);
                int role = sb.devNumber < fresh.devRoles.length ? fresh.devRoles[sb.devNumber] : MdSuperblock1.MD_DISK_ROLE_SPARE;
                String what = role == MdSuperblock1.MD_DISK_ROLE_SPARE ? "spare"
                        : role == MdSuperblock1.MD_DISK_ROLE_FAULTY ? "faulty"
                        : role == MdSuperblock1.MD_DISK_ROLE_JOURNAL ? "journal" : "Active device " + role;
                if (sb.events != fresh.events) {
                    what += ", stale (events " + sb.events + "): will be rebuilt, not trusted";
                } else if ((sb.featureMap & MdSuperblock1.MD_FEATURE_RECOVERY_OFFSET) != 0) {
                    long total = fresh.size;
                    what += String.format(", rebuilding: %.1f%% (recovery offset %d sectors)",
                            100.0 * sb.recoveryOffset / Math.max(1, total), sb.recoveryOffset);
                }
                o.println("  " + devs.get(i).name() + " : " + what + ", events " + sb.events);
            }
        }

        static String mdadmUuid(byte[] u) {
            String h = HexFormat.of().formatHex(u);
            return h.substring(0, 8) + ":" + h.substring(8, 16) + ":" + h.substring(16, 24) + ":" + h.substring(24);
        }
    }

    /** Subcommands acting on one array given by all its devices. */
    abstract static class Manage extends Base {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Option(names = "--devices", split = ",", required = true, paramLabel = "DEV",
                description = "Every device of the array (members and spares), comma-separated.")
        List<Path> devices;

        void scrub(BdevHost host, List<FileBdev> opened, boolean repair) {
            List<BlockDevice> devs = open(devices, opened);
            try (MdArray a = MdArray.assemble(host, name, devs, List.of(), null, MdArray.DEFAULT_SYNC_BYTES_PER_SEC, false)) {
                long n = a.scrub(repair);
                out().println(name + ": " + (repair ? "repair" : "check") + " done: mismatch_cnt "
                        + n * a.bdev().geometry().chunkSectors() + " sectors (" + n + " stripes)"
                        + (repair && n > 0 ? ", parity rewritten" : ""));
            }
        }
    }

    @Command(name = "fail", description = "Mark members faulty (mdadm --fail): their role is rebuilt onto a spare when a host assembles the array.")
    static final class Fail extends Manage {
        @Parameters(index = "1..*", arity = "1..*", paramLabel = "DEV")
        List<Path> targets;

        @Override
        void run(BdevHost host, List<FileBdev> opened) {
            List<BlockDevice> devs = open(devices, opened);
            try (MdArray a = MdArray.assemble(host, name, devs, List.of(), null, MdArray.DEFAULT_SYNC_BYTES_PER_SEC, false)) {
                for (Path t : targets) {
                    BlockDevice d = find(devs, t);
                    int role = roleOf(a, d);
                    a.fail(role);
                    awaitIdle(a);
                    out().println("orion raid: set " + t + " faulty in " + name);
                }
            }
        }
    }

    @Command(name = "add", description = "Add hot spares, or re-add a former member into its role (mdadm --add).")
    static final class Add extends Manage {
        @Parameters(index = "1..*", arity = "1..*", paramLabel = "DEV")
        List<Path> targets;

        @Override
        void run(BdevHost host, List<FileBdev> opened) {
            List<BlockDevice> devs = open(devices, opened);
            List<BlockDevice> add = open(targets, opened);
            try (MdArray a = MdArray.assemble(host, name, devs, List.of(), null, MdArray.DEFAULT_SYNC_BYTES_PER_SEC, false)) {
                for (BlockDevice d : add) {
                    boolean back = a.addSpare(d, true);
                    out().println("orion raid: " + (back ? "re-added " + d.name() + " to " + name
                            + " (its role is recovered by the next host that assembles the array)"
                            : "added " + d.name() + " to " + name + " as a spare"));
                }
            }
        }
    }

    @Command(name = "remove", description = "Remove faulty members or spares (mdadm --remove).")
    static final class Remove extends Manage {
        @Parameters(index = "1..*", arity = "1..*", paramLabel = "DEV")
        List<Path> targets;

        @Override
        void run(BdevHost host, List<FileBdev> opened) {
            List<BlockDevice> devs = open(devices, opened);
            try (MdArray a = MdArray.assemble(host, name, devs, List.of(), null, MdArray.DEFAULT_SYNC_BYTES_PER_SEC, false)) {
                for (Path t : targets) {
                    a.remove(find(devs, t));
                    out().println("orion raid: hot removed " + t + " from " + name);
                }
            }
        }
    }

    @Command(name = "check", description = "Read every stripe and count parity mismatches (md's check).")
    static final class Check extends Manage {
        @Override
        void run(BdevHost host, List<FileBdev> opened) {
            scrub(host, opened, false);
        }
    }

    @Command(name = "repair", description = "As check, and rewrite parity that does not match the data (md's repair).")
    static final class Repair extends Manage {
        @Override
        void run(BdevHost host, List<FileBdev> opened) {
            scrub(host, opened, true);
        }
    }

    @Command(name = "grow", description = {
        "Reshape the array (mdadm --grow): more members for raid5/raid6 (--raid-devices N --add DEV...),",
        "raid1 (2 members) to raid5 (--level 5), raid5 to raid6 (--level 6 --add DEV: Q on the added member).",
        "With a NAME only: the running host reshapes it online. Offline (--devices): runs here to the end;",
        "without options it continues an interrupted reshape. Refusals are decided before anything is written."})
    static final class Grow extends Base {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Option(names = "--devices", split = ",", paramLabel = "DEV",
                description = "Offline: every device of the array (members and spares), comma-separated.")
        List<Path> devices;

        @Option(names = {"-n", "--raid-devices"}, paramLabel = "N", description = "The member count after the grow.")
        int raidDevices;

        @Option(names = {"-l", "--level"}, paramLabel = "LEVEL", description = "The new level (5 from a 2-member raid1, 6 from raid5).")
        String level;

        @Option(names = {"-a", "--add"}, split = ",", paramLabel = "DEV",
                description = "Devices to add as the new members (paths offline, device names on a running host).")
        List<String> add = new ArrayList<>();

        @Option(names = "--control-socket", paramLabel = "PATH",
                description = "The running host's management socket (default: ${DEFAULT-VALUE}).")
        Path controlSocket = ControlClient.DEFAULT_SOCKET;

        @Override
        Integer live() {
            if (devices != null) {
                return null;
            }
            com.fasterxml.jackson.databind.node.ObjectNode args = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance
                    .objectNode().put("name", name).put("raid_devices", raidDevices);
            if (level != null) {
                args.put("level", level(level).mdLevel());
            }
            com.fasterxml.jackson.databind.node.ArrayNode a = args.putArray("add");
            add.forEach(a::add);
            try {
                JsonNode s = ControlClient.call(controlSocket, "raid.grow", args);
                out().println("orion raid: " + name + ": " + s.path("level").asText() + ", " + s.path("raid_devices").asInt()
                        + " devices, " + s.path("state").asText() + " (orion raid status " + name + " shows the progress)");
                out().flush();
                return 0;
            } catch (ControlException e) {
                spec.commandLine().getErr().println("orion raid: grow " + name + " on the running host failed: " + e.getMessage()
                        + " (offline, give every device with --devices)");
                spec.commandLine().getErr().flush();
                return 1;
            }
        }

        @Override
        void run(BdevHost host, List<FileBdev> opened) {
            List<BlockDevice> devs = open(devices, opened);
            List<Path> addPaths = new ArrayList<>();
            add.forEach(p -> addPaths.add(Path.of(p)));
            List<BlockDevice> adds = open(addPaths, opened);
            try (MdArray a = MdArray.assemble(host, name, devs, List.of(), null, MdArray.DEFAULT_SYNC_BYTES_PER_SEC, false)) {
                a.grow(new MdArray.GrowOptions(level == null ? null : level(level), raidDevices, adds));
                try {
                    while (!a.awaitIdle(java.time.Duration.ofSeconds(5))) {
                        MdArray.Progress p = a.progress();
                        if (p != null) {
                            out().println("orion raid: " + name + ": " + p);
                            out().flush();
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                out().println("orion raid: " + name + " is now " + a.current().geometry().level().mdadmName() + " with "
                        + a.current().geometry().raidDisks() + " devices, " + a.current().sizeBytes() + " bytes");
            }
        }
    }

    static int roleOf(MdArray a, BlockDevice d) {
        for (int r = 0; r < a.bdev().geometry().raidDisks(); r++) {
            if (a.bdev().member(r) == d) {
                return r;
            }
        }
        throw new ErrnoException(Errno.EINVAL, "raid fail", d.name(), d.name() + " is not an active member of " + a.name());
    }

    static void awaitIdle(MdArray a) {
        try {
            a.awaitIdle(java.time.Duration.ofSeconds(60));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
