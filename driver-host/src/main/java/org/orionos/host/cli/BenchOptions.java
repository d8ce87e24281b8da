package org.orionos.host.cli;

import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import picocli.CommandLine.Option;

/** The workload options every {@code orion bench} command takes, and its once-a-second progress loop. */
final class BenchOptions {

    /** fio's names for the four access patterns. */
    enum Rw {
        randread, randwrite, read, write;

        boolean writes() {
            return this == randwrite || this == write;
        }

        boolean random() {
            return this == randread || this == randwrite;
        }
    }

    @Option(names = "--rw", defaultValue = "randread", description = "randread, randwrite, read or write (default ${DEFAULT-VALUE}).")
    Rw rw;

    @Option(names = "--bs", defaultValue = "4096", description = "Block size in bytes (default ${DEFAULT-VALUE}).")
    int bs;

    @Option(names = "--qd", defaultValue = "32", description = "I/Os in flight per reactor (default ${DEFAULT-VALUE}).")
    int qd;

    @Option(names = "--seconds", defaultValue = "10", description = "Run time (default ${DEFAULT-VALUE}).")
    int seconds;

    @Option(names = "--reactors", defaultValue = "1", description = "Reactors driving I/O, each with its own ring (default ${DEFAULT-VALUE}).")
    int reactors;

    /** Refuses non-positive sizes before anything is opened. */
    void validate() {
        if (bs <= 0 || qd <= 0 || seconds <= 0 || reactors <= 0) {
            throw new IllegalArgumentException("--bs, --qd, --seconds and --reactors must be positive");
        }
    }

    /**
     * Prints {@code iops} and {@code bw_mib_s} for each second of the run; {@code check} runs after
     * each line (to stop on an I/O error). Returns the nanoseconds the run took.
     */
    long progress(LongSupplier completed, Runnable check) throws InterruptedException {
        long t0 = System.nanoTime();
        long last = 0;
        long lastT = t0;
        for (int s = 1; s <= seconds; s++) {
            long wake = t0 + TimeUnit.SECONDS.toNanos(s);
            long now;
            while ((now = System.nanoTime()) < wake) {
                TimeUnit.NANOSECONDS.sleep(wake - now);
            }
            long done = completed.getAsLong();
            double dt = (now - lastT) / 1e9;
            System.out.printf(Locale.ROOT, "%3ds  iops=%d  bw_mib_s=%.1f%n", s, Math.round((done - last) / dt),
                    (done - last) * (double) bs / dt / (1 << 20));
            last = done;
            lastT = now;
            check.run();
        }
        return System.nanoTime() - t0;
    }

    /** The last line every bench command ends with. */
    void summary(long ios, long nanos) {
        double secs = nanos / 1e9;
        System.out.printf(Locale.ROOT, "iops=%d bw_mib_s=%d%n", Math.round(ios / secs),
                Math.round(ios * (double) bs / secs / (1 << 20)));
    }
}
