package org.orionos.host.control;

import java.util.LinkedHashMap;
import java.util.Map;

import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.Claim;
import org.orionos.host.nbd.server.ListenAddress;
import org.orionos.host.nbd.server.NbdServer;
import org.orionos.host.nbd.server.NbdStats;
import org.orionos.host.nbd.server.ServerExport;
import org.orionos.host.nvme.NvmeHealthMonitor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** The operations every running host answers; {@code serve} adds those of the layers it runs. */
public final class HostControl {
    private HostControl() {}

    /**
     * {@code status}: the host (pid, version, reactors), its block devices with their claims,
     * the NBD server's listeners and exports with their counters, and (section {@code nvme}) the
     * latest health of the NVMe controllers it watches.
     *
     * @param nbd the NBD server, or null when none runs
     */
    public static Map<String, ControlHandler> handlers(BdevHost host, NbdServer nbd, String version) {
        return handlers(host, nbd, null, version);
    }

    /**
     * As {@link #handlers(BdevHost, NbdServer, String)}, with the NVMe controllers' latest health in
     * {@code status} (section {@code nvme}) and alone as {@code nvme.health}.
     *
     * @param nvmeHealth the NVMe health monitor, or null when none runs
     */
    public static Map<String, ControlHandler> handlers(BdevHost host, NbdServer nbd, NvmeHealthMonitor nvmeHealth,
                                                       String version) {
        long started = System.currentTimeMillis();
        Map<String, ControlHandler> h = new LinkedHashMap<>();
        h.put("status", args -> status(host, nbd, nvmeHealth, version, started));
        h.put("nvme.health", args -> nvmeHealth(nvmeHealth));
        return h;
    }

    private static ObjectNode nvmeHealth(NvmeHealthMonitor m) {
        if (m != null) {
            return m.json();
        }
        ObjectNode o = ControlServer.JSON.createObjectNode();
        o.putArray("controllers");
        return o;
    }

    private static JsonNode status(BdevHost host, NbdServer nbd, NvmeHealthMonitor nvmeHealth, String version,
                                   long started) {
        ObjectNode root = ControlServer.JSON.createObjectNode();
        ObjectNode self = root.putObject("host");
        self.put("pid", ProcessHandle.current().pid());
        self.put("version", version);
        self.put("uptime_s", (System.currentTimeMillis() - started) / 1000);
        self.put("reactors", host.reactorCount());
        ArrayNode bdevs = root.putArray("bdevs");
        for (BlockDevice d : host.registry().all()) {
            ObjectNode b = bdevs.addObject();
            b.put("name", d.name());
            b.put("size_bytes", d.sizeBytes());
            b.put("block_size", d.blockSize());
            b.put("description", BdevHost.describe(d));
            ArrayNode claims = b.putArray("claims");
            for (Claim c : d.claims()) {
                claims.addObject().put("owner", c.owner()).put("write", c.write());
            }
        }
        ObjectNode n = root.putObject("nbd");
        n.put("running", nbd != null);
        if (nbd != null) {
            ArrayNode listen = n.putArray("listen");
            for (ListenAddress.Bound b : nbd.addresses()) {
                listen.add(b.toString());
            }
            n.put("connections", nbd.connectionCount());
            ArrayNode exports = n.putArray("exports");
            for (ServerExport e : nbd.exports().values()) {
                ObjectNode x = exports.addObject();
                x.put("name", e.name());
                x.put("bdev", e.device().name());
                x.put("read_only", e.export().readOnly());
                x.put("connections", e.liveConnections());
                NbdStats s = e.stats().snapshot();
                x.put("requests", s.requests());
                x.put("bytes_read", s.bytesRead());
                x.put("bytes_written", s.bytesWritten());
                x.put("errors", s.errors());
                x.put("mean_latency_us", s.meanLatencyMicros());
            }
        }
        root.set("nvme", nvmeHealth(nvmeHealth));
        return root;
    }
}
