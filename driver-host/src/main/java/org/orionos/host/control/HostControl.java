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
import org.orionos.host.raid.MdArray;
import org.orionos.host.raid.RaidBdev;
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
     * latest health of the NVMe controllers it watches; {@code raid.status}: one md array's state,
     * members and rebuild/resync progress; the LVM operations of {@code LvmControl}.
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
        h.putAll(org.orionos.host.lvm.LvmControl.handlers(host));
        h.put("raid.status", args -> raidStatus(host, args.path("name").asText("")));
        h.put("raid.grow", args -> raidGrow(host, args));
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

    /**
     * {@code raid.grow {name, level?, raid_devices?, add: [device names]}}: starts a reshape or level
     * change online (MdArray#grow); answers with the status once it started.
     */
    static JsonNode raidGrow(BdevHost host, JsonNode args) {
        String name = args.path("name").asText("");
        raidStatus(host, name); // names the arrays when there is none of that name
        MdArray a = ((RaidBdev) host.registry().get(name)).array();
        java.util.List<BlockDevice> add = new java.util.ArrayList<>();
        for (JsonNode n : args.path("add")) {
            add.add(host.registry().get(n.asText()));
        }
        int level = args.path("level").asInt(-1);
        a.grow(new MdArray.GrowOptions(level < 0 ? null : org.orionos.host.raid.RaidLevel.ofMdLevel(level),
                args.path("raid_devices").asInt(0), add));
        return raidStatus(host, name);
    }

    /** {@code raid.status {name}}: an md array's state, roles, spares and background sync progress. */
    static JsonNode raidStatus(BdevHost host, String name) {
        MdArray a = host.registry().find(name).filter(d -> d instanceof RaidBdev r && r.array() != null)
                .map(d -> ((RaidBdev) d).array()).orElse(null);
        if (a == null) {
            StringBuilder names = new StringBuilder();
            for (BlockDevice d : host.registry().all()) {
                if (d instanceof RaidBdev r && r.array() != null) {
                    names.append(names.isEmpty() ? "" : ", ").append(d.name());
                }
            }
            throw new IllegalArgumentException("no RAID array named \"" + name + "\" on this host (arrays: "
                    + (names.isEmpty() ? "none" : names) + ")");
        }
        RaidBdev raid = a.current(); // the geometry in use (a reshape in this run swaps it)
        ObjectNode o = ControlServer.JSON.createObjectNode();
        o.put("name", a.name());
        o.put("level", a.geometry().level().mdadmName());
        o.put("raid_devices", a.geometry().raidDisks()); // the new count while a reshape runs, as md
        o.put("chunk_sectors", a.geometry().chunkSectors());
        o.put("size_bytes", raid.sizeBytes());
        o.put("events", a.events());
        o.put("state", a.state());
        o.put("bitmap_dirty_regions", a.dirtyRegions());
        ArrayNode members = o.putArray("members");
        for (MdArray.RoleState r : a.roles()) {
            members.addObject().put("role", r.role()).put("device", r.device()).put("state", r.state());
        }
        ArrayNode spares = o.putArray("spares");
        for (BlockDevice d : a.spares()) {
            spares.add(d.name());
        }
        MdArray.Progress p = a.progress();
        if (p != null) {
            ObjectNode s = o.putObject("sync");
            s.put("kind", p.kind());
            s.put("target", p.target());
            s.put("running", p.running());
            s.put("done_units", p.doneStripes());
            s.put("total_units", p.totalStripes());
            s.put("percent", Math.round(p.percent() * 10) / 10.0);
            s.put("mb_per_s", Math.round(p.mbPerSec() * 10) / 10.0);
            s.put("eta_s", p.eta().toSeconds());
        }
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
