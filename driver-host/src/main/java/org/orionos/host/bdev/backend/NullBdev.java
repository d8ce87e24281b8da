package org.orionos.host.bdev.backend;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.orionos.host.bdev.BdevOp;
import org.orionos.host.bdev.BdevRequest;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.Capability;

/** Discards writes and reads zeros: measures the cost of everything stacked above it. */
@SuppressWarnings("restricted") // one whole-address-space segment for iovec fills
public final class NullBdev extends BlockDevice {
    private static final MemorySegment EVERYTHING = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    private static final MemorySegment ZEROS = Arena.global().allocate(64 * 1024, 4096);

    public NullBdev(String name, long sizeBytes, int blockSize) {
        super(name, blockSize, sizeBytes / blockSize,
                Capability.READ | Capability.WRITE | Capability.FLUSH | Capability.FUA | Capability.TRIM
                        | Capability.WRITE_ZEROES | Capability.SHARED_FLUSH, 0, 0);
    }

    @Override
    protected void doSubmit(BdevRequest r) {
        if (r.op() == BdevOp.READ) {
            if (r.buffer() != null) {
                zero(r.buffer(), r.bufferOffset(), r.length());
            } else {
                long left = r.length();
                for (int i = 0; i < r.iovCount() && left > 0; i++) {
                    long n = Math.min(iovLen(r.iov(), i), left);
                    zero(EVERYTHING, iovBase(r.iov(), i), n);
                    left -= n;
                }
            }
        }
        r.completeDeferred(0);
    }

    private static void zero(MemorySegment dst, long off, long len) {
        for (long done = 0; done < len; ) {
            long n = Math.min(ZEROS.byteSize(), len - done);
            MemorySegment.copy(ZEROS, 0, dst, off + done, n);
            done += n;
        }
    }
}
