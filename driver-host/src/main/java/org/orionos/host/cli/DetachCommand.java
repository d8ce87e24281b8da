package org.orionos.host.cli;

import java.util.concurrent.Callable;

import org.orionos.bindings.ErrnoException;
import org.orionos.host.nbd.kernel.NbdNetlink;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code orion detach /dev/nbdN}: NBD_CMD_DISCONNECT. The kernel sends NBD_CMD_DISC to the server,
 * closes the sockets and fails I/O still queued; a running host that attached the device notices
 * and forgets it. Works on any nbd device (also one left behind by a host that is not coming back).
 */
@Command(name = "detach", mixinStandardHelpOptions = true,
        description = "Disconnect a kernel NBD device (/dev/nbdN).")
public final class DetachCommand implements Callable<Integer> {

    @Parameters(paramLabel = "DEVICE", description = "The device, e.g. /dev/nbd0.")
    String device;

    @Override
    public Integer call() {
        try (NbdNetlink nl = NbdNetlink.open()) {
            int index = NbdNetlink.parseDevice(device);
            boolean connected = nl.status(index).stream().anyMatch(s -> s.index() == index && s.connected());
            if (!connected) {
                System.err.println("orion detach: " + device + " is not connected; see `./orion devices`");
                return 1;
            }
            nl.disconnect(index);
            System.out.println("detached " + NbdNetlink.device(index));
            return 0;
        } catch (ErrnoException e) {
            System.err.println("orion detach: " + e.getMessage());
            return 1;
        }
    }
}
