package org.orionos.host.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import org.orionos.host.config.NbdAttachSpec;
import org.orionos.host.control.ControlClient;
import org.orionos.host.control.ControlException;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code orion attach EXPORT}: when a host answers on the management socket, asks it to attach
 * EXPORT as a kernel block device. Otherwise serves the configured stack in this process (as
 * {@code serve} does) with EXPORT attached as well, until SIGINT/SIGTERM. Either way the device
 * outlives the host's stop (its I/O waits for a host to take it back) unless
 * {@code --detach-on-exit}; {@code orion detach} removes it.
 */
@Command(name = "attach", mixinStandardHelpOptions = true,
        description = "Attach EXPORT as a kernel /dev/nbdN: through the running host (its management socket), or,"
                + " when none runs, by serving the stack in this process (as `serve`) until SIGINT or SIGTERM.")
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

    @Option(names = "--detach-on-exit",
            description = "Detach the device when the host stops (default: leave it attached for the next host,"
                    + " which takes it back within the dead-connection timeout).")
    boolean detachOnExit;

    @Option(names = "--config", paramLabel = "FILE", description = "TOML stack description (default: the built-in one).")
    Path config;

    @Option(names = "--reactors", paramLabel = "N", description = "Reactor threads (default: one per core).")
    int reactors;

    @Option(names = "--nbd-listen", paramLabel = "ADDRESS", description = "NBD listen address replacing the config's (repeatable).")
    List<String> nbdListen;

    @Option(names = "--control-socket", paramLabel = "PATH",
            description = "The running host's management socket (default: ${DEFAULT-VALUE}).")
    Path controlSocket = ControlClient.DEFAULT_SOCKET;

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
        if (ControlClient.hostRunning(controlSocket)) {
            if (config != null || nbdListen != null || reactors != 0) {
                System.err.println("orion attach: a host runs on " + controlSocket
                        + "; --config, --reactors and --nbd-listen only apply when attach serves in-process");
                return 2;
            }
            ObjectNode args = JsonNodeFactory.instance.objectNode().put("export", export).put("connections", connections)
                    .put("timeout", timeout).put("dead_conn_timeout", deadConnTimeout).put("detach_on_exit", detachOnExit);
            if (device != null) {
                args.put("device", device);
            }
            try {
                JsonNode r = ControlClient.call(controlSocket, "nbd.attach", args);
                System.out.println("attached export " + export + " as " + r.path("device").asText()
                        + (r.path("reattached").asBoolean() ? " (taken back from the previous run)" : "")
                        + " in the host on " + controlSocket);
                return 0;
            } catch (ControlException e) {
                System.err.println("orion attach: " + e.getMessage());
                return 1;
            }
        }
        ServeCommand serve = new ServeCommand();
        serve.controlSocket = controlSocket;
        serve.config = config;
        serve.reactors = reactors;
        serve.nbdListen = nbdListen;
        serve.extraAttach = new NbdAttachSpec(export, device, connections, timeout, deadConnTimeout, detachOnExit);
        return serve.call();
    }
}
