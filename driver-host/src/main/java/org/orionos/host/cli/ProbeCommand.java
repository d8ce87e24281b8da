package org.orionos.host.cli;

import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import org.orionos.host.probe.SystemProbe;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code orion probe}: what this kernel and process offer Orion. */
@Command(name = "probe", mixinStandardHelpOptions = true,
        description = "Report kernel, io_uring features and opcodes, NBD/NVMe/VFIO device nodes and CAP_SYS_ADMIN.")
public final class ProbeCommand implements Callable<Integer> {

    @Option(names = "--json", description = "Print machine-readable JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        SystemProbe.Report report = SystemProbe.run();
        if (json) {
            System.out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(report.toMap()));
        } else {
            System.out.print(human(report));
        }
        return 0;
    }

    /** The human-readable report; also logged by {@code orion serve} at start. */
    public static String human(SystemProbe.Report r) {
        StringBuilder sb = new StringBuilder();
        row(sb, "kernel", r.kernel());
        SystemProbe.UringSupport u = r.ioUring();
        if (u.available()) {
            row(sb, "io_uring", "available");
            row(sb, "  features", String.join(" ", u.features()));
            row(sb, "  opcodes", u.opcodes().size() + " supported: " + String.join(" ", u.opcodes()));
        } else {
            row(sb, "io_uring", "NOT available: " + u.error());
        }
        Map<String, Boolean> mods = r.modules();
        devices(sb, "/dev/nbd*", r.devices().get("nbd"), mods.get("nbd"), "modprobe nbd");
        devices(sb, "/dev/nvme*, ng*", r.devices().get("nvme"), mods.get("nvme"), "no NVMe controller, or modprobe nvme");
        devices(sb, "/dev/vfio", r.devices().get("vfio"), mods.get("vfio_pci"), "modprobe vfio-pci and bind a device");
        row(sb, "CAP_SYS_ADMIN", r.capSysAdmin() ? "yes" : "no (kernel devices need root)");
        return sb.toString();
    }

    private static void devices(StringBuilder sb, String label, List<String> found, Boolean moduleLoaded, String hint) {
        if (found.isEmpty()) {
            row(sb, label, "none" + (Boolean.TRUE.equals(moduleLoaded) ? "" : " (" + hint + ")"));
        } else if (found.size() > 6) {
            row(sb, label, found.size() + " nodes: " + String.join(" ", found.subList(0, 6)) + " ...");
        } else {
            row(sb, label, String.join(" ", found));
        }
    }

    private static void row(StringBuilder sb, String key, String value) {
        sb.append(String.format("%-16s %s%n", key, value));
    }
}
