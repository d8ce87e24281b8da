package org.orionos.host.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.orionos.host.control.ControlClient;
import org.orionos.host.control.ControlException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code orion status}: what the running host serves, asked over its control socket. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Show the running host's block devices, claims, NVMe health and NBD exports with their counters.")
public final class StatusCommand implements Callable<Integer> {

    @Option(names = "--control-socket", paramLabel = "PATH", description = "The host's management socket (default: ${DEFAULT-VALUE}).")
    Path controlSocket = ControlClient.DEFAULT_SOCKET;

    @Option(names = "--json", description = "The host's answer as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        JsonNode s;
        try {
            s = ControlClient.call(controlSocket, "status", null);
        } catch (ControlException e) {
            System.err.println("orion status: " + e.getMessage());
            return 1;
        }
        if (json) {
            System.out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(s));
            return 0;
        }
        JsonNode h = s.path("host");
        System.out.printf(Locale.ROOT, "orion %s, pid %d, up %ds, %d reactor(s)%n", h.path("version").asText(),
                h.path("pid").asLong(), h.path("uptime_s").asLong(), h.path("reactors").asInt());
        System.out.println("block devices:");
        for (JsonNode b : s.path("bdevs")) {
            StringBuilder claims = new StringBuilder();
            for (JsonNode c : b.path("claims")) {
                claims.append(claims.isEmpty() ? "  claimed by " : ", ").append(c.path("owner").asText())
                        .append(c.path("write").asBoolean() ? " (writer)" : " (reader)");
            }
            System.out.printf(Locale.ROOT, "  %-16s %s%s%n", b.path("name").asText(), b.path("description").asText(), claims);
        }
        for (JsonNode c : s.path("nvme").path("controllers")) {
            StringBuilder w = new StringBuilder();
            for (JsonNode x : c.path("warnings")) {
                w.append(w.isEmpty() ? "" : "; ").append(x.asText());
            }
            System.out.printf(Locale.ROOT, "nvme health: %s %s%n", c.path("path").asText(),
                    c.has("error") ? "cannot be read: " + c.path("error").asText() : w.isEmpty() ? "ok" : w);
        }
        JsonNode n = s.path("nbd");
        if (!n.path("running").asBoolean()) {
            System.out.println("nbd: not serving");
            return 0;
        }
        System.out.printf(Locale.ROOT, "nbd: %d connection(s) on %s%n", n.path("connections").asInt(), n.path("listen"));
        for (JsonNode x : n.path("exports")) {
            System.out.printf(Locale.ROOT, "  %-16s bdev %s%s, %d connection(s), %d requests, %d B read, %d B written, %d errors, %.1f us mean%n",
                    x.path("name").asText(), x.path("bdev").asText(), x.path("read_only").asBoolean() ? " (read-only)" : "",
                    x.path("connections").asInt(), x.path("requests").asLong(), x.path("bytes_read").asLong(),
                    x.path("bytes_written").asLong(), x.path("errors").asLong(), x.path("mean_latency_us").asDouble());
        }
        return 0;
    }
}
