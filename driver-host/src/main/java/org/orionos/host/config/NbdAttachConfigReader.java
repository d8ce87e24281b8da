package org.orionos.host.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;

/**
 * Reads {@code [[nbd.attach]]}: which exports become kernel block devices when the host serves.
 * <pre>
 * [[nbd.attach]]
 * export = "vol0"          # an [[nbd.export]] name
 * device = "/dev/nbd0"     # optional: any free device when absent
 * connections = 2          # optional, 1..64 (default 1)
 * timeout = 30             # optional, seconds per request before it is resent
 * dead_conn_timeout = 120  # optional, seconds I/O waits for a restarted host
 * detach_on_exit = false   # optional: a stopping host detaches it (default: left for the next host)
 * </pre>
 */
final class NbdAttachConfigReader {
    private NbdAttachConfigReader() {
    }

    /**
     * @param attach  the {@code nbd.attach} node, or null
     * @param exports names of the configured exports (an attach must name one)
     */
    static List<NbdAttachSpec> read(JsonNode attach, String source, Set<String> exports) {
        List<NbdAttachSpec> out = new ArrayList<>();
        Map<String, String> seenDevice = new HashMap<>();
        for (Section s : Section.arrayOfTables(attach, "nbd.attach", source)) {
            s.expectKeys("export", "device", "connections", "timeout", "dead_conn_timeout", "detach_on_exit");
            String export = s.requireString("export");
            if (!exports.contains(export)) {
                throw s.error("export", "names \"" + export + "\", which no [[nbd.export]] defines; known exports: "
                        + (exports.isEmpty() ? "(none)" : String.join(", ", exports.stream().sorted().toList())));
            }
            String device = s.optString("device", null);
            if (device != null) {
                if (!device.matches("/dev/nbd[0-9]{1,4}")) {
                    throw s.error("device", "must be /dev/nbdN (e.g. /dev/nbd0), got \"" + device + "\"");
                }
                String prev = seenDevice.putIfAbsent(device, s.where());
                if (prev != null) {
                    throw s.error("device", "duplicates " + prev + "; one export per device");
                }
            }
            int connections = (int) s.optLong("connections", NbdAttachSpec.DEFAULT_CONNECTIONS, 1, 64);
            long timeout = s.optLong("timeout", NbdAttachSpec.DEFAULT_TIMEOUT_SECONDS, 1, 86_400);
            long dead = s.optLong("dead_conn_timeout", NbdAttachSpec.DEFAULT_DEAD_CONN_TIMEOUT_SECONDS, 0, 86_400);
            out.add(new NbdAttachSpec(export, device, connections, timeout, dead, s.optBool("detach_on_exit", false)));
        }
        return out;
    }
}
