package org.orionos.host.lvm.metadata;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;

/**
 * {@link MetadataIo} over a regular file or a block device (a loop device, a disk) through a
 * {@link FileChannel}; {@link #flush()} is fsync. For offline tools and tests.
 */
public final class FileMetadataIo implements MetadataIo {

    private final Path path;
    private final FileChannel channel;
    private final long size;

    private FileMetadataIo(Path path, FileChannel channel, long size) {
        this.path = path;
        this.channel = channel;
        this.size = size;
    }

    /** Opens {@code path}, read-only or read-write. */
    public static FileMetadataIo open(Path path, boolean writable) {
        try {
            FileChannel ch = writable
                    ? FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)
                    : FileChannel.open(path, StandardOpenOption.READ);
            return new FileMetadataIo(path, ch, ch.size());
        } catch (NoSuchFileException e) {
            throw new ErrnoException(Errno.ENOENT, "open PV", path.toString());
        } catch (IOException e) {
            throw failure("open PV", path.toString(), e);
        }
    }

    @Override
    public String name() {
        return path.toString();
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(long offset, ByteBuffer dst) {
        try {
            long at = offset;
            while (dst.hasRemaining()) {
                int n = channel.read(dst, at);
                if (n < 0) {
                    throw new ErrnoException(Errno.EIO, "read " + dst.remaining() + " bytes at " + at, name(),
                            "the device is shorter than its metadata says");
                }
                at += n;
            }
        } catch (IOException e) {
            throw failure("read at " + offset, name(), e);
        }
    }

    @Override
    public void write(long offset, ByteBuffer src) {
        try {
            long at = offset;
            while (src.hasRemaining()) {
                at += channel.write(src, at);
            }
        } catch (IOException e) {
            throw failure("write at " + offset, name(), e);
        }
    }

    @Override
    public void flush() {
        try {
            channel.force(true);
        } catch (IOException e) {
            throw failure("fsync", name(), e);
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw failure("close", name(), e);
        }
    }

    private static ErrnoException failure(String op, String target, IOException e) {
        return new ErrnoException(Errno.EIO, op, target, e.getMessage());
    }
}
