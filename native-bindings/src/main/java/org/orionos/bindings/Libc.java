package org.orionos.bindings;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The libc/syscall facade. Every call returns its result, or {@code -errno} when the C function
 * failed (returned -1), so the data path never sees an exception. errno is captured by the linker
 * into a per-thread segment that is allocated once per thread and reused.
 *
 * <p>Handles are static finals; only calls that cannot block are linked {@code critical} (no
 * thread-state transition), never those that may sleep.
 */
@SuppressWarnings("restricted") // linking libc is this class's purpose; the JVM runs with --enable-native-access
public final class Libc {
    private Libc() {
    }

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    private static final VarHandle ERRNO = Linker.Option.captureStateLayout()
            .varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final long CAPTURE_SIZE = Linker.Option.captureStateLayout().byteSize();

    /** One errno capture area per thread; a reactor thread allocates it once, on its first call. */
    private static final ThreadLocal<MemorySegment> ERRNO_SLOT =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE_SIZE, 8));

    // x86-64 syscall numbers for calls glibc has no wrapper for.
    public static final long SYS_IO_URING_SETUP = 425;
    public static final long SYS_IO_URING_ENTER = 426;
    public static final long SYS_IO_URING_REGISTER = 427;
    public static final long SYS_GETTID = 186;

    private static MethodHandle fn(String name, FunctionDescriptor fd, Linker.Option... extra) {
        MemorySegment addr = LIBC.find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol " + name));
        Linker.Option[] opts = new Linker.Option[extra.length + 1];
        opts[0] = CAPTURE_ERRNO;
        System.arraycopy(extra, 0, opts, 1, extra.length);
        return LINKER.downcallHandle(addr, fd, opts);
    }

    private static FunctionDescriptor ints(int n) {
        ValueLayout[] args = new ValueLayout[n];
        java.util.Arrays.fill(args, JAVA_INT);
        return FunctionDescriptor.of(JAVA_INT, args);
    }

    private static final MethodHandle OPEN = fn("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = fn("close", ints(1));
    private static final MethodHandle READ = fn("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE = fn("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle PREAD = fn("pread64",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle PWRITE = fn("pwrite64",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle IOCTL_PTR = fn("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle IOCTL_LONG = fn("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle MMAP = fn("mmap64",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = fn("munmap", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle MADVISE = fn("madvise",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
    private static final MethodHandle FALLOCATE = fn("fallocate64",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle FTRUNCATE = fn("ftruncate64", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle FSYNC = fn("fsync", ints(1));
    private static final MethodHandle FDATASYNC = fn("fdatasync", ints(1));
    private static final MethodHandle LSEEK = fn("lseek64",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static final MethodHandle STATX = fn("statx",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle EVENTFD = fn("eventfd", ints(2));
    private static final MethodHandle SOCKET = fn("socket", ints(3));
    private static final MethodHandle SOCKETPAIR = fn("socketpair",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle BIND = fn("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle LISTEN = fn("listen", ints(2));
    private static final MethodHandle CONNECT = fn("connect", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle ACCEPT4 = fn("accept4",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    private static final MethodHandle SHUTDOWN = fn("shutdown", ints(2));
    private static final MethodHandle SENDMSG = fn("sendmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle RECVMSG = fn("recvmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SETSOCKOPT = fn("setsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle GETSOCKOPT = fn("getsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle GETSOCKNAME = fn("getsockname",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle FCNTL = fn("fcntl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle UNAME = fn("uname", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle GETPID = fn("getpid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle SCHED_SETAFFINITY = fn("sched_setaffinity",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS));
    private static final MethodHandle POSIX_MEMALIGN_FREE = LINKER.downcallHandle(
            LIBC.find("free").orElseThrow(), FunctionDescriptor.ofVoid(ADDRESS));

    // io_uring: setup/register may sleep (pinning pages); enter may wait for completions.
    private static final MethodHandle SYSCALL_SETUP = fn("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS), Linker.Option.firstVariadicArg(1));
    private static final MethodHandle SYSCALL_ENTER = fn("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG),
            Linker.Option.firstVariadicArg(1));
    private static final MethodHandle SYSCALL_REGISTER = fn("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT),
            Linker.Option.firstVariadicArg(1));
    private static final MethodHandle SYSCALL0 = fn("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(1));

    private static MemorySegment errnoSlot() {
        return ERRNO_SLOT.get();
    }

    private static int errno(MemorySegment slot) {
        return (int) ERRNO.get(slot, 0L);
    }

    /** Maps a C "-1 and errno" return to {@code -errno}; other values pass through. */
    private static int ret(int r, MemorySegment slot) {
        return r == -1 ? -errno(slot) : r;
    }

    private static long ret(long r, MemorySegment slot) {
        return r == -1 ? -errno(slot) : r;
    }

    private static RuntimeException fatal(Throwable t) {
        // invokeExact on a correctly typed handle throws no checked exception; anything here is a bug.
        if (t instanceof Error e) {
            throw e;
        }
        return t instanceof RuntimeException re ? re : new IllegalStateException(t);
    }

    // ---------------------------------------------------------------- files

    /** open(2); {@code path} is a NUL-terminated C string. Returns the fd or -errno. */
    public static int open(MemorySegment path, int flags, int mode) {
        MemorySegment s = errnoSlot();
        try {
            return ret((int) OPEN.invokeExact(s, path, flags, mode), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    /** open(2) from a Java string, for callers off the hot path. */
    public static int open(String path, int flags, int mode) {
        try (Arena a = Arena.ofConfined()) {
            return open(a.allocateFrom(path), flags, mode);
        }
    }

    public static int close(int fd) {
        MemorySegment s = errnoSlot();
        try {
            return ret((int) CLOSE.invokeExact(s, fd), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    public static long read(int fd, MemorySegment buf, long count) {
        MemorySegment s = errnoSlot();
        try {
            return ret((long) READ.invokeExact(s, fd, buf, count), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    public static long write(int fd, MemorySegment buf, long count) {
        MemorySegment s = errnoSlot();
        try {
            return ret((long) WRITE.invokeExact(s, fd, buf, count), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    public static long pread(int fd, MemorySegment buf, long count, long offset) {
        MemorySegment s = errnoSlot();
        try {
            return ret((long) PREAD.invokeExact(s, fd, buf, count, offset), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    public static long pwrite(int fd, MemorySegment buf, long count, long offset) {
        MemorySegment s = errnoSlot();
        try {
            return ret((long) PWRITE.invokeExact(s, fd, buf, count, offset), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    /** ioctl(2) with a pointer argument. Returns the ioctl's (non-negative) result or -errno. */
    public static int ioctl(int fd, long request, MemorySegment arg) {
        MemorySegment s = errnoSlot();
        try {
            return ret((int) IOCTL_PTR.invokeExact(s, fd, request, arg), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    /** ioctl(2) with an integer argument. */
    public static int ioctl(int fd, long request, long arg) {
        MemorySegment s = errnoSlot();
        try {
            return ret((int) IOCTL_LONG.invokeExact(s, fd, request, arg), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    public static int fallocate(int fd, int mode, long offset, long length) {
        MemorySegment s = errnoSlot();
        try {
            return ret((int) FALLOCATE.invokeExact(s, fd, mode, offset, length), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    public static int ftruncate(int fd, long length) {
        MemorySegment s = errnoSlot();
        try {
            return ret((int) FTRUNCATE.invokeExact(s, fd, length), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    public static int fsync(int fd) {
        MemorySegment s = errnoSlot();
        try {
            return ret((int) FSYNC.invokeExact(s, fd), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    public static int fdatasync(int fd) {
        MemorySegment s = errnoSlot();
        try {
            return ret((int) FDATASYNC.invokeExact(s, fd), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    /** lseek(2), including SEEK_DATA/SEEK_HOLE. Returns the new offset or -errno. */
    public static long lseek(int fd, long offset, int whence) {
        MemorySegment s = errnoSlot();
        try {
            return ret((long) LSEEK.invokeExact(s, fd, offset, whence), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    /** statx(2) into {@code buf} (a {@code struct statx}, see {@code uapi.StatH}). */
    public static int statx(int dirfd, MemorySegment path, int flags, int mask, MemorySegment buf) {
        MemorySegment s = errnoSlot();
        try {
            return ret((int) STATX.invokeExact(s, dirfd, path, flags, mask, buf), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    public static int fcntl(int fd, int cmd, long arg) {
        MemorySegment s = errnoSlot();
        try {
            return ret((int) FCNTL.invokeExact(s, fd, cmd, arg), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    // ---------------------------------------------------------------- memory

    /** mmap(2). Returns the address (user addresses are below 2^47, so positive) or -errno. */
    public static long mmap(long addr, long length, int prot, int flags, int fd, long offset) {
        MemorySegment s = errnoSlot();
        try {
            return ret((long) MMAP.invokeExact(s, addr, length, prot, flags, fd, offset), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    public static int munmap(long addr, long length) {
        MemorySegment s = errnoSlot();
        try {
            return ret((int) MUNMAP.invokeExact(s, addr, length), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    public static int madvise(long addr, long length, int advice) {
        MemorySegment s = errnoSlot();
        try {
            return ret((int) MADVISE.invokeExact(s, addr, length, advice), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    /** free(3), for memory libc handed us. */
    public static void free(MemorySegment p) {
        try {
            POSIX_MEMALIGN_FREE.invokeExact(p);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    // ---------------------------------------------------------------- events, processes

    public static int eventfd(int initval, int flags) {
        MemorySegment s = errnoSlot();
        try {
            return ret((int) EVENTFD.invokeExact(s, initval, flags), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    /** uname(2) into a {@code struct utsname} of {@link #UTSNAME_SIZE} bytes. */
    public static int uname(MemorySegment utsname) {
        MemorySegment s = errnoSlot();
        try {
            return ret((int) UNAME.invokeExact(s, utsname), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    /** Size of glibc's {@code struct utsname}: six fields of 65 bytes. */
    public static final int UTSNAME_SIZE = 6 * 65;
    /** Offset of {@code release} in {@code struct utsname}. */
    public static final int UTSNAME_RELEASE = 2 * 65;

    public static int getpid() {
        MemorySegment s = errnoSlot();
        try {
            return (int) GETPID.invokeExact(s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    public static int gettid() {
        MemorySegment s = errnoSlot();
        try {
            return (int) ret((long) SYSCALL0.invokeExact(s, SYS_GETTID), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    /** sched_setaffinity(2) for a thread id (0 = calling thread) with a CPU bitmask segment. */
    public static int schedSetaffinity(int tid, MemorySegment mask) {
        MemorySegment s = errnoSlot();
        try {
            return ret((int) SCHED_SETAFFINITY.invokeExact(s, tid, mask.byteSize(), mask), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    // ---------------------------------------------------------------- sockets

    public static int socket(int domain, int type, int protocol) {
        MemorySegment s = errnoSlot();
        try {
            return ret((int) SOCKET.invokeExact(s, domain, type, protocol), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    /** socketpair(2); {@code fds} holds two ints on return. */
    public static int socketpair(int domain, int type, int protocol, MemorySegment fds) {
        MemorySegment s = errnoSlot();
        try {
            return ret((int) SOCKETPAIR.invokeExact(s, domain, type, protocol, fds), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    public static int bind(int fd, MemorySegment addr, int addrlen) {
        MemorySegment s = errnoSlot();
        try {
            return ret((int) BIND.invokeExact(s, fd, addr, addrlen), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    public static int listen(int fd, int backlog) {
        MemorySegment s = errnoSlot();
        try {
            return ret((int) LISTEN.invokeExact(s, fd, backlog), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    public static int connect(int fd, MemorySegment addr, int addrlen) {
        MemorySegment s = errnoSlot();
        try {
            return ret((int) CONNECT.invokeExact(s, fd, addr, addrlen), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    /** accept4(2); {@code addr} and {@code addrlen} may be {@link MemorySegment#NULL}. */
    public static int accept4(int fd, MemorySegment addr, MemorySegment addrlen, int flags) {
        MemorySegment s = errnoSlot();
        try {
            return ret((int) ACCEPT4.invokeExact(s, fd, addr, addrlen, flags), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    public static int shutdown(int fd, int how) {
        MemorySegment s = errnoSlot();
        try {
            return ret((int) SHUTDOWN.invokeExact(s, fd, how), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    public static long sendmsg(int fd, MemorySegment msghdr, int flags) {
        MemorySegment s = errnoSlot();
        try {
            return ret((long) SENDMSG.invokeExact(s, fd, msghdr, flags), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    public static long recvmsg(int fd, MemorySegment msghdr, int flags) {
        MemorySegment s = errnoSlot();
        try {
            return ret((long) RECVMSG.invokeExact(s, fd, msghdr, flags), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    public static int setsockopt(int fd, int level, int name, MemorySegment value, int len) {
        MemorySegment s = errnoSlot();
        try {
            return ret((int) SETSOCKOPT.invokeExact(s, fd, level, name, value, len), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    /** getsockopt(2); {@code len} is an int in/out segment. */
    public static int getsockopt(int fd, int level, int name, MemorySegment value, MemorySegment len) {
        MemorySegment s = errnoSlot();
        try {
            return ret((int) GETSOCKOPT.invokeExact(s, fd, level, name, value, len), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    public static int getsockname(int fd, MemorySegment addr, MemorySegment addrlen) {
        MemorySegment s = errnoSlot();
        try {
            return ret((int) GETSOCKNAME.invokeExact(s, fd, addr, addrlen), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    // ---------------------------------------------------------------- io_uring

    /** io_uring_setup(2): returns the ring fd or -errno; {@code params} is a {@code struct io_uring_params}. */
    public static int ioUringSetup(int entries, MemorySegment params) {
        MemorySegment s = errnoSlot();
        try {
            return (int) ret((long) SYSCALL_SETUP.invokeExact(s, SYS_IO_URING_SETUP, entries, params), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    /**
     * io_uring_enter(2). Returns the number of SQEs consumed or -errno. May sleep when
     * {@code minComplete > 0} with IORING_ENTER_GETEVENTS; use {@link #ioUringSubmit} otherwise.
     */
    public static int ioUringEnter(int fd, int toSubmit, int minComplete, int flags, MemorySegment arg, long argSize) {
        MemorySegment s = errnoSlot();
        try {
            return (int) ret((long) SYSCALL_ENTER.invokeExact(s, SYS_IO_URING_ENTER, fd, toSubmit, minComplete, flags,
                    arg, argSize), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    /**
     * io_uring_enter(2) that only submits (min_complete 0, no argument). Not linked critical: a
     * submit can still sleep (block-layer tag allocation, inline buffered writes, the ring's
     * mutex), and a critical call that sleeps holds up every safepoint in the JVM; measured, the
     * saved thread-state switch is lost in the syscall's own cost (see io-uring/README.md).
     */
    public static int ioUringSubmit(int fd, int toSubmit, int flags) {
        return ioUringEnter(fd, toSubmit, 0, flags, MemorySegment.NULL, 0);
    }

    /** io_uring_register(2). Returns the call's result or -errno. */
    public static int ioUringRegister(int fd, int opcode, MemorySegment arg, int nrArgs) {
        MemorySegment s = errnoSlot();
        try {
            return (int) ret((long) SYSCALL_REGISTER.invokeExact(s, SYS_IO_URING_REGISTER, fd, opcode, arg, nrArgs), s);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }
}
