package org.orionos.host.raid;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.bindings.uapi.SocketH.Iovec;
import org.orionos.host.bdev.BdevCallback;
import org.orionos.host.bdev.BdevClient;
import org.orionos.host.bdev.BdevOp;
import org.orionos.host.bdev.BdevRequest;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.Capability;
import org.orionos.host.bdev.Claim;
import org.orionos.host.bdev.IoContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A RAID array as a block device over member block devices, laid out exactly as md lays it out
 * ({@link RaidGeometry}); member sector 0 is {@code dataOffsetBytes} into each member (md's
 * {@code data_offset}). RAID50/60 are this class over RAID5/6 instances of it, as md nests them.
 *
 * <p>The core splits requests at the array's boundary (a chunk for RAID0/10, a full stripe of data
 * for RAID5/6), so every request this class serves lives in one chunk (copy levels) or one stripe
 * (parity levels).
 *
 * <p>Threads: RAID0/1/10 keep no per-stripe state and serve I/O on whichever reactor submits it.
 * RAID5/6 keep stripe locks and stripe buffers, which belong to one reactor, the array's home (the
 * first reactor that submits to it): a request from another reactor is handed to the home reactor
 * through a pooled hand-off and completed back on its own reactor, so no lock is ever taken.
 *
 * <p>Failures: a member write error marks the member faulty (the array runs degraded; listeners
 * hear of it to raise the superblock event count). A parity-level member read error is repaired
 * the way md repairs it: the block is reconstructed from the other members and rewritten; only if
 * that rewrite fails is the member marked faulty. Copy levels read another copy and mark the
 * failing member faulty.
 */
@SuppressWarnings("restricted") // one whole-address-space segment, so iovec copies need no segment per entry
public final class RaidBdev extends BlockDevice {
    private static final Logger LOG = LoggerFactory.getLogger(RaidBdev.class);
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    private static final int SECTOR = 512;

    private final RaidGeometry geometry;
    private final ParityGeometry parity;
    /** Per role; parity levels swap a role's device (a spare taking it over) on the home reactor only. */
    private final BlockDevice[] members;
    private final Claim[] claims;
    private final long dataOffset;
    private final int redundancy;
    private final long chunkBytes;
    /** Bit d set: member d is faulty or missing. Written by any reactor on a member error (CAS), read on every I/O. */
    private final AtomicLong failed = new AtomicLong();
    private final AtomicReference<IoContext> home = new AtomicReference<>();
    private volatile IntConsumer onMemberFailed = d -> { };
    private volatile Runnable onClose;
    /** Per role, bumped when a new device takes the role (home reactor only): tags member I/O with its device. */
    private final int[] generation;
    /**
     * Roles being rebuilt (parity levels; written on the home reactor only): in sync in stripes below
     * {@link #recoveryStripe}, lost at and above it. Every stripe operation reads both on the home
     * reactor under the stripe's lock, so a rebuild step and a foreground write to one stripe never interleave.
     */
    private volatile long recovering;
    /** First stripe not yet rebuilt on the {@link #recovering} roles; volatile so status readers see progress. */
    private volatile long recoveryStripe;
    /** Sync operations a {@link #syncStripe} request runs. */
    public static final int SYNC_RECOVER = 1;
    public static final int SYNC_CHECK = 2;
    public static final int SYNC_REPAIR = 3;
    /** RAID1's sync unit. */
    private static final long COPY_SYNC_UNIT = 1 << 20;
    /**
     * Copy levels normally serve I/O on whichever reactor submits it; while a sync runs they route
     * everything to the home reactor, where a sync unit can exclude the writes that overlap it.
     */
    private volatile boolean homeOnly;
    /** The md array this device belongs to (null for a bare RaidBdev). */
    private volatile MdArray array;
    /** Set while a reshape or takeover serves this device through other geometries (every request goes there). */
    private volatile ReshapeRouter router;
    /** md's write-intent bitmap while a host uses the array (null: none, e.g. offline tools or RAID0). */
    private volatile WriteIntent intent;
    /** Channels, for the drain that follows setting {@link #homeOnly}. */
    private final java.util.concurrent.CopyOnWriteArrayList<Channel> channels = new java.util.concurrent.CopyOnWriteArrayList<>();

    /**
     * @param members         one per md role; null for a missing member
     * @param dataOffsetBytes where each member's data area starts (md's data_offset, in bytes)
     */
    public RaidBdev(String name, RaidGeometry geometry, BlockDevice[] members, long dataOffsetBytes) {
        this(name, geometry, members, dataOffsetBytes, true);
    }

    /**
     * With {@code claim} false the members are not claimed: a reshape's internal view of the same
     * members in the old or the new geometry ({@link MdReshape}), whose owner holds the claims.
     */
    RaidBdev(String name, RaidGeometry geometry, BlockDevice[] members, long dataOffsetBytes, boolean claim) {
        super(name, blockSizeOf(members), geometry.arraySectors() * SECTOR / blockSizeOf(members),
                capabilitiesOf(members), boundaryOf(geometry), geometry instanceof Raid1Geometry ? 1 << 20 : 0);
        if (members.length != geometry.raidDisks() || members.length > 64) {
            throw new ErrnoException(Errno.EINVAL, "raid create", name, members.length
                    + " members for a geometry of " + geometry.raidDisks() + " (at most 64 members)");
        }
        this.geometry = geometry;
        this.parity = geometry instanceof ParityGeometry p ? p : null;
        this.members = members.clone();
        this.generation = new int[members.length];
        this.dataOffset = dataOffsetBytes;
        this.chunkBytes = (long) geometry.chunkSectors() * SECTOR;
        this.redundancy = switch (geometry.level()) {
            case RAID0 -> 0;
            case RAID5 -> 1;
            case RAID6 -> 2;
            default -> geometry.copies() - 1;
        };
        long need = dataOffsetBytes + geometry.memberSectors() * SECTOR;
        long missing = 0;
        for (int d = 0; d < members.length; d++) {
            if (members[d] == null) {
                missing |= 1L << d;
            } else if (members[d].sizeBytes() < need) {
                throw new ErrnoException(Errno.EINVAL, "raid create", name, "member " + members[d].name()
                        + " holds " + members[d].sizeBytes() + " bytes; the array needs " + need + " on each member");
            }
        }
        if (Long.bitCount(missing) > redundancy) {
            throw new ErrnoException(Errno.EINVAL, "raid assemble", name, Long.bitCount(missing)
                    + " members missing; " + geometry.level().mdadmName() + " survives at most " + redundancy);
        }
        failed.set(missing);
        this.claims = new Claim[members.length];
        try {
            for (int d = 0; d < members.length; d++) {
                if (members[d] != null && claim) {
                    final int role = d;
                    claims[d] = members[d].claim("raid " + name, true, () -> markFailed(role, "member removed"));
                }
            }
        } catch (ErrnoException e) {
            releaseClaims();
            throw e;
        }
    }

    private static int blockSizeOf(BlockDevice[] members) {
        int bs = SECTOR;
        for (BlockDevice m : members) {
            if (m != null) {
                bs = Math.max(bs, m.blockSize());
            }
        }
        return bs;
    }

    private static int capabilitiesOf(BlockDevice[] members) {
        int caps = Capability.READ | Capability.WRITE | Capability.FLUSH | Capability.FUA;
        for (BlockDevice m : members) {
            if (m != null && !m.has(Capability.FUA)) {
                caps &= ~Capability.FUA;
            }
        }
        return caps;
    }

    private static long boundaryOf(RaidGeometry g) {
        long chunk = (long) g.chunkSectors() * SECTOR;
        return switch (g) {
            case ParityGeometry p -> chunk * p.dataDisks();
            case Raid1Geometry r -> 0;
            default -> chunk;
        };
    }

    public RaidGeometry geometry() {
        return geometry;
    }

    /** The member in role {@code d}, or null when missing. */
    public BlockDevice member(int d) {
        return members[d];
    }

    /** Bit mask of faulty or missing roles. */
    public long failedMask() {
        return failed.get();
    }

    /** Whether the array still has every member in sync. */
    public boolean isDegraded() {
        return failed.get() != 0;
    }

    /** Called (on the reactor that saw the error) with the role of each member newly marked faulty. */
    public void onMemberFailed(IntConsumer listener) {
        this.onMemberFailed = listener;
    }

    /** Marks role {@code d} faulty (mdadm --fail). */
    public void markFailed(int d, String why) {
        if (setFailed(d)) {
            announceFailed(d, why);
        }
    }

    /** Sets role {@code d}'s faulty bit; false when it was already set. */
    private boolean setFailed(int d) {
        long cur;
        do {
            cur = failed.get();
            if ((cur & (1L << d)) != 0) {
                return false;
            }
        } while (!failed.compareAndSet(cur, cur | (1L << d)));
        return true;
    }

    private void announceFailed(int d, String why) {
        LOG.warn("{}: member {} (role {}) marked faulty: {}; {} of {} tolerated failures used", name(),
                members[d] == null ? "missing" : members[d].name(), d, why, Long.bitCount(failed.get()), redundancy);
        onMemberFailed.accept(d);
    }

    private boolean ok(int d) {
        return (failed.get() & (1L << d)) == 0;
    }

    /** Roles whose blocks in {@code stripe} cannot be trusted because they are still being rebuilt. */
    private long recoveringAt(long stripe) {
        long r = recovering;
        return r != 0 && stripe >= recoveryStripe ? r : 0;
    }

    /** Roles being rebuilt (bit mask). */
    public long recoveringMask() {
        return recovering;
    }

    /** The first stripe (chunk row) not yet rebuilt on the recovering roles. */
    public long recoveryStripe() {
        return recoveryStripe;
    }

    /** Stripes (chunk rows) of each member: the unit of rebuild, check and repair. */
    public long syncStripes() {
        if (parity != null) {
            return geometry.memberSectors() / geometry.chunkSectors();
        }
        return (geometry.arraySectors() * SECTOR + syncUnitBytes() - 1) / syncUnitBytes();
    }

    /** Resync-space sectors (md's bitmap space: member sectors, the array's for RAID10) per sync unit. */
    long syncUnitSpaceSectors() {
        return parity != null ? parity.chunkSectors() : syncUnitBytes() / SECTOR;
    }

    /**
     * Copy levels: bytes of array space per sync unit (a chunk for RAID10, 1 MiB for RAID1); a unit
     * is contiguous on each copy's member. Parity levels sync whole chunk rows instead.
     */

    private long syncUnitBytes() {
        return chunkBytes > 0 ? chunkBytes : COPY_SYNC_UNIT;
    }

    /** Bytes one sync unit reads or writes over all members (for rates and progress). */
    public long syncUnitIoBytes() {
        return parity != null ? chunkBytes * members.length : syncUnitBytes() * geometry.copies();
    }

    /** The member sector below which sync units before {@code unit} lie on every member (md's recovery_offset). */
    public long syncUnitMemberSector(long unit) {
        return switch (geometry) {
            case ParityGeometry p -> unit * p.chunkSectors();
            case Raid10Geometry r -> unit * r.nearCopies() / r.raidDisks() * r.chunkSectors();
            default -> unit * (COPY_SYNC_UNIT / SECTOR);
        };
    }

    /** The first sync unit that may lie at or above member sector {@code sector} (rounded down: redoing is safe). */
    public long syncUnitOfMemberSector(long sector) {
        return switch (geometry) {
            case ParityGeometry p -> sector / p.chunkSectors();
            case Raid10Geometry r -> sector / r.chunkSectors() * r.raidDisks() / r.nearCopies();
            default -> sector / (COPY_SYNC_UNIT / SECTOR);
        };
    }

    /**
     * Puts {@code dev} into role {@code role} (faulty or missing) and starts treating it as being
     * rebuilt from stripe {@code fromStripe}: reads of later stripes reconstruct it, writes keep it
     * current; {@link #syncStripe} with {@link #SYNC_RECOVER} rebuilds it stripe by stripe, in order.
     * Parity levels only. Runs on the array's home reactor; the future completes there.
     */
    public CompletableFuture<Void> startRecovery(IoContext fallback, int role, BlockDevice dev, long fromStripe) {
        if (redundancy == 0) {
            throw new ErrnoException(Errno.EOPNOTSUPP, "raid rebuild", name(), "raid0 has no redundancy to rebuild from");
        }
        if (dev.sizeBytes() < dataOffset + geometry.memberSectors() * SECTOR) {
            throw new ErrnoException(Errno.EINVAL, "raid add", dev.name(), dev.name() + " holds " + dev.sizeBytes()
                    + " bytes; a member of " + name() + " needs " + (dataOffset + geometry.memberSectors() * SECTOR));
        }
        // A member re-added into its own role still holds the claim it had when it failed: keep that one.
        boolean same = members[role] == dev && claims[role] != null;
        Claim c = same ? claims[role] : dev.claim("raid " + name(), true, () -> markFailed(role, "member removed"));
        // Only once nothing can refuse any more: a refusal must not leave the array home-only.
        enterHomeOnly();
        CompletableFuture<Void> f = new CompletableFuture<>();
        IoContext h = homeOr(fallback);
        h.reactor().execute(() -> {
            if ((failed.get() & (1L << role)) == 0 || recovering != 0) {
                if (!same) {
                    c.close();
                }
                leaveHomeOnly();
                f.completeExceptionally(new ErrnoException(Errno.EBUSY, "raid rebuild", name(), recovering != 0
                        ? "a rebuild is already running; wait for it to finish" : "role " + role + " is not faulty"));
                return;
            }
            if (claims[role] != null && claims[role] != c) {
                claims[role].close();
            }
            claims[role] = c;
            members[role] = dev;
            generation[role]++;
            recoveryStripe = fromStripe;
            recovering = 1L << role;
            // The role is lost above recoveryStripe through 'recovering' from here on, so it can leave 'failed'.
            long cur;
            do {
                cur = failed.get();
            } while (!failed.compareAndSet(cur, cur & ~(1L << role)));
            f.complete(null);
        });
        return f;
    }

    /**
     * Ends a rebuild: completes with true when it reached the last stripe (the roles are in sync
     * everywhere), false when it stopped early (a rebuilt role failed, or the rebuild was abandoned):
     * such a role stays, or becomes, faulty.
     */
    public CompletableFuture<Boolean> endRecovery(IoContext fallback) {
        CompletableFuture<Boolean> f = new CompletableFuture<>();
        homeOr(fallback).reactor().execute(() -> {
            long r = recovering;
            boolean complete = recoveryStripe >= syncStripes() && (r & failed.get()) == 0;
            long newlyFailed = 0;
            if (!complete) {
                // Faulty before 'recovering' clears: other reactors must never see the role as in sync.
                for (int d = 0; d < n(); d++) {
                    if ((r & (1L << d)) != 0 && setFailed(d)) {
                        newlyFailed |= 1L << d;
                    }
                }
            }
            recovering = 0;
            leaveHomeOnly();
            // Announced once no rebuild runs, so a spare can take the role at once.
            for (int d = 0; d < n(); d++) {
                if ((newlyFailed & (1L << d)) != 0) {
                    announceFailed(d, "rebuild stopped at stripe " + recoveryStripe + " of " + syncStripes());
                }
            }
            f.complete(complete);
        });
        return f;
    }

    /**
     * Bitmap-based recovery (a member re-added with md's write-intent bitmap): declares the stripes
     * below {@code toStripe} in sync on the recovering roles without copying them, because the
     * bitmap proves nothing was written there while the member was away. Call only between
     * {@link #syncStripe} steps (none in flight); runs on the home reactor.
     */
    public CompletableFuture<Void> skipRecovery(IoContext fallback, long toStripe) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        homeOr(fallback).reactor().execute(() -> {
            if (recovering != 0 && toStripe > recoveryStripe) {
                recoveryStripe = Math.min(toStripe, syncStripes());
            }
            f.complete(null);
        });
        return f;
    }

    private int n() {
        return members.length;
    }

    /**
     * One background sync step on stripe (chunk row) {@code stripe}, under the stripe's lock on the
     * home reactor: {@link #SYNC_RECOVER} rebuilds the recovering roles (the next stripe in order),
     * {@link #SYNC_CHECK} compares P (and Q) with the data and completes with 1 on a mismatch,
     * {@link #SYNC_REPAIR} also rewrites them. Completes with 0/1, or a negative errno.
     */
    public CompletableFuture<Integer> syncStripe(IoContext fallback, long stripe, int mode) {
        if (redundancy == 0) {
            throw new ErrnoException(Errno.EOPNOTSUPP, "raid sync", name(), "raid0 has no redundancy to check or rebuild");
        }
        CompletableFuture<Integer> f = new CompletableFuture<>();
        IoContext h = homeOr(fallback);
        h.reactor().execute(() -> {
            Channel ch = (Channel) channel(h);
            if (parity != null) {
                ch.io().startSync(stripe, mode, f);
            } else {
                new CopySync(ch, stripe, mode, f).begin();
            }
        });
        return f;
    }

    /**
     * Copy levels: routes new I/O to the home reactor and waits until every I/O started on the
     * direct path has finished, so a sync unit only ever races writes it can see. Management thread.
     */
    public void enterHomeOnly() {
        if (parity != null) {
            return;
        }
        homeOnly = true;
        // Pairs with the reactors' started++ then homeOnly read (both volatile): either the reactor saw
        // homeOnly and takes the home path, or its started count is visible here and is waited for.
        long end = System.nanoTime() + 30_000_000_000L;
        for (Channel ch : channels) {
            while (ch.directStarted != ch.directFinished) {
                if (System.nanoTime() > end) {
                    throw new ErrnoException(Errno.ETIMEDOUT, "raid sync", name(), "I/O did not drain within 30 s");
                }
                Thread.onSpinWait();
                Thread.yield();
            }
        }
    }

    /** Copy levels: lets I/O run on any reactor again once no sync needs it on the home reactor. */
    public void leaveHomeOnly() {
        if (parity == null && recovering == 0) {
            homeOnly = false;
        }
    }

    private IoContext homeOr(IoContext fallback) {
        IoContext h = home.get();
        if (h == null && home.compareAndSet(null, fallback)) {
            return fallback;
        }
        return home.get();
    }

    /** A stripe operation's member I/O cookie: the role and the generation of the device holding it. */
    private long tag(int d) {
        return d | (long) generation[d] << 8;
    }

    private long memberOffset(long sector) {
        return dataOffset + sector * SECTOR;
    }

    @Override
    protected Object createChannel(IoContext context) {
        return new Channel(context);
    }

    /**
     * Hands every request from now on to {@code r}; requests this device started itself keep
     * running: {@link #ownIdle()} says when they are done. Management thread.
     */
    void route(ReshapeRouter r) {
        router = r;
    }

    /** The router installed by a reshape or takeover, or null. */
    ReshapeRouter router() {
        return router;
    }

    /** Where the data area starts on every member, in bytes (md's data_offset). */
    long dataOffsetBytes() {
        return dataOffset;
    }

    /** True when no request that this device serves itself (not through its router) is in flight. */
    boolean ownIdle() {
        for (Channel ch : channels) {
            if (ch.ownStarted != ch.ownFinished) {
                return false;
            }
        }
        return true;
    }

    /** A reshape changed the size: the core checks requests against it from now on. */
    void resizeTo(long bytes) {
        announceResize(bytes / blockSize());
    }

    /** Runs {@code r} on {@code target}'s reactor and completes it back on its own (pooled, no allocation). */
    void handoff(BdevRequest r, IoContext target) {
        ((Channel) channel(r.context())).handoff(r, target);
    }

    @Override
    protected void doSubmit(BdevRequest r) {
        Channel ch = (Channel) channel(r.context());
        // Counted before the router is read (both volatile), as in enterHomeOnly: a reshape that
        // installs the router and then sees ownIdle() knows no request slipped past it unseen.
        ch.ownStarted++;
        ReshapeRouter rr = router;
        if (rr != null) {
            ch.ownFinished++;
            rr.submit(this, r);
            return;
        }
        if (parity != null) {
            IoContext h = home.get();
            if (h == null && home.compareAndSet(null, r.context())) {
                h = r.context();
            } else if (h == null) {
                h = home.get();
            }
            if (h != r.context()) {
                ch.ownFinished++; // counted again where the home reactor serves it
                ch.handoff(r, h);
                return;
            }
        }
        boolean direct = false;
        if (parity == null) {
            ch.directStarted++;
            if (homeOnly) {
                ch.directFinished++; // not on the direct path after all: balance the count the drain waits on
                IoContext h = homeOr(r.context());
                if (h != r.context()) {
                    ch.ownFinished++; // counted again where the home reactor serves it
                    ch.handoff(r, h);
                    return;
                }
            } else {
                direct = true;
            }
        }
        Io io = ch.io();
        io.direct = direct;
        io.start(r);
    }

    /** The md array (superblocks, background work) this device belongs to, or null. */
    public MdArray array() {
        return array;
    }

    void array(MdArray a) {
        array = a;
    }

    /** Installs (or with null removes) the write-intent bitmap every write must pass before it starts. */
    void writeIntent(WriteIntent w) {
        intent = w;
    }

    /**
     * Gives this array (one not managed by an {@link MdArray}) md's write-intent bitmap whose
     * copies live at byte {@code offset} of each of {@code copies}, e.g. dm-raid's bitmap in the
     * rmeta sub-LVs: every write's region bit is on those copies before the write starts, bits clear
     * after {@code daemon_sleep} without writes (never while degraded or recovering). The
     * copies must already hold {@code header} and {@code bits}. Closing the handle stops the bitmap
     * thread and detaches it (bits stay as they are on disk). Management thread, before any write.
     */
    public AutoCloseable useWriteIntent(MdBitmap header, MemorySegment bits, List<BlockDevice> copies,
                                        long offset, BdevClient client) {
        if (intent != null || array != null) {
            throw new ErrnoException(Errno.EBUSY, "raid write-intent bitmap", name(), "the array already has one");
        }
        List<BlockDevice> targets = List.copyOf(copies);
        WriteIntent w = new WriteIntent(name(), header, bits, offset, client, () -> targets,
                () -> failed.get() == 0 && recovering == 0, this::intentReady, Math.max(1, header.daemonSleep) * 1_000_000_000L);
        writeIntent(w);
        w.start();
        return () -> {
            writeIntent(null);
            w.close();
        };
    }

    /** Bitmap thread: bits were written; every reactor resumes the writes parked waiting for them. */
    void intentReady() {
        for (Channel ch : channels) {
            ch.ctx.reactor().execute(ch.resumeIntent);
        }
    }

    /** The first resync-space sector a write at array bytes [off, off+len) touches (md's bitmap space). */
    private long syncSpaceLo(long off) {
        if (parity != null) {
            return off / chunkBytes / parity.dataDisks() * parity.chunkSectors();
        }
        return off / SECTOR; // RAID1: member sectors are array sectors; RAID10: the bitmap covers the array
    }

    private long syncSpaceHi(long off, long len) {
        long last = off + Math.max(1, len) - 1;
        if (parity != null) {
            return (last / chunkBytes / parity.dataDisks() + 1) * parity.chunkSectors() - 1;
        }
        return last / SECTOR;
    }

    /** Runs {@code hook} when the array is closed, before its members are released (its manager stops there). */
    public void onClose(Runnable hook) {
        this.onClose = hook;
    }

    @Override
    public void close() {
        Runnable h = onClose;
        onClose = null;
        if (h != null) {
            h.run();
        }
        releaseClaims();
    }

    private void releaseClaims() {
        for (int d = 0; d < claims.length; d++) {
            if (claims[d] != null) {
                claims[d].close();
                claims[d] = null;
            }
        }
    }

    // ------------------------------------------------------------------------------ per reactor

    /** One reactor's pools: I/O states, stripes, hand-offs, a parity engine and a zero block. */
    private final class Channel {
        final IoContext ctx;
        Io freeIo;
        Stripe freeStripe;
        Handoff freeHandoff;
        /** Stripes holding their lock (home reactor only): a short list, bounded by the queue depth. */
        Stripe active;
        ParityEngine engine;
        MemorySegment zero;
        final MemberAddress addr = new MemberAddress();
        /** Copy levels: I/Os started and finished on the direct path (written by this reactor only). */
        volatile long directStarted;
        volatile long directFinished;
        /** Requests this device serves itself, started and finished on this reactor (for {@link #ownIdle()}). */
        volatile long ownStarted;
        volatile long ownFinished;
        /** Copy levels on the home reactor during a sync: writes in flight, and writes waiting for the sync unit. */
        Io activeWrites;
        Io parked;
        /** The sync unit holding its lock (array bytes [syncLo, syncHi)), and whether it waits for writes to drain. */
        CopySync sync;
        /** Writes waiting for their write-intent bits to reach the disk (linked by nextIntent). */
        Io intentParked;
        final Runnable resumeIntent = this::resumeIntent;

        /** Reactor task: retries the writes parked for their bits; those still not ready park again. */
        private void resumeIntent() {
            Io list = intentParked;
            intentParked = null;
            while (list != null) {
                Io io = list;
                list = io.nextIntent;
                io.nextIntent = null;
                if (io.held.ready(io.regionLo, io.regionHi)) {
                    io.submitting = true;
                    io.dispatch();
                    io.submitting = false;
                } else {
                    io.nextIntent = intentParked;
                    intentParked = io;
                }
            }
        }

        Channel(IoContext ctx) {
            this.ctx = ctx;
            channels.add(this);
        }

        boolean overlapsActiveWrite(long lo, long hi) {
            for (Io w = activeWrites; w != null; w = w.nextActive) {
                if (w.up.offset() < hi && w.up.offset() + w.up.length() > lo) {
                    return true;
                }
            }
            return false;
        }

        Io io() {
            Io io = freeIo;
            if (io == null) {
                return new Io(this);
            }
            freeIo = io.nextFree;
            return io;
        }

        Stripe stripe() {
            Stripe s = freeStripe;
            if (s == null) {
                if (engine == null) {
                    engine = ParityEngine.best();
                    zero = ctx.buffers().allocate(chunkBytes);
                    zero.asSlice(0, chunkBytes).fill((byte) 0);
                }
                return new Stripe(this);
            }
            freeStripe = s.nextFree;
            return s;
        }

        void handoff(BdevRequest r, IoContext target) {
            Handoff h = freeHandoff;
            if (h == null) {
                h = new Handoff(this);
            } else {
                freeHandoff = h.nextFree;
            }
            h.up = r;
            h.target = target;
            h.back = false;
            target.reactor().execute(h);
        }
    }

    /**
     * Carries a request from its reactor to the array's home reactor and its status back. The
     * reactor task queue's hand-over orders every write to the request before the other side reads it.
     */
    private final class Handoff implements Runnable, BdevCallback {
        final Channel origin;
        BdevRequest up;
        IoContext target;
        boolean back;
        int status;
        Handoff nextFree;

        Handoff(Channel origin) {
            this.origin = origin;
        }

        @Override
        public void run() {
            if (back) {
                BdevRequest r = up;
                up = null;
                nextFree = origin.freeHandoff;
                origin.freeHandoff = this;
                r.complete(status);
                return;
            }
            BdevRequest r = up;
            BdevRequest inner = target.request();
            if (r.iov() != null) {
                inner.prepareVectored(r.op(), r.offset(), r.length(), r.iov(), r.iovCount(), r.flags());
            } else if (r.buffer() != null) {
                if (r.op() == BdevOp.READ) {
                    inner.prepareRead(r.offset(), r.length(), r.buffer(), r.bufferOffset());
                } else {
                    inner.prepareWrite(r.offset(), r.length(), r.buffer(), r.bufferOffset(), r.flags());
                }
            } else {
                inner.prepareNoData(r.op(), r.offset(), r.length(), r.flags());
            }
            inner.callback(this, 0);
            submit(inner);
        }

        @Override
        public void onComplete(BdevRequest inner, int st) {
            inner.release();
            status = st;
            back = true;
            origin.ctx.reactor().execute(this);
        }
    }

    // ------------------------------------------------------------------------------ one request

    /** The state of one array request on its reactor (pooled). */
    private final class Io implements BdevCallback {
        final Channel ch;
        Io nextFree;
        BdevRequest up;
        /** The request's data as one contiguous range: the caller's buffer, or a bounce buffer for iovecs. */
        MemorySegment data;
        long dataOff;
        MemorySegment bounce;
        int pending;
        int status;
        /** True while {@link #start} runs: a completion then is deferred, never run inside submit. */
        boolean submitting;
        int copy;      // copy levels: the copy being read
        int triedMask; // copy levels: copies already tried for this read
        /** Parity reads: members whose direct read failed; the stripe path reconstructs and repairs them. */
        long badMask;
        /** Copy levels: started on the direct path (counted for the home-only drain). */
        boolean direct;
        /** Copy levels during a sync: linked into the home channel's active writes, or parked behind the sync unit. */
        boolean tracked;
        Io nextActive;
        /** The write-intent regions this write holds ([regionLo, regionHi]), and the bitmap it holds them in. */
        WriteIntent held;
        int regionLo;
        int regionHi;
        Io nextIntent;
        /** Background sync (no request): one of SYNC_*, the stripe, the result and who waits for it. */
        int sync;
        long syncStripe;
        int syncResult;
        CompletableFuture<Integer> syncDone;

        Io(Channel ch) {
            this.ch = ch;
        }

        void startSync(long stripe, int mode, CompletableFuture<Integer> f) {
            up = null;
            sync = mode;
            syncStripe = stripe;
            syncResult = 0;
            syncDone = f;
            badMask = 0;
            bounce = null;
            data = null;
            submitting = true;
            parityStripe();
            submitting = false;
        }

        void start(BdevRequest r) {
            up = r;
            sync = 0;
            status = 0;
            badMask = 0;
            triedMask = 0;
            bounce = null;
            if (r.op() == BdevOp.READ || r.op() == BdevOp.WRITE) {
                if (r.buffer() != null) {
                    data = r.buffer();
                    dataOff = r.bufferOffset();
                } else {
                    bounce = ch.ctx.buffers().allocate(r.length());
                    data = bounce;
                    dataOff = 0;
                    if (r.op() == BdevOp.WRITE) {
                        iovCopy(r, bounce, true);
                    }
                }
            }
            submitting = true;
            WriteIntent w = intent;
            int op = r.op();
            if (w != null && (op == BdevOp.WRITE || op == BdevOp.WRITE_ZEROES || op == BdevOp.TRIM)) {
                long per = w.regionSectors();
                held = w;
                regionLo = (int) (syncSpaceLo(r.offset()) / per);
                regionHi = (int) Math.min(w.regions() - 1, syncSpaceHi(r.offset(), r.length()) / per);
                if (!w.enter(regionLo, regionHi)) {
                    // A clean region: the bit must be on disk first; the bitmap thread resumes this write.
                    nextIntent = ch.intentParked;
                    ch.intentParked = this;
                    submitting = false;
                    return;
                }
            }
            dispatch();
            submitting = false;
        }

        /** Starts the request's member I/O (its write-intent bits, if any, are on disk). */
        void dispatch() {
            BdevRequest r = up;
            if (r.op() == BdevOp.FLUSH) {
                flush();
            } else if (parity != null) {
                parityStart();
            } else if (r.op() == BdevOp.READ) {
                copyRead();
            } else if (!direct && r.op() == BdevOp.WRITE && ch.sync != null
                    && r.offset() < ch.sync.hi && r.offset() + r.length() > ch.sync.lo) {
                // A sync unit holds this range: wait behind it (restarted when it completes).
                nextActive = ch.parked;
                ch.parked = this;
            } else {
                if (!direct && r.op() == BdevOp.WRITE) {
                    tracked = true;
                    nextActive = ch.activeWrites;
                    ch.activeWrites = this;
                }
                copyWrite();
            }
        }

        /** A parked write whose sync unit completed. */
        void resumeParked() {
            tracked = true;
            nextActive = ch.activeWrites;
            ch.activeWrites = this;
            copyWrite();
        }

        void finish(int st) {
            if (sync != 0) {
                CompletableFuture<Integer> f = syncDone;
                int result = syncResult;
                syncDone = null;
                sync = 0;
                nextFree = ch.freeIo;
                ch.freeIo = this;
                // Futures run their dependants inline: complete after the Io is back in the pool.
                f.complete(st < 0 ? st : result);
                return;
            }
            BdevRequest r = up;
            ch.ownFinished++;
            if (held != null) {
                held.exit(regionLo, regionHi); // every member write of this request has completed
                held = null;
            }
            if (direct) {
                direct = false;
                ch.directFinished++;
            }
            if (tracked) {
                tracked = false;
                Io prev = null;
                for (Io w = ch.activeWrites; w != null; prev = w, w = w.nextActive) {
                    if (w == this) {
                        if (prev == null) {
                            ch.activeWrites = nextActive;
                        } else {
                            prev.nextActive = nextActive;
                        }
                        break;
                    }
                }
                nextActive = null;
                CopySync cs = ch.sync;
                if (cs != null && cs.waiting && !ch.overlapsActiveWrite(cs.lo, cs.hi)) {
                    cs.waiting = false;
                    cs.run();
                }
            }
            if (bounce != null) {
                if (st == 0 && r.op() == BdevOp.READ) {
                    iovCopy(r, bounce, false);
                }
                ch.ctx.buffers().release(bounce);
                bounce = null;
            }
            up = null;
            data = null;
            nextFree = ch.freeIo;
            ch.freeIo = this;
            if (submitting) {
                submitting = false;
                r.completeDeferred(st);
            } else {
                r.complete(st);
            }
        }

        private void flush() {
            pending = 1; // held until every flush is submitted
            for (int d = 0; d < members.length; d++) {
                if (ok(d)) {
                    pending++;
                    BdevRequest m = ch.ctx.request();
                    m.prepareNoData(BdevOp.FLUSH, 0, 0, 0).callback(this, d);
                    members[d].submit(m);
                }
            }
            memberDone();
        }

        // ---- RAID0/1/10

        private void copyRead() {
            int copies = geometry.copies();
            // Spread mirror reads over the copies by chunk (or 1 MiB for RAID1) so sequential reads use every member.
            long unit = chunkBytes > 0 ? chunkBytes : 1 << 20;
            int first = (int) ((up.offset() / unit) % copies);
            for (int i = 0; i < copies; i++) {
                int c = (first + i) % copies;
                if ((triedMask & (1 << c)) != 0) {
                    continue;
                }
                geometry.map(up.offset() / SECTOR, c, ch.addr);
                int d = ch.addr.disk;
                if (!ok(d) || (recovering & (1L << d)) != 0
                        && (up.offset() + up.length() - 1) / syncUnitBytes() >= recoveryStripe) {
                    triedMask |= 1 << c; // faulty, or not yet rebuilt here
                    continue;
                }
                triedMask |= 1 << c;
                copy = c;
                pending = 1;
                BdevRequest m = ch.ctx.request();
                m.prepareRead(memberOffset(ch.addr.sector), up.length(), data, dataOff).callback(this, d);
                members[d].submit(m);
                return;
            }
            finish(-Errno.EIO);
        }

        private void copyWrite() {
            int copies = geometry.copies();
            pending = 1;
            int sent = 0;
            for (int c = 0; c < copies; c++) {
                geometry.map(up.offset() / SECTOR, c, ch.addr);
                int d = ch.addr.disk;
                if (!ok(d)) {
                    continue;
                }
                sent++;
                pending++;
                BdevRequest m = ch.ctx.request();
                m.prepareWrite(memberOffset(ch.addr.sector), up.length(), data, dataOff, up.flags() & BdevOp.FLAG_FUA)
                        .callback(this, d);
                members[d].submit(m);
            }
            if (sent == 0) {
                status = -Errno.EIO;
            }
            memberDone();
        }

        @Override
        public void onComplete(BdevRequest m, int st) {
            int d = (int) m.cookie();
            int op = m.op();
            m.release();
            if (parity != null && op == BdevOp.READ) {
                if (st < 0) {
                    badMask |= 1L << d;
                }
                if (--pending == 0) {
                    if (badMask != 0) {
                        parityStripe(); // reconstruct what the failed reads should have returned, and repair
                    } else {
                        finish(0);
                    }
                }
                return;
            }
            if (op == BdevOp.READ) {
                if (st < 0) {
                    if (redundancy == 0) {
                        finish(st); // RAID0 has no other copy, and md never fails a RAID0 member
                        return;
                    }
                    markFailed(d, "read error " + Errno.name(st));
                    copyRead();
                    return;
                }
                finish(0);
                return;
            }
            if (st < 0) {
                if (redundancy > 0) {
                    markFailed(d, BdevOp.name(op) + " error " + Errno.name(st));
                } else if (status == 0) {
                    status = st;
                }
            }
            memberDone();
        }

        private void memberDone() {
            if (--pending == 0) {
                int st = status;
                if (st == 0 && up.op() == BdevOp.WRITE && Long.bitCount(failed.get()) > redundancy) {
                    st = -Errno.EIO; // too few members left to hold the data
                }
                finish(st);
            }
        }

        // ---- RAID5/6

        private void parityStart() {
            if (up.op() == BdevOp.READ) {
                // Healthy reads go straight to the data members; anything unusual takes the stripe path.
                long pos = up.offset();
                long end = pos + up.length();
                MemberAddress a = ch.addr;
                long lost = failed.get() | recoveringAt(pos / (parity.dataDisks() * chunkBytes));
                for (long p = pos; p < end; ) {
                    parity.map(p / SECTOR, a);
                    if ((lost & (1L << a.disk)) != 0) {
                        parityStripe();
                        return;
                    }
                    p += Math.min((long) a.runSectors * SECTOR, end - p);
                }
                pending = 0;
                for (long p = pos; p < end; ) {
                    parity.map(p / SECTOR, a);
                    long len = Math.min((long) a.runSectors * SECTOR, end - p);
                    pending++;
                    p += len;
                }
                for (long p = pos; p < end; ) {
                    parity.map(p / SECTOR, a);
                    long len = Math.min((long) a.runSectors * SECTOR, end - p);
                    BdevRequest m = ch.ctx.request();
                    m.prepareRead(memberOffset(a.sector), len, data, dataOff + (p - pos)).callback(this, a.disk);
                    members[a.disk].submit(m);
                    p += len;
                }
                return;
            }
            parityStripe();
        }

        private void parityStripe() {
            Stripe s = ch.stripe();
            s.begin(this);
        }
    }

    /** Copies between a vectored request's iovecs and a contiguous buffer ({@code in}: into the buffer). */
    private static void iovCopy(BdevRequest r, MemorySegment buf, boolean in) {
        MemorySegment iov = r.iov();
        long pos = 0;
        for (int i = 0; i < r.iovCount() && pos < r.length(); i++) {
            long base = iov.get(JAVA_LONG, i * Iovec.SIZE + Iovec.IOV_BASE);
            long len = Math.min(iov.get(JAVA_LONG, i * Iovec.SIZE + Iovec.IOV_LEN), r.length() - pos);
            if (in) {
                MemorySegment.copy(ALL, base, buf, pos, len);
            } else {
                MemorySegment.copy(buf, pos, ALL, base, len);
            }
            pos += len;
        }
    }

    // ------------------------------------------------------------------------------ stripe engine

    /**
     * One sync unit of a copy level (RAID1/10) on the home reactor: holds the unit's array range
     * against writes (new ones park, running ones are waited for), reads every copy it can trust,
     * then writes the first good copy where it is needed: to the roles being rebuilt (recover), or
     * to copies that differ (repair; check only counts them). Management-rate work: allocated per unit.
     */
    private final class CopySync implements BdevCallback {
        final Channel ch;
        final long unit;
        final int mode;
        final CompletableFuture<Integer> done;
        final long lo;
        final long hi;
        final int copies = geometry.copies();
        final MemorySegment[] buf = new MemorySegment[copies];
        final int[] disk = new int[copies];
        final long[] sector = new long[copies];
        final boolean[] readOk = new boolean[copies];
        boolean waiting;
        boolean writing;
        int pending;
        int result;
        int status;

        CopySync(Channel ch, long unit, int mode, CompletableFuture<Integer> done) {
            this.ch = ch;
            this.unit = unit;
            this.mode = mode;
            this.done = done;
            this.lo = unit * syncUnitBytes();
            this.hi = Math.min(lo + syncUnitBytes(), geometry.arraySectors() * SECTOR);
        }

        void begin() {
            if (ch.sync != null) {
                done.complete(-Errno.EBUSY); // one sync unit at a time per array
                return;
            }
            ch.sync = this;
            if (ch.overlapsActiveWrite(lo, hi)) {
                waiting = true; // run() once the last overlapping write finishes
                return;
            }
            run();
        }

        void run() {
            long lost = failed.get() | (unit >= recoveryStripe ? recovering : 0);
            pending = 1;
            for (int c = 0; c < copies; c++) {
                geometry.map(lo / SECTOR, c, ch.addr);
                disk[c] = ch.addr.disk;
                sector[c] = ch.addr.sector;
                buf[c] = null;
                readOk[c] = false;
                if ((lost & (1L << disk[c])) != 0) {
                    continue;
                }
                buf[c] = ch.ctx.buffers().allocate(hi - lo);
                pending++;
                BdevRequest m = ch.ctx.request();
                m.prepareRead(memberOffset(sector[c]), hi - lo, buf[c], 0).callback(this, c);
                members[disk[c]].submit(m);
            }
            step();
        }

        @Override
        public void onComplete(BdevRequest m, int st) {
            int c = (int) m.cookie();
            m.release();
            if (!writing) {
                readOk[c] = st >= 0;
            } else if (st < 0) {
                markFailed(disk[c], "write error " + Errno.name(st) + " during sync");
                status = -Errno.EIO;
            }
            step();
        }

        private void step() {
            if (--pending > 0) {
                return;
            }
            if (writing) {
                finish(status);
                return;
            }
            int src = -1;
            for (int c = 0; c < copies && src < 0; c++) {
                if (readOk[c]) {
                    src = c;
                }
            }
            if (src < 0) {
                finish(-Errno.EIO);
                return;
            }
            long targets = 0;
            long rec = unit >= recoveryStripe ? recovering & ~failed.get() : 0;
            for (int c = 0; c < copies; c++) {
                boolean write = (rec & (1L << disk[c])) != 0 && mode == SYNC_RECOVER;
                if (buf[c] != null && c != src && (!readOk[c] || buf[c].mismatch(buf[src]) >= 0)) {
                    result = mode == SYNC_RECOVER ? result : 1;
                    write |= mode == SYNC_REPAIR || !readOk[c]; // a failed read is rewritten, as md does
                }
                if (write) {
                    targets |= 1L << c;
                }
            }
            writing = true;
            pending = 1;
            for (int c = 0; c < copies; c++) {
                if ((targets & (1L << c)) != 0) {
                    pending++;
                    BdevRequest m = ch.ctx.request();
                    m.prepareWrite(memberOffset(sector[c]), hi - lo, buf[src], 0, 0).callback(this, c);
                    members[disk[c]].submit(m);
                }
            }
            step();
        }

        private void finish(int st) {
            for (int c = 0; c < copies; c++) {
                if (buf[c] != null) {
                    ch.ctx.buffers().release(buf[c]);
                    buf[c] = null;
                }
            }
            if (mode == SYNC_RECOVER && st == 0 && (recovering & failed.get()) != 0) {
                st = -Errno.EIO; // the role being rebuilt failed
            }
            if (mode == SYNC_RECOVER && st == 0 && unit == recoveryStripe && recovering != 0) {
                recoveryStripe = unit + 1; // before the unit's writes resume: they now find the role in sync
            }
            ch.sync = null;
            Io p = ch.parked;
            ch.parked = null;
            while (p != null) {
                Io next = p.nextActive;
                p.nextActive = null;
                p.resumeParked();
                p = next;
            }
            done.complete(st < 0 ? st : result);
        }
    }

    /**
     * One RAID5/6 stripe operation on the home reactor: holds the stripe's lock, reads what it
     * needs, reconstructs, computes parity, writes. Buffers cover the chunk rows {@code [lo, hi)}
     * the request touches and come from the reactor's buffer pool (recycled, never allocated per I/O).
     */
    private final class Stripe implements BdevCallback {
        private static final int READING = 1;
        private static final int WRITING = 2;
        final Channel ch;
        final int n = members.length;
        final MemorySegment[] blk = new MemorySegment[n];
        final MemorySegment[] old = new MemorySegment[n];
        final MemorySegment[] src;
        final MemorySegment[] slots;
        final MemorySegment[] scratch = new MemorySegment[4];
        final long[] wStart = new long[n];   // per member: written byte range within [lo, hi), empty when wStart == wEnd
        final long[] wEnd = new long[n];
        Stripe nextFree;
        Stripe nextActive;
        /** The next operation queued behind this stripe's lock, in arrival order. */
        Stripe nextWaiter;
        Io io;
        long stripe;
        long lo;
        long hi;
        int phase;
        int pending;
        long readMask;
        long writeMask;
        /** Members that failed I/O in this operation, and had not been marked faulty before. */
        long badMask;
        /**
         * Members whose blocks this operation does not hold valid bytes of: faulty when the plan was
         * made, or whose read failed. Never widened by a member failing later: bytes read from a member
         * that was in sync at planning time are still the stripe's truth, while the parity that would
         * rebuild them may not have been read at all (reconstruct-write skips it).
         */
        long lost;
        boolean rmw;

        Stripe(Channel ch) {
            this.ch = ch;
            this.src = new MemorySegment[2 * n + 2];
            this.slots = new MemorySegment[n];
        }

        void begin(Io io) {
            this.io = io;
            if (io.sync != 0) {
                stripe = io.syncStripe;
            } else {
                long pos = io.up.offset() / SECTOR;
                long dataSectors = (long) parity.dataDisks() * parity.chunkSectors();
                stripe = pos / dataSectors;
            }
            nextWaiter = null;
            for (Stripe s = ch.active; s != null; s = s.nextActive) {
                if (s.stripe == stripe) {
                    // Another operation holds this stripe: wait behind the last one queued on it.
                    Stripe t = s;
                    while (t.nextWaiter != null) {
                        t = t.nextWaiter;
                    }
                    t.nextWaiter = this;
                    return;
                }
            }
            nextActive = ch.active;
            ch.active = this;
            run();
        }

        private void unlock() {
            Stripe prev = null;
            for (Stripe s = ch.active; s != null; prev = s, s = s.nextActive) {
                if (s == this) {
                    if (prev == null) {
                        ch.active = nextActive;
                    } else {
                        prev.nextActive = nextActive;
                    }
                    break;
                }
            }
            Stripe next = nextWaiter;
            nextWaiter = null;
            if (next != null) {
                // The next waiter takes the lock, and inherits the rest of the queue.
                next.nextActive = ch.active;
                ch.active = next;
                next.run();
            }
        }

        private void run() {
            Io o = io;
            if (o.sync != 0) {
                runSync(o);
                return;
            }
            int dd = parity.dataDisks();
            long chunk = chunkBytes;
            long stripeStart = stripe * dd * chunk;
            long relStart = o.up.offset() - stripeStart;
            long relEnd = relStart + o.up.length();
            int firstCol = (int) (relStart / chunk);
            int lastCol = (int) ((relEnd - 1) / chunk);
            lo = firstCol == lastCol ? relStart - firstCol * chunk : 0;
            hi = firstCol == lastCol ? relEnd - firstCol * chunk : chunk;
            for (int d = 0; d < n; d++) {
                wStart[d] = 0;
                wEnd[d] = 0;
            }
            boolean write = o.up.op() == BdevOp.WRITE;
            for (int i = firstCol; i <= lastCol; i++) {
                int d = parity.dataDisk(stripe, i);
                long s = Math.max(relStart, i * chunk) - i * chunk;
                long e = Math.min(relEnd, (i + 1) * chunk) - i * chunk;
                wStart[d] = s;
                wEnd[d] = e;
            }
            long len = hi - lo;
            for (int d = 0; d < n; d++) {
                blk[d] = ch.ctx.buffers().allocate(len);
                old[d] = null;
            }
            badMask = o.badMask;
            rmw = false;
            lost = failed.get() | badMask | recoveringAt(stripe);
            readMask = 0;
            if (Long.bitCount(lost) > redundancy) {
                done(-Errno.EIO);
                return;
            }
            if (!write || lost != 0) {
                readMask = ~lost & ((1L << n) - 1); // reconstruct: read every survivor
            } else {
                long rcw = 0;
                long rmwMask = 0;
                int pd = parity.parityDisk(stripe);
                int qd = parity.qDisk(stripe);
                for (int d = 0; d < n; d++) {
                    if (d == pd || d == qd) {
                        rmwMask |= 1L << d;
                        continue;
                    }
                    boolean touched = wEnd[d] > wStart[d];
                    boolean full = touched && wStart[d] <= lo && wEnd[d] >= hi;
                    if (!full) {
                        rcw |= 1L << d;
                    }
                    if (touched) {
                        rmwMask |= 1L << d;
                    }
                }
                rmw = Long.bitCount(rmwMask) < Long.bitCount(rcw);
                readMask = rmw ? rmwMask : rcw;
            }
            if (rmw) {
                for (int d = 0; d < n; d++) {
                    if ((readMask & (1L << d)) != 0) {
                        old[d] = ch.ctx.buffers().allocate(len);
                    }
                }
            }
            phase = READING;
            pending = 1;
            for (int d = 0; d < n; d++) {
                if ((readMask & (1L << d)) != 0) {
                    pending++;
                    BdevRequest m = ch.ctx.request();
                    m.prepareRead(memberOffset(stripe * parity.chunkSectors()) + lo, len, rmw ? old[d] : blk[d], 0)
                            .callback(this, tag(d));
                    members[d].submit(m);
                }
            }
            step();
        }

        @Override
        public void onComplete(BdevRequest m, int st) {
            long cookie = m.cookie();
            int d = (int) (cookie & 0xff);
            m.release();
            if (st < 0 && phase == WRITING && (cookie >>> 8) != generation[d]) {
                st = 0; // a write to the device that held this role before a spare took it over: no longer a member
            }
            if (st < 0) {
                if (phase == READING) {
                    badMask |= 1L << d; // reconstructed below, then rewritten
                } else {
                    markFailed(d, "write error " + Errno.name(st));
                }
            }
            step();
        }

        private void step() {
            if (--pending > 0) {
                return;
            }
            if (phase == READING) {
                lost |= badMask;
                if (Long.bitCount(lost) > redundancy) {
                    done(-Errno.EIO);
                    return;
                }
                long survivors = ~lost & ((1L << n) - 1);
                if ((readMask & badMask) != 0 && (rmw || (readMask & survivors) != survivors)) {
                    restartDegraded(); // the plan read too little to reconstruct the member that failed
                    return;
                }
                if (io.sync != 0) {
                    computeSync(io);
                    return;
                }
                compute();
                return;
            }
            done(Long.bitCount(failed.get()) > redundancy ? -Errno.EIO : 0);
        }

        /** A sync step reads the whole chunk row of every member it can trust. */
        private void runSync(Io o) {
            phase = READING;
            lo = 0;
            hi = chunkBytes;
            for (int d = 0; d < n; d++) {
                wStart[d] = 0;
                wEnd[d] = 0;
                blk[d] = ch.ctx.buffers().allocate(chunkBytes);
                old[d] = null;
            }
            rmw = false;
            badMask = o.badMask;
            lost = failed.get() | badMask | recoveringAt(stripe);
            if (Long.bitCount(lost) > redundancy || (o.sync != SYNC_RECOVER && lost != 0)) {
                done(-Errno.EIO); // check/repair need every member; a rebuild needs enough of them
                return;
            }
            readMask = ~lost & ((1L << n) - 1);
            phase = READING;
            pending = 1;
            for (int d = 0; d < n; d++) {
                if ((readMask & (1L << d)) != 0) {
                    pending++;
                    BdevRequest m = ch.ctx.request();
                    m.prepareRead(memberOffset(stripe * parity.chunkSectors()), chunkBytes, blk[d], 0).callback(this, tag(d));
                    members[d].submit(m);
                }
            }
            step();
        }

        /** After a sync step's reads: rebuild lost roles, or compare (and fix) the parity. */
        private void computeSync(Io o) {
            long len = chunkBytes;
            int pd = parity.parityDisk(stripe);
            int qd = parity.qDisk(stripe);
            writeMask = 0;
            if (lost != 0) {
                reconstruct(lost, len);
                writeMask = lost & ~failed.get(); // the roles being rebuilt, and members whose read failed
            } else {
                MemorySegment p = ch.ctx.buffers().allocate(len);
                MemorySegment q = qd >= 0 ? ch.ctx.buffers().allocate(len) : null;
                MemorySegment oldP = blk[pd];
                MemorySegment oldQ = qd >= 0 ? blk[qd] : null;
                blk[pd] = p;
                if (qd >= 0) {
                    blk[qd] = q;
                }
                generate(len, pd, qd);
                boolean mismatch = p.mismatch(oldP) >= 0 || (q != null && q.mismatch(oldQ) >= 0);
                ch.ctx.buffers().release(oldP);
                if (oldQ != null) {
                    ch.ctx.buffers().release(oldQ);
                }
                if (mismatch) {
                    o.syncResult = 1;
                    if (o.sync == SYNC_REPAIR) {
                        writeMask = (1L << pd) | (qd >= 0 ? 1L << qd : 0);
                    }
                }
            }
            phase = WRITING;
            pending = 1;
            for (int d = 0; d < n; d++) {
                if ((writeMask & (1L << d)) != 0) {
                    pending++;
                    BdevRequest m = ch.ctx.request();
                    m.prepareWrite(memberOffset(stripe * parity.chunkSectors()), len, blk[d], 0, 0).callback(this, tag(d));
                    members[d].submit(m);
                }
            }
            step();
        }

        /** A read failed during a partial read plan: read every survivor and reconstruct instead. */
        private void restartDegraded() {
            Io o = io;
            o.badMask |= badMask;
            releaseBuffers();
            run();
        }

        private void compute() {
            Io o = io;
            long len = hi - lo;
            boolean write = o.up.op() == BdevOp.WRITE;
            int pd = parity.parityDisk(stripe);
            int qd = parity.qDisk(stripe);
            long rel0 = o.dataOff - (o.up.offset() - stripe * parity.dataDisks() * chunkBytes);
            if (rmw) {
                rmwCompute(o, len, pd, qd, rel0);
            } else {
                if (lost != 0) {
                    reconstruct(lost, len);
                }
                if (!write) {
                    copyOut(o, rel0);
                } else {
                    overlay(o, rel0);
                    generate(len, pd, qd);
                }
            }
            long ok = ~failed.get() & ((1L << n) - 1);
            writeMask = 0;
            if (write) {
                for (int d = 0; d < n; d++) {
                    if (wEnd[d] > wStart[d] || d == pd || d == qd) {
                        writeMask |= 1L << d;
                    }
                }
            }
            writeMask |= badMask; // repair what failed to read
            writeMask &= ok;
            phase = WRITING;
            pending = 1;
            int fua = o.up.flags() & BdevOp.FLAG_FUA;
            for (int d = 0; d < n; d++) {
                if ((writeMask & (1L << d)) != 0) {
                    pending++;
                    BdevRequest m = ch.ctx.request();
                    m.prepareWrite(memberOffset(stripe * parity.chunkSectors()) + lo, len, blk[d], 0, fua)
                            .callback(this, tag(d));
                    members[d].submit(m);
                }
            }
            step();
        }

        /** Copies the request's new data into the data members' blocks. */
        private void overlay(Io o, long dataOffset) {
            long chunk = chunkBytes;
            for (int d = 0; d < n; d++) {
                if (wEnd[d] > wStart[d]) {
                    int col = parity.dataIndexOf(stripe, d);
                    MemorySegment.copy(o.data, dataOffset + col * chunk + wStart[d], blk[d], wStart[d] - lo,
                            wEnd[d] - wStart[d]);
                }
            }
        }

        private void copyOut(Io o, long dataOffset) {
            long chunk = chunkBytes;
            for (int d = 0; d < n; d++) {
                if (wEnd[d] > wStart[d]) {
                    int col = parity.dataIndexOf(stripe, d);
                    MemorySegment.copy(blk[d], wStart[d] - lo, o.data, dataOffset + col * chunk + wStart[d],
                            wEnd[d] - wStart[d]);
                }
            }
        }

        /** P (and Q) from the data members' blocks. */
        private void generate(long len, int pd, int qd) {
            if (qd < 0) {
                int k = 0;
                for (int d = 0; d < n; d++) {
                    if (d != pd) {
                        src[k++] = blk[d];
                    }
                }
                ch.engine.xor(src, k, blk[pd], len);
            } else {
                int count = parity.syndromeSources(stripe, blk, ch.zero, slots);
                ch.engine.pq(slots, count, blk[pd], blk[qd], len);
            }
        }

        /**
         * Read-modify-write: old data and parity were read into {@code old}. New parity is old
         * parity plus the parity of (old XOR new) of the written members, which is linear: RAID5
         * folds old parity, old data and new data with one XOR; RAID6 adds the P/Q of the old and
         * of the new written blocks (other slots zero) to the old P/Q.
         */
        private void rmwCompute(Io o, long len, int pd, int qd, long dataOffset) {
            for (int d = 0; d < n; d++) {
                if (wEnd[d] > wStart[d]) {
                    MemorySegment.copy(old[d], 0, blk[d], 0, len);
                }
            }
            overlay(o, dataOffset);
            if (qd < 0) {
                int k = 0;
                src[k++] = old[pd];
                for (int d = 0; d < n; d++) {
                    if (wEnd[d] > wStart[d]) {
                        src[k++] = old[d];
                        src[k++] = blk[d];
                    }
                }
                ch.engine.xor(src, k, blk[pd], len);
                return;
            }
            for (int i = 0; i < 4; i++) {
                scratch[i] = ch.ctx.buffers().allocate(len);
            }
            MemorySegment[] oldData = src;
            for (int d = 0; d < n; d++) {
                oldData[d] = wEnd[d] > wStart[d] ? old[d] : ch.zero;
            }
            int count = parity.syndromeSources(stripe, oldData, ch.zero, slots);
            ch.engine.pq(slots, count, scratch[0], scratch[1], len);
            for (int d = 0; d < n; d++) {
                oldData[d] = wEnd[d] > wStart[d] ? blk[d] : ch.zero;
            }
            count = parity.syndromeSources(stripe, oldData, ch.zero, slots);
            ch.engine.pq(slots, count, scratch[2], scratch[3], len);
            src[0] = old[pd];
            src[1] = scratch[0];
            src[2] = scratch[2];
            ch.engine.xor(src, 3, blk[pd], len);
            src[0] = old[qd];
            src[1] = scratch[1];
            src[2] = scratch[3];
            ch.engine.xor(src, 3, blk[qd], len);
            for (int i = 0; i < 4; i++) {
                ch.ctx.buffers().release(scratch[i]);
                scratch[i] = null;
            }
        }

        /** Rebuilds the blocks of the members in {@code bad} (at most the array's redundancy) from the rest. */
        private void reconstruct(long bad, long len) {
            int pd = parity.parityDisk(stripe);
            int qd = parity.qDisk(stripe);
            if (qd < 0) {
                int m = Long.numberOfTrailingZeros(bad);
                int k = 0;
                for (int d = 0; d < n; d++) {
                    if (d != m) {
                        src[k++] = blk[d];
                    }
                }
                ch.engine.xor(src, k, blk[m], len);
                return;
            }
            boolean pLost = (bad & (1L << pd)) != 0;
            boolean qLost = (bad & (1L << qd)) != 0;
            long dataLost = bad & ~(1L << pd) & ~(1L << qd);
            int count = parity.syndromeSources(stripe, blk, ch.zero, slots);
            int lost = Long.bitCount(dataLost);
            if (lost == 0) {
                ch.engine.pq(slots, count, blk[pd], blk[qd], len);
                return;
            }
            int a = Long.numberOfTrailingZeros(dataLost);
            int sa = parity.syndromeSlot(stripe, a);
            if (lost == 2) {
                int b = 63 - Long.numberOfLeadingZeros(dataLost);
                int sb = parity.syndromeSlot(stripe, b);
                Raid6Recovery.twoData(slots, count, Math.min(sa, sb), Math.max(sa, sb), blk[pd], blk[qd], len);
            } else if (pLost) {
                Raid6Recovery.dataAndP(slots, count, sa, blk[pd], blk[qd], len);
            } else if (qLost) {
                Raid6Recovery.dataAndQ(slots, count, sa, blk[pd], blk[qd], len);
            } else {
                Raid6Recovery.dataFromP(slots, count, sa, blk[pd], len);
            }
        }

        private void releaseBuffers() {
            for (int d = 0; d < n; d++) {
                if (blk[d] != null) {
                    ch.ctx.buffers().release(blk[d]);
                    blk[d] = null;
                }
                if (old[d] != null) {
                    ch.ctx.buffers().release(old[d]);
                    old[d] = null;
                }
            }
        }

        private void done(int st) {
            long bad = badMask & ~failed.get();
            if (st == 0 && bad != 0 && phase == WRITING) {
                LOG.info("{}: repaired stripe {} on role(s) {} after read errors", name(), stripe, Long.toBinaryString(bad));
            }
            releaseBuffers();
            Io o = io;
            if (o.sync == SYNC_RECOVER && st == 0 && (recovering & failed.get()) != 0) {
                st = -Errno.EIO; // the role being rebuilt failed a write: this rebuild is over
            }
            if (o.sync == SYNC_RECOVER && st == 0 && stripe == recoveryStripe && recovering != 0) {
                recoveryStripe = stripe + 1; // under the stripe's lock: later operations on it trust the rebuilt role
            }
            io = null;
            unlock();
            nextFree = ch.freeStripe;
            ch.freeStripe = this;
            o.finish(st);
        }
    }

    @Override
    public String toString() {
        return name() + " (" + geometry.level().mdadmName() + ", " + members.length + " members, failed mask 0x"
                + Long.toHexString(failed.get()) + ")";
    }

}
