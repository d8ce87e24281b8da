package org.orionos.bindings;

import java.io.Serial;

/**
 * The one exception type at the API edge (CLI, RPC, config, convenience API): an errno, the
 * operation that failed and the object it failed on, with a message a person can act on.
 * Inside the data path failures travel as negative errno values instead.
 */
public final class ErrnoException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final int errno;
    private final String operation;
    private final String target;

    /**
     * @param errno     positive errno value (a negative one is accepted and flipped)
     * @param operation what was attempted, e.g. {@code "io_uring_setup"}
     * @param target    what it was attempted on, e.g. a path or device name
     * @param hint      what the person can do about it, or null
     */
    public ErrnoException(int errno, String operation, String target, String hint) {
        super(format(Math.abs(errno), operation, target, hint));
        this.errno = Math.abs(errno);
        this.operation = operation;
        this.target = target;
    }

    public ErrnoException(int errno, String operation, String target) {
        this(errno, operation, target, null);
    }

    private ErrnoException(String message, int errno, String operation, String target) {
        super(message);
        this.errno = Math.abs(errno);
        this.operation = operation;
        this.target = target;
    }

    /**
     * An error whose message is already complete and actionable (config and CLI validation),
     * so no errno text is appended: {@code "orion.toml: bdev[1] \"f0\": size: expected ..."}.
     */
    public static ErrnoException withMessage(int errno, String operation, String target, String message) {
        return new ErrnoException(message, errno, operation, target);
    }

    /** Throws when {@code result} is a negative errno, else returns it: for calls off the hot path. */
    public static long check(long result, String operation, String target) {
        if (result < 0) {
            throw new ErrnoException((int) -result, operation, target);
        }
        return result;
    }

    /** Int flavour of {@link #check(long, String, String)}. */
    public static int check(int result, String operation, String target) {
        if (result < 0) {
            throw new ErrnoException(-result, operation, target);
        }
        return result;
    }

    public int errno() {
        return errno;
    }

    public String operation() {
        return operation;
    }

    public String target() {
        return target;
    }

    private static String format(int errno, String operation, String target, String hint) {
        StringBuilder sb = new StringBuilder();
        sb.append(operation);
        if (target != null && !target.isEmpty()) {
            sb.append(" on ").append(target);
        }
        sb.append(" failed: ").append(Errno.name(errno)).append(" (").append(Errno.describe(errno)).append(')');
        String h = hint != null ? hint : Errno.hint(errno);
        if (h != null) {
            sb.append(". ").append(h);
        }
        return sb.toString();
    }
}
