package org.orionos.bench.bdev;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.orionos.host.bdev.BdevCallback;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BdevRequest;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.IoContext;
import org.orionos.host.config.ConfigLoader;

/**
 * The memory backend through the full block-device path: pooled request, core checks, backend
 * copy, deferred completion on the reactor's next turn, callback, resubmit. One invocation runs
 * {@value #IOS} I/Os at a fixed queue depth on the reactor over a pre-written 256 MiB device (larger
 * than the caches); the score is time per I/O.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar MemoryBdevBench}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class MemoryBdevBench {
    static final int IOS = 100_000;

    @Param({"4096"})
    int bs;

    @Param({"1", "32"})
    int qd;

    @Param({"read", "write"})
    String op;

    BdevHost host;
    BlockDevice dev;
    IoContext ctx;

    @Setup(Level.Trial)
    public void setup() {
        host = BdevHost.start(1, 64L << 20);
        host.build(ConfigLoader.parse("[[bdev]]\nname = \"m\"\ntype = \"memory\"\nsize = \"256M\"\n", "bench"));
        dev = host.registry().get("m");
        ctx = host.context(0);
        // Write every block once: reads must copy real memory, not the shared zero page of an
        // unwritten mapping, and writes must not include first-touch page faults.
        Loop fill = new Loop(ctx, dev, bs, 32, true);
        ctx.reactor().execute(fill::start);
        try {
            fill.done.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("could not pre-fill the memory device", e);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        host.close();
    }

    @Benchmark
    @OperationsPerInvocation(IOS)
    public void io() throws Exception {
        Loop loop = new Loop(ctx, dev, bs, qd, "write".equals(op));
        ctx.reactor().execute(loop::start);
        loop.done.get(60, TimeUnit.SECONDS);
    }

    /** Closed loop on the reactor: keep {@code qd} I/Os in flight until {@value #IOS} completed. */
    static final class Loop implements BdevCallback {
        final CompletableFuture<Void> done = new CompletableFuture<>();
        private final IoContext ctx;
        private final BlockDevice dev;
        private final int bs;
        private final int qd;
        private final boolean write;
        private final long blocks;
        private long submitted;
        private long completed;
        private long next;

        Loop(IoContext ctx, BlockDevice dev, int bs, int qd, boolean write) {
            this.ctx = ctx;
            this.dev = dev;
            this.bs = bs;
            this.qd = qd;
            this.write = write;
            this.blocks = dev.sizeBytes() / bs;
        }

        void start() {
            for (int i = 0; i < qd; i++) {
                submit(ctx.request(), ctx.buffers().allocate(bs));
            }
        }

        private void submit(BdevRequest r, MemorySegment buf) {
            long off = (next++ * 7919 % blocks) * bs;
            if (write) {
                r.prepareWrite(off, bs, buf, 0, 0);
            } else {
                r.prepareRead(off, bs, buf, 0);
            }
            r.callback(this, 0);
            submitted++;
            dev.submit(r);
        }

        @Override
        public void onComplete(BdevRequest r, int status) {
            completed++;
            if (submitted < IOS) {
                submit(r, r.buffer());
                return;
            }
            ctx.buffers().release(r.buffer());
            r.release();
            if (completed == IOS) {
                done.complete(null);
            }
        }
    }
}
