package org.orionos.bindings;

/**
 * Linux errno values (asm-generic/errno-base.h and errno.h, x86-64), with names and short
 * descriptions for messages. Values are checked against the C headers by the layout test.
 */
@CHeader("errno.h")
public final class Errno {
    private Errno() {
    }

    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int ESRCH = 3;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int ENXIO = 6;
    public static final int E2BIG = 7;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int EXDEV = 18;
    public static final int ENODEV = 19;
    public static final int ENOTDIR = 20;
    public static final int EISDIR = 21;
    public static final int EINVAL = 22;
    public static final int ENFILE = 23;
    public static final int EMFILE = 24;
    public static final int ENOTTY = 25;
    public static final int EFBIG = 27;
    public static final int ENOSPC = 28;
    public static final int ESPIPE = 29;
    public static final int EROFS = 30;
    public static final int EPIPE = 32;
    public static final int ERANGE = 34;
    public static final int EDEADLK = 35;
    public static final int ENAMETOOLONG = 36;
    public static final int ENOSYS = 38;
    public static final int ENOTEMPTY = 39;
    public static final int ENODATA = 61;
    public static final int ETIME = 62;
    public static final int EPROTO = 71;
    public static final int EBADMSG = 74;
    public static final int EOVERFLOW = 75;
    public static final int EBADFD = 77;
    public static final int EILSEQ = 84;
    public static final int ENOTSOCK = 88;
    public static final int EMSGSIZE = 90;
    public static final int EPROTONOSUPPORT = 93;
    public static final int EOPNOTSUPP = 95;
    public static final int EAFNOSUPPORT = 97;
    public static final int EADDRINUSE = 98;
    public static final int EADDRNOTAVAIL = 99;
    public static final int ENETDOWN = 100;
    public static final int ECONNABORTED = 103;
    public static final int ECONNRESET = 104;
    public static final int ENOBUFS = 105;
    public static final int EISCONN = 106;
    public static final int ENOTCONN = 107;
    public static final int ESHUTDOWN = 108;
    public static final int ETIMEDOUT = 110;
    public static final int ECONNREFUSED = 111;
    public static final int EHOSTUNREACH = 113;
    public static final int EALREADY = 114;
    public static final int EINPROGRESS = 115;
    public static final int ESTALE = 116;
    public static final int EREMOTEIO = 121;
    public static final int EDQUOT = 122;
    public static final int ECANCELED = 125;
    public static final int EOWNERDEAD = 130;

    private static final String[] NAMES = new String[134];
    private static final String[] TEXT = new String[134];

    static {
        def(EPERM, "EPERM", "operation not permitted");
        def(ENOENT, "ENOENT", "no such file or directory");
        def(ESRCH, "ESRCH", "no such process");
        def(EINTR, "EINTR", "interrupted system call");
        def(EIO, "EIO", "input/output error");
        def(ENXIO, "ENXIO", "no such device or address");
        def(E2BIG, "E2BIG", "argument list too long");
        def(EBADF, "EBADF", "bad file descriptor");
        def(EAGAIN, "EAGAIN", "resource temporarily unavailable");
        def(ENOMEM, "ENOMEM", "cannot allocate memory");
        def(EACCES, "EACCES", "permission denied");
        def(EFAULT, "EFAULT", "bad address");
        def(EBUSY, "EBUSY", "device or resource busy");
        def(EEXIST, "EEXIST", "file exists");
        def(EXDEV, "EXDEV", "invalid cross-device link");
        def(ENODEV, "ENODEV", "no such device");
        def(ENOTDIR, "ENOTDIR", "not a directory");
        def(EISDIR, "EISDIR", "is a directory");
        def(EINVAL, "EINVAL", "invalid argument");
        def(ENFILE, "ENFILE", "too many open files in system");
        def(EMFILE, "EMFILE", "too many open files");
        def(ENOTTY, "ENOTTY", "inappropriate ioctl for device");
        def(EFBIG, "EFBIG", "file too large");
        def(ENOSPC, "ENOSPC", "no space left on device");
        def(ESPIPE, "ESPIPE", "illegal seek");
        def(EROFS, "EROFS", "read-only file system");
        def(EPIPE, "EPIPE", "broken pipe");
        def(ERANGE, "ERANGE", "numerical result out of range");
        def(EDEADLK, "EDEADLK", "resource deadlock avoided");
        def(ENAMETOOLONG, "ENAMETOOLONG", "file name too long");
        def(ENOSYS, "ENOSYS", "function not implemented");
        def(ENOTEMPTY, "ENOTEMPTY", "directory not empty");
        def(ENODATA, "ENODATA", "no data available");
        def(ETIME, "ETIME", "timer expired");
        def(EPROTO, "EPROTO", "protocol error");
        def(EBADMSG, "EBADMSG", "bad message");
        def(EOVERFLOW, "EOVERFLOW", "value too large for defined data type");
        def(EBADFD, "EBADFD", "file descriptor in bad state");
        def(EILSEQ, "EILSEQ", "invalid or incomplete multibyte or wide character");
        def(ENOTSOCK, "ENOTSOCK", "socket operation on non-socket");
        def(EMSGSIZE, "EMSGSIZE", "message too long");
        def(EPROTONOSUPPORT, "EPROTONOSUPPORT", "protocol not supported");
        def(EOPNOTSUPP, "EOPNOTSUPP", "operation not supported");
        def(EAFNOSUPPORT, "EAFNOSUPPORT", "address family not supported by protocol");
        def(EADDRINUSE, "EADDRINUSE", "address already in use");
        def(EADDRNOTAVAIL, "EADDRNOTAVAIL", "cannot assign requested address");
        def(ENETDOWN, "ENETDOWN", "network is down");
        def(ECONNABORTED, "ECONNABORTED", "software caused connection abort");
        def(ECONNRESET, "ECONNRESET", "connection reset by peer");
        def(ENOBUFS, "ENOBUFS", "no buffer space available");
        def(EISCONN, "EISCONN", "transport endpoint is already connected");
        def(ENOTCONN, "ENOTCONN", "transport endpoint is not connected");
        def(ESHUTDOWN, "ESHUTDOWN", "cannot send after transport endpoint shutdown");
        def(ETIMEDOUT, "ETIMEDOUT", "connection timed out");
        def(ECONNREFUSED, "ECONNREFUSED", "connection refused");
        def(EHOSTUNREACH, "EHOSTUNREACH", "no route to host");
        def(EALREADY, "EALREADY", "operation already in progress");
        def(EINPROGRESS, "EINPROGRESS", "operation now in progress");
        def(ESTALE, "ESTALE", "stale file handle");
        def(EREMOTEIO, "EREMOTEIO", "remote I/O error");
        def(EDQUOT, "EDQUOT", "disk quota exceeded");
        def(ECANCELED, "ECANCELED", "operation canceled");
        def(EOWNERDEAD, "EOWNERDEAD", "owner died");
    }

    private static void def(int value, String name, String text) {
        NAMES[value] = name;
        TEXT[value] = text;
    }

    /** Symbolic name, e.g. {@code EINVAL}; {@code errno N} when unknown. Accepts negative values. */
    public static String name(int errno) {
        int e = Math.abs(errno);
        return e < NAMES.length && NAMES[e] != null ? NAMES[e] : "errno " + e;
    }

    /** Short description as strerror(3) would give it. Accepts negative values. */
    public static String describe(int errno) {
        int e = Math.abs(errno);
        return e < TEXT.length && TEXT[e] != null ? TEXT[e] : "unknown error";
    }

    /** What a person usually does about this errno, or null when there is no general advice. */
    static String hint(int errno) {
        return switch (errno) {
            case EPERM, EACCES -> "Run as root (CAP_SYS_ADMIN is needed for kernel devices)";
            case EMFILE, ENFILE -> "Raise the open-file limit (ulimit -n) or close unused devices";
            case ENOSYS -> "This kernel does not implement the call; see ./orion probe";
            case ENOMEM -> "Free memory or raise the locked-memory limit (ulimit -l)";
            default -> null;
        };
    }
}
