package org.orionos.host.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import org.orionos.host.config.NbdAttachSpec;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code orion attach EXPORT}: serves the configured stack (as {@code serve} does) with EXPORT
 * attached as a kernel block device as well, until SIGINT/SIGTERM, which detaches it. The host
 * has no management socket yet, so this runs the host in-process rather than asking a running one.
 */
@Command(name = "attach", mixinStandardHelpOptions = true,
        description = "Serve the stack (as `serve`) with EXPORT attached as a kernel /dev/nbdN until SIGINT or"
                + " SIGTERM (which detach it). Runs the host in this process.")
public final class AttachCommand implements Callable<Integer> {

    @Parameters(paramLabel = "EXPORT", description = "An [[nbd.export]] of the config (the default config exports disk0).")
    String export;

    @Option(names = "--device", paramLabel = "/dev/nbdN", description = "The device (default: the first free one).")
    String device;

    @Option(names = "--connections", paramLabel = "N", defaultValue = "1",
            description = "Sockets between the kernel and the server, 1..64 (default: ${DEFAULT-VALUE}).")
    int connections;

    @Option(names = "--timeout", paramLabel = "S", defaultValue = "30",
            description = "Seconds a request may take before the kernel resends it (default: ${DEFAULT-VALUE}).")
    long timeout;

    @Option(names = "--dead-conn-timeout", paramLabel = "S", defaultValue = "120",
            description = "Seconds I/O waits for a killed host to come back and re-attach (default: ${DEFAULT-VALUE}).")
    long deadConnTimeout;

    @Option(names = "--config", paramLabel = "FILE", description = "TOML stack description (default: the built-in one).")
    Path config;

    @Option(names = "--reactors", paramLabel = "N", description = "Reactor threads (default: one per core).")
    int reactors;

    @Option(names = "--nbd-listen", paramLabel = "ADDRESS", description = "NBD listen address replacing the config's (repeatable).")
    List<String> nbdListen;

    @Override
    public Integer call() throws Exception {
        if (connections < 1 || connections > 64) {
            System.err.println("orion attach: --connections must be 1..64, not " + connections);
            return 2;
        }
        if (timeout < 1 || deadConnTimeout < 0) {
            System.err.println("orion attach: --timeout must be at least 1 and --dead-conn-timeout at least 0 seconds");
            return 2;
        }
        if (device != null && !device.matches("/dev/nbd[0-9]{1,4}")) {
            System.err.println("orion attach: --device must be /dev/nbdN (e.g. /dev/nbd0), not " + device);
            return 2;
        }
        ServeCommand serve = new ServeCommand();
        serve.config = config;
        serve.reactors = reactors;
        serve.nbdListen = nbdListen;
        serve.extraAttach = new NbdAttachSpec(export, device, connections, timeout, deadConnTimeout);
        return serve.call();
    }
}
