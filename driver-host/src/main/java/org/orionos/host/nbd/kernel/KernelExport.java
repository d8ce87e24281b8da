package org.orionos.host.nbd.kernel;

/**
 * What the kernel is told about an export when a device is connected to it: its size, the logical
 * block size, and which requests it accepts. Taken from the serving side, so the kernel's view
 * matches what TCP clients of the same export negotiate.
 *
 * @param name      export name
 * @param sizeBytes size in bytes (a multiple of {@code blockSize})
 * @param blockSize logical block size, a power of two from 512 to the page size
 * @param readOnly  writes are refused
 * @param flush     FLUSH is meaningful (the device has a volatile cache)
 * @param fua       FUA writes are honoured
 * @param trim      TRIM (discard) is supported
 * @param multiConn a flush on one connection covers writes completed on any other (the kernel
 *                  sends each flush on one socket only), so several connections are safe
 */
public record KernelExport(String name, long sizeBytes, int blockSize, boolean readOnly, boolean flush,
                           boolean fua, boolean trim, boolean multiConn) {
    public KernelExport {
        if (blockSize < 512 || blockSize > 4096 || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("export " + name + ": the kernel accepts block sizes 512..4096, not "
                    + blockSize);
        }
        if (sizeBytes <= 0 || sizeBytes % blockSize != 0) {
            throw new IllegalArgumentException("export " + name + ": size " + sizeBytes
                    + " is not a positive multiple of the block size " + blockSize);
        }
    }
}
