package org.orionos.host.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.nbd.server.ListenAddress;

/** Reads and validates the {@code [nbd]} table into an {@link NbdSpec}. */
final class NbdConfigReader {
    private static final String[] TLS_MODES = {"off", "optional", "required"};

    private NbdConfigReader() {
    }

    /** @param lvmVgs VGs of the [[lvm]] tables: their volumes {@code vg/lv} may be exported too */
    static NbdSpec read(JsonNode node, String source, List<BdevSpec> bdevs, java.util.Set<String> lvmVgs) {
        if (node == null) {
            return NbdSpec.NONE;
        }
        if (!node.isObject()) {
            throw ErrnoException.withMessage(Errno.EINVAL, "config", source,
                    source + ": 'nbd' must be a table ([nbd], [[nbd.listen]], [[nbd.export]], [nbd.tls])");
        }
        Section top = new Section(source, "nbd", (ObjectNode) node);
        top.expectKeys("listen", "export", "tls", "max_connections", "attach");
        int maxConnections = (int) top.optLong("max_connections", NbdSpec.DEFAULT_MAX_CONNECTIONS, 1, 1_000_000);
        NbdSpec.Tls tls = readTls(node.get("tls"), source);

        List<NbdSpec.Listen> listeners = new ArrayList<>();
        Map<String, String> seenAddr = new HashMap<>();
        for (Section s : Section.arrayOfTables(node.get("listen"), "nbd.listen", source)) {
            s.expectKeys("address", "tls");
            String addr = s.requireString("address");
            try {
                ListenAddress.parse(addr);
            } catch (IllegalArgumentException e) {
                throw s.error("address", e.getMessage());
            }
            String mode = s.optEnum("tls", "off", TLS_MODES);
            if (!mode.equals("off") && tls == null) {
                throw s.error("tls", "is \"" + mode + "\" but there is no [nbd.tls] table with a certificate and key");
            }
            // Port 0 means "any free port": several such listeners do not collide.
            String prev = addr.endsWith(":0") ? null : seenAddr.putIfAbsent(addr, s.where());
            if (prev != null) {
                throw s.error("address", "duplicates " + prev);
            }
            listeners.add(new NbdSpec.Listen(addr, mode));
        }

        List<NbdSpec.Export> exports = new ArrayList<>();
        Map<String, String> seenName = new HashMap<>();
        for (Section s : Section.arrayOfTables(node.get("export"), "nbd.export", source)) {
            s.expectKeys("name", "bdev", "read_only", "description", "tls");
            String name = s.requireString("name");
            if (name.isEmpty() || name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 4096
                    || name.indexOf('\0') >= 0) {
                throw s.error("name", "must be 1 to 4096 bytes of UTF-8 without NUL");
            }
            String bdev = s.optString("bdev", name);
            int slash = bdev.indexOf('/');
            boolean lv = slash > 0 && lvmVgs.contains(bdev.substring(0, slash)); // checked when the VG is active
            if (!lv && bdevs.stream().noneMatch(b -> b.name().equals(bdev))) {
                throw s.error("bdev", "names \"" + bdev + "\", which no [[bdev]] defines and no [[lvm]] VG holds; "
                        + "known devices: "
                        + (bdevs.isEmpty() ? "none" : String.join(", ", bdevs.stream().map(BdevSpec::name).toList())));
            }
            boolean ro = s.optBool("read_only", false);
            String desc = s.optString("description", "");
            if (desc.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 4096) {
                throw s.error("description", "is longer than 4096 bytes");
            }
            String mode = s.optEnum("tls", "off", TLS_MODES);
            if (mode.equals("required") && listeners.stream().noneMatch(l -> !l.tls().equals("off"))) {
                throw s.error("tls", "is \"required\" but no [[nbd.listen]] offers TLS (set tls = \"optional\" or "
                        + "\"required\" on a listener), so nobody could reach this export");
            }
            String prev = seenName.putIfAbsent(name, s.where());
            if (prev != null) {
                throw s.error("name", "duplicates " + prev + "; export names must be unique");
            }
            exports.add(new NbdSpec.Export(name, bdev, ro, desc, mode));
        }
        if (!listeners.isEmpty() && exports.isEmpty()) {
            throw top.fail("has listeners but no [[nbd.export]]: add one naming a [[bdev]]");
        }
        List<NbdAttachSpec> attach = NbdAttachConfigReader.read(node.get("attach"), source,
                new java.util.HashSet<>(seenName.keySet()));
        // Exports without a listener are reached as kernel devices only: [[nbd.attach]] or `orion attach`.
        return new NbdSpec(List.copyOf(listeners), List.copyOf(exports), tls, maxConnections, attach);
    }

    private static NbdSpec.Tls readTls(JsonNode node, String source) {
        if (node == null) {
            return null;
        }
        if (!node.isObject()) {
            throw ErrnoException.withMessage(Errno.EINVAL, "config", source, source + ": 'nbd.tls' must be a table");
        }
        Section s = new Section(source, "nbd.tls", (ObjectNode) node);
        s.expectKeys("certificate", "key", "keystore", "password", "ca");
        Path cert = file(s, "certificate");
        Path key = file(s, "key");
        Path keystore = file(s, "keystore");
        String password = s.optString("password", "");
        Path ca = file(s, "ca");
        if (keystore != null && (cert != null || key != null)) {
            throw s.fail("set either keystore (PKCS#12) or certificate and key (PEM), not both");
        }
        if (keystore == null && (cert == null || key == null)) {
            throw s.fail("needs certificate and key (PEM files) or keystore (a PKCS#12 file)");
        }
        return new NbdSpec.Tls(cert, key, keystore, password, ca);
    }

    private static Path file(Section s, String key) {
        String v = s.optString(key, null);
        if (v == null) {
            return null;
        }
        Path p = Path.of(v);
        if (!Files.isReadable(p)) {
            throw s.error(key, "names " + p + ", which does not exist or is not readable");
        }
        return p;
    }
}
