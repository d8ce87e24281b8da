package org.orionos.host.nbd.server;

/**
 * Request counters of one connection, or the sum over an export's connections: what the
 * shutdown log prints and what a metrics exporter reads.
 *
 * <p>A connection's counters are plain fields written only by its reactor (no atomics on the data
 * path); readers on other threads may see slightly stale values, which is fine for metrics. Export
 * totals are merged under the object's lock when a connection ends.
 */
public final class NbdStats {
    long reads;
    long writes;
    long flushes;
    long trims;
    long zeroes;
    long blockStatus;
    long caches;
    long rejected;
    long errors;
    long bytesRead;
    long bytesWritten;
    long latencyNanos;
    long maxLatencyNanos;
    long sends;

    /** Requests of every kind, including rejected ones. */
    public long requests() {
        return reads + writes + flushes + trims + zeroes + blockStatus + caches + rejected;
    }

    public long reads() {
        return reads;
    }

    public long writes() {
        return writes;
    }

    public long flushes() {
        return flushes;
    }

    public long trims() {
        return trims;
    }

    public long writeZeroes() {
        return zeroes;
    }

    public long blockStatusRequests() {
        return blockStatus;
    }

    public long caches() {
        return caches;
    }

    /** Requests refused by validation (bad range, flags, read-only...), answered with an error. */
    public long rejected() {
        return rejected;
    }

    /** Requests that failed (validation or device error). */
    public long errors() {
        return errors;
    }

    public long bytesRead() {
        return bytesRead;
    }

    public long bytesWritten() {
        return bytesWritten;
    }

    /** Reply sends (SENDMSGs); requests per send shows how well replies were batched. */
    public long sends() {
        return sends;
    }

    /** Sum of request latencies (request decoded to its reply sent), nanoseconds. */
    public long totalLatencyNanos() {
        return latencyNanos;
    }

    public long maxLatencyNanos() {
        return maxLatencyNanos;
    }

    /** Mean latency of executed requests in microseconds, 0 when none ran. */
    public double meanLatencyMicros() {
        long executed = requests() - rejected;
        return executed == 0 ? 0 : latencyNanos / 1000.0 / executed;
    }

    /** Adds {@code o}'s counters to this object's. */
    public synchronized void add(NbdStats o) {
        reads += o.reads;
        writes += o.writes;
        flushes += o.flushes;
        trims += o.trims;
        zeroes += o.zeroes;
        blockStatus += o.blockStatus;
        caches += o.caches;
        rejected += o.rejected;
        errors += o.errors;
        bytesRead += o.bytesRead;
        bytesWritten += o.bytesWritten;
        latencyNanos += o.latencyNanos;
        maxLatencyNanos = Math.max(maxLatencyNanos, o.maxLatencyNanos);
        sends += o.sends;
    }

    /** A copy (for reading a live connection's counters off its reactor). */
    public synchronized NbdStats snapshot() {
        NbdStats s = new NbdStats();
        s.add(this);
        return s;
    }

    @Override
    public String toString() {
        return String.format("%d requests (%d read, %d write, %d flush, %d trim, %d zero, %d block-status, %d cache), "
                        + "%d errors (%d rejected), %d bytes read, %d bytes written, latency mean %.1f us max %.1f us, "
                        + "%.1f replies per send",
                requests(), reads, writes, flushes, trims, zeroes, blockStatus, caches, errors, rejected, bytesRead,
                bytesWritten, meanLatencyMicros(), maxLatencyNanos / 1000.0,
                sends == 0 ? 0.0 : (double) requests() / sends);
    }
}
