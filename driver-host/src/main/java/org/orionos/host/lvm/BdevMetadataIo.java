package org.orionos.host.lvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.bdev.BdevClient;
import org.orionos.host.bdev.BlockDevice;

/**
 * LVM2 metadata I/O through the block-device layer: labels and metadata areas of a PV that is a
 * {@link BlockDevice} (a file, a disk, a memory device, a RAID array) are read and written with
 * the same requests as its data, so the volume manager works on anything the layer can open.
 *
 * <p>Management path only: each call blocks the calling thread (never a reactor) on the
 * {@link BdevClient} futures. Byte ranges that are not whole device blocks are read, patched and
 * written back as whole blocks: a 512-byte MDA header on a 4 KiB-block device is one block write.
 */
public final class BdevMetadataIo implements org.orionos.host.lvm.metadata.MetadataIo {
    private static final long TIMEOUT_SECONDS = 60;

    private final BlockDevice device;
    private final BdevClient client;

    public BdevMetadataIo(BlockDevice device, BdevClient client) {
        this.device = device;
        this.client = client;
    }

    public BlockDevice device() {
        return device;
    }

    @Override
    public String name() {
        return device.name();
    }

    @Override
    public long size() {
        return device.sizeBytes();
    }

    @Override
    public void read(long offset, ByteBuffer dst) {
        int len = dst.remaining();
        if (len == 0) {
            return;
        }
        checkRange(offset, len, "read");
        long bs = device.blockSize();
        long start = offset / bs * bs;
        long end = (offset + len + bs - 1) / bs * bs;
        try (Arena arena = Arena.ofShared()) { // shared: the reactor copies into it
            MemorySegment buf = arena.allocate(end - start, 4096);
            await(client.read(device, start, buf), "read " + len + " bytes at " + offset);
            dst.put(buf.asSlice(offset - start, len).asByteBuffer());
        }
    }

    @Override
    public void write(long offset, ByteBuffer src) {
        int len = src.remaining();
        if (len == 0) {
            return;
        }
        checkRange(offset, len, "write");
        long bs = device.blockSize();
        long start = offset / bs * bs;
        long end = (offset + len + bs - 1) / bs * bs;
        try (Arena arena = Arena.ofShared()) { // shared: the reactor copies into it
            MemorySegment buf = arena.allocate(end - start, 4096);
            if (start != offset || end != offset + len) {
                // Partial blocks keep the bytes around the patch: read the covering blocks first.
                await(client.read(device, start, buf), "read blocks around " + len + " bytes at " + offset);
            }
            buf.asSlice(offset - start, len).copyFrom(MemorySegment.ofBuffer(src));
            src.position(src.limit());
            await(client.write(device, start, buf, 0), "write " + len + " bytes at " + offset);
        }
    }

    @Override
    public void flush() {
        await(client.flush(device), "flush");
    }

    /** Nothing to release: the device belongs to whoever opened it (the registry, a test). */
    @Override
    public void close() {
    }

    private void checkRange(long offset, int len, String op) {
        if (offset < 0 || offset + len > device.sizeBytes()) {
            throw new ErrnoException(Errno.EIO, op + " " + len + " bytes at " + offset, device.name(),
                    "the device has " + device.sizeBytes() + " bytes; the metadata points past its end");
        }
    }

    private <T> T await(CompletableFuture<T> f, String op) {
        try {
            return f.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ErrnoException x) {
                throw x;
            }
            throw new ErrnoException(Errno.EIO, op, device.name(), String.valueOf(e.getCause()));
        } catch (TimeoutException e) {
            throw new ErrnoException(Errno.ETIMEDOUT, op, device.name(),
                    "no completion in " + TIMEOUT_SECONDS + " s; the device or its reactor is stuck");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ErrnoException(Errno.EINTR, op, device.name(), "interrupted");
        }
    }
}
