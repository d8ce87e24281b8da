package org.orionos.host.control;

/** A management request that could not be delivered, or that the host refused (with its reason). */
public final class ControlException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ControlException(String message) {
        super(message);
    }

    public ControlException(String message, Throwable cause) {
        super(message, cause);
    }
}
