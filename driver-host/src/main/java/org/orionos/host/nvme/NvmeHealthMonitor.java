package org.orionos.host.nvme;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.bindings.nvme.NvmeTypesH;
import org.orionos.bindings.nvme.NvmeTypesH.NvmeIdCtrl;
import org.orionos.host.config.BdevSpec;
import org.orionos.host.config.OrionConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.orionos.bindings.nvme.NvmeTypesH.NVME_FEAT_FID_ASYNC_EVENT;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_FEAT_FID_TEMP_THRESH;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_LOG_LID_ERROR;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_LOG_LID_SMART;

/**
 * Watches the health of the controllers behind a running host's NVMe devices: turns on their
 * SMART/health events (again after a controller reset), follows each {@code NVME_AEN} uevent
 * ({@link NvmeEvents}) by reading the log page it names, and polls the SMART/health log at each
 * controller's interval because not every condition raises an event (wear, media errors, a
 * temperature that falls back). Logs a warning when a threshold is crossed and an info line when
 * it clears, once per change. Management path: one thread of its own does every admin command,
 * so event follow-ups and polls of a controller never interleave; {@link #json} reads the latest
 * snapshot from any thread.
 */
public final class NvmeHealthMonitor implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NvmeHealthMonitor.class);
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /** A controller to watch: its node, how often to poll (0: events only), and the devices on it. */
    public record Target(Path controller, long intervalSeconds, List<String> devices) {
        public String name() {
            return controller.getFileName().toString();
        }
    }

    /** What the monitor knows of one controller; only the monitor thread writes it. */
    private static final class State {
        final Target target;
        /** The controller's node now: a controller that returns after a PCI rescan gets a new instance number. */
        Path ctrl;
        /** Who the controller is (subsystem NQN, controller id), to find it again under a new node. */
        String subnqn;
        int cntlid = -1;
        String sn;
        String mn;
        boolean eventsOn;
        boolean eventsRefusedLogged;
        Map<String, String> conditions = Map.of();
        BigInteger mediaErrors;
        String error;
        long events;
        String lastEvent;
        /** The latest snapshot for {@link #json}, replaced whole so readers see one consistent reading. */
        volatile ObjectNode snapshot;

        State(Target target) {
            this.target = target;
            this.ctrl = target.controller();
        }
    }

    private final Map<String, State> states = new LinkedHashMap<>();
    private final ScheduledThreadPoolExecutor worker;
    private final NvmeEvents events;

    private NvmeHealthMonitor(List<Target> targets) {
        for (Target t : targets) {
            State s = new State(t);
            s.snapshot = F.objectNode().put("controller", t.name()).put("path", t.controller().toString())
                    .put("error", "not read yet");
            states.put(t.name(), s);
        }
        if (targets.isEmpty()) {
            worker = null;
            events = null;
            return;
        }
        worker = new ScheduledThreadPoolExecutor(1, r -> Thread.ofPlatform().name("orion-nvme-health").daemon()
                .unstarted(r));
        worker.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        NvmeEvents ev = null;
        try {
            ev = NvmeEvents.listen(e -> worker.execute(() -> onEvent(e)));
        } catch (ErrnoException e) {
            LOG.warn("nvme health: cannot listen for controller events ({}); polling only", e.getMessage());
        }
        events = ev;
        for (State s : states.values()) {
            worker.execute(() -> check(s, "start"));
            long every = s.target.intervalSeconds();
            if (every > 0) {
                worker.scheduleWithFixedDelay(() -> check(s, "poll"), every, every, TimeUnit.SECONDS);
            }
        }
    }

    /** Starts watching {@code targets}; with none it starts no thread and reports no controllers. */
    public static NvmeHealthMonitor start(List<Target> targets) {
        NvmeHealthMonitor m = new NvmeHealthMonitor(targets);
        for (Target t : targets) {
            LOG.info("nvme health: watching {} ({}) {}", t.controller(), String.join(", ", t.devices()),
                    t.intervalSeconds() > 0 ? "every " + t.intervalSeconds() + " s and on its events" : "on its events");
        }
        return m;
    }

    /** Watches the controllers of the config's {@code [[nvme]]} devices. */
    public static NvmeHealthMonitor start(OrionConfig cfg) {
        return start(targets(cfg));
    }

    /**
     * The controllers behind the config's NVMe devices, each once, with the shortest interval any
     * of its devices asks for (0 only when all ask for events only).
     */
    public static List<Target> targets(OrionConfig cfg) {
        Map<Path, long[]> interval = new LinkedHashMap<>();
        Map<Path, List<String>> devices = new LinkedHashMap<>();
        for (BdevSpec b : cfg.bdevs()) {
            List<Path> nodes;
            long every;
            if (b instanceof BdevSpec.Nvme n) {
                nodes = List.of(n.path());
                every = n.healthIntervalSeconds();
            } else if (b instanceof BdevSpec.NvmeMultipath m) {
                nodes = m.paths();
                every = m.healthIntervalSeconds();
            } else {
                continue;
            }
            for (Path node : nodes) {
                Path ctrl = NvmeController.controllerOf(node);
                long[] cur = interval.computeIfAbsent(ctrl, k -> new long[] {every});
                if (every > 0 && (cur[0] == 0 || every < cur[0])) {
                    cur[0] = every;
                }
                List<String> ds = devices.computeIfAbsent(ctrl, k -> new ArrayList<>());
                if (!ds.contains(b.name())) {
                    ds.add(b.name());
                }
            }
        }
        List<Target> out = new ArrayList<>();
        interval.forEach((c, every) -> out.add(new Target(c, every[0], List.copyOf(devices.get(c)))));
        return out;
    }

    private void onEvent(NvmeEvents.Event ev) {
        State s = null;
        for (State x : states.values()) {
            if (x.ctrl.getFileName().toString().equals(ev.controller())) {
                s = x;
            }
        }
        if (s == null) {
            LOG.debug("nvme health: {} (not a controller this host uses)", ev);
            return;
        }
        s.events++;
        s.lastEvent = ev.toString();
        LOG.info("nvme health: {}", ev);
        if (ev.type() == 1 || ev.logPage() == NVME_LOG_LID_SMART) {
            check(s, "event");
            return;
        }
        if (ev.type() == 0) {
            // Reading the page the event names re-arms events of its type; the newest error entry is enough.
            int page = ev.logPage() != 0 ? ev.logPage() : NVME_LOG_LID_ERROR;
            try (NvmeController c = NvmeController.open(s.ctrl); Arena a = Arena.ofConfined()) {
                c.logPage(a, page, 0xffffffff, 64, 0);
            } catch (ErrnoException e) {
                LOG.warn("{}: cannot read log page 0x{} named by {}: {}", s.ctrl,
                        Integer.toHexString(page), ev, e.getMessage());
            }
        }
        check(s, "event");
    }

    /** Reads the controller's health, logs what changed, publishes the snapshot. */
    private void check(State s, String why) {
        check(s, why, true);
    }

    private void check(State s, String why, boolean mayMove) {
        Path ctrl = s.ctrl;
        try (NvmeController c = NvmeController.open(ctrl); Arena a = Arena.ofConfined()) {
            MemorySegment id = c.identifyController(a);
            s.sn = NvmeTypesH.text(id, NvmeIdCtrl.SN, 20);
            s.mn = NvmeTypesH.text(id, NvmeIdCtrl.MN, 40);
            s.subnqn = NvmeTypesH.text(id, NvmeIdCtrl.SUBNQN, 256);
            s.cntlid = NvmeJson.u16(id, NvmeIdCtrl.CNTLID);
            ensureEvents(s, c);
            MemorySegment log = c.smartLog(a);
            NvmeHealth h = NvmeHealth.of(log, id);
            int tmpth = (int) c.getFeature(NVME_FEAT_FID_TEMP_THRESH, 0, 0, 0, null) & 0xffff;
            if (s.error != null) {
                LOG.info("{}: health readable again", ctrl);
                s.error = null;
            }
            report(s, h);
            ObjectNode o = F.objectNode();
            o.put("controller", ctrl.getFileName().toString());
            o.put("path", ctrl.toString());
            o.put("subnqn", s.subnqn);
            o.put("cntlid", s.cntlid);
            o.put("sn", s.sn);
            o.put("mn", s.mn);
            ArrayNode devs = o.putArray("devices");
            s.target.devices().forEach(devs::add);
            o.put("health_interval_s", s.target.intervalSeconds());
            o.put("health_events", s.eventsOn);
            o.put("events", s.events);
            o.put("last_event", s.lastEvent);
            o.put("read_at", Instant.now().toString());
            o.put("read_by", why);
            o.put("wctemp", h.warningTempK());
            o.put("cctemp", h.criticalTempK());
            o.put("tmpth", tmpth);
            ArrayNode w = o.putArray("warnings");
            h.warnings().forEach(w::add);
            o.set("smart_log", NvmeJson.smartLog(log));
            s.snapshot = o;
        } catch (ErrnoException e) {
            Path moved = mayMove && e.errno() == Errno.ENOENT || e.errno() == Errno.ENODEV || e.errno() == Errno.ENXIO
                    ? findAgain(s) : null;
            if (moved != null) {
                LOG.info("{}: the controller (subsystem {}, controller id {}) is back as {}", ctrl, s.subnqn, s.cntlid,
                        moved);
                s.ctrl = moved;
                check(s, why, false);
                return;
            }
            if (!e.getMessage().equals(s.error)) {
                LOG.warn("{}: cannot read health: {}", ctrl, e.getMessage());
                s.error = e.getMessage();
            }
            ObjectNode o = s.snapshot.deepCopy();
            o.put("error", e.getMessage());
            o.put("error_at", Instant.now().toString());
            s.snapshot = o;
        } catch (RuntimeException e) {
            LOG.warn("{}: health check failed: {}", ctrl, e.toString());
        }
    }

    /**
     * The node of the controller {@code s} watched, when it is now under another instance number
     * (subsystem NQN and controller id identify a controller), else null.
     */
    private static Path findAgain(State s) {
        Path cls = Path.of("/sys/class/nvme");
        if (s.subnqn == null || !Files.isDirectory(cls)) {
            return null;
        }
        try (var ctrls = Files.list(cls)) {
            for (Path c : ctrls.sorted().toList()) {
                Path dev = Path.of("/dev", c.getFileName().toString());
                if (dev.equals(s.ctrl) || !Files.isReadable(c.resolve("cntlid"))) {
                    continue;
                }
                if (Files.readString(c.resolve("subsysnqn")).strip().equals(s.subnqn)
                        && Integer.parseInt(Files.readString(c.resolve("cntlid")).strip()) == s.cntlid
                        && Files.exists(dev)) {
                    return dev;
                }
            }
        } catch (IOException | NumberFormatException e) {
            LOG.debug("nvme health: looking for {} again: {}", s.ctrl, e.toString());
        }
        return null;
    }

    /**
     * The kernel writes Asynchronous Event Configuration with only its notice bits at every
     * controller start, so a reset turns SMART events off again: put them back on each check.
     */
    private static void ensureEvents(State s, NvmeController c) {
        try {
            int aec = (int) c.getFeature(NVME_FEAT_FID_ASYNC_EVENT, 0, 0, 0, null);
            if ((aec & NvmeEvents.SMART_CRITICAL_WARNINGS) != NvmeEvents.SMART_CRITICAL_WARNINGS) {
                aec = NvmeEvents.enableHealthEvents(c);
                if (s.eventsOn) {
                    LOG.info("{}: SMART/health events were off (controller reset?); on again", c.path());
                }
            }
            s.eventsOn = (aec & NvmeEvents.SMART_CRITICAL_WARNINGS) == NvmeEvents.SMART_CRITICAL_WARNINGS;
        } catch (ErrnoException e) {
            s.eventsOn = false;
            if (!s.eventsRefusedLogged) {
                LOG.warn("{}: cannot turn on SMART/health events ({}); polling only", c.path(), e.getMessage());
                s.eventsRefusedLogged = true;
            }
        }
    }

    /** Logs each condition that appeared (warning), grew (media errors) or cleared (info). */
    private static void report(State s, NvmeHealth h) {
        Path ctrl = s.ctrl;
        Map<String, String> now = h.conditions();
        if (s.mediaErrors == null) {
            LOG.info("{}: health: {} C, available spare {}% (threshold {}%), {}% used, {} media errors, {} unsafe shutdowns",
                    ctrl, h.temperatureCelsius(), h.availSpare(), h.spareThreshold(), h.percentUsed(), h.mediaErrors(),
                    h.unsafeShutdowns());
        }
        for (Map.Entry<String, String> e : now.entrySet()) {
            if (!s.conditions.containsKey(e.getKey())) {
                LOG.warn("{}: health: {}", ctrl, e.getValue());
            } else if (e.getKey().equals("media_errors") && h.mediaErrors().compareTo(s.mediaErrors) > 0) {
                LOG.warn("{}: health: media/data integrity errors rose from {} to {}", ctrl, s.mediaErrors,
                        h.mediaErrors());
            }
        }
        for (Map.Entry<String, String> e : s.conditions.entrySet()) {
            if (!now.containsKey(e.getKey())) {
                LOG.info("{}: health: cleared: {}", ctrl, e.getValue());
            }
        }
        s.conditions = now;
        s.mediaErrors = h.mediaErrors();
    }

    /**
     * The latest health of every watched controller: {@code controllers} is a list of objects with
     * the node, serial and model, the devices on it, the warnings in words, wctemp/cctemp (Identify)
     * and tmpth (the current over-temperature threshold feature) in kelvin, and {@code smart_log}
     * as {@code nvme smart-log -o json} prints it; {@code error} when the last read failed.
     */
    public ObjectNode json() {
        ObjectNode o = F.objectNode();
        ArrayNode cs = o.putArray("controllers");
        for (State s : states.values()) {
            cs.add(s.snapshot);
        }
        return o;
    }

    @Override
    public void close() {
        if (events != null) {
            events.close();
        }
        if (worker != null) {
            worker.shutdownNow();
            try {
                if (!worker.awaitTermination(10, TimeUnit.SECONDS)) {
                    LOG.warn("nvme health: an admin command is still outstanding; leaving its thread behind");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
