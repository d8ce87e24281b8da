package org.orionos.host.cli;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.bdev.BdevCallback;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BdevRequest;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.IoContext;
import org.orionos.host.config.ConfigLoader;
import org.orionos.host.config.OrionConfig;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code orion bench bdev}: drives one device of a config through the full block-device path
 * (pooled requests, core checks and splits, backend, completion on the submitting reactor) at a
 * fixed queue depth per reactor. Prints progress each second and ends with {@code iops=<n> bw_mib_s=<n>}.
 */
@Command(name = "bdev", mixinStandardHelpOptions = true,
        description = "Benchmark a block device of a config through the block-device layer.")
public final class BenchBdevCommand implements Callable<Integer> {

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "TOML stack description.")
    Path config;

    @Option(names = "--bdev", required = true, description = "Device to drive.")
    String bdev;

    @Mixin
    BenchOptions opts;

    @Override
    public Integer call() throws Exception {
        opts.validate();
        int bs = opts.bs;
        int qd = opts.qd;
        int reactors = opts.reactors;
        OrionConfig cfg = ConfigLoader.load(config);
        try (BdevHost host = BdevHost.start(reactors, Math.max(BdevHost.DEFAULT_BUFFER_BYTES, (long) bs * qd * 2),
                cfg.needsBigRingEntries())) {
            host.build(cfg);
            BlockDevice dev = host.registry().get(bdev);
            if (bs % dev.blockSize() != 0 || bs > dev.sizeBytes()) {
                System.err.println("orion bench bdev: --bs must be a multiple of " + dev.name() + "'s block size "
                        + dev.blockSize() + " and at most its size");
                return 2;
            }
            Driver[] drivers = new Driver[reactors];
            for (int i = 0; i < reactors; i++) {
                IoContext ctx = host.context(i);
                drivers[i] = new Driver(ctx, dev, opts.rw.writes(), opts.rw.random(), bs, qd, i);
                Driver d = drivers[i];
                ctx.reactor().call(() -> {
                    d.start();
                    return null;
                }).get(10, TimeUnit.SECONDS);
            }
            long elapsed = opts.progress(() -> total(drivers), () -> {
                for (Driver d : drivers) {
                    if (d.error != 0) {
                        throw new ErrnoException(-d.error, "bench " + opts.rw, dev.name());
                    }
                }
            });
            long done = total(drivers);
            for (Driver d : drivers) {
                d.stop = true;
            }
            opts.summary(done, elapsed);
        }
        return 0;
    }

    private static long total(Driver[] drivers) {
        long n = 0;
        for (Driver d : drivers) {
            n += (long) Driver.COMPLETED.getOpaque(d);
        }
        return n;
    }

    /** One reactor's closed loop: each completion submits the next I/O from the same request. */
    static final class Driver implements BdevCallback {
        static final VarHandle COMPLETED;

        static {
            try {
                COMPLETED = MethodHandles.lookup().findVarHandle(Driver.class, "completed", long.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        private final IoContext ctx;
        private final BlockDevice dev;
        private final boolean write;
        private final boolean random;
        private final int bs;
        private final int qd;
        private final long blocks;
        private final SplittableRandom rnd;
        private long nextSeq;
        @SuppressWarnings("unused") // written through COMPLETED (opaque), read by the progress thread
        private long completed;
        volatile boolean stop;
        volatile int error;

        Driver(IoContext ctx, BlockDevice dev, boolean write, boolean random, int bs, int qd, int seed) {
            this.ctx = ctx;
            this.dev = dev;
            this.write = write;
            this.random = random;
            this.bs = bs;
            this.qd = qd;
            this.blocks = dev.sizeBytes() / bs;
            this.rnd = new SplittableRandom(seed);
            this.nextSeq = (blocks / Math.max(1, qd)) * seed % Math.max(1, blocks);
        }

        void start() {
            for (int i = 0; i < qd; i++) {
                MemorySegment buf = ctx.buffers().allocate(bs);
                BdevRequest r = ctx.request();
                prepare(r, buf);
                dev.submit(r);
            }
        }

        private void prepare(BdevRequest r, MemorySegment buf) {
            long block = random ? rnd.nextLong(blocks) : nextSeq++ % blocks;
            if (write) {
                r.prepareWrite(block * bs, bs, buf, 0, 0);
            } else {
                r.prepareRead(block * bs, bs, buf, 0);
            }
            r.callback(this, 0);
        }

        @Override
        public void onComplete(BdevRequest r, int status) {
            // Opaque: the progress thread needs an eventually-visible count, not ordering.
            COMPLETED.setOpaque(this, (long) COMPLETED.getOpaque(this) + 1);
            MemorySegment buf = r.buffer();
            if (status < 0) {
                error = status == 0 ? -Errno.EIO : status;
            }
            if (stop || status < 0) {
                r.release();
                ctx.buffers().release(buf);
                return;
            }
            prepare(r, buf);
            dev.submit(r);
        }
    }
}
