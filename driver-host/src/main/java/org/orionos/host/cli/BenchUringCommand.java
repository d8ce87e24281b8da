package org.orionos.host.cli;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.bindings.Libc;
import org.orionos.bindings.uapi.FcntlH;
import org.orionos.host.cli.BenchOptions.Rw;
import org.orionos.uring.Completion;
import org.orionos.uring.Reactor;
import org.orionos.uring.ReactorGroup;
import org.orionos.uring.Ring;
import org.orionos.uring.RingConfig;
import org.orionos.uring.Sqe;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import static org.orionos.bindings.uapi.IoUringH.IORING_OP_READ_FIXED;
import static org.orionos.bindings.uapi.IoUringH.IORING_OP_WRITE_FIXED;

/**
 * {@code orion bench uring}: keeps {@code qd} reads or writes in flight per reactor against one
 * file, with registered (fixed) buffers and the file registered, the way
 * {@code fio --ioengine=io_uring --fixedbufs=1 --registerfiles=1} does. Prints progress each
 * second and ends with {@code iops=<n> bw_mib_s=<n>}.
 */
@Command(name = "uring", mixinStandardHelpOptions = true,
        description = "io_uring throughput against a file: fixed buffers, registered file, QD per reactor.")
public final class BenchUringCommand implements Callable<Integer> {

    @Option(names = "--file", required = true, description = "File (or block device) to use; its size bounds the offsets.")
    String file;

    @Mixin
    BenchOptions opts;

    @Option(names = "--pin", description = "Pin reactor i to CPU i.")
    boolean pin;

    @Option(names = "--direct", description = "Open with O_DIRECT.")
    boolean direct;

    @Option(names = "--single-issuer", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "SINGLE_ISSUER + DEFER_TASKRUN rings (default); --no-single-issuer: COOP_TASKRUN.")
    boolean singleIssuer;

    @Override
    public Integer call() throws Exception {
        opts.validate();
        Rw rw = opts.rw;
        int bs = opts.bs;
        int qd = opts.qd;
        int reactors = opts.reactors;
        boolean writes = rw.writes();
        int flags = (writes ? FcntlH.O_RDWR : FcntlH.O_RDONLY) | FcntlH.O_CLOEXEC | (direct ? FcntlH.O_DIRECT : 0);
        int fd = Libc.open(file, flags, 0);
        if (fd < 0) {
            System.err.println("orion bench uring: " + new ErrnoException(-fd, "open", file).getMessage());
            return 1;
        }
        try {
            long size = ErrnoException.check(Libc.lseek(fd, 0, FcntlH.SEEK_END), "lseek(SEEK_END)", file);
            long blocks = size / bs;
            if (blocks < 1) {
                throw new IllegalArgumentException(file + " (" + size + " bytes) is smaller than one block of " + bs);
            }
            int entries = Integer.highestOneBit(Math.max(qd, 1) * 2 - 1);
            RingConfig cfg = RingConfig.defaults().withSingleIssuer(singleIssuer)
                    .withEntries(Math.max(entries, 8), Math.max(entries, 8) * 2)
                    .requiring(writes ? IORING_OP_WRITE_FIXED : IORING_OP_READ_FIXED);
            try (ReactorGroup group = ReactorGroup.start("bench-uring", reactors, cfg, pin)) {
                Job[] jobs = new Job[reactors];
                for (int i = 0; i < reactors; i++) {
                    Reactor r = group.get(i);
                    Job j = new Job(fd, blocks, bs, qd, rw, 0x9E3779B97F4A7C15L * (i + 1));
                    jobs[i] = j;
                    r.call(() -> {
                        j.start(r.ring());
                        return null;
                    }).join();
                }
                long elapsed = opts.progress(() -> {
                    long n = 0;
                    for (Job j : jobs) {
                        n += j.completed();
                    }
                    return n;
                }, () -> { });
                long done = 0;
                long errors = 0;
                for (Job j : jobs) {
                    done += j.completed();
                }
                for (int i = 0; i < reactors; i++) {
                    Job j = jobs[i];
                    group.get(i).execute(j::stop);
                }
                long cpuNanos = 0;
                long countedIos = 0;
                for (Job j : jobs) {
                    j.drained.get(30, TimeUnit.SECONDS);
                    cpuNanos += j.cpuNanos;
                    countedIos += j.iosAtStop;
                    errors += j.errors;
                    if (j.firstError != 0) {
                        System.err.println("first I/O error: " + Errno.name(-j.firstError) + " (" + Errno.describe(-j.firstError) + ")");
                    }
                }
                for (int i = 0; i < reactors; i++) {
                    Job j = jobs[i];
                    group.get(i).call(() -> {
                        j.release();
                        return null;
                    }).join();
                }
                if (errors > 0) {
                    System.err.println(errors + " I/O errors");
                }
                // CPU of the reactor threads themselves (what fio's usr+sys reports for its job
                // thread; io-wq workers excluded on both sides): the engine's cost per I/O,
                // independent of what else competes for the machine.
                System.out.printf(Locale.ROOT, "reactor_cpu_s=%.2f ios_per_cpu_ms=%.1f%n", cpuNanos / 1e9,
                        countedIos / (cpuNanos / 1e6));
                opts.summary(done, elapsed);
                return errors > 0 ? 1 : 0;
            }
        } finally {
            Libc.close(fd);
        }
    }

    /** One reactor's share: {@code qd} units, each a {@link Completion} that resubmits itself. */
    static final class Job {
        private static final VarHandle COMPLETED;
        private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

        static {
            try {
                COMPLETED = MethodHandles.lookup().findVarHandle(Job.class, "completed", long.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final int fd;
        final long blocks;
        final int bs;
        final int qd;
        final Rw rw;
        final CompletableFuture<Void> drained = new CompletableFuture<>();
        /** Reactor-thread CPU time between start and stop, and the I/Os done by stop. */
        long cpuNanos;
        long iosAtStop;
        private long seed;
        private long cursor;
        private Ring ring;
        private Arena arena;
        private MemorySegment buffers;
        private boolean stopping;
        private int inFlight;
        @SuppressWarnings("unused") // written through COMPLETED (opaque), read by the progress thread
        private long completed;
        private long count;
        long errors;
        int firstError;

        Job(int fd, long blocks, int bs, int qd, Rw rw, long seed) {
            this.fd = fd;
            this.blocks = blocks;
            this.bs = bs;
            this.qd = qd;
            this.rw = rw;
            this.seed = seed;
        }

        long completed() {
            return (long) COMPLETED.getOpaque(this);
        }

        /** Runs on the reactor: registers file and buffers, puts {@code qd} operations in flight. */
        void start(Ring r) {
            this.ring = r;
            cpuNanos = -THREADS.getCurrentThreadCpuTime();
            arena = Arena.ofShared();
            long stride = (bs + 4095L) & ~4095L;
            buffers = arena.allocate(stride * qd, 4096);
            buffers.fill((byte) 0x5a);
            MemorySegment[] bufs = new MemorySegment[qd];
            for (int i = 0; i < qd; i++) {
                bufs[i] = buffers.asSlice(i * stride, bs);
            }
            r.registerFiles(fd);
            r.registerBuffers(bufs);
            for (int i = 0; i < qd; i++) {
                Unit u = new Unit(this, i, bufs[i].address());
                if (!u.issue()) {
                    throw new IllegalStateException("ring refused the first " + qd + " operations");
                }
            }
        }

        private long nextOffset() {
            if (rw == Rw.read || rw == Rw.write) {
                long b = cursor;
                cursor = cursor + 1 == blocks ? 0 : cursor + 1;
                return b * bs;
            }
            // xorshift64: cheap, allocation-free, good enough to spread offsets uniformly.
            long x = seed;
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            seed = x;
            return ((x >>> 1) % blocks) * bs;
        }

        void stop() {
            cpuNanos += THREADS.getCurrentThreadCpuTime();
            iosAtStop = count;
            stopping = true;
            if (inFlight == 0) {
                drained.complete(null);
            }
        }

        void release() {
            ring.unregisterBuffers();
            ring.unregisterFiles();
            arena.close();
        }
    }

    /** One queue slot: its buffer index and address; completes and reissues itself. */
    static final class Unit implements Completion {
        private final Job job;
        private final int index;
        private final long addr;

        Unit(Job job, int index, long addr) {
            this.job = job;
            this.index = index;
            this.addr = addr;
        }

        boolean issue() {
            Job j = job;
            Sqe s = j.ring.acquire(this, 0);
            if (s == null) {
                return false;
            }
            long off = j.nextOffset();
            if (j.rw == Rw.randread || j.rw == Rw.read) {
                s.readFixed(0, addr, j.bs, off, index).fixedFile();
            } else {
                s.writeFixed(0, addr, j.bs, off, index).fixedFile();
            }
            j.inFlight++;
            return true;
        }

        @Override
        public void complete(int res, int flags, long cookie) {
            Job j = job;
            j.inFlight--;
            if (res != j.bs) {
                j.errors++;
                if (j.firstError == 0) {
                    j.firstError = res < 0 ? res : -Errno.EIO;
                }
            }
            j.count++;
            // Opaque: the progress thread needs an eventually-visible count, not ordering.
            Job.COMPLETED.setOpaque(j, j.count);
            if (j.stopping || !issue()) {
                if (j.inFlight == 0 && j.stopping) {
                    j.drained.complete(null);
                }
            }
        }
    }
}
