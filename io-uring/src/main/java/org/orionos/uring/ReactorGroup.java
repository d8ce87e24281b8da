package org.orionos.uring;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fixed set of reactors, by default one per available core, optionally pinned to CPUs
 * 0..n-1. {@link #next()} hands them out round-robin (for placing new channels/devices).
 */
public final class ReactorGroup implements AutoCloseable {
    private final Reactor[] reactors;
    private final AtomicInteger next = new AtomicInteger();

    private ReactorGroup(Reactor[] reactors) {
        this.reactors = reactors;
    }

    /** {@code n} reactors named {@code prefix-i}; {@code pin}: reactor i runs on CPU i mod cores. */
    public static ReactorGroup start(String prefix, int n, RingConfig config, boolean pin) {
        if (n < 1) {
            throw new IllegalArgumentException("a reactor group needs at least one reactor, got " + n);
        }
        int cores = Runtime.getRuntime().availableProcessors();
        List<Reactor> started = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                started.add(Reactor.start(i, prefix + "-" + i, config, pin ? i % cores : -1));
            }
        } catch (RuntimeException | Error e) {
            started.forEach(Reactor::close);
            throw e;
        }
        return new ReactorGroup(started.toArray(new Reactor[0]));
    }

    /** One reactor per available core, unpinned. */
    public static ReactorGroup start(String prefix, RingConfig config) {
        return start(prefix, Runtime.getRuntime().availableProcessors(), config, false);
    }

    public int size() {
        return reactors.length;
    }

    public Reactor get(int i) {
        return reactors[i];
    }

    public Reactor next() {
        return reactors[Math.floorMod(next.getAndIncrement(), reactors.length)];
    }

    public List<Reactor> all() {
        return List.of(reactors);
    }

    /** Closes all reactors (each drains its in-flight operations). */
    @Override
    public void close() {
        for (Reactor r : reactors) {
            r.close();
        }
    }
}
