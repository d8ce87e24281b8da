package org.orionos.host.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.config.NbdAttachSpec;
import org.orionos.host.control.ControlHandler;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import org.orionos.host.nbd.kernel.KernelAttacher;
import org.orionos.host.nbd.kernel.NbdNetlink;
import org.orionos.host.nbd.kernel.ServerEndpoint;
import org.orionos.host.nbd.server.NbdServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The running host's kernel devices: the {@code [[nbd.attach]]} ones attached at start, those
 * {@code orion attach} adds over the management socket ({@code nbd.attach}, {@code nbd.detach},
 * {@code nbd.attachments}). At stop ({@link #stop}) those marked {@code detach_on_exit} are
 * detached; the others stay configured in the kernel, whose I/O then waits up to their
 * dead_conn_timeout for the next host to take them back. The attacher (and its netlink sockets)
 * exists only once something is attached, so a host without the nbd module serves everything else.
 */
final class KernelAttachments {
    private static final Logger LOG = LoggerFactory.getLogger(KernelAttachments.class);

    private final NbdServer nbd;
    private KernelAttacher attacher;
    /** How each device this host attached was asked for (by index). */
    private final Map<Integer, NbdAttachSpec> specs = new java.util.HashMap<>();

    /** @param nbd the NBD server, or null when this host serves no exports */
    KernelAttachments(NbdServer nbd) {
        this.nbd = nbd;
    }

    /**
     * Attaches {@code specs} in order. All or nothing: on a refusal the ones attached so far are
     * detached again.
     */
    synchronized void attachAll(List<NbdAttachSpec> specs) {
        List<Integer> made = new ArrayList<>();
        try {
            for (NbdAttachSpec a : specs) {
                made.add(attach(a).index());
            }
        } catch (RuntimeException e) {
            for (int index : made) {
                specs.remove(index);
                try {
                    attacher.detach(index);
                } catch (ErrnoException undo) {
                    LOG.warn("{}", undo.getMessage());
                }
            }
            throw e;
        }
    }

    /** Attaches one export; a device the kernel still holds for it (this host was killed) is taken back. */
    synchronized KernelAttacher.Attachment attach(NbdAttachSpec a) {
        if (nbd == null) {
            throw ErrnoException.withMessage(Errno.ENOENT, "nbd attach", a.export(),
                    "this host serves no NBD exports: add an [[nbd.export]] to its config");
        }
        int index = a.device() == null ? -1 : NbdNetlink.parseDevice(a.device());
        if (attacher == null) {
            attacher = KernelAttacher.open(new ServerEndpoint(nbd));
        }
        KernelAttacher.Attachment at = attacher.attach(new KernelAttacher.Spec(a.export(), index, a.connections(),
                a.timeoutSeconds(), a.deadConnTimeoutSeconds()));
        specs.put(at.index(), a);
        LOG.info("nbd: export {} is {} ({} connection(s){})", a.export(), at.path(), a.connections(),
                at.reattached() ? ", taken back from the previous run" : "");
        return at;
    }

    /**
     * The host stops: detaches the devices marked {@code detach_on_exit} (queued I/O fails: unmount
     * first), leaves the others to the next host (one line each), and stops watching, so that the
     * connections the NBD server closes next are not replaced. Call before the server's close, which
     * answers what the kernel sent and closes the sockets.
     */
    synchronized void stop() {
        if (attacher == null) {
            return;
        }
        for (KernelAttacher.Attachment a : attacher.attachments()) {
            NbdAttachSpec spec = specs.get(a.index());
            if (spec != null && spec.detachOnExit()) {
                try {
                    attacher.detach(a.index());
                } catch (ErrnoException e) {
                    LOG.warn("{}", e.getMessage());
                }
                continue;
            }
            long wait = spec == null ? NbdAttachSpec.DEFAULT_DEAD_CONN_TIMEOUT_SECONDS : spec.deadConnTimeoutSeconds();
            LOG.info("left {} attached (export {}); {}, or run `orion detach {}`", a.path(), a.export(), wait > 0
                    ? "the next serve with this attachment re-attaches it within " + wait + " s (its I/O waits until then)"
                    : "with dead_conn_timeout = 0 its I/O fails until a host re-attaches it", a.path());
        }
        specs.clear();
        attacher.close();
        attacher = null;
    }

    /** The management operations. */
    Map<String, ControlHandler> handlers() {
        return Map.of(
                "nbd.attach", this::attachOp,
                "nbd.detach", this::detachOp,
                "nbd.attachments", args -> attachments());
    }

    private JsonNode attachOp(ObjectNode args) {
        String export = args.path("export").asText("");
        if (export.isEmpty()) {
            throw new IllegalArgumentException("nbd.attach needs \"export\": the name of one of this host's exports ("
                    + (nbd == null ? "it serves none" : String.join(", ", nbd.exports().keySet())) + ")");
        }
        String device = args.hasNonNull("device") ? args.get("device").asText() : null;
        NbdAttachSpec spec = new NbdAttachSpec(export, device,
                args.path("connections").asInt(NbdAttachSpec.DEFAULT_CONNECTIONS),
                args.path("timeout").asLong(NbdAttachSpec.DEFAULT_TIMEOUT_SECONDS),
                args.path("dead_conn_timeout").asLong(NbdAttachSpec.DEFAULT_DEAD_CONN_TIMEOUT_SECONDS),
                args.path("detach_on_exit").asBoolean(false));
        KernelAttacher.Attachment at = attach(spec);
        return JsonNodeFactory.instance.objectNode().put("export", at.export()).put("device", at.path())
                .put("connections", at.connections()).put("reattached", at.reattached());
    }

    private synchronized JsonNode detachOp(ObjectNode args) {
        int index = NbdNetlink.parseDevice(args.path("device").asText(""));
        if (attacher == null || attacher.attachments().stream().noneMatch(a -> a.index() == index)) {
            throw ErrnoException.withMessage(Errno.ENOENT, "nbd detach", NbdNetlink.device(index),
                    "this host did not attach " + NbdNetlink.device(index) + "; `orion devices` lists them all");
        }
        attacher.detach(index);
        specs.remove(index);
        return JsonNodeFactory.instance.objectNode().put("device", NbdNetlink.device(index));
    }

    private synchronized JsonNode attachments() {
        ArrayNode list = JsonNodeFactory.instance.arrayNode();
        if (attacher != null) {
            for (KernelAttacher.Attachment a : attacher.attachments()) {
                list.addObject().put("export", a.export()).put("device", a.path()).put("connections", a.connections())
                        .put("reattached", a.reattached());
            }
        }
        return list;
    }
}
