package org.orionos.bindings.uapi;

import org.orionos.bindings.CHeader;

import static org.orionos.bindings.Ioctl._IO;
import static org.orionos.bindings.Ioctl._IOR;
import static org.orionos.bindings.Layouts.U64;

/**
 * linux/fs.h: the block-device ioctls (type 0x12) a backend needs to size, probe and discard a
 * block device. Argument types are the kernel's, which are not always what the name suggests:
 * the {@code _IO} ones with an int result take an {@code int *}, BLKGETSIZE64 a {@code u64 *},
 * BLKDISCARD/BLKZEROOUT/BLKSECDISCARD a {@code u64 range[2]} (byte offset, byte length).
 */
@CHeader("linux/fs.h")
public final class FsH {
    private FsH() {
    }

    private static final int BLK = 0x12;

    /** Set read-only (int *: 1 = read-only). */
    public static final long BLKROSET = _IO(BLK, 93);
    /** Get read-only (int *). */
    public static final long BLKROGET = _IO(BLK, 94);
    /** Re-read the partition table. */
    public static final long BLKRRPART = _IO(BLK, 95);
    /** Size in 512-byte sectors (unsigned long *); prefer BLKGETSIZE64. */
    public static final long BLKGETSIZE = _IO(BLK, 96);
    /** Write back and invalidate the buffer cache. */
    public static final long BLKFLSBUF = _IO(BLK, 97);
    public static final long BLKRASET = _IO(BLK, 98);
    public static final long BLKRAGET = _IO(BLK, 99);
    /** Logical block size (int *). */
    public static final long BLKSSZGET = _IO(BLK, 104);
    /** Soft block size of the open device (int *, encoded with a size_t size). */
    public static final long BLKBSZGET = _IOR(BLK, 112, U64);
    /** Size in bytes (u64 *). */
    public static final long BLKGETSIZE64 = _IOR(BLK, 114, U64);
    /** Discard a byte range (u64[2]). */
    public static final long BLKDISCARD = _IO(BLK, 119);
    /** Minimum I/O size (unsigned int *). */
    public static final long BLKIOMIN = _IO(BLK, 120);
    /** Optimal I/O size (unsigned int *). */
    public static final long BLKIOOPT = _IO(BLK, 121);
    /** Alignment offset (int *). */
    public static final long BLKALIGNOFF = _IO(BLK, 122);
    /** Physical block size (unsigned int *). */
    public static final long BLKPBSZGET = _IO(BLK, 123);
    /** Whether discarded blocks read back as zeroes (unsigned int *; always 0 on modern kernels). */
    public static final long BLKDISCARDZEROES = _IO(BLK, 124);
    /** Secure-erase a byte range (u64[2]). */
    public static final long BLKSECDISCARD = _IO(BLK, 125);
    /** Rotational (unsigned short *). */
    public static final long BLKROTATIONAL = _IO(BLK, 126);
    /** Zero a byte range (u64[2]), offloaded to the device when it can. */
    public static final long BLKZEROOUT = _IO(BLK, 127);
    /** Disk sequence number (u64 *): tells a re-plugged device from the old one. */
    public static final long BLKGETDISKSEQ = _IOR(BLK, 128, U64);
}
