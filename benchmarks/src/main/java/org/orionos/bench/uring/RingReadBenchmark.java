package org.orionos.bench.uring;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.orionos.bindings.ErrnoException;
import org.orionos.bindings.Libc;
import org.orionos.bindings.uapi.FcntlH;
import org.orionos.uring.Completion;
import org.orionos.uring.Ring;
import org.orionos.uring.RingConfig;

/** Latency of one 4 KiB READ_FIXED from a registered tmpfs file, submit to dispatched completion. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class RingReadBenchmark {
    private static final int BLOCKS = 16384; // 64 MiB file

    private Path file;
    private int fd;
    private Arena arena;
    private MemorySegment buf;
    private Ring ring;
    private long seed = 0x9E3779B97F4A7C15L;
    private int lastRes;
    private final Completion done = (res, flags, cookie) -> lastRes = res;

    @Setup
    public void setup() throws Exception {
        file = Files.createTempFile(Path.of("/dev/shm"), "orion-jmh-read", ".bin");
        Files.write(file, new byte[BLOCKS * 4096]);
        fd = ErrnoException.check(Libc.open(file.toString(), FcntlH.O_RDONLY | FcntlH.O_CLOEXEC, 0), "open", file.toString());
        arena = Arena.ofShared();
        buf = arena.allocate(4096, 4096);
        ring = Ring.open(RingConfig.defaults().withEntries(8, 16));
        ring.registerBuffers(buf);
        ring.registerFiles(fd);
    }

    @TearDown
    public void tearDown() throws Exception {
        ring.close();
        arena.close();
        Libc.close(fd);
        Files.deleteIfExists(file);
    }

    @Benchmark
    public int read4k() {
        long x = seed;
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
        seed = x;
        long off = ((x >>> 1) % BLOCKS) * 4096;
        ring.acquire(done, 0).readFixed(0, buf.address(), 4096, off, 0).fixedFile();
        ring.submitAndWait(1);
        ring.reap();
        if (lastRes != 4096) {
            throw new IllegalStateException("read returned " + lastRes);
        }
        return lastRes;
    }
}
