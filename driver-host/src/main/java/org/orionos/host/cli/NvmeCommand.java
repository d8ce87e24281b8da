package org.orionos.host.cli;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.orionos.bindings.ErrnoException;
import org.orionos.bindings.Libc;
import org.orionos.host.control.ControlClient;
import org.orionos.host.control.ControlException;
import org.orionos.host.nvme.NvmeController;
import org.orionos.host.nvme.NvmeHealth;
import org.orionos.host.nvme.NvmeJson;
import org.orionos.host.nvme.NvmeNamespaceBdev;
import org.orionos.host.nvme.NvmeZones;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import static org.orionos.bindings.uapi.NvmeIoctlH.NVME_IOCTL_ID;
import static org.orionos.bindings.uapi.FcntlH.O_CLOEXEC;
import static org.orionos.bindings.uapi.FcntlH.O_RDONLY;

/**
 * {@code orion nvme}: NVMe admin and zone commands through the kernel's passthrough interfaces.
 * JSON output uses nvme-cli's field names and values for the same device.
 */
@Command(name = "nvme", mixinStandardHelpOptions = true,
        description = "NVMe devices through the kernel: identify, SMART, features, zones.",
        subcommands = {NvmeCommand.ListCmd.class, NvmeCommand.IdCtrl.class, NvmeCommand.IdNs.class,
            NvmeCommand.SmartLog.class, NvmeCommand.GetFeature.class, NvmeCommand.Zones.class,
            NvmeCommand.Health.class})
public final class NvmeCommand implements Runnable {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Prints a node as JSON, or as aligned "key : value" lines like nvme-cli's normal output. */
    static void print(JsonNode n, boolean json) throws IOException {
        if (json) {
            System.out.println(JSON.writeValueAsString(n));
            return;
        }
        StringBuilder sb = new StringBuilder();
        human(sb, "", n);
        System.out.print(sb);
    }

    private static void human(StringBuilder sb, String indent, JsonNode n) {
        Iterator<Map.Entry<String, JsonNode>> it = n.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            if (v.isArray()) {
                int i = 0;
                for (JsonNode x : v) {
                    sb.append(indent).append(e.getKey()).append('[').append(i++).append("]\n");
                    human(sb, indent + "  ", x);
                }
            } else if (v.isObject()) {
                sb.append(indent).append(e.getKey()).append('\n');
                human(sb, indent + "  ", v);
            } else {
                sb.append(String.format("%s%-10s: %s%n", indent, e.getKey(), v.asText()));
            }
        }
    }

    /** Namespace id of a namespace node, or 0 for a controller node. */
    static int nsidOf(Path dev) {
        String n = dev.getFileName().toString();
        if (n.matches("(nvme|ng)[0-9]+n[0-9]+")) {
            int fd = ErrnoException.check(Libc.open(dev.toString(), O_RDONLY | O_CLOEXEC, 0), "open", dev.toString());
            try {
                return ErrnoException.check(Libc.ioctl(fd, NVME_IOCTL_ID, 0L), "ioctl(NVME_IOCTL_ID)", dev.toString());
            } finally {
                Libc.close(fd);
            }
        }
        return 0;
    }

    abstract static class DevCmd implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "DEV", description = "/dev/nvmeN, /dev/nvmeNnM or /dev/ngNnM")
        Path dev;

        @Option(names = {"--json", "-j"}, description = "Print JSON with nvme-cli's field names.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            try (NvmeController c = NvmeController.open(NvmeController.controllerOf(dev)); Arena a = Arena.ofConfined()) {
                print(run(c, a), json);
                return 0;
            } catch (ErrnoException e) {
                System.err.println("orion nvme: " + e.getMessage());
                return 1;
            }
        }

        abstract JsonNode run(NvmeController c, Arena a) throws Exception;
    }

    /** {@code orion nvme list}: controllers and namespaces with model, serial, size and format. */
    @Command(name = "list", mixinStandardHelpOptions = true, description = "List NVMe namespaces.")
    static final class ListCmd implements Callable<Integer> {
        @Option(names = {"--json", "-j"}, description = "Print JSON (nvme-cli's list keys).")
        boolean json;

        @Override
        public Integer call() throws Exception {
            ArrayNode devices = JsonNodeFactory.instance.arrayNode();
            Path cls = Path.of("/sys/class/nvme");
            List<Path> ctrls;
            if (Files.isDirectory(cls)) {
                try (Stream<Path> s = Files.list(cls)) {
                    ctrls = s.sorted().toList();
                }
            } else {
                ctrls = List.of();
            }
            StringBuilder human = new StringBuilder(String.format("%-16s %-20s %-40s %-9s %-18s %-10s %s%n",
                    "Node", "SN", "Model", "Namespace", "Usage", "Format", "FW Rev"));
            for (Path c : ctrls) {
                String name = c.getFileName().toString();
                Path ctrlDev = Path.of("/dev", name);
                if (!Files.exists(ctrlDev)) {
                    continue;
                }
                try (NvmeController ctl = NvmeController.open(ctrlDev); Arena a = Arena.ofConfined()) {
                    ObjectNode id = NvmeJson.idCtrl(ctl.identifyController(a));
                    for (int nsid : ctl.activeNamespaces()) {
                        ObjectNode ns = NvmeJson.idNs(ctl.identifyNamespace(a, nsid));
                        int flbas = ns.path("flbas").asInt() & 0xf;
                        int ds = ns.path("lbafs").path(flbas).path("ds").asInt();
                        long bs = 1L << ds;
                        ObjectNode d = devices.addObject();
                        d.put("NameSpace", nsid);
                        d.put("DevicePath", "/dev/" + name + "n" + nsid);
                        d.put("GenericPath", "/dev/ng" + name.substring(4) + "n" + nsid);
                        d.put("Firmware", id.path("fr").asText());
                        d.put("ModelNumber", id.path("mn").asText());
                        d.put("SerialNumber", id.path("sn").asText());
                        d.put("UsedBytes", ns.path("nuse").asLong() * bs);
                        d.put("MaximumLBA", ns.path("nsze").asLong());
                        d.put("PhysicalSize", ns.path("nsze").asLong() * bs);
                        d.put("SectorSize", bs);
                        human.append(String.format("%-16s %-20s %-40s %-9d %-18s %-10s %s%n", "/dev/" + name + "n" + nsid,
                                id.path("sn").asText(), id.path("mn").asText(), nsid,
                                (ns.path("nuse").asLong() * bs >> 20) + " MiB / " + (ns.path("nsze").asLong() * bs >> 20)
                                        + " MiB", bs + " B", id.path("fr").asText()));
                    }
                } catch (ErrnoException e) {
                    System.err.println("orion nvme list: " + e.getMessage());
                }
            }
            if (json) {
                ObjectNode root = JsonNodeFactory.instance.objectNode();
                root.set("Devices", devices);
                System.out.println(JSON.writeValueAsString(root));
            } else {
                System.out.print(human);
            }
            return 0;
        }
    }

    @Command(name = "id-ctrl", mixinStandardHelpOptions = true, description = "Identify Controller.")
    static final class IdCtrl extends DevCmd {
        @Override
        JsonNode run(NvmeController c, Arena a) {
            return NvmeJson.idCtrl(c.identifyController(a));
        }
    }

    @Command(name = "id-ns", mixinStandardHelpOptions = true, description = "Identify Namespace.")
    static final class IdNs extends DevCmd {
        @Option(names = {"-n", "--namespace-id"}, description = "Namespace id (default: the node's own, else 1).")
        int nsid;

        @Override
        JsonNode run(NvmeController c, Arena a) {
            int id = nsid != 0 ? nsid : Math.max(1, nsidOf(dev));
            return NvmeJson.idNs(c.identifyNamespace(a, id));
        }
    }

    @Command(name = "smart-log", mixinStandardHelpOptions = true,
            description = "SMART / health log; health warnings go to stderr.")
    static final class SmartLog extends DevCmd {
        @Override
        JsonNode run(NvmeController c, Arena a) {
            MemorySegment log = c.smartLog(a);
            NvmeHealth h = NvmeHealth.of(log, c.identifyController(a));
            for (String w : h.warnings()) {
                System.err.println("warning: " + dev + ": " + w);
            }
            return NvmeJson.smartLog(log);
        }
    }

    /** {@code orion nvme health}: the running host's latest health of its controllers, over its control socket. */
    @Command(name = "health", mixinStandardHelpOptions = true,
            description = "The running host's latest health of the NVMe controllers it watches (asked over its control socket).")
    static final class Health implements Callable<Integer> {
        @Option(names = "--control-socket", paramLabel = "PATH", description = "The host's management socket (default: ${DEFAULT-VALUE}).")
        Path controlSocket = ControlClient.DEFAULT_SOCKET;

        @Option(names = {"--json", "-j"}, description = "The host's answer as JSON (smart_log with nvme-cli's field names).")
        boolean json;

        @Override
        public Integer call() throws Exception {
            JsonNode h;
            try {
                h = ControlClient.call(controlSocket, "nvme.health", null);
            } catch (ControlException e) {
                System.err.println("orion nvme health: " + e.getMessage());
                return 1;
            }
            if (json) {
                System.out.println(JSON.writeValueAsString(h));
                return 0;
            }
            if (h.path("controllers").isEmpty()) {
                System.out.println("the host watches no NVMe controllers (its config has no [[nvme]] device)");
                return 0;
            }
            for (JsonNode c : h.path("controllers")) {
                JsonNode s = c.path("smart_log");
                System.out.printf(java.util.Locale.ROOT, "%s (%s, sn %s; %s)%n", c.path("path").asText(),
                        c.path("mn").asText(), c.path("sn").asText(), c.path("devices"));
                if (c.has("error")) {
                    System.out.println("  cannot read: " + c.path("error").asText());
                }
                if (!s.isMissingNode()) {
                    System.out.printf(java.util.Locale.ROOT,
                            "  %d C (threshold %d C), spare %d%% (threshold %d%%), %d%% used, %s media errors, "
                                    + "%s unsafe shutdowns; read %s by %s%n",
                            s.path("temperature").asInt() - 273, c.path("tmpth").asInt() - 273,
                            s.path("avail_spare").asInt(), s.path("spare_thresh").asInt(), s.path("percent_used").asInt(),
                            s.path("media_errors").asText(), s.path("unsafe_shutdowns").asText(),
                            c.path("read_at").asText(), c.path("read_by").asText());
                }
                for (JsonNode w : c.path("warnings")) {
                    System.out.println("  warning: " + w.asText());
                }
            }
            return 0;
        }
    }

    @Command(name = "get-feature", mixinStandardHelpOptions = true,
            description = "Get Features: prints the current value (completion dword 0).")
    static final class GetFeature extends DevCmd {
        @Parameters(index = "1", paramLabel = "FID", description = "feature id, decimal or 0x hex (e.g. 0x06 volatile write cache)")
        String fid;

        @Option(names = {"-s", "--sel"}, description = "0 current (default), 1 default, 2 saved, 3 supported capabilities")
        int sel;

        @Option(names = {"-n", "--namespace-id"}, description = "Namespace id for namespace-scoped features.")
        int nsid;

        @Override
        JsonNode run(NvmeController c, Arena a) {
            int f = fid.startsWith("0x") ? Integer.parseInt(fid.substring(2), 16) : Integer.parseInt(fid);
            long v = c.getFeature(f, nsid, sel, 0, null);
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            o.put("feature_id", f);
            o.put("name", NvmeFeatures.name(f));
            o.put("value", v & 0xffffffffL);
            NvmeFeatures.decode(f, (int) v, o);
            return o;
        }
    }

    @Command(name = "zones", mixinStandardHelpOptions = true, description = "Report the zones of a zoned namespace.")
    static final class Zones implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "DEV", description = "/dev/ngNnM or /dev/nvmeNnM of a zoned namespace")
        Path dev;

        @Option(names = {"--json", "-j"}, description = "Print JSON (nvme-cli's report-zones keys).")
        boolean json;

        @Override
        public Integer call() throws Exception {
            NvmeNamespaceBdev ns;
            try {
                ns = NvmeNamespaceBdev.open(dev.getFileName().toString(), dev);
            } catch (ErrnoException e) {
                System.err.println("orion nvme zones: " + e.getMessage());
                return 1;
            }
            try {
                NvmeZones z = new NvmeZones(ns);
                List<NvmeZones.Zone> zones = z.report(0, (int) Math.min(z.zoneCount(), 4096));
                ObjectNode root = JsonNodeFactory.instance.objectNode();
                root.put("nr_zones", zones.size());
                ArrayNode arr = root.putArray("zone_list");
                StringBuilder sb = new StringBuilder("nr_zones: " + zones.size() + "\n");
                for (NvmeZones.Zone x : zones) {
                    ObjectNode o = arr.addObject();
                    o.put("slba", x.start());
                    o.put("wp", x.writePointer());
                    o.put("cap", x.capacity());
                    o.put("state", x.stateName());
                    o.put("type", x.type() == 2 ? "SEQWRITE_REQ" : "Unknown");
                    sb.append(String.format("SLBA: %#-10x WP: %#-10x Cap: %#-10x State: %-12s Type: %s%n", x.start(),
                            x.writePointer(), x.capacity(), x.stateName(), x.type() == 2 ? "SEQWRITE_REQ" : "Unknown"));
                }
                if (json) {
                    System.out.println(JSON.writeValueAsString(root));
                } else {
                    System.out.print(sb);
                }
                return 0;
            } catch (ErrnoException e) {
                System.err.println("orion nvme zones: " + e.getMessage());
                return 1;
            } finally {
                ns.close();
            }
        }
    }
}
