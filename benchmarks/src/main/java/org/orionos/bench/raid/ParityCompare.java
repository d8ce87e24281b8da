package org.orionos.bench.raid;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import org.orionos.host.raid.IsalLibrary;
import org.orionos.host.raid.IsalParity;
import org.orionos.host.raid.JavaParity;
import org.orionos.host.raid.ParityEngine;

/**
 * ISA-L against the pure-Java parity engines, interleaved: every round times each engine for a
 * short slice in turn, so load from other processes hits all of them alike (JMH runs one engine
 * after the other, and on a shared machine that skews the ratio). Prints, per engine, the best
 * and the median slice in GB/s of data, and both as a ratio to ISA-L. Needs
 * {@code --add-modules jdk.incubator.vector} for the Vector API engine:
 * {@code java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar org.orionos.bench.raid.ParityCompare [rounds]}.
 */
public final class ParityCompare {
    private ParityCompare() {
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 60;
        if (!IsalLibrary.AVAILABLE) {
            throw new IllegalStateException("ISA-L (" + IsalLibrary.SONAME + ") is not installed");
        }
        ParityEngine vector = ParityEngine.javaEngine();
        if (!vector.name().equals("java-vector")) {
            throw new IllegalStateException("run with --add-modules jdk.incubator.vector");
        }
        ParityEngine[] engines = {new IsalParity(), new JavaParity(), vector};
        int chunk = 65536;
        try (Arena arena = Arena.ofShared()) {
            for (String mode : new String[] {"xor", "pq"}) {
                for (int disks : new int[] {4, 8}) {
                    MemorySegment[] data = new MemorySegment[disks];
                    SplittableRandom rnd = new SplittableRandom(42);
                    for (int i = 0; i < disks; i++) {
                        data[i] = arena.allocate(chunk, 4096);
                        for (long o = 0; o < chunk; o += 8) {
                            data[i].set(ValueLayout.JAVA_LONG, o, rnd.nextLong());
                        }
                    }
                    MemorySegment p = arena.allocate(chunk, 4096);
                    MemorySegment q = arena.allocate(chunk, 4096);
                    List<double[]> slices = new ArrayList<>();
                    for (ParityEngine e : engines) {
                        for (int i = 0; i < 5000; i++) { // warm-up: C2 compiles the loops
                            run(e, mode, data, p, q, chunk);
                        }
                        slices.add(new double[rounds]);
                    }
                    for (int r = 0; r < rounds; r++) {
                        for (int k = 0; k < engines.length; k++) {
                            int n = 300;
                            long t0 = System.nanoTime();
                            for (int i = 0; i < n; i++) {
                                run(engines[k], mode, data, p, q, chunk);
                            }
                            slices.get(k)[r] = (double) n * disks * chunk / (System.nanoTime() - t0);
                        }
                    }
                    double[] base = stats(slices.get(0));
                    for (int k = 0; k < engines.length; k++) {
                        double[] s = stats(slices.get(k));
                        System.out.printf("%-3s %d data disks  %-11s best %6.1f GB/s (%.2fx)   median %6.1f GB/s (%.2fx)%n",
                                mode, disks, engines[k].name(), s[0], s[0] / base[0], s[1], s[1] / base[1]);
                    }
                }
            }
        }
    }

    private static void run(ParityEngine e, String mode, MemorySegment[] data, MemorySegment p, MemorySegment q, int chunk) {
        if (mode.equals("xor")) {
            e.xor(data, data.length, p, chunk);
        } else {
            e.pq(data, data.length, p, q, chunk);
        }
    }

    /** {best, median} of the slices (GB/s). */
    private static double[] stats(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return new double[] {s[s.length - 1], s[s.length / 2]};
    }
}
