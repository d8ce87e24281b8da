package org.orionos.host.cli;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.bindings.Libc;
import org.orionos.bindings.uapi.FcntlH;
import org.orionos.host.bdev.BdevCallback;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BdevRequest;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.IoContext;
import org.orionos.host.bdev.backend.FileBdev;
import org.orionos.host.lvm.VolumeGroup;
import org.orionos.host.lvm.metadata.ThinSegments;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code orion lvm bench}: what a thin volume costs over the device under it, measured on one
 * preallocated image file through io_uring, one reactor, 4 KiB writes at a fixed queue depth:
 * <ol>
 * <li>thin first write: one write into each chunk of a new thin volume, chunks in random order
 *     (each allocates the chunk, zeroes it, writes);
 * <li>rounds alternating raw and thin overwrite: random writes to the bytes of the file under the
 *     thin volume's chunks (the baseline) and to the now fully mapped thin volume; medians compared;
 * <li>snapshot copy-on-write: after a snapshot, one write into each shared chunk in random order
 *     (each copies its 64 KiB chunk first);
 * <li>metadata commit latency: FLUSH after dirtying one new chunk (data flush, image write, metadata flush).
 * </ol>
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmark thin volumes against the raw device under them (4K random writes, snapshot CoW, commit latency).")
public final class LvmBenchCommand implements Callable<Integer> {

    @Option(names = "--file", defaultValue = "/var/tmp/orion-lvm-bench.img",
            description = "Image file to create (removed afterwards; default ${DEFAULT-VALUE}).")
    Path file;

    @Option(names = "--volume", defaultValue = "512M", description = "Thin volume size (default ${DEFAULT-VALUE}).")
    String volume;

    @Option(names = "--qd", defaultValue = "32", description = "Writes in flight (default ${DEFAULT-VALUE}).")
    int qd;

    @Option(names = "--seconds", defaultValue = "5", description = "Run time of the raw and overwrite phases (default ${DEFAULT-VALUE}).")
    int seconds;

    @Option(names = "--rounds", defaultValue = "3", description = "Alternating raw/thin overwrite rounds (default ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--commits", defaultValue = "200", description = "Commits timed (default ${DEFAULT-VALUE}).")
    int commits;

    private static final int BS = 4096;
    private static final long MIB = 1 << 20;

    @Override
    public Integer call() throws Exception {
        long vol = LvmCommand.parseSize(volume, 'm');
        long chunk = ThinSegments.DEFAULT_CHUNK_SECTORS * 512;
        long ext = 4 * MIB;
        vol = (vol + ext - 1) / ext * ext;
        long dataExtents = 2 * vol / ext + 2 + ((long) commits * chunk + ext - 1) / ext;
        long fileBytes = (dataExtents + 4) * ext + 4 * MIB;
        if (Files.exists(file)) {
            System.err.println("orion lvm bench: " + file + " exists; give another --file");
            return 2;
        }
        preallocate(file, fileBytes);
        try (BdevHost host = BdevHost.start(1, 64L << 20)) {
            BlockDevice pv = FileBdev.open("benchpv", file, 0, 4096, "auto");
            try {
                System.out.printf(Locale.ROOT, "file %s, %d MiB, direct=%s; thin volume %d MiB, chunk %d KiB, qd %d%n",
                        file, fileBytes >> 20, ((FileBdev) pv).isDirect(), vol >> 20, chunk >> 10, qd);
                try (VolumeGroup vg = VolumeGroup.create(host, "orionbench", List.of(pv), ext / 512)) {
                    vg.createThinPool("pool", dataExtents, 1, ThinSegments.DEFAULT_CHUNK_SECTORS);
                    vg.createThin("thin", "pool", vol);
                    BlockDevice thin = vg.activateThin("thin", "orionbench/thin");
                    Result first = counted(host, thin, Pattern.chunks(vol, chunk, 1));
                    report("thin 4K first write (allocate+zero chunk)", first);
                    // The raw baseline writes the same bytes of the file the thin volume's chunks occupy
                    // (the start of the pool's data volume): same footprint, no thin layer.
                    var tdata = vg.metadata().logicalVolume("pool_tdata");
                    var area = ((org.orionos.host.lvm.metadata.StripedSegment) tdata.segments().get(0)).stripes().get(0);
                    long rawBase = vg.metadata().physicalVolume(area.pvName()).peStart() * 512 + area.startExtent() * ext;
                    timed(host, pv, Pattern.random(vol, rawBase), 1); // warm-up
                    double[] rawIops = new double[rounds];
                    double[] thinIops = new double[rounds];
                    for (int i = 0; i < rounds; i++) {
                        Result raw = timed(host, pv, Pattern.random(vol, rawBase), seconds);
                        report("round " + (i + 1) + " raw 4K randwrite (same footprint)", raw);
                        Result over = timed(host, thin, Pattern.random(vol, 0), seconds);
                        report("round " + (i + 1) + " thin 4K randwrite overwrite", over);
                        rawIops[i] = raw.iops();
                        thinIops[i] = over.iops();
                    }
                    Arrays.sort(rawIops);
                    Arrays.sort(thinIops);
                    double r = rawIops[rounds / 2];
                    double t = thinIops[rounds / 2];
                    System.out.printf(Locale.ROOT, "median: raw iops=%d thin overwrite iops=%d ratio=%.2f overhead=%.1f%%%n",
                            Math.round(r), Math.round(t), t / r, 100.0 * (r - t) / r);
                    vg.snapshot("thin", "snap", false);
                    Result cow = counted(host, thin, Pattern.chunks(vol, chunk, 2));
                    report("thin 4K write to snapshot-shared chunk (CoW)", cow);
                    commitLatency(host, vg, thin, vol, chunk);
                }
            } finally {
                pv.close();
            }
        } finally {
            Files.deleteIfExists(file);
        }
        return 0;
    }

    private static void preallocate(Path file, long bytes) {
        int fd = Libc.open(file.toString(), FcntlH.O_RDWR | FcntlH.O_CREAT | FcntlH.O_EXCL | FcntlH.O_CLOEXEC, 0600);
        ErrnoException.check(fd, "create", file.toString());
        try {
            // Allocated up front, so neither raw nor thin writes pay for file-system block allocation.
            ErrnoException.check(Libc.fallocate(fd, 0, 0, bytes), "fallocate", file.toString());
        } finally {
            Libc.close(fd);
        }
    }

    private void commitLatency(BdevHost host, VolumeGroup vg, BlockDevice thin, long vol, long chunk) throws Exception {
        // A new volume, so each timed FLUSH has exactly one new chunk to commit.
        vg.createThin("lat", "pool", vol);
        BlockDevice lat = vg.activateThin("lat", "orionbench/lat");
        long[] ns = new long[Math.min(commits, (int) (vol / chunk))];
        try (Arena a = Arena.ofShared()) {
            MemorySegment buf = a.allocate(BS, 4096);
            for (int i = 0; i < ns.length; i++) {
                host.client().write(lat, i * chunk, buf, 0).get(30, TimeUnit.SECONDS);
                long t = System.nanoTime();
                host.client().flush(lat).get(30, TimeUnit.SECONDS);
                ns[i] = System.nanoTime() - t;
            }
        }
        Arrays.sort(ns);
        System.out.printf(Locale.ROOT, "metadata commit (FLUSH with one new chunk): n=%d p50=%.0f us p99=%.0f us max=%.0f us%n",
                ns.length, ns[ns.length / 2] / 1e3, ns[(int) (ns.length * 0.99)] / 1e3, ns[ns.length - 1] / 1e3);
    }

    record Result(long ios, long nanos) {
        double iops() {
            return ios * 1e9 / nanos;
        }
    }

    private static void report(String what, Result r) {
        System.out.printf(Locale.ROOT, "%-48s iops=%d  (%d writes in %.2f s)%n", what, Math.round(r.iops()), r.ios(), r.nanos() / 1e9);
    }

    /** Offsets to write: random 4K blocks in a range, or one 4K write per chunk in a shuffled order. */
    static final class Pattern {
        final long base;
        final long blocks;
        final long[] order;
        int next;
        final SplittableRandom rnd = new SplittableRandom(42);

        private Pattern(long base, long blocks, long[] order) {
            this.base = base;
            this.blocks = blocks;
            this.order = order;
        }

        static Pattern random(long bytes, long base) {
            return new Pattern(base, bytes / BS, null);
        }

        static Pattern chunks(long bytes, long chunk, long seed) {
            long[] o = new long[(int) (bytes / chunk)];
            SplittableRandom r = new SplittableRandom(seed);
            for (int i = 0; i < o.length; i++) {
                o[i] = i * chunk + r.nextLong(chunk / BS) * BS;
            }
            for (int i = o.length - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                long t = o[i];
                o[i] = o[j];
                o[j] = t;
            }
            return new Pattern(0, 0, o);
        }

        /** The next offset, or -1 when a counted pattern is used up. */
        long next() {
            if (order == null) {
                return base + rnd.nextLong(blocks) * BS;
            }
            return next < order.length ? order[next++] : -1;
        }
    }

    private Result timed(BdevHost host, BlockDevice dev, Pattern p, int secs) throws Exception {
        Loop l = new Loop(host.context(0), dev, p, qd, System.nanoTime() + TimeUnit.SECONDS.toNanos(secs));
        return l.run();
    }

    private Result counted(BdevHost host, BlockDevice dev, Pattern p) throws Exception {
        Loop l = new Loop(host.context(0), dev, p, qd, Long.MAX_VALUE);
        return l.run();
    }

    /** A closed loop of {@code qd} writes on one reactor, each completion submitting the next. */
    static final class Loop implements BdevCallback {
        private final IoContext ctx;
        private final BlockDevice dev;
        private final Pattern p;
        private final int qd;
        private final long deadline;
        private int live;
        private long done;
        private long t0;
        private final java.util.concurrent.CompletableFuture<Result> result = new java.util.concurrent.CompletableFuture<>();
        private final AtomicLong error = new AtomicLong();

        Loop(IoContext ctx, BlockDevice dev, Pattern p, int qd, long deadline) {
            this.ctx = ctx;
            this.dev = dev;
            this.p = p;
            this.qd = qd;
            this.deadline = deadline;
        }

        Result run() throws Exception {
            ctx.reactor().execute(() -> {
                t0 = System.nanoTime();
                for (int i = 0; i < qd; i++) {
                    MemorySegment buf = ctx.buffers().allocate(BS);
                    buf.fill((byte) (i + 1));
                    BdevRequest r = ctx.request();
                    if (!issue(r, buf)) {
                        r.release();
                        ctx.buffers().release(buf);
                    }
                }
                if (live == 0) {
                    result.complete(new Result(0, 1));
                }
            });
            Result r = result.get(600, TimeUnit.SECONDS);
            if (error.get() != 0) {
                throw new ErrnoException((int) -error.get(), "bench write", dev.name());
            }
            return r;
        }

        private boolean issue(BdevRequest r, MemorySegment buf) {
            long off = System.nanoTime() < deadline ? p.next() : -1;
            if (off < 0 || error.get() != 0) {
                return false;
            }
            live++;
            r.prepareWrite(off, BS, buf, 0, 0).callback(this, 0);
            dev.submit(r);
            return true;
        }

        @Override
        public void onComplete(BdevRequest r, int status) {
            live--;
            done++;
            if (status < 0) {
                error.compareAndSet(0, status == 0 ? -Errno.EIO : status);
            }
            MemorySegment buf = r.buffer();
            if (!issue(r, buf)) {
                r.release();
                ctx.buffers().release(buf);
                if (live == 0) {
                    result.complete(new Result(done, System.nanoTime() - t0));
                }
            }
        }
    }
}
