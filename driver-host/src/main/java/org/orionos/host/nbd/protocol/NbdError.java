package org.orionos.host.nbd.protocol;

/**
 * NBD error values (the reply's error field) and the mapping from the negative Linux errno the
 * block-device layer completes with.
 *
 * <p>The protocol defines its own small set of values (they happen to equal Linux errno numbers);
 * anything else a device reports must be folded into one of them, {@link #EIO} by default.
 */
public final class NbdError {
    private NbdError() {}

    public static final int OK = 0;
    public static final int EPERM = 1;
    public static final int EIO = 5;
    public static final int ENOMEM = 12;
    public static final int EINVAL = 22;
    public static final int ENOSPC = 28;
    public static final int EOVERFLOW = 75;
    public static final int ENOTSUP = 95;
    public static final int ESHUTDOWN = 108;

    private static final int TABLE_SIZE = 134;
    /** Index: positive errno; value: NBD error. Built once so the hot path is one array load. */
    private static final byte[] FROM_ERRNO = new byte[TABLE_SIZE];

    static {
        java.util.Arrays.fill(FROM_ERRNO, (byte) EIO);
        FROM_ERRNO[0] = OK;
        FROM_ERRNO[1] = EPERM;       // EPERM
        FROM_ERRNO[13] = EPERM;      // EACCES
        FROM_ERRNO[30] = EPERM;      // EROFS: read-only backing
        FROM_ERRNO[12] = ENOMEM;     // ENOMEM
        FROM_ERRNO[22] = EINVAL;     // EINVAL
        FROM_ERRNO[34] = EINVAL;     // ERANGE: out-of-range request
        FROM_ERRNO[28] = ENOSPC;     // ENOSPC
        FROM_ERRNO[27] = ENOSPC;     // EFBIG: the spec asks to report it as ENOSPC
        FROM_ERRNO[122] = ENOSPC;    // EDQUOT: likewise
        FROM_ERRNO[75] = EOVERFLOW;  // EOVERFLOW
        FROM_ERRNO[95] = ENOTSUP;    // EOPNOTSUPP == ENOTSUP on Linux
        FROM_ERRNO[38] = ENOTSUP;    // ENOSYS: operation not implemented by the device
        FROM_ERRNO[108] = ESHUTDOWN; // ESHUTDOWN
    }

    /**
     * The NBD error to send for a block-device completion status.
     *
     * @param status 0 or a negative Linux errno (positive values are treated as their negation)
     * @return 0 for success, otherwise one of the NBD error values (EIO when unknown)
     */
    public static int fromErrno(int status) {
        int errno = status < 0 ? -status : status;
        // Unsigned compare keeps Integer.MIN_VALUE (whose negation stays negative) out of the table.
        return Integer.compareUnsigned(errno, TABLE_SIZE) < 0 ? FROM_ERRNO[errno] : EIO;
    }

    /** Short name for logs and test messages. */
    public static String name(int nbdError) {
        return switch (nbdError) {
            case OK -> "OK";
            case EPERM -> "EPERM";
            case EIO -> "EIO";
            case ENOMEM -> "ENOMEM";
            case EINVAL -> "EINVAL";
            case ENOSPC -> "ENOSPC";
            case EOVERFLOW -> "EOVERFLOW";
            case ENOTSUP -> "ENOTSUP";
            case ESHUTDOWN -> "ESHUTDOWN";
            default -> "NBD_E" + nbdError;
        };
    }
}
