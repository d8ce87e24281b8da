package org.orionos.bench.raid;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
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
import org.orionos.host.bdev.backend.MemoryBdev;
import org.orionos.host.raid.MdArray;
import org.orionos.host.raid.ParityGeometry;
import org.orionos.host.raid.RaidLevel;

/**
 * RAID5 (4 members) and RAID6 (6 members) md arrays over memory members, as {@code orion serve}
 * runs them (superblocks, write-intent bitmap in use, chunk 64 KiB, ISA-L parity when installed),
 * driven in a closed loop on one reactor:
 * <ul>
 *   <li>{@code fullstripe}: sequential full-stripe writes (no reads; P/Q generated), QD 4;
 *   <li>{@code rand4k}: random 4 KiB writes (read-modify-write of one chunk plus P/Q), QD 32;
 *   <li>{@code read} / {@code degradedread}: sequential 128 KiB reads, QD 4, healthy and with
 *       member 0 failed (its chunks reconstructed from the others).
 * </ul>
 * The score is time per operation; an operation moves a full stripe (192 KiB for RAID5, 256 KiB
 * for RAID6), 4 KiB, or 128 KiB.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar RaidBench}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class RaidBench {
    static final int CHUNK_SECTORS = 128;
    static final long MEMBER_BYTES = 48L << 20;
    static final int OPS = 2000;

    @Param({"raid5", "raid6"})
    String level;

    @Param({"fullstripe", "rand4k", "read", "degradedread"})
    String workload;

    BdevHost host;
    List<BlockDevice> members = new ArrayList<>();
    MdArray array;
    BlockDevice dev;
    IoContext ctx;
    int bs;
    int qd;
    boolean write;
    boolean random;

    @Setup(Level.Trial)
    public void setup() throws Exception {
        host = BdevHost.start(1, 64L << 20);
        RaidLevel l = "raid6".equals(level) ? RaidLevel.RAID6 : RaidLevel.RAID5;
        int n = l == RaidLevel.RAID6 ? 6 : 4;
        for (int i = 0; i < n; i++) {
            members.add(new MemoryBdev("m" + i, MEMBER_BYTES, 4096));
        }
        array = MdArray.create(host, "md0", new MdArray.CreateOptions(l, null, CHUNK_SECTORS, true), members, List.of(),
                MdArray.DEFAULT_SYNC_BYTES_PER_SEC);
        array.start();
        dev = array.bdev();
        ctx = host.context(0);
        int stripe = CHUNK_SECTORS * 512 * ((ParityGeometry) array.bdev().geometry()).dataDisks();
        // Every block written once, so reads copy real memory and the bitmap's regions are already dirty.
        run(new Loop(ctx, dev, stripe, 4, true, false, dev.sizeBytes() / stripe));
        switch (workload) {
            case "fullstripe" -> { bs = stripe; qd = 4; write = true; }
            case "rand4k" -> { bs = 4096; qd = 32; write = true; random = true; }
            default -> { bs = 128 << 10; qd = 4; }
        }
        if ("degradedread".equals(workload)) {
            array.fail(0);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        array.close();
        for (BlockDevice m : members) {
            m.close();
        }
        host.close();
    }

    @Benchmark
    @org.openjdk.jmh.annotations.OperationsPerInvocation(OPS)
    public void io() throws Exception {
        run(new Loop(ctx, dev, bs, qd, write, random, OPS));
    }

    private void run(Loop loop) throws Exception {
        ctx.reactor().execute(loop::start);
        loop.done.get(120, TimeUnit.SECONDS);
    }

    /** Closed loop on the reactor: {@code qd} I/Os in flight until {@code total} completed. */
    static final class Loop implements BdevCallback {
        final CompletableFuture<Void> done = new CompletableFuture<>();
        private final IoContext ctx;
        private final BlockDevice dev;
        private final int bs;
        private final int qd;
        private final boolean write;
        private final boolean random;
        private final long blocks;
        private final long total;
        private long submitted;
        private long completed;
        private long next;

        Loop(IoContext ctx, BlockDevice dev, int bs, int qd, boolean write, boolean random, long total) {
            this.ctx = ctx;
            this.dev = dev;
            this.bs = bs;
            this.qd = qd;
            this.write = write;
            this.random = random;
            this.blocks = dev.sizeBytes() / bs;
            this.total = total;
        }

        void start() {
            for (int i = 0; i < qd; i++) {
                submit(ctx.request(), ctx.buffers().allocate(bs));
            }
        }

        private void submit(BdevRequest r, MemorySegment buf) {
            long k = next++;
            long off = (random ? k * 7919 % blocks : k % blocks) * bs;
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
            if (status < 0) {
                done.completeExceptionally(new IllegalStateException("I/O failed: " + status));
            }
            completed++;
            if (submitted < total) {
                submit(r, r.buffer());
                return;
            }
            ctx.buffers().release(r.buffer());
            r.release();
            if (completed == total) {
                done.complete(null);
            }
        }
    }
}
