package org.orionos.bench.raid;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.orionos.host.raid.IsalLibrary;
import org.orionos.host.raid.IsalParity;
import org.orionos.host.raid.JavaParity;
import org.orionos.host.raid.ParityEngine;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * RAID parity generation over one stripe of 64 KiB chunks: ISA-L via FFM against orion's pure-Java
 * engines (64-bit SWAR, and the Vector API one, which the fork gets with --add-modules
 * jdk.incubator.vector), same buffers (4 KiB aligned, off-heap). One op = one stripe; the secondary
 * result {@code dataBytes} is the data throughput in bytes/s (ops/s x dataDisks x chunk). Run e.g.
 * {@code java --enable-native-access=ALL-UNNAMED -jar benchmarks/target/benchmarks.jar ParityBench -f 1 -wi 2 -i 3 -w 1s -r 1s}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class ParityBench {
    @Param({"isa-l", "java", "vector"})
    public String engine;

    /** Data disks per stripe (RAID6 4+2 and 8+2; XOR over the same data is RAID5 5 and 9 disks). */
    @Param({"4", "8"})
    public int dataDisks;

    @Param({"65536"})
    public int chunk;

    private Arena arena;
    private ParityEngine parity;
    private MemorySegment[] data;
    private MemorySegment p;
    private MemorySegment q;

    @Setup(Level.Trial)
    public void setup() {
        if (engine.equals("isa-l")) {
            if (!IsalLibrary.AVAILABLE) {
                throw new IllegalStateException("ISA-L (" + IsalLibrary.SONAME + ") is not installed");
            }
            parity = new IsalParity();
        } else if (engine.equals("vector")) {
            parity = ParityEngine.javaEngine();
            if (!parity.name().equals("java-vector")) {
                throw new IllegalStateException("the fork lacks --add-modules jdk.incubator.vector");
            }
        } else {
            parity = new JavaParity();
        }
        arena = Arena.ofShared();
        SplittableRandom rnd = new SplittableRandom(42);
        data = new MemorySegment[dataDisks];
        for (int i = 0; i < dataDisks; i++) {
            data[i] = arena.allocate(chunk, 4096);
            for (long o = 0; o < chunk; o += 8) {
                data[i].set(java.lang.foreign.ValueLayout.JAVA_LONG, o, rnd.nextLong());
            }
        }
        p = arena.allocate(chunk, 4096);
        q = arena.allocate(chunk, 4096);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    /** Data bytes consumed, reported by JMH as a rate next to ops/s. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Throughput {
        public long dataBytes;
    }

    @Benchmark
    public MemorySegment xor(Throughput t) {
        parity.xor(data, dataDisks, p, chunk);
        t.dataBytes += (long) dataDisks * chunk;
        return p;
    }

    @Benchmark
    public MemorySegment pq(Throughput t) {
        parity.pq(data, dataDisks, p, q, chunk);
        t.dataBytes += (long) dataDisks * chunk;
        return q;
    }
}
