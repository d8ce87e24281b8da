package org.orionos.bench.uring;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.orionos.bindings.Libc;
import org.orionos.uring.Completion;
import org.orionos.uring.Ring;
import org.orionos.uring.RingConfig;

/**
 * NOP submit/complete throughput through the whole engine path (acquire, prep, enter, reap,
 * dispatch), batched 32 per enter and one at a time, plus the bare cost of an empty
 * io_uring_enter (the floor under every enter the engine makes).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class RingNopBenchmark {
    private Ring ring;
    private long completed;
    private final Completion count = (res, flags, cookie) -> completed++;

    @Setup
    public void setup() {
        // Scope.Thread: JMH runs setup on the benchmark thread, which SINGLE_ISSUER requires.
        ring = Ring.open(RingConfig.defaults().withEntries(64, 128));
    }

    @TearDown
    public void tearDown() {
        ring.close();
    }

    @Benchmark
    @OperationsPerInvocation(32)
    public long nopBatch32() {
        for (int i = 0; i < 32; i++) {
            ring.acquire(count, i).nop();
        }
        ring.submitAndWait(32);
        ring.reap();
        return completed;
    }

    @Benchmark
    public long nopSingle() {
        ring.acquire(count, 0).nop();
        ring.submitAndWait(1);
        ring.reap();
        return completed;
    }

    /** io_uring_enter(fd, 0, 0, 0): the syscall alone, with the usual thread-state transition. */
    @Benchmark
    public int enterEmpty() {
        return Libc.ioUringEnter(ring.fd(), 0, 0, 0, MemorySegment.NULL, 0);
    }

}
