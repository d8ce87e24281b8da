package org.orionos.host.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;

/**
 * Reads the TOML stack description and validates all of it before anything is created: syntax
 * (with line and column), unknown keys, types, sizes, duplicate names, references to missing
 * devices and cycles. Every error names the file, the table and the key.
 */
public final class ConfigLoader {
    /** Top-level tables this version understands. */
    private static final Set<String> TOP_LEVEL = Set.of("bdev", "nvme", "nbd", "lvm", "raid");

    /** What {@code orion serve} runs without {@code --config}: a sparse file-backed disk under ./orion-data. */
    public static final String EMBEDDED_DEFAULT = """
            # orion serve's built-in stack: one sparse 1 GiB file-backed disk, created on first run.
            [[bdev]]
            name = "disk0"
            type = "file"
            path = "orion-data/disk0.img"
            size = "1G"

            # ... exported over NBD on TCP loopback and a unix socket next to the disk.
            [[nbd.listen]]
            address = "tcp:127.0.0.1:10809"
            [[nbd.listen]]
            address = "unix:orion-data/nbd.sock"
            [[nbd.export]]
            name = "disk0"
            bdev = "disk0"
            description = "orion default disk"
            """;

    private ConfigLoader() {
    }

    public static OrionConfig load(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw ErrnoException.withMessage(Errno.ENOENT, "config", file.toString(),
                    file + ": no such file; pass an existing TOML file to --config (see README for an example)");
        } catch (IOException e) {
            throw ErrnoException.withMessage(Errno.EIO, "config", file.toString(), file + ": cannot read: " + e.getMessage());
        }
        return parse(text, file.toString());
    }

    public static OrionConfig embeddedDefault() {
        return parse(EMBEDDED_DEFAULT, "<embedded default>");
    }

    public static OrionConfig parse(String text, String source) {
        JsonNode root;
        try {
            root = new TomlMapper().readTree(text);
        } catch (JacksonException e) {
            JsonLocation loc = e.getLocation();
            String at = loc != null && loc.getLineNr() > 0 ? ":" + loc.getLineNr() + ":" + loc.getColumnNr() : "";
            throw ErrnoException.withMessage(Errno.EINVAL, "config", source,
                    source + at + ": TOML syntax error: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            return new OrionConfig(source, List.of());
        }
        root.fieldNames().forEachRemaining(k -> {
            if (!TOP_LEVEL.contains(k)) {
                throw ErrnoException.withMessage(Errno.EINVAL, "config", source,
                        source + ": unknown table '" + k + "'; known: " + String.join(", ", TOP_LEVEL));
            }
        });
        List<BdevSpec> bdevs = readNvme(root.get("nvme"), source);
        bdevs.addAll(readBdevs(root.get("bdev"), source));
        bdevs.addAll(RaidConfigReader.read(root.get("raid"), source));
        Map<String, Long> counts = new HashMap<>();
        bdevs.forEach(b -> counts.merge(b.name(), 1L, Long::sum));
        for (Map.Entry<String, Long> e : counts.entrySet()) {
            if (e.getValue() > 1) {
                throw ErrnoException.withMessage(Errno.EINVAL, "config", source, source + ": device name \""
                        + e.getKey() + "\" is used by more than one [[bdev]]/[[nvme]] table; names must be unique");
            }
        }
        List<BdevSpec> ordered = buildOrder(bdevs, source);
        List<LvmSpec> lvm = readLvm(root.get("lvm"), source, bdevs);
        NbdSpec nbd = NbdConfigReader.read(root.get("nbd"), source, ordered,
                lvm.stream().map(LvmSpec::vg).collect(java.util.stream.Collectors.toSet()));
        return new OrionConfig(source, ordered, nbd, lvm);
    }

    /**
     * The same config with its NBD listeners replaced (the command line's {@code --nbd-listen});
     * TLS stays off on them. Throws naming the bad address.
     */
    public static OrionConfig withNbdListeners(OrionConfig cfg, List<String> addresses) {
        List<NbdSpec.Listen> ls = new ArrayList<>();
        for (String a : addresses) {
            try {
                org.orionos.host.nbd.server.ListenAddress.parse(a);
            } catch (IllegalArgumentException e) {
                throw ErrnoException.withMessage(Errno.EINVAL, "config", "--nbd-listen", "--nbd-listen: " + e.getMessage());
            }
            ls.add(new NbdSpec.Listen(a, "off"));
        }
        NbdSpec n = cfg.nbd();
        if (n.exports().isEmpty()) {
            throw ErrnoException.withMessage(Errno.EINVAL, "config", "--nbd-listen",
                    "--nbd-listen given but " + cfg.source() + " has no [[nbd.export]]");
        }
        return new OrionConfig(cfg.source(), cfg.bdevs(), new NbdSpec(List.copyOf(ls), n.exports(), n.tls(),
                n.maxConnections(), n.attach()), cfg.lvm());
    }

    /**
     * The same config with one more kernel attachment (the {@code attach} command's): its export
     * must be one of the config's, and its device not one the config already attaches.
     */
    public static OrionConfig withNbdAttach(OrionConfig cfg, NbdAttachSpec a) {
        NbdSpec n = cfg.nbd();
        if (n.exports().stream().noneMatch(e -> e.name().equals(a.export()))) {
            throw ErrnoException.withMessage(Errno.ENOENT, "config", a.export(), "export \"" + a.export()
                    + "\" is not in " + cfg.source() + "; its exports: " + (n.exports().isEmpty() ? "(none)"
                    : String.join(", ", n.exports().stream().map(NbdSpec.Export::name).toList())));
        }
        if (a.device() != null && n.attach().stream().anyMatch(x -> a.device().equals(x.device()))) {
            throw ErrnoException.withMessage(Errno.EBUSY, "config", a.device(), cfg.source() + " already attaches "
                    + a.device() + " ([[nbd.attach]]); pick another device or leave --device out");
        }
        List<NbdAttachSpec> all = new ArrayList<>(n.attach());
        all.add(a);
        return new OrionConfig(cfg.source(), cfg.bdevs(), new NbdSpec(n.listeners(), n.exports(), n.tls(),
                n.maxConnections(), all), cfg.lvm());
    }

    private static List<LvmSpec> readLvm(JsonNode node, String source, List<BdevSpec> bdevs) {
        List<LvmSpec> out = new ArrayList<>();
        for (Section s : Section.arrayOfTables(node, "lvm", source)) {
            s.expectKeys("vg", "pvs", "volumes", "activation_mode");
            String vg = s.requireString("vg");
            List<String> pvs = s.optStringList("pvs");
            if (pvs.isEmpty()) {
                throw s.error("pvs", "name the VG's physical volumes, e.g. pvs = [\"disk0\"]");
            }
            for (String pv : pvs) {
                if (bdevs.stream().noneMatch(b -> b.name().equals(pv))) {
                    throw s.error("pvs", "names \"" + pv + "\", which no [[bdev]] defines");
                }
            }
            String mode = s.optString("activation_mode", "complete");
            if (!mode.equals("complete") && !mode.equals("degraded")) {
                throw s.error("activation_mode", "is \"" + mode + "\"; use \"complete\" (every PV present) or "
                        + "\"degraded\" (raid volumes may run without images on missing PVs)");
            }
            out.add(new LvmSpec(vg, pvs, s.optStringList("volumes"), mode.equals("degraded")));
            s.rejectUnknown();
        }
        return out;
    }

    private static List<BdevSpec> readBdevs(JsonNode node, String source) {
        List<BdevSpec> out = new ArrayList<>();
        Map<String, String> seen = new HashMap<>();
        for (Section s : Section.arrayOfTables(node, "bdev", source)) {
            String label = s.where();
            BdevSpec spec = readBdev(s);
            s.rejectUnknown();
            String prev = seen.putIfAbsent(spec.name(), label);
            if (prev != null) {
                throw s.error("name", "duplicates " + prev + "; device names must be unique");
            }
            out.add(spec);
        }
        return out;
    }

    /** {@code [[nvme]]}: name and path of a namespace's passthrough node. */
    private static List<BdevSpec> readNvme(JsonNode node, String source) {
        List<BdevSpec> out = new ArrayList<>();
        for (Section s : Section.arrayOfTables(node, "nvme", source)) {
            s.expectKeys("name", "path", "paths", "policy", "health_interval_s");
            long health = s.optLong("health_interval_s", BdevSpec.DEFAULT_HEALTH_INTERVAL_S, 0, 86_400);
            String name = s.requireString("name");
            if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
                throw s.error("name", "must be 1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit");
            }
            if (s.has("paths")) {
                if (s.has("path")) {
                    throw s.error("path", "give either path (one controller) or paths (multipath), not both");
                }
                List<String> paths = s.optStringList("paths");
                if (paths.size() < 2) {
                    throw s.error("paths", "multipath needs at least two namespace nodes, e.g. [\"/dev/ng0n1\", \"/dev/ng1n1\"]");
                }
                List<Path> nodes = new ArrayList<>();
                for (String p : paths) {
                    nodes.add(Path.of(namespaceNode(s, "paths", p)));
                }
                String policy = s.optEnum("policy", "round-robin", "round-robin", "least-queue-depth", "priority");
                s.rejectUnknown();
                out.add(new BdevSpec.NvmeMultipath(name, List.copyOf(nodes), policy, health));
                continue;
            }
            if (s.has("policy")) {
                throw s.error("policy", "only applies with paths (multipath)");
            }
            String path = namespaceNode(s, "path", s.requireString("path"));
            s.rejectUnknown();
            out.add(new BdevSpec.Nvme(name, Path.of(path), health));
        }
        return out;
    }

    private static String namespaceNode(Section s, String key, String path) {
        if (!path.matches("/dev/(ng|nvme)[0-9]+n[0-9]+")) {
            throw s.error(key, "must be a namespace node like /dev/ng0n1 (or /dev/nvme0n1), got \"" + path + "\"");
        }
        return path;
    }

    private static BdevSpec readBdev(Section s) {
        String name = s.requireString("name");
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
            throw s.error("name", "must be 1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit");
        }
        String type = s.requireString("type");
        switch (type) {
            case "memory", "null" -> s.expectKeys("name", "type", "size", "block_size");
            case "file" -> s.expectKeys("name", "type", "path", "size", "block_size", "direct");
            case "error" -> s.expectKeys("name", "type", "base");
            case "delay" -> s.expectKeys("name", "type", "base", "read_latency_us", "write_latency_us", "flush_latency_us");
            default -> throw s.error("type", "must be one of memory, file, null, error, delay, got \"" + type + "\"");
        }
        return switch (type) {
            case "memory" -> new BdevSpec.Memory(name, blockAligned(s, s.requireSize("size"), blockSize(s)), blockSize(s));
            case "null" -> new BdevSpec.Null(name, blockAligned(s, s.requireSize("size"), blockSize(s)), blockSize(s));
            case "file" -> {
                String path = s.requireString("path");
                long size = s.optSize("size", 0);
                int bs = blockSize(s);
                if (size > 0) {
                    blockAligned(s, size, bs);
                }
                yield new BdevSpec.File(name, Path.of(path), size, bs, s.optEnum("direct", "auto", "auto", "on", "off"));
            }
            case "error" -> new BdevSpec.Error(name, s.requireString("base"));
            case "delay" -> new BdevSpec.Delay(name, s.requireString("base"),
                    s.optLong("read_latency_us", 0, 0, 60_000_000),
                    s.optLong("write_latency_us", 0, 0, 60_000_000),
                    s.optLong("flush_latency_us", 0, 0, 60_000_000));
            default -> throw new IllegalStateException("type checked above: " + type);
        };
    }

    private static int blockSize(Section s) {
        long bs = s.optLong("block_size", 4096, 512, 4096);
        if (bs != 512 && bs != 4096) {
            throw s.error("block_size", "must be 512 or 4096, got " + bs);
        }
        return (int) bs;
    }

    private static long blockAligned(Section s, long size, int blockSize) {
        if (size % blockSize != 0) {
            throw s.error("size", "must be a multiple of the block size " + blockSize + ", got " + size);
        }
        return size;
    }

    /** Orders devices so bases come first; refuses missing bases and cycles. */
    private static List<BdevSpec> buildOrder(List<BdevSpec> bdevs, String source) {
        Map<String, BdevSpec> byName = new LinkedHashMap<>();
        bdevs.forEach(b -> byName.put(b.name(), b));
        for (BdevSpec b : bdevs) {
            for (String base : b.bases()) {
                if (!byName.containsKey(base)) {
                    throw ErrnoException.withMessage(Errno.EINVAL, "config", source, source + ": bdev \"" + b.name()
                            + "\": key 'base' names \"" + base + "\", which no [[bdev]] defines; known devices: "
                            + String.join(", ", byName.keySet()));
                }
            }
        }
        List<BdevSpec> ordered = new ArrayList<>();
        Map<String, Integer> state = new HashMap<>(); // 1 = visiting, 2 = done
        for (BdevSpec b : bdevs) {
            visit(b, byName, state, ordered, new ArrayList<>(), source);
        }
        return List.copyOf(ordered);
    }

    private static void visit(BdevSpec b, Map<String, BdevSpec> byName, Map<String, Integer> state,
                              List<BdevSpec> ordered, List<String> path, String source) {
        Integer st = state.get(b.name());
        if (st != null && st == 2) {
            return;
        }
        path.add(b.name());
        if (st != null) {
            throw ErrnoException.withMessage(Errno.EINVAL, "config", source,
                    source + ": devices consume each other in a cycle: " + String.join(" -> ", path));
        }
        state.put(b.name(), 1);
        for (String base : b.bases()) {
            visit(byName.get(base), byName, state, ordered, path, source);
        }
        state.put(b.name(), 2);
        path.remove(path.size() - 1);
        ordered.add(b);
    }
}
