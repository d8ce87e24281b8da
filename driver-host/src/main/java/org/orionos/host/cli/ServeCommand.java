package org.orionos.host.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import org.orionos.bindings.ErrnoException;
import org.orionos.host.ShutdownSignal;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.config.ConfigLoader;
import org.orionos.host.config.NbdAttachSpec;
import org.orionos.host.config.OrionConfig;
import org.orionos.host.control.ControlClient;
import org.orionos.host.control.ControlHandler;
import org.orionos.host.control.ControlServer;
import org.orionos.host.control.HostControl;
import org.orionos.host.nbd.server.JsseTlsFilter;
import org.orionos.host.nbd.server.ListenAddress;
import org.orionos.host.nbd.server.NbdServer;
import org.orionos.host.nvme.NvmeHealthMonitor;
import org.orionos.host.probe.SystemProbe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code orion serve}: builds the configured stack and runs it until SIGINT/SIGTERM. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Build the stack from a TOML config (or the built-in default) and serve it until SIGINT or SIGTERM.")
public final class ServeCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(ServeCommand.class);

    @Option(names = "--config", paramLabel = "FILE", description = "TOML stack description (default: built-in: a sparse 1 GiB file under ./orion-data).")
    Path config;

    @Option(names = "--reactors", paramLabel = "N", description = "Reactor threads (default: one per core).")
    int reactors;

    @Option(names = "--busy-poll-us", paramLabel = "MICROS",
            description = "Reactors busy-poll this long for new work before sleeping (default 10; 0: off). Saves a "
                    + "wake-up per request burst when clients answer within microseconds (same host), at the cost "
                    + "of up to that much CPU per idle moment.")
    // 10 us: long enough that a local NBD client's next requests find the reactor awake (its
    // context switches per 4K I/O fell from 0.2-0.5 to 0.06), short enough to leave the core to
    // others; a fixed 50 us cost TCP and 1M Unix writes throughput on a 2-vCPU machine (README,
    // NBD round 3). The window widens only while sleeps keep ending early (--busy-poll-max-us).
    long busyPollMicros = 10;

    @Option(names = "--busy-poll-max-us", paramLabel = "MICROS",
            description = "Longest busy-poll window (default 50): a reactor whose sleeps keep ending sooner than "
                    + "this doubles its window up to it, and halves it again after longer sleeps, so a client with "
                    + "one request in flight finds it awake. Equal to --busy-poll-us: fixed window.")
    // 50 us: a QD1 fio client over TCP loopback needs about 30 (4K reads: 0.6x nbdkit's IOPS with a
    // fixed 10, 1.3x with the window adapting); QD32 and 1M loads rarely sleep, so never widen it.
    Long busyPollMaxMicros;

    @Option(names = "--nbd-listen", paramLabel = "ADDRESS",
            description = "NBD listen address replacing the config's [[nbd.listen]] (repeatable): tcp:HOST:PORT, "
                    + "tcp:[IPv6]:PORT or unix:PATH; port 0 picks a free port.")
    List<String> nbdListen;

    @Option(names = "--control-socket", paramLabel = "PATH",
            description = "Management socket for `orion status` and other commands that act on the running host "
                    + "(default: ${DEFAULT-VALUE}). A second host on the same path is refused.")
    Path controlSocket = ControlClient.DEFAULT_SOCKET;

    /** One more attachment than the config has ({@code orion attach}). */
    NbdAttachSpec extraAttach;

    @Override
    public Integer call() throws Exception {
        ShutdownSignal signal = new ShutdownSignal(60_000).install();
        SystemProbe.Report report = SystemProbe.run();
        LOG.info("orion host starting (pid {})\n{}", ProcessHandle.current().pid(), ProbeCommand.human(report).stripTrailing());
        if (!report.ioUring().available()) {
            LOG.error("io_uring is required: {}", report.ioUring().error());
            signal.finished(1);
            return 1;
        }
        long busyPollMax = busyPollMaxMicros != null ? busyPollMaxMicros : Math.max(50, busyPollMicros);
        if (busyPollMicros > 0 && busyPollMax < busyPollMicros) {
            LOG.error("--busy-poll-max-us ({}) must be at least --busy-poll-us ({}): raise the first or lower the second",
                    busyPollMax, busyPollMicros);
            signal.finished(2);
            return 2;
        }
        if (busyPollMicros < 0) {
            LOG.error("--busy-poll-us must be 0 (off) or a positive number of microseconds, got {}", busyPollMicros);
            signal.finished(2);
            return 2;
        }
        OrionConfig cfg;
        try {
            cfg = config != null ? ConfigLoader.load(config) : ConfigLoader.embeddedDefault();
        } catch (ErrnoException e) {
            LOG.error("{}", e.getMessage());
            signal.finished(2);
            return 2;
        }
        if (nbdListen != null && !nbdListen.isEmpty()) {
            try {
                cfg = ConfigLoader.withNbdListeners(cfg, nbdListen);
            } catch (ErrnoException e) {
                LOG.error("{}", e.getMessage());
                signal.finished(2);
                return 2;
            }
        }
        if (extraAttach != null) {
            try {
                cfg = ConfigLoader.withNbdAttach(cfg, extraAttach);
            } catch (ErrnoException e) {
                LOG.error("{}", e.getMessage());
                signal.finished(2);
                return 2;
            }
        }
        LOG.info("stack from {}", cfg.source());
        ControlServer control;
        try {
            control = startControl();
        } catch (ErrnoException e) {
            LOG.error("{}", e.getMessage());
            signal.finished(1);
            return 1;
        }
        BdevHost host = BdevHost.start(reactors, BdevHost.DEFAULT_BUFFER_BYTES, cfg.needsBigRingEntries());
        if (busyPollMicros > 0) {
            host.reactors().all().forEach(r -> r.busyPoll(busyPollMicros * 1000, busyPollMax * 1000));
            LOG.info("reactors busy-poll for {} us before sleeping (up to {} us while clients answer that fast)",
                    busyPollMicros, busyPollMax);
        }
        try {
            host.build(cfg);
        } catch (ErrnoException e) {
            LOG.error("{}", e.getMessage());
            host.close();
            closeControl(control);
            signal.finished(1);
            return 1;
        }
        LOG.info("serving {} block device(s) on {} reactor(s): {}", host.registry().all().size(), host.reactorCount(),
                String.join(", ", host.registry().all().stream().map(BlockDevice::name).toList()));
        NbdServer nbd = null;
        if (cfg.nbd().enabled()) {
            try {
                nbd = NbdServer.start(host, cfg.nbd(), JsseTlsFilter.factoryFor(cfg.nbd().tls()));
            } catch (ErrnoException e) {
                LOG.error("{}", e.getMessage());
                host.close();
                closeControl(control);
                signal.finished(1);
                return 1;
            }
            for (ListenAddress.Bound b : nbd.addresses()) {
                for (String export : nbd.exports().keySet()) {
                    LOG.info("nbd: export {} on {}: e.g. nbdinfo '{}'", export, b, b.uri(export));
                }
            }
            if (nbd.addresses().isEmpty() && cfg.nbd().attach().isEmpty()) {
                LOG.info("nbd: no listener; exports {} are reached as kernel devices: `orion attach EXPORT`",
                        nbd.exports().keySet());
            }
        }
        KernelAttachments kernel = new KernelAttachments(nbd);
        if (!cfg.nbd().attach().isEmpty()) {
            try {
                kernel.attachAll(cfg.nbd().attach());
            } catch (ErrnoException e) {
                LOG.error("{}", e.getMessage());
                if (nbd != null) {
                    nbd.close();
                }
                host.close();
                closeControl(control);
                signal.finished(1);
                return 1;
            }
        }
        NvmeHealthMonitor nvmeHealth = NvmeHealthMonitor.start(cfg);
        if (control != null) {
            Map<String, ControlHandler> ops = new LinkedHashMap<>(HostControl.handlers(host, nbd, nvmeHealth, OrionMain.version()));
            ops.putAll(kernel.handlers());
            control.publish(ops);
        }
        LOG.info("ready; stop with SIGINT (Ctrl-C) or SIGTERM");
        signal.awaitRequested();
        closeControl(control);
        nvmeHealth.close();
        kernel.stop();
        if (nbd != null) {
            LOG.info("stop requested: closing NBD listeners and draining connections");
            nbd.close();
        }
        LOG.info("draining in-flight I/O, flushing and closing devices");
        host.close();
        LOG.info("stopped cleanly");
        signal.finished(0);
        return 0;
    }

    private static void closeControl(ControlServer control) {
        if (control != null) {
            control.close();
        }
    }

    /**
     * The management socket. Another host answering on it is fatal (two hosts must not serve the
     * same devices); a path that cannot be created (a read-only /run) only costs remote management.
     */
    private ControlServer startControl() {
        try {
            return ControlServer.start(controlSocket);
        } catch (IllegalStateException e) {
            LOG.warn("{}; `orion status` and remote commands will not reach this host", e.getMessage());
            return null;
        }
    }
}
