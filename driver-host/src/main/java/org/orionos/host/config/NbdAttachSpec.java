package org.orionos.host.config;

/**
 * One {@code [[nbd.attach]]} entry: an export to present as a kernel block device.
 *
 * @param export                 the {@code [[nbd.export]]} name
 * @param device                 {@code /dev/nbdN}, or null for any free device
 * @param connections            sockets between the kernel and the server (1..64)
 * @param timeoutSeconds         per-request timeout; a timed-out request is resent
 * @param deadConnTimeoutSeconds how long I/O waits for a dead server (a restart) before failing
 * @param detachOnExit           a stopping host detaches the device (else it leaves it to the next host)
 */
public record NbdAttachSpec(String export, String device, int connections, long timeoutSeconds,
                            long deadConnTimeoutSeconds, boolean detachOnExit) {
    public static final int DEFAULT_CONNECTIONS = 1;
    public static final long DEFAULT_TIMEOUT_SECONDS = 30;
    public static final long DEFAULT_DEAD_CONN_TIMEOUT_SECONDS = 120;

    /** Kept attached when the host stops (the default). */
    public NbdAttachSpec(String export, String device, int connections, long timeoutSeconds, long deadConnTimeoutSeconds) {
        this(export, device, connections, timeoutSeconds, deadConnTimeoutSeconds, false);
    }
}
