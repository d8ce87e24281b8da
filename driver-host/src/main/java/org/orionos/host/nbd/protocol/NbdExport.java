package org.orionos.host.nbd.protocol;

import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * How one export presents itself to NBD clients: its name, size, capabilities and policies.
 *
 * @param name               canonical name (UTF-8, at most 4096 bytes)
 * @param description        human-readable text for INFO_DESCRIPTION and NBD_OPT_LIST ("" for none)
 * @param size               export size in bytes
 * @param readOnly           whether writes are refused with EPERM
 * @param blockSize          constraints advertised with INFO_BLOCK_SIZE
 * @param requireBlockSize   refuse GO without an INFO_BLOCK_SIZE request (ERR_BLOCK_SIZE_REQD)
 *                           and EXPORT_NAME (hard disconnect); only meaningful when the
 *                           constraints are not the defaults
 * @param features           the operations the backing device can do
 * @param tls                whether the export needs TLS; see {@link TlsMode}
 */
public record NbdExport(String name, String description, long size, boolean readOnly,
                        BlockSizeConstraints blockSize, boolean requireBlockSize,
                        Set<Feature> features, TlsMode tls) {

    /** Capabilities of the backing device that map to transmission flags. */
    public enum Feature {
        /** NBD_CMD_FLUSH. */
        FLUSH,
        /** NBD_CMD_FLAG_FUA. */
        FUA,
        /** NBD_CMD_TRIM. */
        TRIM,
        /** NBD_CMD_WRITE_ZEROES (and NO_HOLE). */
        WRITE_ZEROES,
        /** NBD_CMD_FLAG_FAST_ZERO (needs WRITE_ZEROES). */
        FAST_ZERO,
        /** NBD_CMD_CACHE. */
        CACHE,
        /** Flush and FUA are visible across connections: NBD_FLAG_CAN_MULTI_CONN. */
        MULTI_CONN,
        /** Rotational medium hint. */
        ROTATIONAL,
        /** The device can report allocation status: offers the base:allocation context. */
        ALLOCATION_STATUS
    }

    public NbdExport {
        Objects.requireNonNull(name, "name");
        description = description == null ? "" : description;
        Objects.requireNonNull(blockSize, "blockSize");
        Objects.requireNonNull(tls, "tls");
        features = features.isEmpty() ? EnumSet.noneOf(Feature.class) : EnumSet.copyOf(features);
        if (name.getBytes(StandardCharsets.UTF_8).length > NbdWire.MAX_STRING
                || description.getBytes(StandardCharsets.UTF_8).length > NbdWire.MAX_STRING) {
            throw new IllegalArgumentException("export name and description must be at most "
                    + NbdWire.MAX_STRING + " bytes of UTF-8: " + name);
        }
        if (size < 0) {
            throw new IllegalArgumentException("export " + name + ": size " + size + " is negative");
        }
    }

    /** A read-write export with default block sizes, no TLS requirement and the given features. */
    public static NbdExport of(String name, long size, Set<Feature> features) {
        return new NbdExport(name, "", size, false, BlockSizeConstraints.DEFAULT, false, features, TlsMode.OFF);
    }

    public boolean has(Feature f) {
        return features.contains(f);
    }

    /**
     * The transmission flags this export advertises on a connection.
     *
     * @param structuredReplies whether the connection negotiated structured replies (or extended
     *                          headers): DF is only offered then
     */
    public int transmissionFlags(boolean structuredReplies) {
        int f = NbdWire.FLAG_HAS_FLAGS;
        if (readOnly) {
            f |= NbdWire.FLAG_READ_ONLY;
        }
        if (has(Feature.FLUSH)) {
            f |= NbdWire.FLAG_SEND_FLUSH;
        }
        if (has(Feature.FUA)) {
            f |= NbdWire.FLAG_SEND_FUA;
        }
        if (has(Feature.ROTATIONAL)) {
            f |= NbdWire.FLAG_ROTATIONAL;
        }
        // Trim and zeroing are writes: a read-only export does not advertise them.
        if (!readOnly && has(Feature.TRIM)) {
            f |= NbdWire.FLAG_SEND_TRIM;
        }
        if (!readOnly && has(Feature.WRITE_ZEROES)) {
            f |= NbdWire.FLAG_SEND_WRITE_ZEROES;
            if (has(Feature.FAST_ZERO)) {
                f |= NbdWire.FLAG_SEND_FAST_ZERO;
            }
        }
        if (structuredReplies) {
            f |= NbdWire.FLAG_SEND_DF;
        }
        if (has(Feature.MULTI_CONN)) {
            f |= NbdWire.FLAG_CAN_MULTI_CONN;
        }
        if (has(Feature.CACHE)) {
            f |= NbdWire.FLAG_SEND_CACHE;
        }
        return f;
    }
}
