package org.orionos.bindings;

import java.lang.foreign.MemoryLayout;

/**
 * The kernel's ioctl request encoding (asm-generic/ioctl.h, used by x86-64 and arm64):
 * {@code dir:2 | size:14 | type:8 | nr:8}, high to low. Holders derive their request numbers from the
 * argument struct's layout, so a wrong layout size shows up as a wrong request number in the layout
 * check too. Results are unsigned 32-bit values in a {@code long}, as {@link Libc#ioctl} takes them.
 */
@CHeader("linux/ioctl.h")
public final class Ioctl {
    private Ioctl() {
    }

    public static final int _IOC_NRBITS = 8;
    public static final int _IOC_TYPEBITS = 8;
    public static final int _IOC_SIZEBITS = 14;
    public static final int _IOC_DIRBITS = 2;
    public static final int _IOC_NRSHIFT = 0;
    public static final int _IOC_TYPESHIFT = _IOC_NRSHIFT + _IOC_NRBITS;
    public static final int _IOC_SIZESHIFT = _IOC_TYPESHIFT + _IOC_TYPEBITS;
    public static final int _IOC_DIRSHIFT = _IOC_SIZESHIFT + _IOC_SIZEBITS;
    public static final int _IOC_NONE = 0;
    public static final int _IOC_WRITE = 1;
    public static final int _IOC_READ = 2;

    /** {@code _IOC(dir, type, nr, size)}; rejects fields that do not fit their bits. */
    public static long _IOC(int dir, int type, int nr, long size) {
        if ((dir & ~3) != 0 || (type & ~0xff) != 0 || (nr & ~0xff) != 0 || size < 0 || size >= 1 << _IOC_SIZEBITS) {
            throw new IllegalArgumentException("ioctl field out of range: dir=" + dir + " type=" + type
                    + " nr=" + nr + " size=" + size);
        }
        return ((long) dir << _IOC_DIRSHIFT) | (size << _IOC_SIZESHIFT) | ((long) type << _IOC_TYPESHIFT)
                | ((long) nr << _IOC_NRSHIFT);
    }

    /** {@code _IO(type, nr)}: no argument data. */
    public static long _IO(int type, int nr) {
        return _IOC(_IOC_NONE, type, nr, 0);
    }

    /** {@code _IOR(type, nr, T)}: the kernel writes a T to user space. */
    public static long _IOR(int type, int nr, MemoryLayout argument) {
        return _IOC(_IOC_READ, type, nr, argument.byteSize());
    }

    /** {@code _IOW(type, nr, T)}: user space passes a T to the kernel. */
    public static long _IOW(int type, int nr, MemoryLayout argument) {
        return _IOC(_IOC_WRITE, type, nr, argument.byteSize());
    }

    /** {@code _IOWR(type, nr, T)}: a T goes in and comes back. */
    public static long _IOWR(int type, int nr, MemoryLayout argument) {
        return _IOC(_IOC_READ | _IOC_WRITE, type, nr, argument.byteSize());
    }

    /** {@code _IOC_DIR(request)}. */
    public static int dir(long request) {
        return (int) (request >>> _IOC_DIRSHIFT) & ((1 << _IOC_DIRBITS) - 1);
    }

    /** {@code _IOC_TYPE(request)}. */
    public static int type(long request) {
        return (int) (request >>> _IOC_TYPESHIFT) & ((1 << _IOC_TYPEBITS) - 1);
    }

    /** {@code _IOC_NR(request)}. */
    public static int nr(long request) {
        return (int) (request >>> _IOC_NRSHIFT) & ((1 << _IOC_NRBITS) - 1);
    }

    /** {@code _IOC_SIZE(request)}. */
    public static int size(long request) {
        return (int) (request >>> _IOC_SIZESHIFT) & ((1 << _IOC_SIZEBITS) - 1);
    }

    /** Readable form for error messages, e.g. {@code _IOWR('N', 0x41, 72)}. */
    public static String describe(long request) {
        String d = switch (dir(request)) {
            case _IOC_NONE -> "_IO";
            case _IOC_WRITE -> "_IOW";
            case _IOC_READ -> "_IOR";
            default -> "_IOWR";
        };
        int t = type(request);
        String ty = t >= 0x20 && t < 0x7f ? "'" + (char) t + "'" : "0x" + Integer.toHexString(t);
        return d + "(" + ty + ", 0x" + Integer.toHexString(nr(request))
                + (dir(request) == _IOC_NONE ? ")" : ", " + size(request) + ")");
    }
}
