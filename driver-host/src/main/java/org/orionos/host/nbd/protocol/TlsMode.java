package org.orionos.host.nbd.protocol;

/**
 * TLS policy, for a listener and for an export.
 *
 * <p>For a listener ({@link ExportCatalog#tlsMode()}): {@code OFF} is the spec's NOTLS mode
 * (STARTTLS is refused with ERR_POLICY), {@code OPTIONAL} is SELECTIVETLS (the client may upgrade;
 * exports marked {@code REQUIRED} are reachable only after it did), {@code REQUIRED} is FORCEDTLS
 * (every option but STARTTLS and ABORT gets ERR_TLS_REQD until TLS is up).
 *
 * <p>For an export: {@code REQUIRED} means INFO/GO answer ERR_TLS_REQD (and EXPORT_NAME
 * disconnects) until TLS is up; {@code OFF} and {@code OPTIONAL} are reachable either way.
 */
public enum TlsMode {
    OFF,
    OPTIONAL,
    REQUIRED
}
