package org.orionos.host.lvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.bdev.BdevClient;
import org.orionos.host.bdev.BdevRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running thin pool: data chunks on the pool's {@code _tdata} volume, handed to thin devices on
 * their first write, reference-counted (snapshots share chunks), and the devices' mappings
 * committed to {@code _tmeta} in {@link ThinPoolMetadata}'s format.
 *
 * <p>Reactors allocate and free chunks with CAS on the reference counts; nothing here blocks them.
 * A chunk whose count drops to zero is <em>held</em>, not free, until a commit that no longer maps
 * it is on disk: reusing it earlier would let a crash revive an old mapping onto someone else's
 * data. The epoch makes that exact: a chunk freed under epoch {@code e} was unmapped before the
 * commit that advanced the epoch past {@code e} took its image.
 *
 * <p>Commits run on the pool's own thread: every second while anything changed, and at once when
 * a thin device gets a FLUSH or a FUA write, which complete after the commit (data flushed first,
 * then the image written to the older slot, then the metadata volume flushed), like dm-thin.
 *
 * <p>A commit is not enough to reuse a chunk: a request that looked the old mapping up before
 * the unmap may still be reading or writing it. Thin-volume requests therefore count themselves
 * in per reactor ({@link #enter}) under one of two grace slots; after a commit the committer
 * switches new requests to the other slot and releases the chunks freed up to that commit only
 * once every reactor's count in the old slot has dropped to zero (a grace period, as in SRCU).
 * Counting in costs a volatile store and load on a reactor-local counter, no lock, no allocation.
 */
final class ThinPool implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ThinPool.class);
    private static final int PAGE_SHIFT = 16;
    private static final int PAGE = 1 << PAGE_SHIFT;
    /** Reference count of a chunk freed but not yet free to reuse (see the class comment). */
    private static final int HELD = -1;
    /** Pools up to 64 TiB of data, so the top arrays never move while reactors use them. */
    private static final long MAX_DATA_BYTES = 1L << 46;
    private static final VarHandle INT = MethodHandles.arrayElementVarHandle(int[].class);
    private static final VarHandle LONG = MethodHandles.arrayElementVarHandle(long[].class);

    final String name;
    final LogicalVolume data;
    final LogicalVolume meta;
    final long chunkBytes;
    final int chunkShift;
    private final BdevClient client;
    /** A chunk of zeros to write new chunks with, when the data volume has no WRITE_ZEROES; else null. */
    final MemorySegment zeroChunk;
    private final int[][] refs;
    private final long[][] freedEpoch;
    private volatile long dataChunks;
    private final AtomicLong free = new AtomicLong();
    /** Chunks freed but waiting for a commit before reuse. */
    private final AtomicLong held = new AtomicLong();
    private volatile long cursor;
    private final AtomicLong epoch = new AtomicLong(1);
    private final Map<Long, ThinMap> devices = new ConcurrentHashMap<>();
    /**
     * Held by management edits that change several entries of quiesced devices (snapshot, merge,
     * delete, resize) and by the committer while it takes an image, so no image catches such an
     * edit half done. Reactors never take it: their changes are single entries.
     */
    private final Object editLock = new Object();
    /** Requests (FLUSH, FUA writes) waiting for the next commit, linked through {@code backendRef}. */
    private final AtomicReference<BdevRequest> waiters = new AtomicReference<>();
    private volatile boolean dirty;
    private volatile boolean commitNow;
    private volatile boolean closing;
    private volatile double warnAt = 0.8;
    private volatile boolean warned;
    /** The committer logged the warning for this crossing (reset when the pool grows or the threshold changes). */
    private boolean warnLogged;
    private long seqno;
    private int newestSlot;
    private final Thread committer;
    /** Test hook: the commit step after which the committer stops as if the process died (0 = never). */
    volatile int crashAfterStep;
    private long commits;
    /** Grace slot new requests count themselves in (bit 0); flipped only by the committer. */
    private volatile int graceGen;
    /** Per-reactor counters of requests in flight by grace slot. */
    private final Map<org.orionos.host.bdev.IoContext, Readers> readers = new ConcurrentHashMap<>();
    /** Chunks freed under this epoch or earlier are in no image on disk any more (committer only). */
    private long durableEpoch;
    /** A grace period is running for chunks freed under {@link #graceEpoch} or earlier (committer only). */
    private boolean gracePending;
    private long graceEpoch;
    private int graceSlot;
    /** The committer's next poll of a running grace period: 50 µs, doubling to 10 ms. */
    private long gracePollNanos;

    /**
     * Per reactor: its in-flight requests by grace slot (only that reactor writes them, the
     * committer reads them; padded so two reactors' counters never share a cache line), and the
     * FLUSH/FUA requests whose commit landed, handed back in one task per commit.
     */
    static final class Readers {
        private static final int STRIDE = 8;
        final long[] count = new long[3 * STRIDE];
        final org.orionos.host.bdev.IoContext context;
        /** Requests to complete on this reactor with status {@code backendLong}, linked through {@code backendRef}. */
        final AtomicReference<BdevRequest> done = new AtomicReference<>();
        /** Made once, so handing requests back costs no allocation per request. */
        final Runnable drain = this::drain;

        Readers(org.orionos.host.bdev.IoContext context) {
            this.context = context;
        }

        private void drain() {
            BdevRequest w = done.getAndSet(null);
            while (w != null) {
                BdevRequest next = (BdevRequest) w.backendRef;
                w.backendRef = null;
                w.complete((int) w.backendLong);
                w = next;
            }
        }
    }

    private ThinPool(String name, LogicalVolume data, LogicalVolume meta, long chunkSectors, BdevClient client) {
        this.name = name;
        this.data = data;
        this.meta = meta;
        this.chunkBytes = chunkSectors * 512;
        this.chunkShift = Long.numberOfTrailingZeros(chunkBytes);
        this.client = client;
        long maxChunks = MAX_DATA_BYTES / chunkBytes;
        int top = (int) ((maxChunks + PAGE - 1) >>> PAGE_SHIFT);
        this.refs = new int[top][];
        this.freedEpoch = new long[top][];
        this.zeroChunk = data.has(org.orionos.host.bdev.Capability.WRITE_ZEROES) ? null
                : Arena.ofAuto().allocate(chunkBytes, 4096); // freed with the pool
        this.committer = Thread.ofPlatform().daemon().name("orion-thin-" + name).unstarted(this::commitLoop);
    }

    /** Writes an empty image (seqno 1) to slot 0 and invalidates slot 1: a new pool. */
    static void format(LogicalVolume meta, long chunkSectors, long dataChunks, BdevClient client) {
        long slot = ThinPoolMetadata.slotBytes(meta.sizeBytes());
        if (slot < ThinPoolMetadata.encodedBytes(List.of())) {
            throw new ErrnoException(Errno.ENOSPC, "format thin pool metadata", meta.name(),
                    "the metadata volume is too small for two slots");
        }
        try (Arena a = Arena.ofShared()) {
            MemorySegment img = a.allocate(ThinPoolMetadata.encodedBytes(List.of()), 4096);
            ThinPoolMetadata.encode(new ThinPoolMetadata.Image(1, chunkSectors, dataChunks, List.of()), img);
            MemorySegment zero = a.allocate(ThinPoolMetadata.HEADER_BYTES, 4096);
            join(client.write(meta, 0, img, 0), "format", meta.name());
            join(client.write(meta, slot, zero, 0), "format", meta.name());
            join(client.flush(meta), "format", meta.name());
        }
    }

    /**
     * Opens a pool: reads the newest valid image, rebuilds reference counts, drops devices that no
     * LV names any more ({@code liveIds}: a crash between an LV commit and the pool's), and starts
     * the committer.
     */
    static ThinPool open(String name, LogicalVolume data, LogicalVolume meta, long chunkSectors, BdevClient client,
                         Set<Long> liveIds) {
        ThinPool p = new ThinPool(name, data, meta, chunkSectors, client);
        long slot = ThinPoolMetadata.slotBytes(meta.sizeBytes());
        ThinPoolMetadata.Image best = null;
        int bestSlot = 0;
        try (Arena a = Arena.ofShared()) {
            for (int s = 0; s < 2; s++) {
                MemorySegment head = a.allocate(ThinPoolMetadata.HEADER_BYTES, 4096);
                join(client.read(meta, s * slot, head), "open thin pool " + name, meta.name());
                long body = ThinPoolMetadata.bodyBytes(head, slot);
                if (body < 0) {
                    continue;
                }
                MemorySegment all = a.allocate(ThinPoolMetadata.HEADER_BYTES + (body + 4095) / 4096 * 4096, 4096);
                join(client.read(meta, s * slot, all), "open thin pool " + name, meta.name());
                ThinPoolMetadata.Image img = ThinPoolMetadata.decode(all, slot);
                if (img != null && (best == null || img.seqno() > best.seqno())) {
                    best = img;
                    bestSlot = s;
                }
            }
        }
        if (best == null) {
            throw new ErrnoException(Errno.EBADMSG, "open thin pool " + name, meta.name(),
                    "neither metadata slot holds a valid orion thin-pool image; the pool's mappings are lost or "
                            + "this volume was never formatted by orion");
        }
        if (best.chunkSectors() != chunkSectors) {
            throw new ErrnoException(Errno.EBADMSG, "open thin pool " + name, meta.name(), "the image says chunks of "
                    + best.chunkSectors() + " sectors, the LVM metadata " + chunkSectors);
        }
        p.seqno = best.seqno();
        p.newestSlot = bestSlot;
        long chunks = data.sizeBytes() / p.chunkBytes;
        p.grow(chunks);
        for (ThinPoolMetadata.Device d : best.devices()) {
            if (!liveIds.contains(d.id())) {
                p.dirty = true;
                LOG.warn("thin pool {}: device {} has no LV (a crash between two commits); its chunks are released",
                        name, d.id());
                continue;
            }
            ThinMap m = new ThinMap(d.id(), d.virtualChunks());
            long[] r = d.runs();
            for (int i = 0; i < r.length; i += 3) {
                for (long k = 0; k < r[i + 2]; k++) {
                    long dc = r[i + 1] + k;
                    long vc = r[i] + k;
                    if (dc >= chunks || vc >= d.virtualChunks()) {
                        throw new ErrnoException(Errno.EBADMSG, "open thin pool " + name, meta.name(), "device "
                                + d.id() + " maps virtual chunk " + vc + " to data chunk " + dc + ", outside the pool");
                    }
                    m.set(vc, dc + 1);
                    p.incref(dc);
                }
            }
            p.devices.put(d.id(), m);
        }
        long used = 0;
        for (long c = 0; c < chunks; c++) {
            if (p.ref(c) != 0) {
                used++;
            }
        }
        p.free.set(chunks - used);
        p.committer.start();
        return p;
    }

    private static void join(java.util.concurrent.CompletableFuture<?> f, String op, String target) {
        try {
            f.get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof ErrnoException x) {
                throw x;
            }
            throw new ErrnoException(Errno.EIO, op, target, String.valueOf(e.getCause()));
        } catch (Exception e) {
            throw new ErrnoException(Errno.EIO, op, target, String.valueOf(e));
        }
    }

    // ---- reference counts (any reactor) ----

    private int ref(long c) {
        return (int) INT.getVolatile(refs[(int) (c >>> PAGE_SHIFT)], (int) (c & (PAGE - 1)));
    }

    private boolean casRef(long c, int expect, int value) {
        return INT.compareAndSet(refs[(int) (c >>> PAGE_SHIFT)], (int) (c & (PAGE - 1)), expect, value);
    }

    /** Whether data chunk {@code c} is mapped by more than one device (a write must copy it first). */
    boolean shared(long c) {
        return ref(c) > 1;
    }

    void incref(long c) {
        while (true) {
            int v = ref(c);
            if (v < 1 && v != 0) {
                throw new IllegalStateException("thin pool " + name + ": incref of held chunk " + c);
            }
            if (casRef(c, v, v + 1)) {
                return;
            }
        }
    }

    /** One mapping of {@code c} went away (the entry is already changed); the last one holds the chunk. */
    void decref(long c) {
        while (true) {
            int v = ref(c);
            if (v == 1) {
                // The epoch is read after the entry changed, and stored before the count says HELD.
                LONG.setVolatile(freedEpoch[(int) (c >>> PAGE_SHIFT)], (int) (c & (PAGE - 1)), epoch.get());
                if (casRef(c, 1, HELD)) {
                    held.incrementAndGet();
                    return;
                }
            } else if (v > 1) {
                if (casRef(c, v, v - 1)) {
                    return;
                }
            } else {
                throw new IllegalStateException("thin pool " + name + ": decref of unmapped chunk " + c + " (" + v + ")");
            }
        }
    }

    /** A free chunk, now referenced once, or -1 when the pool is full. */
    long allocate() {
        // Reserve first: 'free' never exceeds the unreferenced chunks, so a reservation is a chunk the
        // scan will find, and a full pool is answered without scanning it.
        long f;
        do {
            f = free.get();
            if (f <= 0) {
                return -1;
            }
        } while (!free.compareAndSet(f, f - 1));
        long left = f - 1;
        long n = dataChunks;
        long start = cursor;
        for (long i = 0; i < n; i++) {
            long c = start + i;
            if (c >= n) {
                c -= n;
            }
            if (ref(c) == 0 && casRef(c, 0, 1)) {
                cursor = c + 1;
                if (!warned && left < (1 - warnAt) * n) {
                    warned = true; // the committer logs it, off the reactor
                }
                return c;
            }
        }
        free.incrementAndGet();
        return -1;
    }

    /** Gives back a chunk allocated for a mapping that was never published. */
    void unallocate(long c) {
        if (!casRef(c, 1, 0)) {
            throw new IllegalStateException("thin pool " + name + ": chunk " + c + " changed while provisioning");
        }
        free.incrementAndGet();
    }

    void markDirty() {
        dirty = true;
    }

    /**
     * Called by a write that found no free chunk: when chunks are held for a commit, asks for the
     * commit now and returns true (the caller retries shortly); false means the pool is full.
     */
    boolean commitToFree() {
        if (held.get() == 0) {
            return false;
        }
        dirty = true;
        commitNow = true;
        LockSupport.unpark(committer);
        return true;
    }

    /** Chunks freed and waiting for a commit. */
    long heldChunks() {
        return held.get();
    }

    // ---- grace periods (requests on reactors, committer) ----

    /** The counters of the reactor owning {@code ctx}; created once per reactor, not per request. */
    Readers readers(org.orionos.host.bdev.IoContext ctx) {
        return readers.computeIfAbsent(ctx, Readers::new);
    }

    /**
     * Counts a request in before it looks any mapping up; returns the slot to {@link #exit} with.
     * Runs on the reactor owning {@code rd}.
     */
    int enter(Readers rd) {
        while (true) {
            int s = graceGen & 1;
            int i = (s + 1) * Readers.STRIDE;
            long v = rd.count[i];
            // Volatile store then volatile load (Dekker with the committer's flip-then-read): either
            // the committer sees this count, or this request sees the flip and counts again below.
            LONG.setVolatile(rd.count, i, v + 1);
            if ((graceGen & 1) == s) {
                return s;
            }
            LONG.setVolatile(rd.count, i, v);
        }
    }

    /** Counts a request out: it holds no mapping it looked up any more. Runs on the reactor owning {@code rd}. */
    void exit(Readers rd, int slot) {
        int i = (slot + 1) * Readers.STRIDE;
        // Release: the request's data transfer is complete before the committer can see the count drop.
        LONG.setRelease(rd.count, i, rd.count[i] - 1);
    }

    /** Requests counted in on all reactors, both slots (tests: zero once all I/O has completed). */
    long countedRequests() {
        long n = 0;
        for (Readers rd : readers.values()) {
            for (int slot = 0; slot < 2; slot++) {
                n += (long) LONG.getVolatile(rd.count, (slot + 1) * Readers.STRIDE);
            }
        }
        return n;
    }

    private boolean drained(int slot) {
        int i = (slot + 1) * Readers.STRIDE;
        for (Readers rd : readers.values()) {
            if ((long) LONG.getVolatile(rd.count, i) != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Moves held chunks towards free (committer only): finishes a running grace period whose old
     * slot has drained, and starts one for chunks that the last commit no longer maps. The flip
     * happens only after the previous grace period ended, so the slot it leaves held no earlier
     * requests, and after the commit's epoch advanced, so every unmap it covers came before it.
     */
    private void advanceGrace() {
        while (true) {
            if (gracePending) {
                if (!drained(graceSlot)) {
                    return;
                }
                gracePending = false;
                releaseHeld(graceEpoch);
            }
            if (durableEpoch <= graceEpoch || held.get() == 0) {
                return;
            }
            graceSlot = graceGen & 1;
            graceEpoch = durableEpoch;
            gracePending = true;
            gracePollNanos = 50_000;
            graceGen = graceGen + 1; // a volatile store: ordered before the counter reads in drained()
        }
    }

    /** Queues {@code r} to complete (with status {@code r.backendLong}) after the next commit. */
    void completeAfterCommit(BdevRequest r, int status) {
        r.backendLong = status;
        BdevRequest head;
        do {
            head = waiters.get();
            r.backendRef = head;
        } while (!waiters.compareAndSet(head, r));
        commitNow = true;
        LockSupport.unpark(committer);
    }

    // ---- management (callers off the reactors) ----

    ThinMap device(long id) {
        return devices.get(id);
    }

    Collection<Long> deviceIds() {
        return devices.keySet();
    }

    long dataChunks() {
        return dataChunks;
    }

    long freeChunks() {
        return free.get();
    }

    long seqno() {
        return seqno;
    }

    /** Chunks mapped by at least one device (held ones are not counted). */
    long usedChunks() {
        long n = 0;
        for (long c = 0; c < dataChunks; c++) {
            if (ref(c) > 0) {
                n++;
            }
        }
        return n;
    }

    /** Warn (once) when more than {@code fraction} of the data chunks are in use. */
    void warnAt(double fraction) {
        warnAt = fraction;
        warned = false;
        warnLogged = false;
    }

    /** Makes chunks up to {@code chunks} usable (the data volume has grown that far). */
    synchronized void grow(long chunks) {
        long old = dataChunks;
        if (chunks * chunkBytes > MAX_DATA_BYTES) {
            throw new ErrnoException(Errno.EFBIG, "grow thin pool " + name, null, "orion's thin pools hold at most "
                    + (MAX_DATA_BYTES >> 40) + " TiB of data");
        }
        for (long p = old >>> PAGE_SHIFT; p <= (chunks - 1) >>> PAGE_SHIFT; p++) {
            if (refs[(int) p] == null) {
                freedEpoch[(int) p] = new long[PAGE];
                refs[(int) p] = new int[PAGE];
            }
        }
        VarHandle.releaseFence(); // the pages are visible before any reactor may index them
        if (chunks > old) {
            free.addAndGet(chunks - old);
        }
        dataChunks = chunks;
        warned = false;
        warnLogged = false;
        dirty = true;
    }

    /** A new empty device {@code id} of {@code virtualChunks}, committed before this returns. */
    void createDevice(long id, long virtualChunks) {
        if (devices.containsKey(id)) {
            throw new ErrnoException(Errno.EEXIST, "create thin device", name, "device id " + id + " exists");
        }
        synchronized (editLock) {
            devices.put(id, new ThinMap(id, virtualChunks));
        }
        commitAndWait();
    }

    /**
     * A new device {@code id} sharing every chunk of {@code origin}; the origin must be quiesced
     * (no write in flight) while this copies its map. Committed before this returns.
     */
    void snapshotDevice(long origin, long id) {
        ThinMap o = devices.get(origin);
        if (o == null || devices.containsKey(id)) {
            throw new ErrnoException(Errno.EINVAL, "snapshot thin device", name, "origin " + origin
                    + " missing or id " + id + " taken");
        }
        synchronized (editLock) {
            ThinMap s = new ThinMap(id, o.virtualChunks);
            long[] r = o.runs();
            for (int i = 0; i < r.length; i += 3) {
                for (long k = 0; k < r[i + 2]; k++) {
                    incref(r[i + 1] + k);
                    s.set(r[i] + k, r[i + 1] + k + 1);
                }
            }
            devices.put(id, s);
        }
        commitAndWait();
    }

    /**
     * Makes {@code target}'s mappings a copy of {@code source}'s (both quiesced): the merge of a
     * snapshot back into its origin. One commit; {@code source} stays until deleted.
     */
    void copyMappings(long source, long target) {
        ThinMap src = devices.get(source);
        ThinMap dst = devices.get(target);
        if (src == null || dst == null) {
            throw new ErrnoException(Errno.EINVAL, "merge thin device", name, "device " + source + " or " + target
                    + " missing");
        }
        synchronized (editLock) {
            long[] old = dst.runs();
            long[] r = src.runs();
            for (int i = 0; i < r.length; i += 3) {
                for (long k = 0; k < r[i + 2]; k++) {
                    incref(r[i + 1] + k); // before the old references drop, so a chunk both map never looks free
                }
            }
            for (int i = 0; i < old.length; i += 3) {
                for (long k = 0; k < old[i + 2]; k++) {
                    dst.set(old[i] + k, 0);
                    decref(old[i + 1] + k);
                }
            }
            for (int i = 0; i < r.length; i += 3) {
                for (long k = 0; k < r[i + 2]; k++) {
                    if (r[i] + k < dst.virtualChunks) {
                        dst.set(r[i] + k, r[i + 1] + k + 1);
                    } else {
                        decref(r[i + 1] + k);
                    }
                }
            }
        }
        commitAndWait();
    }

    /**
     * Sets device {@code id}'s virtual size (quiesced): chunks past a smaller end are unmapped
     * and their references dropped. Committed before this returns.
     */
    void resizeDevice(long id, long chunks) {
        ThinMap m = devices.get(id);
        if (m == null) {
            throw new ErrnoException(Errno.ENOENT, "resize thin device", name, "no device " + id);
        }
        synchronized (editLock) {
            long[] r = m.runs();
            for (int i = 0; i < r.length; i += 3) {
                for (long k = 0; k < r[i + 2]; k++) {
                    if (r[i] + k >= chunks) {
                        m.set(r[i] + k, 0);
                        decref(r[i + 1] + k);
                    }
                }
            }
            m.resize(chunks);
        }
        commitAndWait();
    }

    /** Drops device {@code id} (quiesced) and its references; committed before this returns. */
    void deleteDevice(long id) {
        synchronized (editLock) {
            ThinMap m = devices.remove(id);
            if (m == null) {
                return;
            }
            long[] r = m.runs();
            for (int i = 0; i < r.length; i += 3) {
                for (long k = 0; k < r[i + 2]; k++) {
                    m.set(r[i] + k, 0);
                    decref(r[i + 1] + k);
                }
            }
        }
        commitAndWait();
    }

    /** Commits now on the calling thread's behalf and waits for it. */
    void commitAndWait() {
        dirty = true;
        long target = commitsDone() + 2; // one that may be running already, then one that starts after now
        commitNow = true;
        LockSupport.unpark(committer);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (commitsDone() < target) {
            if (System.nanoTime() > deadline || !committer.isAlive()) {
                throw new ErrnoException(Errno.EIO, "commit thin pool " + name, meta.name(),
                        "the metadata commit did not finish (see the log)");
            }
            commitNow = true;
            LockSupport.unpark(committer);
            LockSupport.parkNanos(200_000);
        }
    }

    private synchronized long commitsDone() {
        return commits;
    }

    private void commitLoop() {
        long period = TimeUnit.SECONDS.toNanos(1);
        while (!closing) {
            if (!commitNow) {
                // A running grace period is polled soon (a write may wait for its chunks), less
                // often the longer it lasts (a request held up at the data device).
                if (gracePending) {
                    LockSupport.parkNanos(gracePollNanos);
                    gracePollNanos = Math.min(gracePollNanos * 2, 10_000_000);
                } else {
                    LockSupport.parkNanos(period);
                }
            }
            if (closing) {
                break;
            }
            advanceGrace();
            if (!commitNow && !dirty) {
                continue;
            }
            commitNow = false;
            if (!commitOnce()) {
                return; // crash injected: stop as a killed process would
            }
        }
    }

    /** One commit; false when the test hook stopped it part way. */
    private boolean commitOnce() {
        BdevRequest w = waiters.getAndSet(null);
        dirty = false;
        long e;
        int status = 0;
        try {
            if (warned && !warnLogged) {
                warnLogged = true;
                LOG.warn("thin pool {}: {} of {} data chunks in use, above the {}% warning threshold; extend the pool",
                        name, dataChunks - free.get(), dataChunks, Math.round(warnAt * 100));
            }
            join(client.flush(data), "commit thin pool " + name, data.name());
            if (crashAfterStep == 1) {
                return false;
            }
            List<ThinPoolMetadata.Device> list = new ArrayList<>();
            synchronized (editLock) {
                e = epoch.getAndIncrement(); // chunks freed under e or earlier are not in the image taken below
                for (ThinMap m : new TreeMap<>(devices).values()) {
                    list.add(new ThinPoolMetadata.Device(m.id, m.virtualChunks, m.runs()));
                }
            }
            long slot = ThinPoolMetadata.slotBytes(meta.sizeBytes());
            long need = ThinPoolMetadata.encodedBytes(list);
            if (need > slot) {
                throw new ErrnoException(Errno.ENOSPC, "commit thin pool " + name, meta.name(), "the mappings need "
                        + need + " bytes, a metadata slot holds " + slot + "; extend the metadata volume");
            }
            int target = 1 - newestSlot;
            try (Arena a = Arena.ofShared()) {
                MemorySegment img = a.allocate(need, 4096);
                ThinPoolMetadata.encode(new ThinPoolMetadata.Image(seqno + 1, chunkBytes / 512, dataChunks, list), img);
                if (crashAfterStep == 2) {
                    // A torn slot write: half the image reaches the disk.
                    join(client.write(meta, target * slot, img.asSlice(0, Math.max(4096, need / 2 / 4096 * 4096)), 0),
                            "commit", meta.name());
                    return false;
                }
                join(client.write(meta, target * slot, img, 0), "commit thin pool " + name, meta.name());
            }
            if (crashAfterStep == 3) {
                return false;
            }
            join(client.flush(meta), "commit thin pool " + name, meta.name());
            seqno++;
            newestSlot = target;
            durableEpoch = e;
            advanceGrace();
        } catch (ErrnoException x) {
            LOG.error("thin pool {}: commit failed: {}", name, x.getMessage());
            status = -x.errno();
            dirty = true;
        }
        synchronized (this) {
            commits++;
        }
        // Each waiter goes to its reactor's list; one task per reactor then completes them there.
        while (w != null) {
            BdevRequest next = (BdevRequest) w.backendRef;
            if (status < 0) {
                w.backendLong = status;
            }
            Readers rd = readers.get(w.context()); // its volume's channel made it before the request got here
            BdevRequest head;
            do {
                head = rd.done.get();
                w.backendRef = head;
            } while (!rd.done.compareAndSet(head, w));
            w = next;
        }
        for (Readers rd : readers.values()) {
            if (rd.done.get() != null) {
                rd.context.reactor().execute(rd.drain);
            }
        }
        return true;
    }

    private void releaseHeld(long e) {
        long n = dataChunks;
        long freed = 0;
        for (long c = 0; c < n; c++) {
            if (ref(c) == HELD && (long) LONG.getVolatile(freedEpoch[(int) (c >>> PAGE_SHIFT)], (int) (c & (PAGE - 1))) <= e
                    && casRef(c, HELD, 0)) {
                freed++;
            }
        }
        if (freed > 0) {
            held.addAndGet(-freed);
            free.addAndGet(freed);
        }
    }

    /** Stops the committer after a last commit of what changed. */
    @Override
    public void close() {
        if (committer.isAlive() && crashAfterStep == 0) {
            try {
                commitAndWait();
            } catch (ErrnoException e) {
                LOG.error("thin pool {}: last commit failed: {}", name, e.getMessage());
            }
        }
        closing = true;
        LockSupport.unpark(committer);
        try {
            committer.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops the committer without a last commit, as a crash would (tests). */
    void abandon() {
        closing = true;
        LockSupport.unpark(committer);
        try {
            committer.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "thin pool " + name + " (" + dataChunks + " chunks of " + chunkBytes + " bytes)";
    }
}
