package org.orionos.host.raid;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.bdev.BdevClient;
import org.orionos.host.bdev.BlockDevice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Growing an md array and changing its level while it is in use, with md's semantics and md's
 * superblock fields, so {@code mdadm --examine} reads a reshape in progress and md assembles the
 * result.
 *
 * <p>Takeovers move no data: a 2-member RAID1 is a 2-member RAID5 (left-symmetric: each stripe's
 * one data chunk and its parity, a copy, on the two members at the same offset), so only the
 * superblocks change (md's raid5 takeover of raid1 picks the chunk the same way: the largest power
 * of two up to 64 KiB dividing the member size). RAID5 to RAID6 becomes md's {@code *-6} layout:
 * the RAID5 layout over the old members with Q on one added last member, which is then rebuilt
 * like any missing member (what mdadm does with {@code --layout=preserve}; the relayout to a
 * rotating-Q RAID6 that mdadm does by default is not implemented).
 *
 * <p>Growing RAID5/6 by members is md's reshape with {@code new_offset}: the new geometry starts
 * {@code gap} sectors lower on every member (at most four chunks and half the room left above the
 * bitmap, so later grows fit too; at least one). The reshape copies the array forwards, one window of whole new stripes at a time (gap /
 * chunk stripes), from the old geometry to the new one. Because the new layout packs more data
 * per stripe and starts lower, a window written in the new geometry never overlaps the old
 * location of data not yet copied: with the window ending at array byte e and starting at p (a
 * new-stripe boundary), its highest member sector is newOffset + (e / newStripeBytes) * chunk ≤
 * oldOffset + (p / oldStripeBytes) * chunk, the start of the old stripe holding p. So there is no
 * critical section and no backup file: after a crash the old copy of the window is intact and
 * the window is simply copied again. Each window is flushed, then {@code reshape_position} (array
 * sectors, md's unit) is written to every superblock, and only then may requests use the new
 * geometry there; beyond the old end the new stripes are written with zeros and their parity.
 * Foreground I/O is routed by {@link ReshapeRouter}.
 *
 * <p>While the geometry changes the write-intent bitmap is not used per region: every bit is set
 * on disk (so a crash means a full resync, as md without a bitmap), and after a reshape resumed
 * from a crash the whole array is resynced once it is done. A member failing mid-reshape fails in
 * both geometries and the copy goes on degraded (a spare takes the role afterwards). What is not
 * done: shrinking, starting a reshape degraded, resuming one with a stale member, changing
 * layout or chunk size, backwards reshapes and mdadm's backup-file reshapes (refused at assembly).
 */
final class MdReshape {
    private static final Logger LOG = LoggerFactory.getLogger(MdReshape.class);
    private static final int RESHAPE_FEATURES = MdSuperblock1.MD_FEATURE_RESHAPE_ACTIVE | MdSuperblock1.MD_FEATURE_NEW_OFFSET;

    /**
     * Test hook: runs on the worker at "copied" (window in the new geometry, position not recorded),
     * "recorded", and "done" (the final superblocks written, the bitmap headers not yet).
     */
    interface Hook {
        void at(String point, long arrayBytes);
    }

    static volatile Hook testHook;

    private final MdArray array;
    private final ReshapeRouter router;
    private final RaidBdev prev;
    private final RaidBdev next;
    private final long oldOffset;
    private final long newOffset;
    private final long oldBytes;
    private final long newBytes;
    private final long windowBytes;
    private final boolean resyncAfter;
    private volatile long pos;
    private volatile boolean done;

    private MdReshape(MdArray array, ReshapeRouter router, RaidBdev prev, RaidBdev next, long oldOffset, long newOffset,
                      long pos, boolean resyncAfter) {
        this.array = array;
        this.router = router;
        this.prev = prev;
        this.next = next;
        this.oldOffset = oldOffset;
        this.newOffset = newOffset;
        this.oldBytes = prev.geometry().arraySectors() * 512;
        this.newBytes = next.geometry().arraySectors() * 512;
        ParityGeometry g = (ParityGeometry) next.geometry();
        this.windowBytes = (oldOffset - newOffset) / g.chunkSectors() * g.dataDisks() * g.chunkSectors() * 512L;
        this.pos = pos;
        this.resyncAfter = resyncAfter;
        // A member failing in either geometry fails in both (each then reconstructs it) and in the superblocks;
        // the copy goes on degraded, as md's does.
        // The worker runs the copy, so the superblocks record the failure between windows (recordFailures).
        int oldDisks = prev.geometry().raidDisks();
        prev.onMemberFailed(role -> {
            next.markFailed(role, "failed in the old geometry");
            failedRoles.getAndUpdate(m -> m | 1L << role);
        });
        next.onMemberFailed(role -> {
            if (role < oldDisks) {
                prev.markFailed(role, "failed in the new geometry");
            }
            failedRoles.getAndUpdate(m -> m | 1L << role);
        });
    }

    /** Roles that failed during the reshape (reactors set them), and those the superblocks already record (worker). */
    private final java.util.concurrent.atomic.AtomicLong failedRoles = new java.util.concurrent.atomic.AtomicLong();
    private long recordedRoles;

    /** Worker: writes the failures seen since the last call into the superblocks. */
    private void recordFailures() {
        long f = failedRoles.get() & ~recordedRoles;
        for (; f != 0; f &= f - 1) {
            int role = Long.numberOfTrailingZeros(f);
            recordedRoles |= 1L << role;
            array.recordFailure(role);
        }
    }

    /** Whether the copy reached the end (the new geometry serves everything). */
    boolean done() {
        return done;
    }

    /** The geometry the array is being reshaped to. */
    RaidGeometry target() {
        return next.geometry();
    }

    /** The device in role {@code role} of the new geometry. */
    BlockDevice member(int role) {
        return next.member(role);
    }

    /** Array bytes already in the new geometry. */
    long position() {
        return pos;
    }

    // ------------------------------------------------------------------------------ resume at assembly

    /** A reshape recorded in the superblocks, as orion resumes it. */
    record Resume(ParityGeometry oldGeometry, ParityGeometry newGeometry, long oldOffset, long newOffset, long pos) {
        int oldDisks() {
            return oldGeometry.raidDisks();
        }

        /**
         * The reshape {@code fresh} records, or null when none is; refuses, before anything is
         * written, the reshapes md can record but orion does not resume.
         */
        static Resume of(MdSuperblock1 fresh, String name) {
            if ((fresh.featureMap & MdSuperblock1.MD_FEATURE_RESHAPE_ACTIVE) == 0) {
                return null;
            }
            RaidLevel level = RaidLevel.ofMdLevel(fresh.level);
            String why = null;
            if ((fresh.featureMap & MdSuperblock1.MD_FEATURE_RESHAPE_BACKWARDS) != 0) {
                why = "it runs backwards";
            } else if ((fresh.featureMap & MdSuperblock1.MD_FEATURE_NEW_OFFSET) == 0 || fresh.newOffset >= 0) {
                why = "it does not move the data offset down (mdadm's backup-file reshape)";
            } else if (fresh.deltaDisks <= 0) {
                why = "it does not add members";
            } else if (fresh.newLevel != fresh.level || fresh.newLayout != fresh.layout || fresh.newChunk != fresh.chunksize) {
                why = "it changes level, layout or chunk size";
            } else if (level != RaidLevel.RAID5 && level != RaidLevel.RAID6) {
                why = "orion reshapes raid5 and raid6 only";
            }
            if (why != null) {
                throw new ErrnoException(Errno.EOPNOTSUPP, "raid assemble", name, "a reshape is in progress that orion"
                        + " cannot resume: " + why + "; let md finish it (mdadm --assemble continues it) first");
            }
            ParityLayout layout = ParityLayout.ofMdNumber(fresh.layout);
            int oldDisks = fresh.raidDisks - fresh.deltaDisks;
            long[] oldSizes = new long[oldDisks];
            long[] newSizes = new long[fresh.raidDisks];
            Arrays.fill(oldSizes, fresh.size);
            Arrays.fill(newSizes, fresh.size);
            return new Resume(ParityGeometry.of(level, layout, fresh.chunksize, oldSizes),
                    ParityGeometry.of(level, layout, fresh.chunksize, newSizes), fresh.dataOffset,
                    fresh.dataOffset + fresh.newOffset, fresh.reshapePosition * 512);
        }

        /**
         * A member one checkpoint behind (the crash hit while the superblocks were being written):
         * its data is where the freshest superblock says, so it is current, not stale.
         */
        boolean trusts(MdSuperblock1 sb, MdSuperblock1 fresh) {
            return (sb.featureMap & MdSuperblock1.MD_FEATURE_RESHAPE_ACTIVE) != 0 && sb.events + 1 == fresh.events
                    && sb.reshapePosition <= fresh.reshapePosition && sb.raidDisks == fresh.raidDisks;
        }

        /**
         * Refuses members that would have to be rebuilt in the middle of the reshape (stale or
         * being rebuilt); missing members are fine up to the level's redundancy (the reshape then
         * goes on degraded and a spare is rebuilt once it is done), as md continues a degraded reshape.
         */
        void requireComplete(BlockDevice[] roleDev, List<BlockDevice> stale, BlockDevice recovering) {
            if (!stale.isEmpty() || recovering != null) {
                BlockDevice d = recovering != null ? recovering : stale.get(0);
                throw new ErrnoException(Errno.EOPNOTSUPP, "raid assemble", d.name(), "a reshape is in progress and "
                        + d.name() + (recovering != null ? " was being rebuilt" : " is stale (event count behind)")
                        + "; orion resumes a reshape only with current or missing members: leave it out, let the"
                        + " reshape finish degraded, then add it back as a spare");
            }
        }
    }

    /**
     * Assembly, md's rule that the freshest superblock is the truth: a member whose superblock
     * still records this array's new-offset reshape at its end position missed only the final
     * "reshape done" write (a crash in the middle of those writes), so its data already sits at
     * the new offset in the new geometry. Its superblock is completed in memory as
     * {@link #finish} writes it (data offset, data size, reshape fields cleared) and, when it is
     * exactly that one write behind, takes the fresh event count; the caller writes it with the
     * others. Returns whether {@code sb} was completed.
     */
    static boolean completeFinished(MdSuperblock1 sb, MdSuperblock1 fresh, String name, String dev) {
        if ((fresh.featureMap & MdSuperblock1.MD_FEATURE_RESHAPE_ACTIVE) != 0
                || (sb.featureMap & RESHAPE_FEATURES) != RESHAPE_FEATURES || sb.newOffset >= 0
                || sb.dataOffset + sb.newOffset != fresh.dataOffset || sb.raidDisks != fresh.raidDisks
                || sb.level != fresh.level || sb.layout != fresh.layout || sb.chunksize != fresh.chunksize
                || Long.compareUnsigned(sb.events, fresh.events) >= 0) {
            return false;
        }
        Resume r;
        try {
            r = Resume.of(sb, name);
        } catch (ErrnoException e) {
            return false; // not a reshape orion writes: left to the usual checks
        }
        if (r == null || r.pos() < r.newGeometry().arraySectors() * 512) {
            return false; // stopped before the end: the fresh superblocks cannot say it is done
        }
        endReshape(sb, sb.dataOffset + sb.newOffset, -sb.newOffset);
        boolean current = sb.events + 1 == fresh.events;
        if (current) {
            sb.events = fresh.events; // it missed exactly the "reshape done" write: as current as the others
        }
        LOG.warn("{}: {} still recorded the finished reshape (a crash during the final superblock writes): completed"
                + " to data offset {}{}", name, dev, sb.dataOffset, current ? "" : "; its event count is older still: stale");
        return true;
    }

    /** Assembly: routes the front through both geometries at the recorded position; the copy runs later ({@link #run}). */
    static MdReshape resume(MdArray a, Resume info, BlockDevice[] roleDev) {
        for (int r = info.oldDisks(); r < roleDev.length; r++) {
            if (roleDev[r] != null) {
                a.claimMember(roleDev[r], r);
            }
        }
        RaidBdev prev = new RaidBdev(a.name() + "(old)", info.oldGeometry(), Arrays.copyOf(roleDev, info.oldDisks()),
                info.oldOffset() * 512, false);
        RaidBdev next = new RaidBdev(a.name() + "(new)", info.newGeometry(), roleDev, info.newOffset() * 512, false);
        // Members one checkpoint behind (trusts) get the freshest position before any request can use it.
        a.editSuperblocks(sb -> sb.reshapePosition = info.pos() / 512, null);
        ReshapeRouter router = new ReshapeRouter(a.ctx());
        a.bdev().route(router); // no request has reached the front yet
        MdArray.await(router.reshape(prev, next, info.pos()), "raid reshape", a.name());
        MdReshape r = new MdReshape(a, router, prev, next, info.oldOffset(), info.newOffset(), info.pos(), a.resyncOwed());
        a.reshape(r);
        LOG.info("{}: reshape {} -> {} devices in progress at {}% (sector {}); it continues", a.name(), info.oldDisks(),
                roleDev.length, String.format("%.1f", 100.0 * info.pos() / Math.max(1, r.newBytes)), info.pos() / 512);
        return r;
    }

    // ------------------------------------------------------------------------------ grow (worker thread)

    /** Worker: checks {@code o} against the array (nothing written on refusal), then takes over and/or starts the reshape. */
    static void grow(MdArray a, MdArray.GrowOptions o) {
        String name = a.name();
        MdReshape running = a.reshape();
        boolean nothing = o.level() == null && o.raidDevices() == 0 && o.add().isEmpty();
        if (running != null && !running.done()) {
            if (nothing) {
                a.later(running::run); // mdadm --grow --continue
                return;
            }
            throw refuse(Errno.EBUSY, name, "a reshape is in progress (" + running.pos / 512 + " sectors done); let it"
                    + " finish first (orion raid grow " + name + " without options continues a stopped one)");
        }
        RaidBdev cur = a.current();
        RaidGeometry g = cur.geometry();
        RaidLevel from = g.level();
        RaidLevel to = o.level() == null ? from : o.level();
        int n = g.raidDisks();
        if (nothing) {
            throw refuse(Errno.EINVAL, name, "nothing to do: give --raid-devices, --level or --add");
        }
        if (cur.failedMask() != 0 || cur.recoveringMask() != 0) {
            throw refuse(Errno.EBUSY, name, "the array is degraded or rebuilding; grow it once it is in sync");
        }
        MdArray.Progress p = a.progress();
        if (p != null && p.running()) {
            throw refuse(Errno.EBUSY, name, "a " + p.kind() + " is running; grow once it has finished");
        }
        if (a.resyncOwed()) {
            // md's raid5_start_reshape refuses too (recovery_cp < MaxSector): parity must be consistent first.
            throw refuse(Errno.EBUSY, name, "the array is not in sync (a resync is pending); let a host"
                    + " (orion serve) finish the resync first, as md reshapes only an array in sync");
        }
        boolean to5 = from == RaidLevel.RAID1 && to == RaidLevel.RAID5;
        boolean to6 = from == RaidLevel.RAID5 && to == RaidLevel.RAID6;
        if (from != to && !to5 && !to6) {
            throw refuse(Errno.EINVAL, name, levelChange(from, to));
        }
        if (from == to && from != RaidLevel.RAID5 && from != RaidLevel.RAID6) {
            throw refuse(Errno.EOPNOTSUPP, name, "orion reshapes raid5 and raid6 only (md can also add mirrors to raid1"
                    + " and reshape raid10; use orion raid add for raid1 spares)");
        }
        if (to5 && n != 2) {
            throw refuse(Errno.EINVAL, name, "md converts raid1 to raid5 only with 2 members (a 2-member raid5 has the same"
                    + " data layout); this one has " + n + ": remove mirrors first");
        }
        int base = to5 ? 2 : to6 ? n + 1 : n;
        int target = o.raidDevices() > 0 ? o.raidDevices() : base;
        if (to6 && target != n + 1) {
            throw refuse(Errno.EINVAL, name, "md converts raid5 to raid6 by adding exactly one member for Q: --raid-devices "
                    + (n + 1) + "; change the member count in a separate grow");
        }
        if (target < base) {
            throw refuse(Errno.EOPNOTSUPP, name, "--raid-devices " + target + " would shrink the array (" + n + " members);"
                    + " md shrinks only after --array-size is reduced, and orion does not shrink");
        }
        if (!to5 && !to6 && target == n) {
            throw refuse(Errno.EINVAL, name, "nothing to do: the array already has " + n + " members");
        }
        if (target > 64) {
            throw refuse(Errno.EINVAL, name, "at most 64 members");
        }
        int needed = target - (to5 ? 2 : n);
        BdevClient c = a.host().client();
        long oldOffset = cur.dataOffsetBytes() / 512;
        long need = oldOffset + g.memberSectors();
        if (o.add().size() > needed) {
            throw refuse(Errno.EINVAL, name, o.add().size() + " devices given to add, the grow uses " + needed
                    + "; add the others as spares (orion raid add)");
        }
        for (int i = 0; i < o.add().size(); i++) {
            BlockDevice d = o.add().get(i);
            for (int j = 0; j < i; j++) {
                if (o.add().get(j) == d) {
                    throw refuse(Errno.EINVAL, name, d.name() + " is listed twice");
                }
            }
            MdArray.requireUnclaimed(d, name);
            if (d.sizeBytes() / 512 < need) {
                throw refuse(Errno.EINVAL, d.name(), d.name() + " holds " + d.sizeBytes() + " bytes; members of " + name
                        + " need " + need * 512);
            }
            MdSuperblock1 old = MdArray.readSuperblock(c, d);
            if (old != null) {
                throw refuse(Errno.EBUSY, d.name(), d.name() + " already carries an md superblock of array " + old.setName
                        + "; wipe it (mdadm --zero-superblock) before adding it");
            }
        }
        if (a.spares().size() < needed - o.add().size()) {
            throw refuse(Errno.EINVAL, name, "growing to " + target + " members needs " + needed + " more device(s); "
                    + o.add().size() + " given with --add and " + a.spares().size() + " spare(s)");
        }
        int chunk = g.chunkSectors();
        if (to5) {
            chunk = 128;
            while (chunk >= 8 && g.memberSectors() % chunk != 0) {
                chunk >>= 1;
            }
            if (chunk < 8) {
                throw refuse(Errno.EINVAL, name, "the member size (" + g.memberSectors() + " sectors) is not a multiple of 4 KiB,"
                        + " so no raid5 chunk divides it");
            }
        }
        boolean grows = target > base;
        long gap = 0;
        if (grows) {
            MdSuperblock1 sb = a.anySuperblock();
            long low = MdSuperblock1.SUPER_OFFSET_1_2 + 8; // the superblock's 4 KiB
            long bm = MdArray.bitmapPos(sb);
            if (bm >= 0) {
                MdBitmap b = MdArray.readBitmap(c, a.current().member(0), bm);
                low = bm / 512 + (b.byteSize() + 511) / 512;
            }
            low = (low + 7) / 8 * 8;
            long room = oldOffset - low;
            // At most half of the room left, so later grows find room too (one chunk when that is all there is).
            gap = Math.min(4L * chunk, Math.max(room / 2 / chunk, Math.min(1, room / chunk)) * chunk);
            if (gap < chunk) {
                throw refuse(Errno.ENOSPC, name, "data_offset " + oldOffset + " leaves " + Math.max(0, room) + " sectors above the"
                        + " superblock and bitmap; a reshape moves the data down by at least one chunk (" + chunk
                        + " sectors, md's new_offset), and md would otherwise need a backup file, which orion does not"
                        + " implement: grow with a smaller chunk (arrays orion or mdadm create on larger members leave more headroom: about"
                        + " 0.1% of the member, up to 128 MiB)");
            }
        }
        // ---- nothing was written above this line
        List<BlockDevice> adds = new ArrayList<>(o.add());
        if (to5) {
            long[] sizes = {g.memberSectors(), g.memberSectors()};
            ParityGeometry r5 = ParityGeometry.of(RaidLevel.RAID5, ParityLayout.LEFT_SYMMETRIC, chunk, sizes);
            int ch = chunk;
            takeover(a, r5, new BlockDevice[] {cur.member(0), cur.member(1)}, sb -> {
                sb.level = 5;
                sb.layout = ParityLayout.LEFT_SYMMETRIC.mdNumber();
                sb.chunksize = ch;
            }, "takeover raid1 -> raid5");
        }
        if (to6) {
            ParityLayout l5 = ((ParityGeometry) g).layout();
            ParityLayout l6 = switch (l5) {
                case LEFT_ASYMMETRIC -> ParityLayout.LEFT_ASYMMETRIC_6;
                case RIGHT_ASYMMETRIC -> ParityLayout.RIGHT_ASYMMETRIC_6;
                case LEFT_SYMMETRIC -> ParityLayout.LEFT_SYMMETRIC_6;
                case RIGHT_SYMMETRIC -> ParityLayout.RIGHT_SYMMETRIC_6;
                case PARITY_0 -> ParityLayout.PARITY_0_6;
                default -> ParityLayout.PARITY_N; // md's PARITY_N keeps P then Q on the last members
            };
            long[] sizes = new long[n + 1];
            Arrays.fill(sizes, g.memberSectors());
            ParityGeometry r6 = ParityGeometry.of(RaidLevel.RAID6, l6, g.chunkSectors(), sizes);
            BlockDevice[] members = Arrays.copyOf(a.roleDevices(n), n + 1);
            takeover(a, r6, members, sb -> {
                sb.level = 6;
                sb.layout = l6.mdNumber();
                sb.raidDisks = n + 1;
            }, "takeover raid5 -> raid6 (" + l6.mdadmName() + ")");
            BlockDevice q = adds.isEmpty() ? a.takeSpare() : adds.get(0);
            a.later(() -> { // after grow() returned: Q is built in the background like any rebuild
                try {
                    if (!adds.isEmpty()) {
                        a.addSpareNow(q); // its superblock, as a spare of the raid6 now
                    }
                    a.rebuildOnto(q, n);
                } catch (RuntimeException e) {
                    LOG.error("{}: raid6 without Q on role {} (degraded): adding {} failed: {}; add a spare to rebuild it",
                            name, n, q.name(), e.getMessage());
                }
            });
            return;
        }
        if (grows) {
            startGrow(a, target, adds, gap);
        }
    }

    private static String levelChange(RaidLevel from, RaidLevel to) {
        if (from == RaidLevel.RAID1 && to == RaidLevel.RAID6) {
            return "md cannot convert raid1 to raid6 directly: convert to raid5 first (--level 5), then to raid6";
        }
        if (from == RaidLevel.RAID0 || from == RaidLevel.RAID10 || to == RaidLevel.RAID0 || to == RaidLevel.RAID10) {
            return "md converts " + from.mdadmName() + " to " + to.mdadmName() + " only through degraded intermediate"
                    + " arrays; orion does not implement that conversion";
        }
        if (from.mdLevel() > to.mdLevel()) {
            return "converting " + from.mdadmName() + " down to " + to.mdadmName() + " is not implemented by orion (md"
                    + " does it only from 2-member raid5 or the raid6 *-6 layouts); back the data up and re-create";
        }
        return "md cannot convert " + from.mdadmName() + " to " + to.mdadmName();
    }

    private static ErrnoException refuse(int errno, String target, String why) {
        return new ErrnoException(errno, "raid grow", target, why);
    }

    /**
     * Parks every request on the front until the geometry is switched: installs the router on a
     * front that served itself and waits for its requests, or stops forwarding and waits for the
     * forwarded ones.
     */
    private static ReshapeRouter quiesce(MdArray a) {
        RaidBdev front = a.bdev();
        ReshapeRouter r = front.router();
        long end = System.nanoTime() + 30_000_000_000L;
        if (r == null) {
            r = new ReshapeRouter(a.ctx());
            front.route(r);
            while (!front.ownIdle()) {
                spin(end, a.name());
            }
        } else {
            r.stopForwarding();
            while (!r.forwardsIdle()) {
                spin(end, a.name());
            }
        }
        MdArray.await(r.park(), "raid reshape", a.name());
        return r;
    }

    private static void spin(long end, String name) {
        if (System.nanoTime() > end) {
            throw new ErrnoException(Errno.ETIMEDOUT, "raid reshape", name, "I/O did not drain within 30 s");
        }
        Thread.onSpinWait();
        Thread.yield();
    }

    /** The device serving the current geometry that a router may send to: never the front itself. */
    private static RaidBdev servingCopy(MdArray a) {
        RaidBdev cur = a.current();
        if (cur != a.bdev()) {
            return cur;
        }
        RaidGeometry g = cur.geometry();
        BlockDevice[] m = new BlockDevice[g.raidDisks()];
        for (int d = 0; d < m.length; d++) {
            m[d] = cur.member(d);
        }
        return new RaidBdev(a.name() + "(cur)", g, m, cur.dataOffsetBytes(), false);
    }

    /** Switches to {@code g} over {@code members} with no data moved; the superblocks say so before any request uses it. */
    private static void takeover(MdArray a, RaidGeometry g, BlockDevice[] members,
                                 java.util.function.Consumer<MdSuperblock1> edit, String reason) {
        RaidBdev next = new RaidBdev(a.name() + "(" + g.level().mdadmName() + ")", g, members,
                a.current().dataOffsetBytes(), false);
        a.dropIntent(); // the bitmap's regions are not tracked through the new device: every bit set
        ReshapeRouter r = quiesce(a);
        try {
            a.editSuperblocks(edit, reason);
        } catch (RuntimeException e) {
            MdArray.await(r.release(servingCopy(a)), "raid reshape", a.name());
            throw e;
        }
        MdArray.await(r.release(next), "raid reshape", a.name());
        a.serveWith(next);
        LOG.info("{}: {}: now {} over {} members", a.name(), reason, g.level().mdadmName(), g.raidDisks());
    }

    private static void startGrow(MdArray a, int target, List<BlockDevice> adds, long gap) {
        RaidBdev cur = a.current();
        ParityGeometry oldG = (ParityGeometry) cur.geometry();
        int n = oldG.raidDisks();
        long oldOffset = cur.dataOffsetBytes() / 512;
        long newOffset = oldOffset - gap;
        long[] sizes = new long[target];
        Arrays.fill(sizes, oldG.memberSectors());
        ParityGeometry newG = ParityGeometry.of(oldG.level(), oldG.layout(), oldG.chunkSectors(), sizes);
        for (int r = n; r < target; r++) {
            BlockDevice d = r - n < adds.size() ? adds.get(r - n) : a.takeSpare();
            a.addMember(d, r, oldOffset + oldG.memberSectors());
        }
        BlockDevice[] members = a.roleDevices(target);
        a.dropIntent();
        ReshapeRouter router = quiesce(a);
        RaidBdev prev = servingCopy(a);
        RaidBdev next = new RaidBdev(a.name() + "(new)", newG, members, newOffset * 512, false);
        try {
            a.editSuperblocks(sb -> {
                sb.featureMap |= RESHAPE_FEATURES;
                sb.raidDisks = target;
                sb.deltaDisks = target - n;
                sb.newLevel = sb.level;
                sb.newLayout = sb.layout;
                sb.newChunk = sb.chunksize;
                sb.newOffset = (int) (newOffset - oldOffset);
                sb.reshapePosition = 0;
            }, "reshape " + n + " -> " + target + " devices started");
        } catch (RuntimeException e) {
            MdArray.await(router.release(prev), "raid reshape", a.name());
            throw e;
        }
        MdArray.await(router.reshape(prev, next, 0), "raid reshape", a.name());
        MdReshape r = new MdReshape(a, router, prev, next, oldOffset, newOffset, 0, false);
        a.reshape(r);
        LOG.info("{}: reshape {} -> {} devices: data offset {} -> {} sectors, {} KiB per window, at most {} MB/s", a.name(),
                n, target, oldOffset, newOffset, r.windowBytes / 1024, a.syncBytesPerSec() / 1_000_000);
        a.later(r::run);
    }

    // ------------------------------------------------------------------------------ the copy (worker thread)

    /** Worker: copies window after window until the end, or until the array closes or an I/O error stops it. */
    void run() {
        if (done) {
            return;
        }
        BdevClient c = array.host().client();
        String name = array.name();
        long startPos = pos;
        long start = System.nanoTime();
        long lastLog = start;
        // Counted over the whole reshape: after a resume the windows copied before the crash are done already.
        long total = (newBytes + windowBytes - 1) / windowBytes;
        long prior = startPos / windowBytes;
        array.progress(new MdArray.Progress("reshape", name, prior, total, windowBytes, start, start, true, prior));
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(windowBytes, 4096);
            MdArray.await(router.reshape(prev, next, pos), "raid reshape", name); // after a stop: route (and park) again
            while (pos < newBytes) {
                if (array.closing()) {
                    stopAt("the array closes");
                    return;
                }
                long p = pos;
                long end = Math.min(p + windowBytes, newBytes);
                MdArray.await(router.closeWindow(end), "raid reshape", name);
                long oldEnd = Math.min(end, oldBytes);
                if (p < oldEnd) {
                    MdArray.await(c.read(prev, p, buf.asSlice(0, oldEnd - p)), "raid reshape read", name);
                }
                if (oldEnd < end) {
                    long from = Math.max(p, oldEnd);
                    buf.asSlice(from - p, end - from).fill((byte) 0); // new space: zeros with their parity, as md
                }
                MdArray.await(c.write(next, p, buf.asSlice(0, end - p), 0), "raid reshape write", name);
                MdArray.await(c.flush(next), "raid reshape flush", name);
                recordFailures();
                hook("copied", end);
                // Recorded before any request may use the new geometry there: a crash before this line copies the window again.
                array.editSuperblocks(sb -> sb.reshapePosition = end / 512, null);
                hook("recorded", end);
                MdArray.await(router.advance(end), "raid reshape", name);
                pos = end;
                long doneWindows = (end + windowBytes - 1) / windowBytes;
                long due = start + (long) ((end - startPos) / (double) array.syncBytesPerSec() * 1e9);
                long ahead = due - System.nanoTime();
                if (ahead > 0) {
                    Thread.sleep(ahead / 1_000_000, (int) (ahead % 1_000_000));
                }
                long now = System.nanoTime();
                array.progress(new MdArray.Progress("reshape", name, doneWindows, total, windowBytes, start, now, end < newBytes,
                        prior));
                if (now - lastLog > 2_000_000_000L) {
                    LOG.info("{}: {}", name, array.progress());
                    lastLog = now;
                }
            }
            finish();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopAt("interrupted");
        } catch (RuntimeException e) {
            LOG.error("{}: reshape stopped at sector {}: {}", name, pos / 512, e.getMessage());
            stopAt(e.getMessage());
        }
    }

    private void stopAt(String why) {
        String name = array.name();
        try {
            recordFailures();
        } catch (RuntimeException e) {
            LOG.warn("{}: recording a failure failed: {}", name, e.getMessage());
        }
        MdArray.Progress p = array.progress();
        long now = System.nanoTime();
        array.progress(new MdArray.Progress("reshape", name, p == null ? 0 : p.doneStripes(), p == null ? 1 : p.totalStripes(),
                windowBytes, p == null ? now : p.startNanos(), now, false, p == null ? 0 : p.priorStripes()));
        try {
            MdArray.await(router.stop(), "raid reshape", name);
        } catch (RuntimeException e) {
            LOG.warn("{}: reshape router did not stop: {}", name, e.getMessage());
        }
        LOG.warn("{}: reshape stopped at sector {} ({}); it resumes from there at the next assembly", name, pos / 512, why);
    }

    /** A finished reshape in {@code sb}: data now at {@code dataOffset}, {@code gap} sectors more of it, no reshape fields. */
    private static void endReshape(MdSuperblock1 sb, long dataOffset, long gap) {
        sb.featureMap &= ~RESHAPE_FEATURES;
        sb.dataOffset = dataOffset;
        sb.dataSize += gap;
        sb.newOffset = 0;
        sb.deltaDisks = 0;
        sb.reshapePosition = 0;
        sb.newLevel = 0;
        sb.newLayout = 0;
        sb.newChunk = 0;
    }

    private void finish() {
        String name = array.name();
        recordFailures();
        long gap = oldOffset - newOffset;
        array.editSuperblocks(sb -> endReshape(sb, newOffset, gap), "reshape done");
        hook("done", newBytes);
        array.bitmapReserved((int) (newOffset - MdSuperblock1.SUPER_OFFSET_1_2 - MdNewArray.BITMAP_OFFSET));
        MdArray.await(router.release(next), "raid reshape", name);
        array.serveWith(next);
        done = true;
        array.bdev().resizeTo(newBytes);
        LOG.info("{}: reshape complete: {} members, {} bytes: {}", name, next.geometry().raidDisks(), newBytes, array.progress());
        array.afterReshape();
        if (resyncAfter && next.failedMask() == 0) {
            LOG.info("{}: the reshape resumed after a crash: full resync in the new geometry", name);
            array.resyncAll();
        }
    }

    private static void hook(String point, long at) {
        Hook h = testHook;
        if (h != null) {
            h.at(point, at);
        }
    }
}
