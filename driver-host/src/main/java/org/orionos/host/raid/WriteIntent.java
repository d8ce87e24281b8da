package org.orionos.host.raid;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import org.orionos.bindings.ErrnoException;
import org.orionos.host.bdev.BdevClient;
import org.orionos.host.bdev.BlockDevice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * md's write-intent bitmap while the array is in use. A region's bit reaches every member's
 * bitmap (written and flushed) before the first write into it starts; bits are cleared lazily,
 * once the region had no write in flight for a whole {@code daemon_sleep} period (md's bitmap
 * daemon). After a crash the set bits name the only regions a resync must visit.
 *
 * <p>The data path ({@link #enter}, {@link #ready}, {@link #exit}) touches only atomics: a write
 * into a region whose bit is on disk never waits; one into a clean region is parked by its caller
 * and resumed through {@code onReady} when this object's own thread has written the bit.
 */
final class WriteIntent implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WriteIntent.class);
    /** Bit clear on disk (or being set). */
    static final int CLEAN = 0;
    /** Bit set on disk: writes go straight through. */
    static final int DIRTY = 1;
    /** The daemon is clearing the bit: new writes must wait for it to be set again. */
    static final int CLEARING = 2;

    private final String name;
    private final MdBitmap header;
    private final long bitsCount;
    private final int regions;
    private final long pos;
    /** Header plus bits, the bytes every member's bitmap area holds (bitmap thread and metadata writer, under this). */
    private final MemorySegment image;
    private final AtomicIntegerArray state;
    /** Writes in flight per region (plus one per region a resync still owes). */
    private final AtomicIntegerArray pending;
    /** Set by a write entering the region; the daemon clears a bit only after a period with it unset. */
    private final AtomicIntegerArray touched;
    private final AtomicIntegerArray want;
    /** Set after a {@code want} entry; the thread resets it before scanning (no lost wake-up). */
    private volatile boolean wanted;
    private volatile boolean closed;
    private final BdevClient client;
    private final Supplier<List<BlockDevice>> targets;
    private final BooleanSupplier mayClear;
    private final Runnable onReady;
    private volatile long periodNanos;
    private final Thread thread;

    WriteIntent(String name, MdBitmap header, MemorySegment bits, long pos, BdevClient client,
                Supplier<List<BlockDevice>> targets, BooleanSupplier mayClear, Runnable onReady, long periodNanos) {
        this.name = name;
        this.header = header;
        this.bitsCount = header.bits();
        if (bitsCount > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("bitmap of " + bitsCount + " bits");
        }
        this.regions = (int) bitsCount;
        this.pos = pos;
        this.image = Arena.ofAuto().allocate((header.byteSize() + 4095) / 4096 * 4096, 4096);
        image.fill((byte) 0);
        MemorySegment.copy(bits, 0, image, 0, Math.min(bits.byteSize(), image.byteSize()));
        header.encode(image);
        this.state = new AtomicIntegerArray(regions);
        this.pending = new AtomicIntegerArray(regions);
        this.touched = new AtomicIntegerArray(regions);
        this.want = new AtomicIntegerArray(regions);
        for (int r = 0; r < regions; r++) {
            if (MdBitmap.isDirty(image, r)) {
                state.set(r, DIRTY);
            }
        }
        this.client = client;
        this.targets = targets;
        this.mayClear = mayClear;
        this.onReady = onReady;
        this.periodNanos = periodNanos;
        this.thread = new Thread(this::loop, "raid-" + name + "-bitmap");
        thread.setDaemon(true);
    }

    void period(long nanos) {
        periodNanos = nanos;
        LockSupport.unpark(thread);
    }

    void start() {
        thread.start();
    }

    int regions() {
        return regions;
    }

    /**
     * The bitmap's events_cleared: bits were last cleared at this event count, so a member that
     * left the array at or after it missed only writes whose bits are still set (md's re-add test).
     */
    synchronized long eventsCleared() {
        return header.eventsCleared;
    }

    /** Resync-space sectors per region. */
    long regionSectors() {
        return header.chunksize / 512;
    }

    /** Regions whose bit is set now (a crash left them possibly out of sync). */
    synchronized long[] dirtyRegions() {
        long n = 0;
        for (int r = 0; r < regions; r++) {
            n += MdBitmap.isDirty(image, r) ? 1 : 0;
        }
        long[] out = new long[(int) n];
        int k = 0;
        for (int r = 0; r < regions; r++) {
            if (MdBitmap.isDirty(image, r)) {
                out[k++] = r;
            }
        }
        return out;
    }

    /** Keeps region {@code r}'s bit set until {@link #release} (a resync still owes it). */
    void hold(int r) {
        pending.getAndIncrement(r);
    }

    void release(int r) {
        pending.getAndDecrement(r);
    }

    /**
     * Data path: a write into regions [lo, hi] starts. Returns true when every bit is on disk; else
     * the caller parks the write, the bits are requested, and {@code onReady} runs once written.
     */
    boolean enter(int lo, int hi) {
        for (int r = lo; r <= hi; r++) {
            // Before the state read: pairs with the daemon's CAS-then-read of pending (both volatile),
            // so either the daemon sees this write in flight or this write sees CLEARING and waits.
            pending.getAndIncrement(r);
            if (touched.getPlain(r) == 0) {
                touched.setOpaque(r, 1);
            }
        }
        return ready(lo, hi);
    }

    /** Data path: whether a parked write's bits are on disk now (requests them again if not). */
    boolean ready(int lo, int hi) {
        boolean ok = true;
        for (int r = lo; r <= hi; r++) {
            if (state.get(r) != DIRTY) {
                ok = false;
                want.set(r, 1);
            }
        }
        if (!ok) {
            wanted = true;
            LockSupport.unpark(thread);
        }
        return ok;
    }

    /** Data path: a write entered with {@link #enter} completed (its member writes are done). */
    void exit(int lo, int hi) {
        for (int r = lo; r <= hi; r++) {
            pending.getAndDecrement(r);
        }
    }

    private void loop() {
        long lastSweep = System.nanoTime();
        while (!closed) {
            long wait = lastSweep + periodNanos - System.nanoTime(); // re-read: the period may change
            if (!wanted && wait > 0) {
                LockSupport.parkNanos(this, wait);
            }
            try {
                if (wanted) {
                    wanted = false;
                    setWanted();
                }
                if (System.nanoTime() - (lastSweep + periodNanos) >= 0) {
                    sweep();
                    lastSweep = System.nanoTime();
                }
            } catch (ErrnoException e) {
                LOG.warn("{}: bitmap write failed: {}; retrying", name, e.getMessage());
                LockSupport.parkNanos(this, 100_000_000L);
                wanted = true;
            }
        }
    }

    /** Bitmap thread: writes every requested bit to every member, then lets the writes waiting for them go. */
    private void setWanted() {
        long firstBlock = Long.MAX_VALUE;
        long lastBlock = -1;
        int set = 0;
        synchronized (this) {
            for (int r = 0; r < regions; r++) {
                if (want.get(r) != 0) {
                    want.set(r, 0);
                    if (state.get(r) == CLEAN) {
                        MdBitmap.setDirty(image, r, true);
                        long b = blockOf(r);
                        firstBlock = Math.min(firstBlock, b);
                        lastBlock = Math.max(lastBlock, b);
                        set++;
                    }
                }
            }
            if (set > 0) {
                try {
                    writeBlocks(firstBlock, lastBlock);
                } catch (RuntimeException e) {
                    // Not on disk: ask again, so no parked write is let go on a bit the members lack.
                    for (int r = 0; r < regions; r++) {
                        if (state.get(r) == CLEAN && MdBitmap.isDirty(image, r)) {
                            want.set(r, 1);
                        }
                    }
                    throw e;
                }
            }
            for (int r = 0; r < regions; r++) {
                if (state.get(r) == CLEAN && MdBitmap.isDirty(image, r)) {
                    state.set(r, DIRTY); // volatile: the bit is on disk before any write that reads DIRTY starts
                }
            }
        }
        onReady.run();
    }

    /** Bitmap thread: clears the bits of regions with no write in flight and none since the last sweep. */
    private void sweep() {
        if (!mayClear.getAsBoolean()) {
            return; // md keeps bits while degraded or syncing: they say what a re-added member lacks
        }
        long firstBlock = Long.MAX_VALUE;
        long lastBlock = -1;
        synchronized (this) {
            for (int r = 0; r < regions; r++) {
                if (state.get(r) != DIRTY || pending.get(r) != 0) {
                    continue;
                }
                if (touched.get(r) != 0) {
                    touched.set(r, 0); // written during this period: clear it next time at the earliest
                    continue;
                }
                if (!state.compareAndSet(r, DIRTY, CLEARING)) {
                    continue;
                }
                if (pending.get(r) != 0) {
                    state.set(r, DIRTY); // a write entered between the checks and saw DIRTY: keep the bit
                    continue;
                }
                MdBitmap.setDirty(image, r, false);
                long b = blockOf(r);
                firstBlock = Math.min(firstBlock, b);
                lastBlock = Math.max(lastBlock, b);
            }
            if (lastBlock < 0) {
                return;
            }
            // The cleared regions' data must be durable before a clean bit vouches for it.
            for (BlockDevice d : targets.get()) {
                try {
                    MdArray.await(client.flush(d), "flush", d.name());
                } catch (ErrnoException e) {
                    // Unflushed data must stay covered by its bit: keep every bit of this sweep set.
                    LOG.warn("{}: flush of {} before clearing bits failed: {}", name, d.name(), e.getMessage());
                    keepClearing();
                    return;
                }
            }
            header.eventsCleared = header.events;
            header.encode(image);
            try {
                writeBlocks(0, lastBlock);
            } catch (ErrnoException e) {
                keepClearing();
                throw e;
            }
            for (int r = 0; r < regions; r++) {
                if (state.get(r) == CLEARING) {
                    state.set(r, CLEAN);
                }
            }
        }
        // Writes that saw CLEARING asked for their bits: the loop's next turn sets them.
    }

    /** Undoes a sweep that could not complete: its regions stay dirty (caller holds this). */
    private void keepClearing() {
        for (int r = 0; r < regions; r++) {
            if (state.get(r) == CLEARING) {
                MdBitmap.setDirty(image, r, true);
                state.set(r, DIRTY);
            }
        }
    }

    private static long blockOf(int r) {
        return (MdBitmap.HEADER_BYTES + r / 8) / 4096;
    }

    /**
     * Writes image blocks [first, last] to every member and flushes them (caller holds this). A
     * member that fails it is left to the data path, which fails it on its own I/O; the bits must
     * reach at least one member.
     */
    private void writeBlocks(long first, long last) {
        MemorySegment part = image.asSlice(first * 4096, (last - first + 1) * 4096);
        ErrnoException last0 = null;
        int ok = 0;
        for (BlockDevice d : targets.get()) {
            try {
                MdArray.await(client.write(d, pos + first * 4096, part, 0), "write md bitmap", d.name());
                MdArray.await(client.flush(d), "flush md bitmap", d.name());
                ok++;
            } catch (ErrnoException e) {
                LOG.warn("{}: bitmap write to {} failed: {}", name, d.name(), e.getMessage());
                last0 = e;
            }
        }
        if (ok == 0 && last0 != null) {
            throw last0;
        }
    }

    /**
     * Metadata writer: the header with {@code events} (and, when {@code clean}, every bit cleared and
     * events_cleared = events) written with the bits to {@code d}.
     */
    synchronized void writeTo(BlockDevice d, long events, boolean clean) {
        header.events = events;
        if (clean) {
            header.eventsCleared = events;
            image.asSlice(MdBitmap.HEADER_BYTES).fill((byte) 0);
        }
        header.encode(image);
        MdArray.await(client.write(d, pos, image, 0), "write md bitmap", d.name());
    }

    /** Stops the bitmap thread; bits stay as they are on disk ({@link #writeTo} still works). */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
        try {
            thread.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
