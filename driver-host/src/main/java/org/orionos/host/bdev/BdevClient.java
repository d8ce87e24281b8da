package org.orionos.host.bdev;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import org.orionos.bindings.ErrnoException;

/**
 * The convenience API for callers off the hot path (tools, tests, management): one future per
 * request. Each call picks a reactor, takes a request from its pool there, and completes the
 * future from the request's callback. Buffers must be native segments that stay alive until the
 * future completes. Errors complete the future with an {@link ErrnoException}.
 */
public final class BdevClient {
    /** BLOCK_STATUS answer: the first extent's length and its {@link BdevOp#EXTENT_HOLE}/{@link BdevOp#EXTENT_ZERO} bits. */
    public record Extent(long length, int flags) {
        public boolean hole() {
            return (flags & BdevOp.EXTENT_HOLE) != 0;
        }

        public boolean zero() {
            return (flags & BdevOp.EXTENT_ZERO) != 0;
        }
    }

    private final BdevHost host;
    private final AtomicInteger next = new AtomicInteger();

    BdevClient(BdevHost host) {
        this.host = host;
    }

    private IoContext pick() {
        return host.context(Math.floorMod(next.getAndIncrement(), host.reactorCount()));
    }

    public CompletableFuture<Void> read(BlockDevice d, long offset, MemorySegment dst) {
        return run(d, "read", ctx -> ctx.request().prepareRead(offset, dst.byteSize(), dst, 0)).thenApply(r -> null);
    }

    public CompletableFuture<Void> write(BlockDevice d, long offset, MemorySegment src, int flags) {
        return run(d, "write", ctx -> ctx.request().prepareWrite(offset, src.byteSize(), src, 0, flags))
                .thenApply(r -> null);
    }

    public CompletableFuture<Void> flush(BlockDevice d) {
        return run(d, "flush", ctx -> ctx.request().prepareNoData(BdevOp.FLUSH, 0, 0, 0)).thenApply(r -> null);
    }

    public CompletableFuture<Void> trim(BlockDevice d, long offset, long length) {
        return run(d, "trim", ctx -> ctx.request().prepareNoData(BdevOp.TRIM, offset, length, 0)).thenApply(r -> null);
    }

    public CompletableFuture<Void> writeZeroes(BlockDevice d, long offset, long length, int flags) {
        return run(d, "write-zeroes", ctx -> ctx.request().prepareNoData(BdevOp.WRITE_ZEROES, offset, length, flags))
                .thenApply(r -> null);
    }

    public CompletableFuture<Extent> blockStatus(BlockDevice d, long offset, long length) {
        return run(d, "block-status", ctx -> ctx.request().prepareNoData(BdevOp.BLOCK_STATUS, offset, length, 0));
    }

    private interface Prep {
        BdevRequest prepare(IoContext ctx);
    }

    private CompletableFuture<Extent> run(BlockDevice d, String what, Prep prep) {
        CompletableFuture<Extent> f = new CompletableFuture<>();
        IoContext ctx = pick();
        ctx.reactor().execute(() -> {
            BdevRequest r;
            try {
                r = prep.prepare(ctx);
            } catch (RuntimeException e) {
                f.completeExceptionally(e);
                return;
            }
            r.callback((req, status) -> {
                Extent ext = new Extent(req.extentLength(), req.extentFlags());
                String desc = req.toString();
                req.release();
                if (status < 0) {
                    f.completeExceptionally(new ErrnoException(-status, what, d.name() + " (" + desc + ")"));
                } else {
                    f.complete(ext);
                }
            }, 0);
            d.submit(r);
        });
        return f;
    }
}
