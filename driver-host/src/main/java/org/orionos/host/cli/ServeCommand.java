package org.orionos.host.cli;

import java.util.concurrent.Callable;

import org.orionos.host.ShutdownSignal;
import org.orionos.host.probe.SystemProbe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import picocli.CommandLine.Command;

/** {@code orion serve}: runs the host until SIGINT/SIGTERM. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Run the storage host until SIGINT or SIGTERM.")
public final class ServeCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(ServeCommand.class);

    @Override
    public Integer call() throws Exception {
        ShutdownSignal signal = new ShutdownSignal(30_000).install();
        SystemProbe.Report report = SystemProbe.run();
        LOG.info("orion host starting (pid {})\n{}", ProcessHandle.current().pid(), ProbeCommand.human(report).stripTrailing());
        if (!report.ioUring().available()) {
            LOG.error("io_uring is required: {}", report.ioUring().error());
            signal.finished(1);
            return 1;
        }
        LOG.info("ready; stop with SIGINT (Ctrl-C) or SIGTERM");
        signal.awaitRequested();
        LOG.info("stop requested; shutting down");
        signal.finished(0);
        return 0;
    }
}
