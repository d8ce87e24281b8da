package org.orionos.host.raid;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.bdev.BdevClient;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.Claim;
import org.orionos.host.bdev.IoContext;
import org.orionos.host.config.RaidSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One md array on a running host: its {@link RaidBdev}, the md v1.2 superblock of every device
 * (members and spares), and the background work md's kernel thread does: raising the event count
 * and marking a member faulty when it fails, rebuilding onto a spare (or a member whose event count
 * was stale at assembly), and the initial resync of a new array; plus {@code check}/{@code repair}.
 *
 * <p>Threads: everything here runs off the reactors. Metadata writes and the rebuild loop run on
 * the array's own worker thread (one per array), which blocks on the block layer's futures; the
 * reactors only post to it.
 *
 * <p>What md can express and orion does too: superblock at 4 KiB, internal bitmap 4 KiB after it,
 * roles and event counts, a spare's {@code recovery_offset} while it is being rebuilt, and
 * {@code resync_offset} while a new array is not yet in sync, and the write-intent bitmap's bits
 * while a host uses the array ({@link WriteIntent}): after a crash only dirty regions are resynced.
 * A member that left (failed, removed, or absent at assembly) and comes back is re-added as md
 * does: if the bitmap covers the time it was away (its event count is not older than the
 * bitmap's events_cleared; bits are never cleared while the array is degraded), only the regions
 * written meanwhile are rebuilt ({@code MD_FEATURE_RECOVERY_BITMAP}); otherwise it is rebuilt in full.
 */
public final class MdArray implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MdArray.class);
    private static final long SB_BYTES = MdSuperblock1.MAX_SB_SIZE;
    private static final long SB_POS = MdSuperblock1.SUPER_OFFSET_1_2 * 512;
    private static final long BITMAP_POS = (MdSuperblock1.SUPER_OFFSET_1_2 + MdNewArray.BITMAP_OFFSET) * 512;

    /** Where {@code sb}'s internal bitmap starts (bytes), or -1 without one (md arrays may have none). */
    static long bitmapPos(MdSuperblock1 sb) {
        if ((sb.featureMap & MdSuperblock1.MD_FEATURE_BITMAP_OFFSET) == 0) {
            return -1;
        }
        return (MdSuperblock1.SUPER_OFFSET_1_2 + sb.bitmapOffset) * 512;
    }
    /** Default rebuild/resync rate limit (md's speed_limit_max is 200 MB/s). */
    public static final long DEFAULT_SYNC_BYTES_PER_SEC = 200L << 20;

    /**
     * What to create. {@code layout} is an mdadm layout name or null for md's default;
     * {@code bitmapChunkBytes} the bytes per write-intent bit (0: orion's default, 64 MiB).
     */
    public record CreateOptions(RaidLevel level, String layout, int chunkSectors, boolean assumeClean, int bitmapChunkBytes) {
        public CreateOptions(RaidLevel level, String layout, int chunkSectors, boolean assumeClean) {
            this(level, layout, chunkSectors, assumeClean, 0);
        }
    }

    /** What the config or command line expects of an existing array (null/0: anything). */
    public record Expect(RaidLevel level, int raidDisks, int chunkSectors) {
    }

    /**
     * A background sync's progress: kind is "rebuild", "resync", "check", "repair" or "reshape".
     * {@code priorStripes} were done before this run (a reshape resumed after a crash): counted in
     * the percentage, not in the rate.
     */
    public record Progress(String kind, String target, long doneStripes, long totalStripes, long bytesPerStripe,
                           long startNanos, long nowNanos, boolean running, long priorStripes) {
        /** Progress of a sync that started from the beginning in this run. */
        public Progress(String kind, String target, long doneStripes, long totalStripes, long bytesPerStripe,
                        long startNanos, long nowNanos, boolean running) {
            this(kind, target, doneStripes, totalStripes, bytesPerStripe, startNanos, nowNanos, running, 0);
        }

        public double percent() {
            return totalStripes == 0 ? 100 : 100.0 * doneStripes / totalStripes;
        }

        public double mbPerSec() {
            double s = Math.max(1e-9, (nowNanos - startNanos) / 1e9);
            return (doneStripes - priorStripes) * (double) bytesPerStripe / 1e6 / s;
        }

        /** Remaining time at the current rate. */
        public Duration eta() {
            double rate = (doneStripes - priorStripes) / Math.max(1e-9, (nowNanos - startNanos) / 1e9);
            return rate <= 0 ? Duration.ZERO : Duration.ofMillis((long) ((totalStripes - doneStripes) / rate * 1000));
        }

        @Override
        public String toString() {
            Duration e = eta();
            return String.format("%s onto %s: %.1f%% (%d/%d stripes), %.1f MB/s, ETA %d:%02d:%02d%s", kind, target,
                    percent(), doneStripes, totalStripes, mbPerSec(), e.toHours(), e.toMinutesPart(), e.toSecondsPart(),
                    running ? "" : " (stopped)");
        }
    }

    private final String name;
    private final BdevHost host;
    private final IoContext ctx;
    /** The device registered for this array; after a reshape or takeover in this run it forwards to {@link #raid}. */
    private final RaidBdev front;
    /** The device serving the current geometry: {@link #front} until a reshape or takeover completes in this run. */
    private volatile RaidBdev raid;
    /** The reshape in progress (or stopped) in this run, or null. */
    private volatile MdReshape reshape;
    private final long dataOffsetSectors;
    /** Every device carrying this array's superblock, with its own superblock (dev_number, device UUID). */
    private final Map<BlockDevice, MdSuperblock1> sbs = new IdentityHashMap<>();
    private final List<BlockDevice> devices = new ArrayList<>();
    /** Devices whose superblock must not be brought up to date yet: stale members until their rebuild starts. */
    private final List<BlockDevice> untrusted = new ArrayList<>();
    private final Deque<BlockDevice> spares = new ArrayDeque<>();
    private final List<Claim> spareClaims = new ArrayList<>();
    private final ExecutorService worker;
    private final long syncBytesPerSec;
    private volatile Progress progress;
    private volatile boolean closing;
    /**
     * While a host serves the array its superblocks say "not clean" (resync_offset 0, md's active
     * state), written before the array is handed out; a clean close flushes every member and then
     * records the real resync_offset. After a crash (kill -9) the next assembly resyncs the regions
     * the bitmap marks (everything without a bitmap, as md does), so parity torn by an interrupted
     * stripe write is made consistent.
     */
    private volatile boolean dirty;
    /** Whether a failed member is rebuilt onto a spare right away (off in offline tools). */
    private volatile boolean autoRebuild = true;
    /** Events and dev_roles as last written: the array-wide part of every superblock (worker thread). */
    private long events;
    private int[] devRoles;
    private long resyncOffset;
    /** The write-intent bitmap while a host uses the array (null without one: RAID0, offline, md arrays without a bitmap). */
    private volatile WriteIntent intent;
    /** How long a region must see no write before its bit is cleared (md's daemon_sleep). */
    private volatile long bitmapPeriodNanos = MdBitmap.DEFAULT_DAEMON_SLEEP * 1_000_000_000L;

    private MdArray(String name, BdevHost host, RaidBdev raid, long dataOffsetSectors, long syncBytesPerSec) {
        this.name = name;
        this.host = host;
        this.ctx = host.context(0);
        this.front = raid;
        this.raid = raid;
        this.dataOffsetSectors = dataOffsetSectors;
        this.syncBytesPerSec = syncBytesPerSec;
        this.worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "raid-" + name);
            t.setDaemon(true);
            return t;
        });
        raid.onMemberFailed(role -> {
            if (!closing) {
                try {
                    worker.execute(() -> memberFailed(role));
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    LOG.debug("{}: closing; role {} failure not recorded", name, role);
                }
            }
        });
        raid.onClose(this::stopBackground);
        raid.array(this);
    }

    /** The array as a block device (the one registered and exported; its geometry is the one assembled). */
    public RaidBdev bdev() {
        return front;
    }

    /** The device serving the array's current geometry (differs from {@link #bdev()} after an online reshape). */
    public RaidBdev current() {
        return raid;
    }

    public String name() {
        return name;
    }

    /** The current or last background sync, or null if none ran. */
    public Progress progress() {
        return progress;
    }

    /** Event count as last written to the superblocks. */
    public synchronized long events() {
        return events;
    }

    /** Devices waiting as hot spares. */
    public synchronized List<BlockDevice> spares() {
        return List.copyOf(spares);
    }

    // ------------------------------------------------------------------------------ reading metadata

    /** The md v1.2 superblock of {@code dev}, or null when there is none (wrong magic). Throws when one is damaged. */
    public static MdSuperblock1 readSuperblock(BdevClient c, BlockDevice dev) {
        try (Arena a = Arena.ofShared()) {
            MemorySegment buf = a.allocate(SB_BYTES, 4096);
            await(c.read(dev, SB_POS, buf), "read md superblock", dev.name());
            if (buf.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0) != MdSuperblock1.MD_SB_MAGIC) {
                return null;
            }
            return MdSuperblock1.decode(buf, dev.name());
        }
    }

    /** A description of another format's signature at the start of {@code dev}, or null (for refusing to overwrite). */
    static String foreignSignature(BdevClient c, BlockDevice dev) {
        try (Arena a = Arena.ofShared()) {
            MemorySegment buf = a.allocate(4096, 4096);
            await(c.read(dev, 0, buf), "read", dev.name());
            ValueLayout.OfInt le32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            ValueLayout.OfShort le16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            if (buf.get(le32, 0) == MdSuperblock1.MD_SB_MAGIC) {
                return "an md 1.1 superblock";
            }
            for (int s = 0; s < 4; s++) {
                if (new String(buf.asSlice(s * 512L, 8).toArray(ValueLayout.JAVA_BYTE), java.nio.charset.StandardCharsets.US_ASCII)
                        .equals("LABELONE")) {
                    return "an LVM2 physical volume label";
                }
            }
            if (buf.get(le16, 1024 + 56) == (short) 0xef53) {
                return "an ext2/3/4 file system";
            }
            if (buf.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), 0) == 0x58465342) {
                return "an XFS file system";
            }
            if (buf.get(le16, 510) == (short) 0xaa55) {
                return "a partition table (MBR/GPT)";
            }
            return null;
        }
    }

    // ------------------------------------------------------------------------------ from the config

    /**
     * Brings up a {@code [[raid]]} table's array: assembled from its superblocks when its members
     * carry them (the table must agree with them), created when none of its devices carries any;
     * spares without a superblock are added. Background work (rebuild, resync) starts.
     */
    public static MdArray open(BdevHost host, RaidSpec spec) {
        RaidLevel level = RaidLevel.ofMdLevel(spec.level());
        BdevClient c = host.client();
        List<BlockDevice> members = new ArrayList<>();
        List<BlockDevice> spareDevs = new ArrayList<>();
        List<BlockDevice> withSb = new ArrayList<>();
        List<BlockDevice> newSpares = new ArrayList<>();
        for (String m : spec.members()) {
            BlockDevice d = host.registry().get(m);
            members.add(d);
            if (readSuperblock(c, d) != null) {
                withSb.add(d);
            }
        }
        for (String m : spec.spares()) {
            BlockDevice d = host.registry().get(m);
            spareDevs.add(d);
            if (readSuperblock(c, d) != null) {
                withSb.add(d);
            } else {
                newSpares.add(d);
            }
        }
        if (withSb.isEmpty()) {
            MdArray a = create(host, spec.name(), new CreateOptions(level, spec.layout(), spec.chunkSectors(), false),
                    members, spareDevs, spec.syncBytesPerSec());
            a.start();
            return a;
        }
        for (BlockDevice d : members) {
            if (!withSb.contains(d)) {
                throw new ErrnoException(Errno.EINVAL, "raid assemble", spec.name(), "member " + d.name()
                        + " carries no md superblock but other devices of " + spec.name() + " do; to rebuild onto a new"
                        + " device list it under spares instead of members");
            }
        }
        return assemble(host, spec.name(), withSb, newSpares, new Expect(level, spec.members().size(), spec.chunkSectors()),
                spec.syncBytesPerSec());
    }

    // ------------------------------------------------------------------------------ create

    /**
     * Creates a new array: every request md would refuse (too few members, sizes that differ by more
     * than 1%, a device already claimed, one carrying md metadata or another format's signature)
     * is refused before anything is written; then superblocks (and bitmaps) go to members and spares.
     */
    public static MdArray create(BdevHost host, String name, CreateOptions o, List<BlockDevice> members,
                                 List<BlockDevice> spareDevs, long syncBytesPerSec) {
        int n = members.size();
        RaidLevel level = o.level();
        int min = switch (level) {
            case RAID0 -> 1;
            case RAID1, RAID10 -> 2;
            case RAID5 -> 3;
            case RAID6 -> 4;
        };
        if (n < min) {
            throw new ErrnoException(Errno.EINVAL, "raid create", name, level.mdadmName() + " needs at least " + min
                    + " members, " + n + " given");
        }
        if (level == RaidLevel.RAID0 && !spareDevs.isEmpty()) {
            throw new ErrnoException(Errno.EINVAL, "raid create", name, "raid0 has no redundancy, so spares are useless; drop them");
        }
        List<BlockDevice> all = new ArrayList<>(members);
        all.addAll(spareDevs);
        for (int i = 0; i < all.size(); i++) {
            for (int j = i + 1; j < all.size(); j++) {
                if (all.get(i) == all.get(j)) {
                    throw new ErrnoException(Errno.EINVAL, "raid create", name, all.get(i).name() + " is listed twice");
                }
            }
            requireUnclaimed(all.get(i), name);
        }
        long smallestDevice = Long.MAX_VALUE;
        for (BlockDevice d : members) {
            smallestDevice = Math.min(smallestDevice, d.sizeBytes() / 512);
        }
        // mdadm's choice, headroom for later reshapes included
        long dataOffset = MdNewArray.dataOffset(smallestDevice, level == RaidLevel.RAID1 ? 0 : o.chunkSectors());
        long smallest = Long.MAX_VALUE;
        BlockDevice smallestDev = null;
        for (BlockDevice d : members) {
            long s = d.sizeBytes() / 512 - dataOffset;
            if (s < smallest) {
                smallest = s;
                smallestDev = d;
            }
        }
        if (smallest < 8) {
            throw new ErrnoException(Errno.EINVAL, "raid create", smallestDev.name(), smallestDev.name() + " holds "
                    + smallestDev.sizeBytes() + " bytes; a member needs more than the " + dataOffset * 512
                    + "-byte metadata area");
        }
        for (BlockDevice d : members) {
            long s = d.sizeBytes() / 512 - dataOffset;
            if (s > smallest + smallest / 100) {
                throw new ErrnoException(Errno.EINVAL, "raid create", name, "member sizes differ: " + d.name() + " has "
                        + s + " data sectors, " + smallestDev.name() + " " + smallest
                        + "; md would waste the difference; use members of equal size");
            }
        }
        long[] sizes = new long[n];
        Arrays.fill(sizes, smallest);
        int chunk = level == RaidLevel.RAID1 ? 0 : o.chunkSectors();
        RaidGeometry g = geometry(level, layoutNumber(level, o.layout()), chunk, sizes);
        for (BlockDevice d : spareDevs) {
            if (d.sizeBytes() / 512 - dataOffset < g.memberSectors()) {
                throw new ErrnoException(Errno.EINVAL, "raid create", d.name(), "spare " + d.name() + " holds "
                        + d.sizeBytes() + " bytes; members of this array need " + (dataOffset + g.memberSectors()) * 512);
            }
        }
        BdevClient c = host.client();
        for (BlockDevice d : all) {
            MdSuperblock1 old = readSuperblock(c, d);
            if (old != null) {
                throw new ErrnoException(Errno.EBUSY, "raid create", d.name(), d.name() + " already carries an md superblock"
                        + " of array " + old.setName + " (UUID " + HexFormat.of().formatHex(old.setUuid)
                        + "); assemble that array, or wipe the device (mdadm --zero-superblock) before reusing it");
            }
            String sig = foreignSignature(c, d);
            if (sig != null) {
                throw new ErrnoException(Errno.EBUSY, "raid create", d.name(), d.name() + " holds " + sig
                        + "; wipe it first (wipefs -a) if its contents are no longer needed");
            }
        }
        BlockDevice[] roleDevs = members.toArray(new BlockDevice[0]);
        RaidBdev raid = new RaidBdev(name, g, roleDevs, dataOffset * 512); // claims the members (refused if taken)
        MdArray a = new MdArray(name, host, raid, dataOffset, syncBytesPerSec);
        try {
            SecureRandom rnd = new SecureRandom();
            byte[] uuid = new byte[16];
            rnd.nextBytes(uuid);
            long[] dataSectors = new long[n];
            for (int i = 0; i < n; i++) {
                dataSectors[i] = members.get(i).sizeBytes() / 512 - dataOffset;
            }
            long ev = 1;
            MdSuperblock1[] made = MdNewArray.superblocks(g, name, uuid, dataSectors, dataOffset, ev, Instant.now(), rnd);
            int[] roles = new int[n + spareDevs.size()];
            Arrays.fill(roles, MdSuperblock1.MD_DISK_ROLE_SPARE);
            for (int i = 0; i < n; i++) {
                roles[i] = i;
            }
            boolean needsSync = level != RaidLevel.RAID0 && !o.assumeClean();
            a.events = ev;
            a.devRoles = roles;
            a.resyncOffset = needsSync ? 0 : MdSuperblock1.MAX_SECTOR;
            for (int i = 0; i < n; i++) {
                a.addDevice(members.get(i), made[i]);
            }
            for (int i = 0; i < spareDevs.size(); i++) {
                BlockDevice d = spareDevs.get(i);
                MdSuperblock1 sb = copyOf(made[0]);
                sb.devNumber = n + i;
                sb.dataSize = d.sizeBytes() / 512 - dataOffset;
                rnd.nextBytes(sb.deviceUuid);
                a.addDevice(d, sb);
                a.addSpare(d);
            }
            if (level != RaidLevel.RAID0) {
                MdBitmap bm = MdNewArray.bitmap(g, uuid, ev, dataOffset,
                        o.bitmapChunkBytes() > 0 ? o.bitmapChunkBytes() : MdNewArray.DEFAULT_BITMAP_CHUNK);
                for (BlockDevice d : all) {
                    // Every bit set while the initial resync is owed, so a crash during it resumes from the bits.
                    writeBitmap(c, d, bm, BITMAP_POS, needsSync);
                }
            }
            a.writeAll("create");
            LOG.info("{}: created {} over {} member(s) and {} spare(s), chunk {} KiB, {} bytes{}", name, level.mdadmName(), n,
                    spareDevs.size(), chunk / 2, raid.sizeBytes(), needsSync ? "; initial resync pending" : "");
            return a;
        } catch (RuntimeException e) {
            a.close();
            throw e;
        }
    }

    // ------------------------------------------------------------------------------ assemble

    /**
     * Assembles the array whose superblocks {@code devs} carry. Roles come from the freshest
     * superblock (highest event count); a device whose event count is behind it is not trusted: it
     * is rebuilt into its role (or becomes a spare). {@code newSpares} without any superblock are
     * added as spares. Refuses, naming the device, superblocks of different arrays, an array that
     * differs from {@code expect}, two devices claiming one role, and too many missing roles.
     */
    public static MdArray assemble(BdevHost host, String name, List<BlockDevice> devs, List<BlockDevice> newSpares,
                                   Expect expect, long syncBytesPerSec) {
        return assemble(host, name, devs, newSpares, expect, syncBytesPerSec, true);
    }

    /**
     * As {@link #assemble(BdevHost, String, List, List, Expect, long)}; without {@code background}
     * no rebuild or resync starts (offline tools record state in the superblocks and leave the work
     * to the next host that assembles the array).
     */
    public static MdArray assemble(BdevHost host, String name, List<BlockDevice> devs, List<BlockDevice> newSpares,
                                   Expect expect, long syncBytesPerSec, boolean background) {
        BdevClient c = host.client();
        Map<BlockDevice, MdSuperblock1> found = new IdentityHashMap<>();
        MdSuperblock1 fresh = null;
        for (BlockDevice d : devs) {
            requireUnclaimed(d, name);
            MdSuperblock1 sb = readSuperblock(c, d);
            if (sb == null) {
                throw new ErrnoException(Errno.EINVAL, "raid assemble", d.name(), d.name() + " carries no md superblock,"
                        + " but the other devices of " + name + " do; list it under spares to add it as a spare, or leave it out");
            }
            if (fresh != null && !Arrays.equals(sb.setUuid, fresh.setUuid)) {
                throw new ErrnoException(Errno.EINVAL, "raid assemble", d.name(), d.name() + " belongs to array "
                        + sb.setName + " (UUID " + HexFormat.of().formatHex(sb.setUuid) + "), not to "
                        + fresh.setName + " (UUID " + HexFormat.of().formatHex(fresh.setUuid) + ")");
            }
            found.put(d, sb);
            if (fresh == null || Long.compareUnsigned(sb.events, fresh.events) > 0) {
                fresh = sb;
            }
        }
        if (fresh == null) {
            throw new ErrnoException(Errno.EINVAL, "raid assemble", name, "no devices given");
        }
        RaidLevel level = RaidLevel.ofMdLevel(fresh.level);
        if (level == null) {
            throw new ErrnoException(Errno.EOPNOTSUPP, "raid assemble", name, "md level " + fresh.level
                    + " is not one orion builds (0, 1, 4/5, 6, 10)");
        }
        if (expect != null) {
            if (expect.level() != null && expect.level() != level) {
                throw new ErrnoException(Errno.EINVAL, "raid assemble", name, "the config says " + expect.level().mdadmName()
                        + " but the superblocks say " + level.mdadmName() + "; fix the config");
            }
            if (expect.raidDisks() > 0 && expect.raidDisks() != fresh.raidDisks) {
                throw new ErrnoException(Errno.EINVAL, "raid assemble", name, "the config lists " + expect.raidDisks()
                        + " members but the superblocks say raid_disks = " + fresh.raidDisks + "; fix the config");
            }
            if (expect.chunkSectors() > 0 && level != RaidLevel.RAID1 && expect.chunkSectors() != fresh.chunksize) {
                throw new ErrnoException(Errno.EINVAL, "raid assemble", name, "the config says chunk " + expect.chunkSectors() / 2
                        + "K but the superblocks say " + fresh.chunksize / 2 + "K; fix the config");
            }
        }
        for (BlockDevice d : devs) {
            MdReshape.completeFinished(found.get(d), fresh, name, d.name()); // a crash during the "reshape done" writes
        }
        MdReshape.Resume reshaping = MdReshape.Resume.of(fresh, name); // null unless a reshape is in progress
        int raidDisks = fresh.raidDisks;
        BlockDevice[] roleDev = new BlockDevice[raidDisks];
        List<BlockDevice> stale = new ArrayList<>();
        List<BlockDevice> spareList = new ArrayList<>();
        BlockDevice recoveringDev = null;
        for (BlockDevice d : devs) {
            MdSuperblock1 sb = found.get(d);
            if (sb.dataOffset != fresh.dataOffset) {
                throw new ErrnoException(Errno.EOPNOTSUPP, "raid assemble", d.name(), d.name() + " has data_offset "
                        + sb.dataOffset + ", the array " + fresh.dataOffset + "; orion needs one data offset for all members");
            }
            int role = sb.devNumber < fresh.devRoles.length ? fresh.devRoles[sb.devNumber] : MdSuperblock1.MD_DISK_ROLE_SPARE;
            if (sb.events != fresh.events && role < raidDisks && (reshaping == null || !reshaping.trusts(sb, fresh))) {
                LOG.warn("{}: {} has event count {}, the array {}: stale, it will be rebuilt, never trusted", name, d.name(),
                        sb.events, fresh.events);
                stale.add(d);
                continue;
            }
            if (role == MdSuperblock1.MD_DISK_ROLE_FAULTY) {
                LOG.warn("{}: {} is marked faulty in the array; left out (orion raid add re-adds it)", name, d.name());
                continue;
            }
            if (role >= raidDisks) {
                spareList.add(d);
                continue;
            }
            if (roleDev[role] != null) {
                throw new ErrnoException(Errno.EINVAL, "raid assemble", name, d.name() + " and " + roleDev[role].name()
                        + " both claim role " + role);
            }
            if ((sb.featureMap & MdSuperblock1.MD_FEATURE_RECOVERY_OFFSET) != 0) {
                recoveringDev = d; // was being rebuilt: resume where it stopped
                continue;
            }
            roleDev[role] = d;
        }
        long[] sizes = new long[raidDisks];
        Arrays.fill(sizes, fresh.size);
        if (level == RaidLevel.RAID0) {
            for (BlockDevice d : devs) {
                MdSuperblock1 sb = found.get(d);
                sizes[fresh.devRoles[sb.devNumber]] = sb.dataSize;
            }
        }
        RaidGeometry g = reshaping != null ? reshaping.oldGeometry() : geometry(level, fresh.layout, fresh.chunksize, sizes);
        if (reshaping != null) {
            reshaping.requireComplete(roleDev, stale, recoveringDev);
        }
        RaidBdev raid = new RaidBdev(name, g, reshaping != null ? Arrays.copyOf(roleDev, reshaping.oldDisks()) : roleDev,
                fresh.dataOffset * 512); // refuses too many missing roles
        MdArray a = new MdArray(name, host, raid, fresh.dataOffset, syncBytesPerSec);
        try {
            a.events = fresh.events;
            a.devRoles = fresh.devRoles.clone();
            a.resyncOffset = fresh.resyncOffset;
            for (BlockDevice d : devs) {
                a.addDevice(d, found.get(d));
            }
            a.untrusted.addAll(stale);
            if (background && fresh.resyncOffset != MdSuperblock1.MAX_SECTOR) {
                LOG.warn("{}: not shut down cleanly (or never resynced): {}", name, bitmapPos(fresh) >= 0
                        ? "the write-intent bitmap's dirty regions are resynced" : "resync from sector " + fresh.resyncOffset);
                if (raid.failedMask() != 0 && g instanceof ParityGeometry) {
                    // md refuses to start a dirty degraded RAID5/6 (start_dirty_degraded); orion starts it and says why it is risky.
                    LOG.warn("{}: dirty AND degraded: a stripe torn by the crash cannot be resynced without the missing member;"
                            + " its reconstructed data may be wrong until the member is back or rebuilt", name);
                }
            }
            if (background && reshaping == null) {
                a.startIntent(fresh.resyncOffset != MdSuperblock1.MAX_SECTOR);
            }
            // Every start raises the event count, so a device absent now is recognisably stale next time.
            a.events++;
            a.dirty = background;
            a.writeAll("assembled");
            for (BlockDevice d : spareList) {
                a.addSpare(d);
            }
            for (BlockDevice d : newSpares) {
                a.addNewSpare(d);
            }
            BlockDevice resume = recoveringDev;
            List<BlockDevice> staleDevs = List.copyOf(stale);
            if (reshaping != null) {
                // Routed before the array is handed out: below the position the new geometry holds the data.
                MdReshape r = MdReshape.resume(a, reshaping, roleDev);
                a.autoRebuild = background;
                if (background) {
                    a.worker.execute(r::run); // offline tools leave it to the next host (or orion raid grow)
                }
            } else if (background) {
                a.worker.execute(() -> a.startBackground(resume, staleDevs));
            } else {
                a.autoRebuild = false;
            }
            LOG.info("{}: assembled {} from {} device(s), events {}, roles {}, failed mask 0x{}", name, level.mdadmName(),
                    devs.size(), fresh.events, rolesOf(fresh.devRoles), Long.toHexString(raid.failedMask()));
            return a;
        } catch (RuntimeException e) {
            a.close();
            throw e;
        }
    }

    /** Worker: after assembly, resume an interrupted rebuild, rebuild stale members, or fill missing roles from spares. */
    private void startBackground(BlockDevice resume, List<BlockDevice> stale) {
        try {
            if (resume != null) {
                MdSuperblock1 sb = sbs.get(resume);
                // A bitmap-based recovery stays one: the bits are kept while the array is not in sync.
                rebuild(devRoles[sb.devNumber], resume, raid.syncUnitOfMemberSector(sb.recoveryOffset),
                        (sb.featureMap & MdSuperblock1.MD_FEATURE_RECOVERY_BITMAP) != 0);
            }
            for (BlockDevice d : stale) {
                int role = devRoles[sbs.get(d).devNumber];
                if ((raid.failedMask() & (1L << role)) != 0 && raid.member(role) == null
                        && raid.geometry().level() != RaidLevel.RAID0) {
                    rebuild(role, d, 0, bitmapCovers(sbs.get(d).events, d));
                } else {
                    synchronized (this) {
                        devRoles[sbs.get(d).devNumber] = MdSuperblock1.MD_DISK_ROLE_SPARE;
                        untrusted.remove(d);
                    }
                    addSpare(d);
                    writeAll(d.name() + " becomes a spare");
                }
            }
            fillFromSpares();
            if (resyncOffset != MdSuperblock1.MAX_SECTOR && raid.geometry().level() != RaidLevel.RAID0
                    && raid.failedMask() == 0) {
                resync();
            }
        } catch (RuntimeException e) {
            LOG.error("{}: background work stopped: {}", name, e.getMessage());
        }
    }

    /** Starts background work (listener, initial resync) of a freshly created array. */
    public void start() {
        startIntent(resyncOffset != MdSuperblock1.MAX_SECTOR);
        dirty = true;
        writeAll("in use");
        worker.execute(() -> startBackground(null, List.of()));
    }

    // ------------------------------------------------------------------------------ failures and spares

    /** Worker: a member failed; record it in every superblock and rebuild onto a spare if there is one. */
    private void memberFailed(int role) {
        // Recorded even while closing: a failure seen just before close must reach the superblocks.
        BlockDevice dev = deviceInRole(role);
        synchronized (this) {
            events++;
            if (dev != null) {
                devRoles[sbs.get(dev).devNumber] = MdSuperblock1.MD_DISK_ROLE_FAULTY;
            }
        }
        writeAll("member " + (dev == null ? "role " + role : dev.name()) + " faulty");
        LOG.warn("{}: role {} ({}) faulty; events now {}", name, role, dev == null ? "missing" : dev.name(), events);
        fillFromSpares();
    }

    private void fillFromSpares() {
        RaidGeometry g = raid.geometry();
        while (!closing && autoRebuild) {
            long failed = raid.failedMask();
            if (failed == 0 || g.level() == RaidLevel.RAID0 || raid.recoveringMask() != 0) {
                return;
            }
            BlockDevice spare;
            synchronized (this) {
                spare = spares.poll();
            }
            if (spare == null) {
                return;
            }
            releaseSpareClaim(spare);
            rebuild(Long.numberOfTrailingZeros(failed), spare, 0);
        }
    }

    private BlockDevice deviceInRole(int role) {
        synchronized (this) {
            for (BlockDevice d : devices) {
                MdSuperblock1 sb = sbs.get(d);
                if (sb.devNumber < devRoles.length && devRoles[sb.devNumber] == role) {
                    return d;
                }
            }
        }
        return null;
    }

    private void rebuild(int role, BlockDevice dev, long from) {
        rebuild(role, dev, from, false);
    }

    /**
     * Worker: rebuilds role {@code role} onto {@code dev} from stripe {@code from}, rate-limited,
     * recording progress. With {@code fromBitmap} (a returning member the bitmap covers) only the
     * sync units of regions whose bit is set are rebuilt; the others are declared in sync as is.
     */
    private void rebuild(int role, BlockDevice dev, long from, boolean fromBitmap) {
        long stripes = raid.syncStripes();
        MdSuperblock1 sb = sbs.get(dev);
        await(raid.startRecovery(ctx, role, dev, from), "raid rebuild", name);
        // Read after the role is recovering: every write that can have missed dev set its bit before
        // it started, and no bit is cleared while a role is recovering.
        WriteIntent w = intent;
        long[] ranges = fromBitmap && w != null ? dirtyRanges(w, from, stripes) : new long[] {from, stripes};
        boolean bitmap = fromBitmap && w != null;
        synchronized (this) {
            events++;
            devRoles[sb.devNumber] = role;
            sb.featureMap |= MdSuperblock1.MD_FEATURE_RECOVERY_OFFSET;
            if (bitmap) {
                sb.featureMap |= MdSuperblock1.MD_FEATURE_RECOVERY_BITMAP;
            } else {
                sb.featureMap &= ~MdSuperblock1.MD_FEATURE_RECOVERY_BITMAP;
            }
            sb.recoveryOffset = raid.syncUnitMemberSector(from);
            untrusted.remove(dev); // from here its superblock says how far it is in sync
        }
        writeAll("rebuild of role " + role + " onto " + dev.name() + " started");
        long units = 0;
        for (int i = 0; i < ranges.length; i += 2) {
            units += ranges[i + 1] - ranges[i];
        }
        LOG.info("{}: rebuilding role {} onto {} from stripe {} of {}{}, at most {} MB/s", name, role, dev.name(), from,
                stripes, bitmap ? " from the write-intent bitmap: " + units + " unit(s) in " + ranges.length / 2
                        + " dirty range(s)" : "", syncBytesPerSec / 1_000_000);
        boolean ok = runSync("rebuild", dev.name(), ranges, RaidBdev.SYNC_RECOVER, s -> {
            synchronized (this) {
                sb.recoveryOffset = raid.syncUnitMemberSector(s);
            }
            writeOne(dev);
        }, i -> { }) >= 0;
        if (ok && !closing && bitmap) {
            await(raid.skipRecovery(ctx, stripes), "raid rebuild", name); // the clean tail after the last dirty range
        }
        if (closing) {
            return; // the superblock's recovery_offset says where to resume
        }
        boolean complete = await(raid.endRecovery(ctx), "raid rebuild", name);
        synchronized (this) {
            events++;
            if (complete && ok) {
                sb.featureMap &= ~(MdSuperblock1.MD_FEATURE_RECOVERY_OFFSET | MdSuperblock1.MD_FEATURE_RECOVERY_BITMAP);
                sb.recoveryOffset = 0;
            }
        }
        writeAll(complete ? "rebuild done" : "rebuild stopped");
        if (complete) {
            LOG.info("{}: rebuild of role {} onto {} complete: {}", name, role, dev.name(), progress);
        } else {
            LOG.warn("{}: rebuild of role {} onto {} stopped: {}", name, role, dev.name(), progress);
        }
    }

    /**
     * Worker: the resync after a crash or of a new array (parity made consistent with the data):
     * with a write-intent bitmap only the regions whose bit is set, else everything from resync_offset.
     */
    private void resync() {
        WriteIntent w = intent;
        if (w != null) {
            resyncRegions(w);
            return;
        }
        long from = raid.syncUnitOfMemberSector(resyncOffset);
        long stripes = raid.syncStripes();
        LOG.info("{}: resync from stripe {} of {}", name, from, stripes);
        long r = runSync("resync", name, from, stripes, RaidBdev.SYNC_REPAIR, s -> {
            synchronized (this) {
                resyncOffset = raid.syncUnitMemberSector(s);
            }
            writeAll(null);
        });
        if (r >= 0) {
            synchronized (this) {
                resyncOffset = MdSuperblock1.MAX_SECTOR;
                events++;
            }
            writeAll("resync done");
            LOG.info("{}: resync complete: {}", name, progress);
        }
    }

    /**
     * The sync units [from, stripes) that the set bits of {@code w} cover, as sorted, merged
     * [start, end) pairs (a unit shared by two dirty regions appears once).
     */
    private long[] dirtyRanges(WriteIntent w, long from, long stripes) {
        long unit = raid.syncUnitSpaceSectors();
        long[] regions = w.dirtyRegions();
        long[] out = new long[regions.length * 2];
        int k = 0;
        for (long r : regions) {
            long lo = Math.max(from, Math.min(stripes, r * w.regionSectors() / unit));
            long hi = Math.min(stripes, ((r + 1) * w.regionSectors() + unit - 1) / unit);
            if (lo >= hi) {
                continue;
            }
            if (k > 0 && lo <= out[k - 1]) {
                out[k - 1] = Math.max(out[k - 1], hi);
            } else {
                out[k++] = lo;
                out[k++] = hi;
            }
        }
        return Arrays.copyOf(out, k);
    }

    /**
     * md's test for a bitmap-based re-add: a member whose superblock stopped at event count
     * {@code memberEvents} missed only writes whose bits are still set if it is not older than the
     * bitmap's events_cleared (bits are cleared only while every member is in sync). Logs the
     * fall-back to a full rebuild.
     */
    private boolean bitmapCovers(long memberEvents, BlockDevice dev) {
        long cleared = bitmapEventsCleared();
        if (cleared < 0) {
            LOG.info("{}: no write-intent bitmap in use: {} is rebuilt in full", name, dev.name());
            return false;
        }
        if (cleared == Long.MAX_VALUE) {
            LOG.warn("{}: the write-intent bitmap on disk is stale: {} is rebuilt in full", name, dev.name());
            return false;
        }
        if (Long.compareUnsigned(memberEvents, cleared) < 0) {
            LOG.warn("{}: {} left at event count {}, before the bitmap was last cleared (events_cleared {}):"
                    + " the bitmap cannot say what it missed, so it is rebuilt in full", name, dev.name(), memberEvents, cleared);
            return false;
        }
        return true;
    }

    /**
     * events_cleared of the bitmap in use, else of a current member's bitmap on disk (offline); -1
     * without a bitmap, {@code Long.MAX_VALUE} when the one on disk is stale (it vouches for nothing).
     */
    private long bitmapEventsCleared() {
        WriteIntent w = intent;
        if (w != null) {
            return w.eventsCleared();
        }
        if (raid.geometry().level() == RaidLevel.RAID0) {
            return -1;
        }
        for (BlockDevice d : metadataTargets()) {
            MdSuperblock1 sb = sbs.get(d);
            int role = sb.devNumber < devRoles.length ? devRoles[sb.devNumber] : MdSuperblock1.MD_DISK_ROLE_SPARE;
            if (bitmapPos(sb) >= 0 && role >= 0 && role < raid.geometry().raidDisks()
                    && (sb.featureMap & MdSuperblock1.MD_FEATURE_RECOVERY_OFFSET) == 0) {
                MdBitmap b = readBitmap(host.client(), d, bitmapPos(sb));
                return (b.state & MdBitmap.BITMAP_STALE) != 0 || Long.compareUnsigned(b.events, events) < 0 ? Long.MAX_VALUE
                        : b.eventsCleared;
            }
        }
        return -1;
    }

    /** Worker: resyncs the regions whose bit was set at assembly, releasing each region's bit once it is in sync. */
    private void resyncRegions(WriteIntent w) {
        long[] dirtyRegions = w.dirtyRegions();
        long unit = raid.syncUnitSpaceSectors();
        long stripes = raid.syncStripes();
        long[] ranges = new long[dirtyRegions.length * 2];
        for (int i = 0; i < dirtyRegions.length; i++) {
            long r = dirtyRegions[i];
            ranges[2 * i] = Math.min(stripes, r * w.regionSectors() / unit);
            ranges[2 * i + 1] = Math.min(stripes, ((r + 1) * w.regionSectors() + unit - 1) / unit);
        }
        LOG.info("{}: resync of {} dirty bitmap region(s) of {}", name, dirtyRegions.length, w.regions());
        long r = runSync("resync", name, ranges, RaidBdev.SYNC_REPAIR, i -> w.release((int) dirtyRegions[i]));
        if (r >= 0) {
            synchronized (this) {
                resyncOffset = MdSuperblock1.MAX_SECTOR;
                events++;
            }
            writeAll("resync done");
            LOG.info("{}: resync complete: {}", name, progress);
        }
    }

    /**
     * Scrub: reads every stripe and compares parity with the data (md's {@code check}); with
     * {@code repair}, rewrites parity that does not match. Returns the number of mismatched
     * stripes. Runs on the caller's thread; refused while degraded or rebuilding.
     */
    public long scrub(boolean repair) {
        if (raid.geometry().level() == RaidLevel.RAID0) {
            throw new ErrnoException(Errno.EOPNOTSUPP, "raid " + (repair ? "repair" : "check"), name,
                    "raid0 has no redundancy to check");
        }
        if (raid.failedMask() != 0 || raid.recoveringMask() != 0) {
            throw new ErrnoException(Errno.EBUSY, "raid " + (repair ? "repair" : "check"), name,
                    "the array is degraded or rebuilding; check it once it is in sync");
        }
        MdReshape rs = reshape;
        if (rs != null && !rs.done()) {
            throw new ErrnoException(Errno.EBUSY, "raid " + (repair ? "repair" : "check"), name,
                    "a reshape is in progress; check the array once it has finished");
        }
        long r = runSync(repair ? "repair" : "check", name, 0, raid.syncStripes(),
                repair ? RaidBdev.SYNC_REPAIR : RaidBdev.SYNC_CHECK, s -> { });
        if (r < 0) {
            throw new ErrnoException((int) -r, "raid " + (repair ? "repair" : "check"), name, "stopped by an I/O error: "
                    + progress);
        }
        LOG.info("{}: {} found {} mismatched stripe(s) ({} sectors)", name, repair ? "repair" : "check", r,
                raid.syncUnitMemberSector(r));
        return r;
    }

    private interface Checkpoint {
        void at(long stripe);
    }

    /** Runs sync steps over [from, to) in order, rate-limited; returns mismatches, or a negative errno. */
    private long runSync(String kind, String target, long from, long to, int mode, Checkpoint checkpoint) {
        return runSync(kind, target, new long[] {from, to}, mode, checkpoint, i -> { });
    }

    /** As above over the ranges [ranges[2i], ranges[2i+1]), calling {@code rangeDone} with i after each. */
    private long runSync(String kind, String target, long[] ranges, int mode, java.util.function.IntConsumer rangeDone) {
        return runSync(kind, target, ranges, mode, s -> { }, rangeDone);
    }

    private long runSync(String kind, String target, long[] ranges, int mode, Checkpoint checkpoint,
                         java.util.function.IntConsumer rangeDone) {
        long bytesPerStripe = raid.syncUnitIoBytes();
        long start = System.nanoTime();
        long total = 0;
        for (int i = 0; i < ranges.length; i += 2) {
            total += ranges[i + 1] - ranges[i];
        }
        progress = new Progress(kind, target, 0, total, bytesPerStripe, start, start, true);
        raid.enterHomeOnly();
        try {
            long mismatches = 0;
            long done = 0;
            for (int i = 0; i < ranges.length; i += 2) {
                if (mode == RaidBdev.SYNC_RECOVER && !closing) {
                    // Bitmap-based rebuild: the units before this range are clean (no-op for a full rebuild).
                    await(raid.skipRecovery(ctx, ranges[i]), "raid " + kind, name);
                }
                long r = syncLoop(kind, target, ranges[i], ranges[i + 1], mode, checkpoint, bytesPerStripe, start, done, total);
                if (r < 0) {
                    return r;
                }
                mismatches += r;
                done += ranges[i + 1] - ranges[i];
                rangeDone.accept(i / 2);
            }
            return mismatches;
        } finally {
            raid.leaveHomeOnly();
        }
    }

    private long syncLoop(String kind, String target, long from, long to, int mode, Checkpoint checkpoint,
                          long bytesPerStripe, long start, long before, long total) {
        long lastLog = start;
        long lastCheckpoint = from;
        long mismatches = 0;
        for (long s = from; s < to; s++) {
            if (closing) {
                progress = new Progress(kind, target, before + s - from, total, bytesPerStripe, start, System.nanoTime(), false);
                return -Errno.EINTR;
            }
            int r = await(raid.syncStripe(ctx, s, mode), "raid " + kind, name);
            if (r < 0) {
                progress = new Progress(kind, target, before + s - from, total, bytesPerStripe, start, System.nanoTime(), false);
                LOG.warn("{}: {} stopped at stripe {}: {}", name, kind, s, Errno.name(r));
                return r;
            }
            mismatches += r;
            if (s + 1 - lastCheckpoint >= Math.max(1, (to - from) / 20)) {
                checkpoint.at(s + 1);
                lastCheckpoint = s + 1;
            }
            // Rate limit: sleep until the bytes done so far fit the allowed rate.
            long due = start + (long) ((before + s + 1 - from) * (double) bytesPerStripe / syncBytesPerSec * 1e9);
            long ahead = due - System.nanoTime();
            if (ahead > 0) {
                try {
                    Thread.sleep(ahead / 1_000_000, (int) (ahead % 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return -Errno.EINTR;
                }
            }
            long now = System.nanoTime();
            progress = new Progress(kind, target, before + s + 1 - from, total, bytesPerStripe, start, now,
                    before + s + 1 - from < total);
            if (now - lastLog > 2_000_000_000L) {
                LOG.info("{}: {}", name, progress);
                lastLog = now;
            }
        }
        return mismatches;
    }

    /** Marks the member in role {@code role} faulty, as mdadm --fail does (superblocks updated by the worker). */
    public void fail(int role) {
        raid.markFailed(role, "failed by request");
    }

    /**
     * Adds {@code dev} (mdadm --add): a former member of this array whose role is vacant goes back
     * into that role ({@link #reAdd}); any other device becomes a hot spare (superblock written) and
     * a degraded array starts rebuilding onto it. With {@code wait}, returns true when {@code dev}
     * was re-added into its role (its rebuild runs in the background).
     */
    public boolean addSpare(BlockDevice dev, boolean wait) {
        Future<Boolean> f = worker.submit(() -> {
            boolean back = reAdd(dev);
            if (!back) {
                addNewSpare(dev);
                fillFromSpares();
            }
            return back;
        });
        if (wait) {
            try {
                return f.get();
            } catch (ExecutionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return false;
    }

    /**
     * Worker: md's re-add. {@code dev} carries this array's superblock with a member role that is
     * faulty or missing now (it failed, was removed, or was absent), so it goes back into that role
     * and is rebuilt: from the write-intent bitmap when the bitmap covers the time it was away,
     * else in full. Offline (no background work) the role and a recovery offset of 0 are recorded
     * (md's recovering member, with {@code MD_FEATURE_RECOVERY_BITMAP} when bitmap-based) for the
     * next host to finish. False when {@code dev} is no such device: it is then added as a spare.
     */
    private boolean reAdd(BlockDevice dev) {
        RaidGeometry g = raid.geometry();
        if (g.level() == RaidLevel.RAID0 || closing) {
            return false;
        }
        MdSuperblock1 own;
        try {
            own = readSuperblock(host.client(), dev);
        } catch (ErrnoException e) {
            return false; // a damaged superblock proves nothing: the device is a new spare
        }
        int role;
        synchronized (this) {
            MdSuperblock1 any = sbs.values().iterator().next();
            if (own == null || !Arrays.equals(own.setUuid, any.setUuid)) {
                return false;
            }
            role = own.devNumber < own.devRoles.length ? own.devRoles[own.devNumber] : MdSuperblock1.MD_DISK_ROLE_SPARE;
            if (role < 0 || role >= g.raidDisks()) {
                return false;
            }
            MdSuperblock1 known = sbs.get(dev);
            if (known != null) {
                int now = known.devNumber < devRoles.length ? devRoles[known.devNumber] : MdSuperblock1.MD_DISK_ROLE_SPARE;
                if (now != MdSuperblock1.MD_DISK_ROLE_FAULTY || untrusted.contains(dev)) {
                    throw new ErrnoException(Errno.EBUSY, "raid add", dev.name(), dev.name() + " is already part of " + name
                            + (now >= 0 && now < g.raidDisks() ? " (role " + now + ")" : spares.contains(dev) ? " (a spare)" : ""));
                }
            }
            if ((raid.failedMask() & (1L << role)) == 0 || raid.recoveringMask() != 0) {
                return false; // the role was taken over (or is being rebuilt): md adds the device as a spare
            }
        }
        for (Claim c : dev.claims()) {
            // A member that failed is still claimed by this array until its role is taken over.
            if (c.write() && !c.owner().equals("raid " + name)) {
                throw new ErrnoException(Errno.EBUSY, "raid " + name, dev.name(), dev.name() + " is already claimed by "
                        + c.owner() + "; release it there first");
            }
        }
        boolean fromBitmap = bitmapCovers(own.events, dev);
        synchronized (this) {
            MdSuperblock1 known = sbs.get(dev);
            int num = own.devNumber;
            boolean free = num < devRoles.length && devRoles[num] == MdSuperblock1.MD_DISK_ROLE_FAULTY
                    && (known != null || !numberInUse(num));
            if (!free) {
                num = freeDeviceNumber();
            }
            own.devNumber = num;
            own.dataSize = dev.sizeBytes() / 512 - dataOffsetSectors;
            if (known != null) {
                devices.remove(dev);
                sbs.remove(dev);
            }
            addDevice(dev, own);
        }
        LOG.info("{}: re-adding {} into role {} (it left at event count {}, the array is at {}): {}", name, dev.name(), role,
                own.events, events, fromBitmap ? "only the regions the write-intent bitmap marks are rebuilt" : "full rebuild");
        if (autoRebuild) {
            rebuild(role, dev, 0, fromBitmap);
            return true;
        }
        // Offline: record a recovering member; the next host that assembles the array resumes its recovery.
        long pos = bitmapPos(own);
        BlockDevice src = null;
        synchronized (this) {
            events++;
            devRoles[own.devNumber] = role;
            own.featureMap |= MdSuperblock1.MD_FEATURE_RECOVERY_OFFSET;
            if (fromBitmap) {
                own.featureMap |= MdSuperblock1.MD_FEATURE_RECOVERY_BITMAP;
            } else {
                own.featureMap &= ~MdSuperblock1.MD_FEATURE_RECOVERY_BITMAP;
            }
            own.recoveryOffset = 0;
            for (BlockDevice d : devices) {
                MdSuperblock1 sb = sbs.get(d);
                int r = sb.devNumber < devRoles.length ? devRoles[sb.devNumber] : MdSuperblock1.MD_DISK_ROLE_SPARE;
                if (d != dev && r >= 0 && r < g.raidDisks() && !untrusted.contains(d) && bitmapPos(sb) >= 0
                        && (sb.featureMap & MdSuperblock1.MD_FEATURE_RECOVERY_OFFSET) == 0) {
                    src = d;
                    break;
                }
            }
        }
        if (pos >= 0 && src != null) {
            copyBitmap(host.client(), src, bitmapPos(sbs.get(src)), dev, pos);
        }
        writeAll(dev.name() + " re-added into role " + role);
        return true;
    }

    private void addNewSpare(BlockDevice dev) {
        requireUnclaimed(dev, name);
        if (sbs.containsKey(dev)) {
            throw new ErrnoException(Errno.EBUSY, "raid add", dev.name(), dev.name() + " is already part of " + name);
        }
        long offset; // where the data is now (a reshape in this run may have moved it down)
        synchronized (this) {
            offset = sbs.values().iterator().next().dataOffset;
        }
        if (dev.sizeBytes() / 512 - offset < raid.geometry().memberSectors()) {
            throw new ErrnoException(Errno.EINVAL, "raid add", dev.name(), dev.name() + " holds " + dev.sizeBytes()
                    + " bytes; members of " + name + " need " + (offset + raid.geometry().memberSectors()) * 512);
        }
        MdSuperblock1 sb;
        synchronized (this) {
            MdSuperblock1 any = sbs.values().iterator().next();
            sb = copyOf(any);
            int num = devRoles.length;
            for (int i = 0; i < devRoles.length; i++) {
                if (devRoles[i] == MdSuperblock1.MD_DISK_ROLE_SPARE && !numberInUse(i)) {
                    num = i; // md reuses a free dev_number
                    break;
                }
            }
            if (num == devRoles.length) {
                devRoles = Arrays.copyOf(devRoles, num + 1);
                devRoles[num] = MdSuperblock1.MD_DISK_ROLE_SPARE;
            }
            sb.devNumber = num;
            sb.dataSize = dev.sizeBytes() / 512 - sb.dataOffset;
            sb.featureMap &= ~MdSuperblock1.MD_FEATURE_RECOVERY_OFFSET;
            sb.recoveryOffset = 0;
            new SecureRandom().nextBytes(sb.deviceUuid);
            events++;
            addDevice(dev, sb);
        }
        long pos = bitmapPos(sb);
        if (pos >= 0) {
            MdBitmap bm = readBitmap(host.client(), devices.get(0), pos);
            writeBitmap(host.client(), dev, bm, pos, false);
        }
        addSpare(dev);
        writeAll("spare " + dev.name() + " added");
    }

    /**
     * Removes a spare or a faulty member from the array (mdadm --remove): its dev_roles entry is
     * marked faulty so it is never assembled again without being added anew. Active members are refused.
     */
    public void remove(BlockDevice dev) {
        Future<?> f = worker.submit(() -> {
            synchronized (this) {
                MdSuperblock1 sb = sbs.get(dev);
                if (sb == null) {
                    throw new ErrnoException(Errno.EINVAL, "raid remove", dev.name(), dev.name() + " is not part of " + name);
                }
                int role = sb.devNumber < devRoles.length ? devRoles[sb.devNumber] : MdSuperblock1.MD_DISK_ROLE_SPARE;
                boolean spare = spares.remove(dev);
                if (!spare && role != MdSuperblock1.MD_DISK_ROLE_FAULTY) {
                    throw new ErrnoException(Errno.EBUSY, "raid remove", dev.name(), dev.name() + " is an active member"
                            + " of " + name + " (role " + role + "); fail it first (orion raid fail)");
                }
                devRoles[sb.devNumber] = MdSuperblock1.MD_DISK_ROLE_FAULTY;
                devices.remove(dev);
                sbs.remove(dev);
                events++;
            }
            releaseSpareClaim(dev);
            writeAll(dev.name() + " removed");
        });
        try {
            f.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A device number for a new member: an unused spare slot in dev_roles, else a new slot (spare). */
    private int freeDeviceNumber() {
        for (int i = 0; i < devRoles.length; i++) {
            if (devRoles[i] == MdSuperblock1.MD_DISK_ROLE_SPARE && !numberInUse(i)) {
                return i;
            }
        }
        int num = devRoles.length;
        devRoles = Arrays.copyOf(devRoles, num + 1);
        devRoles[num] = MdSuperblock1.MD_DISK_ROLE_SPARE;
        return num;
    }

    private boolean numberInUse(int num) {
        for (MdSuperblock1 s : sbs.values()) {
            if (s.devNumber == num) {
                return true;
            }
        }
        return false;
    }

    private synchronized void addDevice(BlockDevice d, MdSuperblock1 sb) {
        sbs.put(d, sb);
        devices.add(d);
    }

    private void addSpare(BlockDevice d) {
        Claim c = d.claim("raid " + name + " spare", true, () -> {
            synchronized (this) {
                spares.remove(d);
            }
        });
        synchronized (this) {
            spares.add(d);
            spareClaims.add(c);
        }
    }

    private synchronized void releaseSpareClaim(BlockDevice d) {
        for (int i = 0; i < spareClaims.size(); i++) {
            if (spareClaims.get(i).device() == d) {
                spareClaims.remove(i).close();
                return;
            }
        }
    }

    // ------------------------------------------------------------------------------ writing metadata

    /** Writes every trusted device's superblock with the array-wide state; null reason: no log line. */
    private void writeAll(String reason) {
        for (BlockDevice d : metadataTargets()) {
            try {
                writeOne(d);
            } catch (ErrnoException e) {
                LOG.warn("{}: superblock write to {} failed: {}", name, d.name(), e.getMessage());
            }
        }
        if (reason != null) {
            LOG.info("{}: superblocks written ({}), events {}", name, reason, events);
        }
    }

    /** Devices whose superblock and bitmap are kept current. */
    private synchronized List<BlockDevice> metadataTargets() {
        List<BlockDevice> targets = new ArrayList<>();
        for (BlockDevice d : devices) {
            MdSuperblock1 sb = sbs.get(d);
            int role = sb.devNumber < devRoles.length ? devRoles[sb.devNumber] : MdSuperblock1.MD_DISK_ROLE_SPARE;
            if (role == MdSuperblock1.MD_DISK_ROLE_FAULTY || untrusted.contains(d)) {
                continue; // md stops writing a faulty member's superblock; a stale one waits for its rebuild
            }
            targets.add(d);
        }
        return targets;
    }

    /**
     * Loads the write-intent bitmap from a current member and installs it: from here every write
     * into a clean region sets its bit on disk first. With {@code resyncOwed} the set bits are held
     * until the resync has visited their regions; a bitmap older than the superblocks is not
     * trusted and every bit is set (full resync).
     */
    private void startIntent(boolean resyncOwed) {
        BlockDevice src = null;
        long pos = -1;
        synchronized (this) {
            for (BlockDevice d : devices) {
                MdSuperblock1 sb = sbs.get(d);
                // Not a member being recovered: one re-added offline still carries the bits it left with.
                if (raid.geometry().level() != RaidLevel.RAID0 && bitmapPos(sb) >= 0 && !untrusted.contains(d)
                        && (sb.featureMap & MdSuperblock1.MD_FEATURE_RECOVERY_OFFSET) == 0
                        && sb.events == events && sb.devNumber < devRoles.length && devRoles[sb.devNumber] >= 0
                        && devRoles[sb.devNumber] < raid.geometry().raidDisks()) {
                    src = d;
                    pos = bitmapPos(sb);
                    break;
                }
            }
        }
        if (src == null) {
            return;
        }
        BdevClient c = host.client();
        try (Arena a = Arena.ofShared()) {
            MdBitmap b = readBitmap(c, src, pos);
            b.sectorsReserved = reservedWithin(b.sectorsReserved, pos); // written with the header from here on
            MemorySegment bits = a.allocate((b.byteSize() + 4095) / 4096 * 4096, 4096);
            await(c.read(src, pos, bits), "read md bitmap", src.name());
            if (Long.compareUnsigned(b.events, events) < 0 || (b.state & MdBitmap.BITMAP_STALE) != 0) {
                LOG.warn("{}: bitmap on {} is stale (events {} < {}): every region is resynced", name, src.name(),
                        b.events, events);
                b.state &= ~MdBitmap.BITMAP_STALE;
                for (long k = 0; k < b.bits(); k++) {
                    MdBitmap.setDirty(bits, k, true);
                }
            }
            WriteIntent w = new WriteIntent(name, b, bits, pos, c, this::metadataTargets,
                    () -> raid.failedMask() == 0 && raid.recoveringMask() == 0, raid::intentReady, bitmapPeriodNanos);
            if (resyncOwed) {
                for (long k : w.dirtyRegions()) {
                    w.hold((int) k);
                }
            }
            intent = w;
            raid.writeIntent(w);
            w.start();
            LOG.info("{}: write-intent bitmap: {} region(s) of {} KiB, {} dirty", name, w.regions(),
                    w.regionSectors() / 2, w.dirtyRegions().length);
        }
    }

    /** How long a region must see no write before its bitmap bit is cleared (md's daemon_sleep, default 5 s). */
    public void bitmapPeriod(Duration d) {
        bitmapPeriodNanos = d.toNanos();
        WriteIntent w = intent;
        if (w != null) {
            w.period(d.toNanos());
        }
    }

    /** Regions whose write-intent bit is set now (-1 without a bitmap in use). */
    public long dirtyRegions() {
        WriteIntent w = intent;
        return w == null ? -1 : w.dirtyRegions().length;
    }

    private void writeOne(BlockDevice d) {
        BdevClient c = host.client();
        try (Arena a = Arena.ofShared()) {
            MemorySegment buf = a.allocate(SB_BYTES, 4096);
            long pos;
            synchronized (this) {
                MdSuperblock1 sb = sbs.get(d);
                pos = bitmapPos(sb);
                sb.events = events;
                sb.devRoles = devRoles.clone();
                sb.resyncOffset = dirty ? 0 : resyncOffset;
                sb.utime = MdSuperblock1.mdTime(Instant.now());
                sb.encode(buf);
            }
            await(c.write(d, SB_POS, buf, 0), "write md superblock", d.name());
            WriteIntent w = intent;
            if (pos >= 0 && w != null) {
                // md keeps the bitmap's event count with the superblock's (behind it means stale); a clean
                // close clears every bit, the data having been flushed first, unless the array is not in
                // sync: then the bits say what a returning member lacks (md never clears them while degraded).
                w.writeTo(d, events, !dirty && raid.failedMask() == 0 && raid.recoveringMask() == 0);
            } else if (pos >= 0) {
                // No bitmap in use (offline tools): only the event count moves, the bits keep what a resync owes.
                MemorySegment head = a.allocate(4096, 4096);
                await(c.read(d, pos, head), "read md bitmap", d.name());
                MdBitmap b = MdBitmap.decode(head, d.name());
                b.events = events;
                b.sectorsReserved = reservedWithin(b.sectorsReserved, pos);
                b.encode(head);
                await(c.write(d, pos, head, 0), "write md bitmap", d.name());
            }
            await(c.flush(d), "flush", d.name());
        }
    }

    /**
     * A bitmap's sectors_reserved kept below the data: a crash after the "reshape done"
     * superblocks and before the bitmap headers leaves it reaching into the space the data moved
     * down into (md would count those sectors as the bitmap's).
     */
    private int reservedWithin(int reserved, long bitmapPos) {
        long room = dataOffsetSectors - bitmapPos / 512;
        return room > 0 && reserved > room ? (int) room : reserved;
    }

    static MdBitmap readBitmap(BdevClient c, BlockDevice d, long pos) {
        try (Arena a = Arena.ofShared()) {
            MemorySegment bm = a.allocate(4096, 4096);
            await(c.read(d, pos, bm), "read md bitmap", d.name());
            return MdBitmap.decode(bm, d.name());
        }
    }

    /** Copies the bitmap (header and bits) of {@code from} to {@code to}: a re-added member's own bits are stale. */
    private static void copyBitmap(BdevClient c, BlockDevice from, long fromPos, BlockDevice to, long toPos) {
        MdBitmap b = readBitmap(c, from, fromPos);
        try (Arena a = Arena.ofShared()) {
            MemorySegment bm = a.allocate((b.byteSize() + 4095) / 4096 * 4096, 4096);
            await(c.read(from, fromPos, bm), "read md bitmap", from.name());
            await(c.write(to, toPos, bm, 0), "write md bitmap", to.name());
        }
    }

    /** Writes a bitmap header with every bit clean, or every bit set. */
    private static void writeBitmap(BdevClient c, BlockDevice d, MdBitmap b, long pos, boolean allDirty) {
        try (Arena a = Arena.ofShared()) {
            long len = (b.byteSize() + 4095) / 4096 * 4096;
            MemorySegment bm = a.allocate(len, 4096);
            bm.fill((byte) 0);
            b.encode(bm);
            for (long k = 0; allDirty && k < b.bits(); k++) {
                MdBitmap.setDirty(bm, k, true);
            }
            await(c.write(d, pos, bm, 0), "write md bitmap", d.name());
        }
    }

    // ------------------------------------------------------------------------------ grow (MdReshape)

    /**
     * What {@code orion raid grow} asks, in mdadm's vocabulary: a new level (null: unchanged), a
     * new member count ({@code --raid-devices}, 0: what the level change implies) and devices to
     * add ({@code --add}; existing spares are used after them).
     */
    public record GrowOptions(RaidLevel level, int raidDevices, List<BlockDevice> add) {
    }

    /**
     * Reshapes the array online: more members for RAID5/6, RAID1 (2 members) to RAID5, RAID5 to
     * RAID6 (one added member holds Q). A request md would refuse, or one orion does not
     * implement, is refused before anything is written; then the reshape runs in the background
     * (rate-limited, {@link #progress()} kind "reshape") and {@link #awaitIdle} waits for it.
     * A crash during it resumes at the next assembly from the position in the superblocks.
     */
    public void grow(GrowOptions o) {
        Future<?> f = worker.submit(() -> MdReshape.grow(this, o));
        try {
            f.get(); // the checks and the start; the copy itself runs as a separate worker task
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    BdevHost host() {
        return host;
    }

    IoContext ctx() {
        return ctx;
    }

    boolean closing() {
        return closing;
    }

    long syncBytesPerSec() {
        return syncBytesPerSec;
    }

    void progress(Progress p) {
        progress = p;
    }

    void reshape(MdReshape r) {
        reshape = r;
    }

    MdReshape reshape() {
        return reshape;
    }

    /** Queues {@code task} on the array's worker (after the current task). */
    void later(Runnable task) {
        worker.execute(task);
    }

    /** Makes {@code next} the device serving the array (the front forwards to it); worker thread. */
    void serveWith(RaidBdev next) {
        next.array(this);
        next.onMemberFailed(this::memberFailedLater);
        raid = next;
    }

    /** From any thread: records role {@code role}'s failure in the superblocks on the worker. */
    void memberFailedLater(int role) {
        if (!closing) {
            try {
                worker.execute(() -> memberFailed(role));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                LOG.debug("{}: closing; role {} failure not recorded", name, role);
            }
        }
    }

    /** Applies {@code edit} to every device's superblock (under the array's lock), raises the event count and writes them all. */
    void editSuperblocks(java.util.function.Consumer<MdSuperblock1> edit, String reason) {
        synchronized (this) {
            for (MdSuperblock1 sb : sbs.values()) {
                edit.accept(sb);
            }
            events++;
        }
        writeAll(reason);
    }

    /** A copy of one current superblock (the array-wide fields). */
    synchronized MdSuperblock1 anySuperblock() {
        return copyOf(sbs.values().iterator().next());
    }

    /** The next spare, taken out of the spare list (its claim is kept), or null. */
    synchronized BlockDevice takeSpare() {
        return spares.poll();
    }

    /**
     * Gives {@code dev} role {@code role} with a superblock copied from the array's (a new
     * device is refused when claimed, already part of the array, or too small); claimed for the
     * array until close. No write here: the caller writes every superblock next.
     */
    void addMember(BlockDevice dev, int role, long needSectors) {
        synchronized (this) {
            MdSuperblock1 sb = sbs.get(dev);
            if (sb == null) {
                if (dev.sizeBytes() / 512 < needSectors) {
                    throw new ErrnoException(Errno.EINVAL, "raid grow", dev.name(), dev.name() + " holds "
                            + dev.sizeBytes() + " bytes; members of " + name + " need " + needSectors * 512);
                }
                sb = copyOf(sbs.values().iterator().next());
                int num = freeDeviceNumber();
                sb.devNumber = num;
                sb.dataSize = dev.sizeBytes() / 512 - sb.dataOffset;
                sb.featureMap &= ~MdSuperblock1.MD_FEATURE_RECOVERY_OFFSET;
                sb.recoveryOffset = 0;
                new SecureRandom().nextBytes(sb.deviceUuid);
                addDevice(dev, sb);
                Claim c = dev.claim("raid " + name, true, () -> raid.markFailed(role, "member removed"));
                spareClaims.add(c);
            }
            devRoles[sb.devNumber] = role;
        }
    }

    /** Claims a member the front device does not claim (a role added by a reshape), until close. */
    void claimMember(BlockDevice dev, int role) {
        Claim c = dev.claim("raid " + name, true, () -> raid.markFailed(role, "member removed"));
        synchronized (this) {
            spareClaims.add(c);
        }
    }

    /** The devices in the array's roles 0..n-1 (null where none), from dev_roles. */
    synchronized BlockDevice[] roleDevices(int n) {
        BlockDevice[] out = new BlockDevice[n];
        for (BlockDevice d : devices) {
            MdSuperblock1 sb = sbs.get(d);
            int role = sb.devNumber < devRoles.length ? devRoles[sb.devNumber] : MdSuperblock1.MD_DISK_ROLE_SPARE;
            if (role >= 0 && role < n) {
                out[role] = d;
            }
        }
        return out;
    }

    /**
     * Stops using the write-intent bitmap and sets every bit on disk: while the geometry changes
     * (and until the next assembly) writes are not tracked per region, so a crash resyncs
     * everything, as md does for an array without a bitmap.
     */
    void dropIntent() {
        WriteIntent w = intent;
        if (w != null) {
            w.close();
            intent = null;
            raid.writeIntent(null);
        }
        BdevClient c = host.client();
        MdBitmap b = null;
        for (BlockDevice d : metadataTargets()) {
            long pos = bitmapPos(sbs.get(d));
            if (pos >= 0) {
                if (b == null) {
                    b = readBitmap(c, devices.get(0), pos); // an original member: added ones have none yet
                    b.events = events;
                }
                writeBitmap(c, d, b, pos, true);
            }
        }
    }

    /** Sets the bitmap headers' sectors_reserved (the data moved down into its reserved space). */
    void bitmapReserved(int sectors) {
        BdevClient c = host.client();
        for (BlockDevice d : metadataTargets()) {
            long pos = bitmapPos(sbs.get(d));
            if (pos >= 0) {
                try (Arena a = Arena.ofShared()) {
                    MemorySegment head = a.allocate(4096, 4096);
                    await(c.read(d, pos, head), "read md bitmap", d.name());
                    MdBitmap b = MdBitmap.decode(head, d.name());
                    if (b.sectorsReserved <= sectors) {
                        continue; // already within the space before the data
                    }
                    b.sectorsReserved = sectors;
                    b.encode(head);
                    await(c.write(d, pos, head, 0), "write md bitmap", d.name());
                } catch (ErrnoException e) {
                    LOG.warn("{}: bitmap header write to {} failed: {}", name, d.name(), e.getMessage());
                }
            }
        }
    }

    /** Whether the array was in use when it stopped (its superblocks were not clean at assembly). */
    synchronized boolean resyncOwed() {
        return resyncOffset != MdSuperblock1.MAX_SECTOR;
    }

    /** Worker: a full resync in the current geometry (after a reshape resumed from a crash). */
    void resyncAll() {
        synchronized (this) {
            resyncOffset = 0;
        }
        resync();
    }

    /** Worker: adds {@code dev} and rebuilds role {@code role} onto it (RAID5 to RAID6: Q onto the new member). */
    void rebuildOnto(BlockDevice dev, int role) {
        synchronized (this) {
            spares.remove(dev);
        }
        releaseSpareClaim(dev);
        rebuild(role, dev, 0);
    }

    /** Worker: records role {@code role}'s failure in the superblocks now (no rebuild: the reshape runs). */
    void recordFailure(int role) {
        memberFailed(role);
    }

    /** Worker: a member that failed during the reshape is rebuilt onto a spare in the new geometry. */
    void afterReshape() {
        fillFromSpares();
    }

    /** Worker: as {@code orion raid add}, without starting a rebuild. */
    void addSpareNow(BlockDevice dev) {
        addNewSpare(dev);
    }

    // ------------------------------------------------------------------------------ helpers

    /** The geometry md's level/layout/chunk describe, over members of {@code sizes} data sectors. */
    static RaidGeometry geometry(RaidLevel level, int layout, int chunkSectors, long[] sizes) {
        return switch (level) {
            case RAID0 -> Raid0Geometry.withLayout(chunkSectors, layout, sizes);
            case RAID1 -> Raid1Geometry.of(sizes);
            case RAID10 -> Raid10Geometry.ofMdLayout(layout, chunkSectors, sizes);
            case RAID5, RAID6 -> ParityGeometry.of(level, ParityLayout.ofMdNumber(layout), chunkSectors, sizes);
        };
    }

    /** md's layout number for an mdadm layout name (null: md's default at that level). */
    static int layoutNumber(RaidLevel level, String layout) {
        return switch (level) {
            case RAID0, RAID1 -> {
                if (layout != null) {
                    throw new ErrnoException(Errno.EINVAL, "raid create", "layout", level.mdadmName()
                            + " takes no layout (orion creates single-zone raid0 over equal members)");
                }
                yield 0;
            }
            case RAID10 -> {
                String l = layout == null ? "n2" : layout;
                if (!l.matches("n[2-9]")) {
                    throw new ErrnoException(Errno.EINVAL, "raid create", "layout", "raid10 layout \"" + l
                            + "\": orion builds near layouts n2..n9 (far and offset layouts are not implemented)");
                }
                yield (l.charAt(1) - '0') | 1 << 8;
            }
            case RAID5, RAID6 -> {
                ParityLayout p = layout == null ? ParityLayout.DEFAULT : ParityLayout.ofMdadmName(layout);
                if (level == RaidLevel.RAID5 && p.raid6Only()) {
                    throw new ErrnoException(Errno.EINVAL, "raid create", "layout", "layout " + layout + " exists only for raid6");
                }
                yield p.mdNumber();
            }
        };
    }

    /** dev_roles without the trailing unused entries md pads max_dev with. */
    private static String rolesOf(int[] roles) {
        int end = roles.length;
        while (end > 0 && roles[end - 1] == MdSuperblock1.MD_DISK_ROLE_SPARE) {
            end--;
        }
        return Arrays.toString(Arrays.copyOf(roles, end));
    }

    static void requireUnclaimed(BlockDevice d, String array) {
        for (Claim c : d.claims()) {
            if (c.write()) {
                throw new ErrnoException(Errno.EBUSY, "raid " + array, d.name(), d.name() + " is already claimed by "
                        + c.owner() + "; release it there first");
            }
        }
    }

    private static MdSuperblock1 copyOf(MdSuperblock1 sb) {
        try (Arena a = Arena.ofShared()) {
            MemorySegment buf = a.allocate(SB_BYTES, 8);
            sb.encode(buf);
            return MdSuperblock1.decode(buf, "copy", MdSuperblock1.MD_FEATURE_ALL);
        }
    }

    static <T> T await(java.util.concurrent.CompletableFuture<T> f, String op, String target) {
        try {
            return f.get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ErrnoException x) {
                throw x;
            }
            throw new ErrnoException(Errno.EIO, op, target, String.valueOf(e.getCause()));
        } catch (TimeoutException e) {
            throw new ErrnoException(Errno.ETIMEDOUT, op, target, "no answer within 60 s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ErrnoException(Errno.EINTR, op, target, "interrupted");
        }
    }

    /** Waits for background work queued so far (rebuild, resync) to finish; for tools and tests. */
    public boolean awaitIdle(Duration limit) throws InterruptedException {
        Future<?> f = worker.submit(() -> { });
        try {
            f.get(limit.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (ExecutionException e) {
            return true;
        } catch (TimeoutException e) {
            return false;
        }
    }

    /** Stops background work (a rebuild resumes from its recovery offset next time) and releases every device. */
    @Override
    public void close() {
        front.close(); // runs stopBackground
    }

    private void stopBackground() {
        closing = true;
        worker.shutdown();
        try {
            if (!worker.awaitTermination(30, TimeUnit.SECONDS)) {
                LOG.warn("{}: background work did not stop within 30 s", name);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        WriteIntent w = intent;
        if (w != null) {
            w.close(); // no bit changes from here; the clean close below clears them all after the flush
        }
        if (dirty) {
            // Data first, then the clean mark: a clean superblock must never precede the writes it vouches for.
            List<BlockDevice> targets;
            synchronized (this) {
                targets = new ArrayList<>(devices);
            }
            boolean flushed = true;
            for (BlockDevice d : targets) {
                if (raidMemberOrSpare(d)) {
                    try {
                        await(host.client().flush(d), "flush", d.name());
                    } catch (ErrnoException e) {
                        flushed = false;
                        LOG.warn("{}: flush of {} at close failed: {}", name, d.name(), e.getMessage());
                    }
                }
            }
            if (flushed) {
                synchronized (this) {
                    dirty = false;
                    events++;
                }
                writeAll("clean shutdown");
            }
        }
        synchronized (this) {
            spareClaims.forEach(Claim::close);
            spareClaims.clear();
        }
        RaidBdev cur = raid;
        if (cur != front) {
            cur.close(); // the claims a rebuild in the new geometry took
        }
    }

    /** Whether {@code d} is a device whose superblock is kept current (not faulty, not stale). */
    private synchronized boolean raidMemberOrSpare(BlockDevice d) {
        MdSuperblock1 sb = sbs.get(d);
        int role = sb.devNumber < devRoles.length ? devRoles[sb.devNumber] : MdSuperblock1.MD_DISK_ROLE_SPARE;
        return role != MdSuperblock1.MD_DISK_ROLE_FAULTY && !untrusted.contains(d);
    }

    /** A member role's state: "active", "faulty", "rebuilding" or "missing". */
    public record RoleState(int role, String device, String state) {
    }

    /** Per-role device and state, in role order. */
    public List<RoleState> roles() {
        RaidGeometry g = raid.geometry();
        long failed = raid.failedMask();
        long rec = raid.recoveringMask();
        List<RoleState> out = new ArrayList<>();
        for (int r = 0; r < g.raidDisks(); r++) {
            BlockDevice d = raid.member(r);
            String st = d == null ? "missing" : (failed & (1L << r)) != 0 ? "faulty" : (rec & (1L << r)) != 0 ? "rebuilding" : "active";
            out.add(new RoleState(r, d == null ? null : d.name(), st));
        }
        MdReshape rs = reshape;
        if (rs != null && !rs.done()) {
            for (int r = g.raidDisks(); r < rs.target().raidDisks(); r++) {
                out.add(new RoleState(r, rs.member(r).name(), "reshaping")); // added: filled as the reshape moves
            }
        }
        return out;
    }

    /** The geometry the array has, or is being reshaped to (as md, whose raid_disks is the new count during a reshape). */
    public RaidGeometry geometry() {
        MdReshape rs = reshape;
        return rs != null && !rs.done() ? rs.target() : raid.geometry();
    }

    /** md's array state words: "clean" or "active" (in use), plus "degraded", "recovering", "resyncing". */
    public String state() {
        StringBuilder b = new StringBuilder(dirty ? "active" : "clean");
        if (raid.failedMask() != 0 && raid.recoveringMask() == 0) {
            b.append(", degraded");
        }
        Progress p = progress;
        if (p != null && p.running()) {
            b.append(", ").append(switch (p.kind()) {
                case "rebuild" -> "recovering";
                case "resync" -> "resyncing";
                case "reshape" -> "reshaping";
                default -> p.kind() + "ing";
            });
        }
        return b.toString();
    }

    /** Human-readable state for {@code orion raid status} and the log. */
    public synchronized String describe() {
        StringBuilder b = new StringBuilder();
        RaidGeometry g = raid.geometry();
        b.append(name).append(": ").append(g.level().mdadmName()).append(", ").append(g.raidDisks()).append(" devices, ")
                .append(raid.sizeBytes()).append(" bytes, events ").append(events);
        long failed = raid.failedMask();
        b.append(failed == 0 && raid.recoveringMask() == 0 ? ", clean" : raid.recoveringMask() != 0 ? ", recovering" : ", degraded");
        b.append('\n');
        for (int r = 0; r < g.raidDisks(); r++) {
            BlockDevice d = raid.member(r);
            String st = (failed & (1L << r)) != 0 ? "faulty" : (raid.recoveringMask() & (1L << r)) != 0 ? "rebuilding" : "active";
            b.append("  role ").append(r).append(": ").append(d == null ? "missing" : d.name()).append(' ').append(st).append('\n');
        }
        for (BlockDevice s : spares) {
            b.append("  spare: ").append(s.name()).append('\n');
        }
        Progress p = progress;
        if (p != null) {
            b.append("  ").append(p).append('\n');
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return name + " (" + raid + ")";
    }
}
