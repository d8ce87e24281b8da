package org.orionos.host.lvm.metadata;

import java.nio.ByteBuffer;

/**
 * Byte access to one PV for reading and writing its label and metadata areas, off the data path.
 * Offline tools use {@link FileMetadataIo}; the volume manager will put one over a block device.
 * Every method reports failure as an {@code ErrnoException} naming the device.
 */
public interface MetadataIo extends AutoCloseable {

    /** The device's name for messages (its path). */
    String name();

    /** Size in bytes. */
    long size();

    /** Fills {@code dst} from its position to its limit with the bytes at {@code offset}. */
    void read(long offset, ByteBuffer dst);

    /** Writes {@code src} from its position to its limit at {@code offset}. */
    void write(long offset, ByteBuffer src);

    /** Makes every completed write durable; the commit protocol's ordering points. */
    void flush();

    @Override
    void close();
}
