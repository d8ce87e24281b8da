package org.orionos.host.lvm;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.Claim;
import org.orionos.host.lvm.metadata.ExtentAllocator;
import org.orionos.host.lvm.metadata.LogicalVolumeMetadata;
import org.orionos.host.lvm.metadata.LvSegment;
import org.orionos.host.lvm.metadata.MetadataIo;
import org.orionos.host.lvm.metadata.OfflineVolumeGroup;
import org.orionos.host.lvm.metadata.PhysicalVolumeDevice;
import org.orionos.host.lvm.metadata.PhysicalVolumeFormatter;
import org.orionos.host.lvm.metadata.PhysicalVolumeMetadata;
import org.orionos.host.lvm.metadata.RaidSegments;
import org.orionos.host.lvm.metadata.StripeArea;
import org.orionos.host.lvm.metadata.StripedSegment;
import org.orionos.host.lvm.metadata.ThinSegments;
import org.orionos.host.lvm.metadata.VolumeGroupMetadata;
import org.orionos.host.lvm.metadata.VolumeGroupRead;
import org.orionos.host.raid.RaidBdev;
import org.orionos.host.raid.RaidGeometry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A volume group that is open on a running host: its PVs are block devices it claims for
 * writing (one VG writes them, its volumes share them), its metadata is read and committed
 * through the block-device layer ({@link BdevMetadataIo}), and its linear and striped volumes are
 * {@link LogicalVolume} block devices. Changes (create, resize, remove) commit LVM2 metadata
 * first and then change the live mapping, in the order that never lets a volume reach extents
 * that another volume may own: growing commits then maps; shrinking unmaps, drains the volume's
 * I/O in flight, then commits. Management path: callers block; the reactors never do.
 */
public final class VolumeGroup implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(VolumeGroup.class);
    private final BdevHost host;
    private final OfflineVolumeGroup editor;
    private final List<Claim> claims = new ArrayList<>();
    /** VG PV name (pv0...) to its device, rebuilt after vgextend/vgreduce. */
    private final Map<String, BlockDevice> pvDevices = new LinkedHashMap<>();
    private final Map<String, BlockDevice> active = new LinkedHashMap<>();
    /** Thin pools opened (their data and metadata volumes mapped, their committer running), by pool LV name. */
    private final Map<String, ThinPool> pools = new LinkedHashMap<>();
    /** The hidden image LVs under active raid volumes, by sub-LV name (pvmove moves them under load). */
    private final Map<String, LogicalVolume> raidParts = new LinkedHashMap<>();

    private VolumeGroup(BdevHost host, OfflineVolumeGroup editor) {
        this.host = host;
        this.editor = editor;
    }

    /**
     * Opens the VG held by {@code devices} (all its PVs), claiming each for writing.
     *
     * @throws ErrnoException EBUSY when a device is claimed by someone else, ENOENT/EBADMSG when
     *                        the metadata is missing or damaged, ENODEV when a PV of the VG is missing
     */
    public static VolumeGroup open(BdevHost host, List<BlockDevice> devices) {
        return open(host, devices, false);
    }

    /**
     * As {@link #open(BdevHost, List)}; with {@code degraded} (lvm2's {@code --activationmode
     * degraded}) a VG with missing PVs opens too: raid volumes then activate without the images
     * on those PVs as long as their level tolerates it, volumes needing a missing PV refuse to
     * activate, and every metadata change is refused (the missing PV's copy would go stale).
     */
    public static VolumeGroup open(BdevHost host, List<BlockDevice> devices, boolean degraded) {
        List<MetadataIo> ios = new ArrayList<>();
        for (BlockDevice d : devices) {
            ios.add(new BdevMetadataIo(d, host.client()));
        }
        OfflineVolumeGroup editor = OfflineVolumeGroup.open(ios, false);
        VolumeGroupRead read = editor.lastRead();
        for (String p : read.problems()) {
            if (p.contains("is missing") && !degraded) {
                throw new ErrnoException(Errno.ENODEV, "open VG " + read.vg().name(), null, p
                        + "; orion opens a VG only with all its PVs");
            }
        }
        return claimAndWrap(host, editor, devices);
    }

    /** {@code vgcreate}: formats {@code devices} as PVs of a new VG and opens it. */
    public static VolumeGroup create(BdevHost host, String name, List<BlockDevice> devices, long extentSectors) {
        for (BlockDevice d : devices) {
            if (!d.claims().isEmpty()) {
                throw ErrnoException.withMessage(Errno.EBUSY, "vgcreate " + name, d.name(),
                        "block device '" + d.name() + "' is in use by " + d.claims() + "; it cannot become a PV");
            }
        }
        List<MetadataIo> ios = new ArrayList<>();
        for (BlockDevice d : devices) {
            ios.add(new BdevMetadataIo(d, host.client()));
        }
        OfflineVolumeGroup editor = OfflineVolumeGroup.create(name, ios, false, extentSectors,
                PhysicalVolumeFormatter.Options.defaults());
        return claimAndWrap(host, editor, devices);
    }

    private static VolumeGroup claimAndWrap(BdevHost host, OfflineVolumeGroup editor, List<BlockDevice> devices) {
        VolumeGroup vg = new VolumeGroup(host, editor);
        try {
            for (BlockDevice d : devices) {
                vg.claims.add(d.claim("lvm VG " + editor.metadata().name(), true, () -> vg.pvRemoved(d)));
            }
        } catch (RuntimeException e) {
            vg.claims.forEach(Claim::close);
            throw e;
        }
        vg.mapDevices(devices);
        return vg;
    }

    private void mapDevices(List<BlockDevice> devices) {
        pvDevices.clear();
        for (PhysicalVolumeMetadata pv : editor.metadata().physicalVolumes()) {
            PhysicalVolumeDevice d = editor.device(pv.name());
            for (BlockDevice b : devices) {
                if (d != null && d.io() instanceof BdevMetadataIo io && io.device() == b) {
                    pvDevices.put(pv.name(), b);
                }
            }
        }
    }

    /**
     * A PV went away: every linear, striped and thin volume fails from now on (its data may live
     * there); a raid volume loses only its images on that PV, which it marks faulty.
     */
    private void pvRemoved(BlockDevice pv) {
        List<BlockDevice> lvs = new ArrayList<>();
        synchronized (this) {
            for (BlockDevice v : active.values()) {
                if (!(v instanceof RaidBdev)) {
                    lvs.add(v);
                }
            }
            for (LogicalVolume img : raidParts.values()) {
                if (java.util.Arrays.asList(img.map().allDevices).contains(pv)) {
                    lvs.add(img);
                }
            }
        }
        for (BlockDevice lv : lvs) {
            lv.announceRemoval();
        }
    }

    public synchronized VolumeGroupMetadata metadata() {
        return editor.metadata();
    }

    public String name() {
        return editor.metadata().name();
    }

    /** The block devices under this VG, in the VG's PV order. */
    public synchronized List<BlockDevice> physicalVolumes() {
        return List.copyOf(pvDevices.values());
    }

    /** The active linear or striped volume {@code lvName}, or null. */
    public synchronized LogicalVolume volume(String lvName) {
        return active.get(lvName) instanceof LogicalVolume v ? v : null;
    }

    /** The active thin volume {@code lvName}, or null. */
    public synchronized ThinVolume thinVolume(String lvName) {
        return active.get(lvName) instanceof ThinVolume v ? v : null;
    }

    public synchronized List<BlockDevice> activeVolumes() {
        return List.copyOf(active.values());
    }

    /**
     * Activates {@code lvName} as a block device named {@code deviceName} (e.g. {@code vg0/lv0}).
     * The caller registers it where it wants it (a {@link org.orionos.host.bdev.BdevRegistry}).
     */
    public synchronized BlockDevice activateAny(String lvName, String deviceName) {
        LogicalVolumeMetadata lv = editor.metadata().logicalVolume(lvName);
        ThinSegments.Thin t = lv == null ? null : ThinSegments.thinOf(lv);
        if (lv != null && RaidSegments.raidOf(lv) != null) {
            return activateRaid(lvName, deviceName);
        }
        return t == null ? activate(lvName, deviceName) : activateThin(lvName, deviceName);
    }

    /** The active raid volume {@code lvName}, or null. */
    public synchronized RaidBdev raidVolume(String lvName) {
        return active.get(lvName) instanceof RaidBdev r ? r : null;
    }

    /**
     * Activates the raid1/5/6 volume {@code lvName} as a {@link RaidBdev} over its image LVs
     * (see {@link #activateAny}). An image on a missing PV (a VG opened degraded) is a missing
     * member: reads of it are reconstructed from the others, as dm-raid does with a failed leg.
     */
    public synchronized RaidBdev activateRaid(String lvName, String deviceName) {
        String op = "activate " + name() + "/" + lvName;
        if (active.containsKey(lvName)) {
            throw new ErrnoException(Errno.EEXIST, op, null, "already active");
        }
        VolumeGroupMetadata meta = editor.metadata();
        LogicalVolumeMetadata lv = meta.logicalVolume(lvName);
        RaidSegments.Raid raid = lv == null ? null : RaidSegments.raidOf(lv);
        if (raid == null) {
            throw new ErrnoException(Errno.ENOENT, op, null, "no such raid LV");
        }
        if (raid.dataOffset() != 0) {
            throw new ErrnoException(Errno.EOPNOTSUPP, op, null, "its images carry " + raid.dataOffset()
                    + " sectors of reshape space (data_offset); orion maps images whose data starts at byte 0");
        }
        LogicalVolume[] images = new LogicalVolume[raid.devices()];
        long imageSectors = -1;
        List<String> missing = new ArrayList<>();
        for (int i = 0; i < images.length; i++) {
            LogicalVolumeMetadata img = meta.logicalVolume(raid.imageLvs().get(i));
            if (img == null) {
                throw new ErrnoException(Errno.EBADMSG, op, null, "its image " + raid.imageLvs().get(i) + " is missing from the VG");
            }
            long sectors = img.extentCount() * meta.extentSize();
            if (imageSectors >= 0 && sectors != imageSectors) {
                throw new ErrnoException(Errno.EBADMSG, op, null, "its images differ in size");
            }
            imageSectors = sectors;
            if (onPresentPvs(img)) {
                images[i] = hiddenVolume(img.name());
            } else {
                missing.add(img.name());
            }
        }
        RaidGeometry g = LvmRaid.geometry(raid, imageSectors);
        if (g.arraySectors() != lv.extentCount() * meta.extentSize()) {
            throw new ErrnoException(Errno.EBADMSG, op, null, "the LV has " + lv.extentCount() + " extents but its "
                    + raid.devices() + " images of " + imageSectors + " sectors hold " + g.arraySectors() + " sectors");
        }
        // dm-raid's record of the images: which are stale, whether its initial resync finished.
        LogicalVolume[] metas = new LogicalVolume[images.length];
        DmRaidSuperblock[] sbs = new DmRaidSuperblock[images.length];
        for (int i = 0; i < images.length; i++) {
            LogicalVolumeMetadata m = raid.metaLvs().get(i) == null ? null : meta.logicalVolume(raid.metaLvs().get(i));
            if (m != null && onPresentPvs(m)) {
                metas[i] = hiddenVolume(m.name());
                sbs[i] = LvmRaid.readSuperblock(host.client(), metas[i]);
            }
        }
        long stale = LvmRaid.staleImages(op, sbs);
        for (int i = 0; i < images.length; i++) {
            if ((stale & 1L << i) != 0 && images[i] != null) {
                missing.add(images[i].lvName() + " (stale: dm-raid's superblock records it failed or recovering)");
                images[i] = null;
            }
        }
        RaidBdev r = new RaidBdev(deviceName, g, images, 0);
        if (!missing.isEmpty()) {
            LOG.warn("{}/{} activated degraded: images {} are missing or stale", name(), lvName, missing);
        }
        AutoCloseable[] intent = new AutoCloseable[1];
        try {
            // md's rule: an array not shut down cleanly is resynced before its redundancy is trusted
            // (a crash between a data write and its parity or mirror write left them disagreeing).
            LvmRaid.Unclean unclean = LvmRaid.unclean(host.client(), metas);
            if (unclean != null && r.failedMask() == 0) {
                long t0 = System.nanoTime();
                if (unclean.regions() == null) {
                    LOG.warn("{}/{}: {}; resyncing all {} sync units (parity recomputed, mirrors copied from image 0) "
                            + "before use", name(), lvName, unclean.why(), r.syncStripes());
                    LvmRaid.sync(r, host.context(0), 0);
                } else {
                    LOG.warn("{}/{}: {}; resyncing those regions before use", name(), lvName, unclean.why());
                    LvmRaid.syncRegions(r, host.context(0), unclean.regions(), unclean.regionSectors());
                }
                LOG.info("{}/{}: resync done in {} ms", name(), lvName, (System.nanoTime() - t0) / 1_000_000);
            } else if (unclean != null) {
                // md refuses a dirty degraded array (start_dirty_degraded): a stripe the crash tore
                // cannot be repaired without the missing image. Orion serves it and says so.
                LOG.error("{}/{}: {} and the volume is degraded (images 0x{} missing): stripes torn by the crash "
                        + "cannot be resynced; reads that reconstruct a missing image there may return wrong data",
                        name(), lvName, unclean.why(), Long.toHexString(r.failedMask()));
            }
            // Every image orion cannot use, and every one it fails later, is recorded for dm-raid.
            if (r.failedMask() != 0) {
                LvmRaid.recordFailed(host.client(), metas, r.failedMask(), g);
            }
            // Dirty from here until a clean close: a crash from now on makes the next activation
            // (orion's or dm-raid's) resync: the regions the write-intent bitmap marks when the
            // rmetas carry one, else all of it.
            if (unclean == null || r.failedMask() == 0) {
                intent[0] = LvmRaid.startWriteIntent(host.client(), r, metas, raid.regionSectors(), imageSectors);
            }
            if (intent[0] != null) {
                LvmRaid.markDirtyBitmapped(host.client(), metas);
            } else {
                LvmRaid.markDirty(host.client(), metas);
            }
        } catch (RuntimeException e) {
            closeQuietly(intent[0]);
            r.close(); // nothing stays claimed when activation fails
            throw e;
        }
        r.onClose(() -> {
            closeQuietly(intent[0]);
            closeRaidClean(r, metas, lvName);
        });
        r.onMemberFailed(d -> Thread.ofPlatform().daemon().name("lvm-raid-record").start(() -> {
            synchronized (r) {
                try {
                    LvmRaid.recordFailed(host.client(), metas, r.failedMask(), g);
                    LvmRaid.markDirty(host.client(), metas); // the record may have rewritten the superblocks
                } catch (RuntimeException e) {
                    LOG.error("{}/{}: recording failed image {} in the rmeta superblocks failed: {}", name(), lvName, d,
                            e.getMessage());
                }
            }
        }));
        for (LogicalVolume img : images) {
            if (img != null) {
                raidParts.put(img.lvName(), img);
            }
        }
        // The rmetas too: their superblock and bitmap writes must follow a pvmove of their extents.
        for (LogicalVolume m : metas) {
            if (m != null) {
                raidParts.put(m.lvName(), m);
            }
        }
        active.put(lvName, r);
        return r;
    }

    /**
     * Rebuilds in place (lvm2's {@code lvchange --rebuild PV}) the failed or stale images of the
     * active raid volume {@code lvName} that lie on {@code pvName} (any present PV when null),
     * one at a time, from the other images while the volume stays in use; then records them in
     * sync in the rmeta superblocks (orion's markers are cleared: all rmetas zeroed again, a
     * new array to dm-raid with consistent images). Management thread; returns the images rebuilt.
     */
    public List<Integer> rebuildRaid(String lvName, String pvName) {
        String op = "lvchange --rebuild " + name() + "/" + lvName;
        RaidBdev r;
        RaidSegments.Raid raid;
        LogicalVolume[] metas;
        List<Integer> todo = new ArrayList<>();
        List<LogicalVolume> targets = new ArrayList<>();
        synchronized (this) {
            r = raidVolume(lvName);
            LogicalVolumeMetadata lv = editor.metadata().logicalVolume(lvName);
            raid = lv == null ? null : RaidSegments.raidOf(lv);
            if (r == null || raid == null) {
                throw new ErrnoException(Errno.ENOENT, op, null, "no active raid volume of that name; activate it first");
            }
            metas = new LogicalVolume[raid.devices()];
            for (int i = 0; i < raid.devices(); i++) {
                LogicalVolumeMetadata m = raid.metaLvs().get(i) == null ? null
                        : editor.metadata().logicalVolume(raid.metaLvs().get(i));
                if (m != null && onPresentPvs(m)) {
                    metas[i] = hiddenVolume(m.name());
                }
                LogicalVolumeMetadata img = editor.metadata().logicalVolume(raid.imageLvs().get(i));
                boolean here = pvName == null || ((StripedSegment) img.segments().get(0)).stripes().stream()
                        .anyMatch(a -> a.pvName().equals(pvName));
                if ((r.failedMask() & 1L << i) != 0 && here && onPresentPvs(img)) {
                    todo.add(i);
                    targets.add(hiddenVolume(img.name()));
                }
            }
        }
        if (todo.isEmpty()) {
            throw new ErrnoException(Errno.EINVAL, op, pvName, "no failed image of this volume is on a present PV"
                    + (pvName == null ? "" : " " + pvName) + " (failed images: mask 0x" + Long.toHexString(r.failedMask()) + ")");
        }
        var ctx = host.context(0);
        for (int k = 0; k < todo.size(); k++) {
            int role = todo.get(k);
            LogicalVolume dev = targets.get(k);
            try {
                r.startRecovery(ctx, role, dev, 0).get(30, TimeUnit.SECONDS);
                long stripes = r.syncStripes();
                for (long s = 0; s < stripes; s++) {
                    int st = r.syncStripe(ctx, s, RaidBdev.SYNC_RECOVER).get(60, TimeUnit.SECONDS);
                    if (st < 0) {
                        break; // endRecovery reports it and leaves the image failed
                    }
                }
                if (!r.endRecovery(ctx).get(30, TimeUnit.SECONDS)) {
                    throw new ErrnoException(Errno.EIO, op, dev.name(), "the rebuild of image " + role
                            + " stopped (a read or write failed); the image stays failed");
                }
            } catch (ErrnoException e) {
                throw e;
            } catch (Exception e) {
                throw new ErrnoException(Errno.EIO, op, dev.name(), "rebuild of image " + role + ": " + e);
            }
            synchronized (this) {
                raidParts.put(dev.lvName(), dev);
            }
            LOG.info("{}/{}: image {} rebuilt on {}", name(), lvName, role, dev.name());
        }
        long rebuilt = 0;
        for (int i : todo) {
            rebuilt |= 1L << i;
        }
        synchronized (r) {
            LvmRaid.recordRebuilt(host.client(), metas, rebuilt, r.failedMask(), r.geometry());
            LvmRaid.markDirty(host.client(), metas); // still active: the record may have zeroed the marks
        }
        return todo;
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.warn("stopping a raid write-intent bitmap failed: {}", e.toString());
            }
        }
    }

    /**
     * A raid volume's clean close (its holder drained it): the images' writes are made durable,
     * then the rmetas say clean, so the next activation does not resync. Runs before the array
     * releases its images; a failure leaves the volume dirty (resynced next time), never wrongly clean.
     */
    private void closeRaidClean(RaidBdev r, BlockDevice[] metas, String lvName) {
        try {
            for (int i = 0; i < r.geometry().raidDisks(); i++) {
                BlockDevice m = r.member(i);
                if (m != null && (r.failedMask() & 1L << i) == 0) {
                    host.client().flush(m).get(30, TimeUnit.SECONDS);
                }
            }
            synchronized (r) {
                LvmRaid.markClean(host.client(), metas, r.failedMask() == 0);
            }
        } catch (Exception e) {
            LOG.warn("{}/{}: not marked clean ({}); the next activation resyncs it", name(), lvName, e.toString());
        }
    }

    private boolean onPresentPvs(LogicalVolumeMetadata lv) {
        for (var seg : lv.segments()) {
            if (seg instanceof StripedSegment st) {
                for (var a : st.stripes()) {
                    if (!pvDevices.containsKey(a.pvName())) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    /**
     * {@code lvcreate --type raid1|raid5|raid6 ...}: plans the LV and its image pairs, zeroes
     * every rmeta (dm-raid reads that as a new array), runs the initial sync over the images
     * unless {@code nosync}, and only then commits: a crash before leaves the VG unchanged.
     * Not activated.
     */
    public synchronized LogicalVolumeMetadata createRaid(String lvName, String type, int images, long extents,
                                                         long stripeSectors, long regionSectors, boolean nosync) {
        VolumeGroupMetadata next = editor.planRaid(lvName, type, images, extents, stripeSectors, regionSectors, nosync);
        LogicalVolumeMetadata lv = next.logicalVolume(lvName);
        RaidSegments.Raid raid = RaidSegments.raidOf(lv);
        LogicalVolume[] imgs = new LogicalVolume[images];
        for (int i = 0; i < images; i++) {
            LogicalVolumeMetadata m = next.logicalVolume(raid.metaLvs().get(i));
            LvMap mm = LvMap.of(next, m, pvDevices);
            LvmRaid.zero(host.client(), new LogicalVolume(name() + "/" + m.name(), name(), m.name(), mm, blockSize(),
                    LogicalVolume.capabilitiesOf(mm)));
            LogicalVolumeMetadata im = next.logicalVolume(raid.imageLvs().get(i));
            LvMap map = LvMap.of(next, im, pvDevices);
            imgs[i] = new LogicalVolume(name() + "/" + im.name(), name(), im.name(), map, blockSize(),
                    LogicalVolume.capabilitiesOf(map));
        }
        if (!nosync) {
            RaidBdev r = new RaidBdev(name() + "/" + lvName + "-sync", LvmRaid.geometry(raid,
                    next.logicalVolume(raid.imageLvs().get(0)).extentCount() * next.extentSize()), imgs, 0);
            try {
                LvmRaid.initialSync(r, host.context(0));
            } finally {
                r.close();
            }
        }
        editor.commit(next, "orion lvcreate --type " + type + " " + name() + "/" + lvName);
        return lv;
    }

    /** Activates the linear or striped volume {@code lvName} (see {@link #activateAny}). */
    public synchronized LogicalVolume activate(String lvName, String deviceName) {
        if (active.containsKey(lvName)) {
            throw new ErrnoException(Errno.EEXIST, "activate " + name() + "/" + lvName, null, "already active");
        }
        LogicalVolumeMetadata lv = editor.metadata().logicalVolume(lvName);
        if (lv == null) {
            throw new ErrnoException(Errno.ENOENT, "activate " + name() + "/" + lvName, null,
                    "no such LV; the VG has " + lvNames());
        }
        LvMap map = LvMap.of(editor.metadata(), lv, pvDevices);
        LogicalVolume v = new LogicalVolume(deviceName, name(), lvName, map, blockSize(), LogicalVolume.capabilitiesOf(map));
        active.put(lvName, v);
        return v;
    }

    private int blockSize() {
        int bs = 512;
        for (BlockDevice d : pvDevices.values()) {
            bs = Math.max(bs, d.blockSize());
        }
        return bs;
    }

    private String lvNames() {
        List<String> n = new ArrayList<>();
        for (LogicalVolumeMetadata l : editor.metadata().logicalVolumes()) {
            n.add(l.name());
        }
        return n.isEmpty() ? "none" : String.join(", ", n);
    }

    /** {@code lvcreate -n name -l extents}: a linear volume (not activated). */
    public synchronized LogicalVolumeMetadata createLinear(String lvName, long extents) {
        return editor.createLinear(lvName, extents);
    }

    /** {@code lvcreate -n name -l extents -i stripes -I stripeSectors} (not activated). */
    public synchronized LogicalVolumeMetadata createStriped(String lvName, long extents, int stripes, long stripeSectors) {
        return editor.createStriped(lvName, extents, stripes, stripeSectors);
    }

    /**
     * Activates the thin volume {@code lvName} as a block device (opening its pool first if no
     * volume of that pool is active yet).
     */
    public synchronized ThinVolume activateThin(String lvName, String deviceName) {
        if (active.containsKey(lvName)) {
            throw new ErrnoException(Errno.EEXIST, "activate " + name() + "/" + lvName, null, "already active");
        }
        LogicalVolumeMetadata lv = editor.metadata().logicalVolume(lvName);
        ThinSegments.Thin t = lv == null ? null : ThinSegments.thinOf(lv);
        if (t == null) {
            throw new ErrnoException(Errno.ENOENT, "activate " + name() + "/" + lvName, null, "no such thin LV");
        }
        ThinPool pool = pool(t.pool());
        ThinMap map = pool.device(t.deviceId());
        if (map == null) {
            throw new ErrnoException(Errno.EBADMSG, "activate " + name() + "/" + lvName, null, "thin pool " + t.pool()
                    + " has no device " + t.deviceId() + "; its mappings are lost");
        }
        long lvChunks = lv.extentCount() * editor.metadata().extentSize() * 512 / pool.chunkBytes;
        if (map.virtualChunks != lvChunks) {
            // A crash between the LVM commit and the pool's during a resize: the LVM metadata wins.
            pool.resizeDevice(t.deviceId(), lvChunks);
        }
        ThinVolume v = new ThinVolume(deviceName, name(), lvName, pool, map, blockSize(), !lv.status().contains("WRITE"));
        active.put(lvName, v);
        return v;
    }

    /** The running pool {@code poolName}, opened on first use. */
    synchronized ThinPool pool(String poolName) {
        ThinPool p = pools.get(poolName);
        if (p != null) {
            return p;
        }
        VolumeGroupMetadata meta = editor.metadata();
        LogicalVolumeMetadata lv = meta.logicalVolume(poolName);
        ThinSegments.Pool seg = lv == null ? null : ThinSegments.poolOf(lv);
        if (seg == null) {
            throw new ErrnoException(Errno.ENOENT, "open thin pool " + name() + "/" + poolName, null, "no such thin pool");
        }
        Set<Long> live = new HashSet<>();
        for (LogicalVolumeMetadata l : meta.logicalVolumes()) {
            ThinSegments.Thin t = ThinSegments.thinOf(l);
            if (t != null && t.pool().equals(poolName)) {
                live.add(t.deviceId());
            }
        }
        p = ThinPool.open(poolName, hiddenVolume(seg.dataLv()), hiddenVolume(seg.metadataLv()), seg.chunkSectors(),
                host.client(), live);
        pools.put(poolName, p);
        return p;
    }

    LogicalVolume hiddenVolume(String lvName) {
        LogicalVolumeMetadata lv = editor.metadata().logicalVolume(lvName);
        if (lv == null) {
            throw new ErrnoException(Errno.EBADMSG, "open " + name() + "/" + lvName, null, "the hidden LV " + lvName
                    + " is missing from the VG");
        }
        LvMap map = LvMap.of(editor.metadata(), lv, pvDevices);
        return new LogicalVolume(name() + "/" + lvName, name(), lvName, map, blockSize(), LogicalVolume.capabilitiesOf(map));
    }

    /**
     * {@code lvcreate --type thin-pool -n name -l dataExtents [--poolmetadatasize] [-c chunk]}:
     * creates the pool's volumes in one LVM commit and formats its mapping metadata.
     */
    public synchronized LogicalVolumeMetadata createThinPool(String poolName, long dataExtents, long metaExtents,
                                                             long chunkSectors) {
        LogicalVolumeMetadata lv = editor.createThinPool(poolName, dataExtents, metaExtents, chunkSectors);
        LogicalVolume meta = hiddenVolume(poolName + "_tmeta");
        ThinPool.format(meta, chunkSectors, dataExtents * editor.metadata().extentSize() / chunkSectors, host.client());
        return lv;
    }

    /**
     * {@code lvcreate --type thin --thinpool pool -V size -n name}: an empty thin volume of
     * {@code virtualBytes} (rounded up to whole chunks and extents). The pool's new device is
     * committed first, then the LV: a crash between leaves an orphan device the pool drops on open.
     */
    public synchronized LogicalVolumeMetadata createThin(String lvName, String poolName, long virtualBytes) {
        ThinPool p = pool(poolName);
        long extentBytes = editor.metadata().extentSize() * 512;
        long unit = Math.max(extentBytes, p.chunkBytes);
        long bytes = (virtualBytes + unit - 1) / unit * unit;
        if (editor.metadata().logicalVolume(lvName) != null) {
            throw new ErrnoException(Errno.EEXIST, "lvcreate " + name() + "/" + lvName, null, "an LV of that name exists");
        }
        long id = nextDeviceId(p);
        p.createDevice(id, bytes / p.chunkBytes);
        return editor.createThin(lvName, poolName, bytes / extentBytes, id, null);
    }

    private long nextDeviceId(ThinPool p) {
        long id = 0;
        for (long d : p.deviceIds()) {
            id = Math.max(id, d);
        }
        for (LogicalVolumeMetadata l : editor.metadata().logicalVolumes()) {
            ThinSegments.Thin t = ThinSegments.thinOf(l);
            if (t != null) {
                id = Math.max(id, t.deviceId());
            }
        }
        return id + 1;
    }

    /**
     * {@code lvcreate -s -n snapName origin} on a thin origin: an instant thin snapshot sharing
     * every chunk with the origin (writes to either copy the chunk first), writable unless
     * {@code readOnly} ({@code -pr}). Snapshots of snapshots make chains of any depth. An active
     * origin is suspended and drained while its map is copied; its I/O continues afterwards.
     */
    public synchronized LogicalVolumeMetadata snapshot(String originLv, String snapName, boolean readOnly) {
        LogicalVolumeMetadata o = editor.metadata().logicalVolume(originLv);
        ThinSegments.Thin t = o == null ? null : ThinSegments.thinOf(o);
        if (t == null) {
            throw new ErrnoException(Errno.EINVAL, "lvcreate -s " + name() + "/" + originLv, null,
                    "orion snapshots thin volumes only; " + originLv + (o == null ? " does not exist" : " is not thin"));
        }
        if (editor.metadata().logicalVolume(snapName) != null) {
            throw new ErrnoException(Errno.EEXIST, "lvcreate -s " + name() + "/" + snapName, null, "an LV of that name exists");
        }
        ThinPool p = pool(t.pool());
        long id = nextDeviceId(p);
        ThinVolume active = thinVolume(originLv);
        if (active != null) {
            active.suspend();
        }
        try {
            if (active != null) {
                drain(active);
            }
            p.snapshotDevice(t.deviceId(), id);
        } finally {
            if (active != null) {
                active.resume();
            }
        }
        return editor.createThinSnapshot(snapName, t.pool(), o.extentCount(), id, originLv, readOnly);
    }

    /**
     * {@code lvconvert --merge snap}: rolls the origin back to the snapshot's content and removes
     * the snapshot. The origin may be active but not open by anyone else than its activation, and
     * the snapshot must not be open.
     */
    public synchronized void merge(String snapName) {
        LogicalVolumeMetadata s = editor.metadata().logicalVolume(snapName);
        ThinSegments.Thin st = s == null ? null : ThinSegments.thinOf(s);
        if (st == null || st.origin() == null) {
            throw new ErrnoException(Errno.EINVAL, "lvconvert --merge " + name() + "/" + snapName, null,
                    "not a thin snapshot");
        }
        LogicalVolumeMetadata o = editor.metadata().logicalVolume(st.origin());
        ThinSegments.Thin ot = o == null ? null : ThinSegments.thinOf(o);
        if (ot == null) {
            throw new ErrnoException(Errno.ENOENT, "lvconvert --merge " + name() + "/" + snapName, null,
                    "its origin " + st.origin() + " is gone");
        }
        for (String lv : List.of(snapName, st.origin())) {
            BlockDevice v = active.get(lv);
            if (v != null && !v.claims().isEmpty()) {
                throw ErrnoException.withMessage(Errno.EBUSY, "lvconvert --merge " + name() + "/" + snapName, v.name(),
                        lv + " is open (in use by " + v.claims() + "); stop using it first");
            }
        }
        ThinPool p = pool(ot.pool());
        List<ThinVolume> quiet = new ArrayList<>();
        for (String lv : List.of(st.origin(), snapName)) {
            if (thinVolume(lv) != null) {
                quiet.add(thinVolume(lv));
            }
        }
        quiet.forEach(ThinVolume::suspend);
        try {
            quiet.forEach(this::drain);
            p.copyMappings(st.deviceId(), ot.deviceId());
        } finally {
            quiet.forEach(ThinVolume::resume);
        }
        remove(snapName);
    }

    /**
     * {@code lvextend -l +N pool}: grows the pool's data volume; writes that failed with ENOSPC
     * succeed again once this returns.
     */
    public synchronized void extendThinPool(String poolName, long moreExtents) {
        editor.extendThinPool(poolName, moreExtents);
        ThinPool p = pools.get(poolName);
        if (p != null) {
            ThinSegments.Pool seg = ThinSegments.poolOf(editor.metadata().logicalVolume(poolName));
            LvMap map = LvMap.of(editor.metadata(), editor.metadata().logicalVolume(seg.dataLv()), pvDevices);
            p.data.publish(map); // the new range is mapped before the pool hands out chunks in it
            p.data.setSize(map.size() / p.data.blockSize());
            p.grow(map.size() / p.chunkBytes);
        }
    }

    /**
     * {@code lvresize -l extents}, also while the volume is active and in use. Shrinking needs
     * {@code force} (the data past the new end is lost, as lvm2 warns); the shrunk range stops
     * taking I/O and drains before its extents are freed in the metadata.
     */
    public synchronized LogicalVolumeMetadata resize(String lvName, long extents, boolean force) {
        LogicalVolumeMetadata lv = editor.metadata().logicalVolume(lvName);
        if (lv == null) {
            throw new ErrnoException(Errno.ENOENT, "lvresize " + name() + "/" + lvName, null, "no such LV");
        }
        long now = lv.extentCount();
        if (ThinSegments.thinOf(lv) != null) {
            return resizeThin(lv, extents, force);
        }
        if (RaidSegments.raidOf(lv) != null) {
            return growRaid(lv, extents);
        }
        LogicalVolume v = volume(lvName);
        if (extents >= now) {
            LogicalVolumeMetadata next = editor.resize(lvName, extents);
            if (v != null) {
                LvMap map = LvMap.of(editor.metadata(), next, pvDevices);
                checkBoundary(v, map);
                v.publish(map); // the new range is mapped before anyone can address it
                v.setSize(map.size() / v.blockSize());
            }
            return next;
        }
        if (!force) {
            throw new ErrnoException(Errno.EINVAL, "lvresize " + name() + "/" + lvName, null, "shrinking from " + now
                    + " to " + extents + " extents destroys the data past the new end; add --force to do it anyway");
        }
        if (v == null) {
            return editor.resize(lvName, extents);
        }
        long extentBytes = editor.metadata().extentSize() * 512;
        v.setSize(extents * extentBytes / v.blockSize()); // new I/O past the new end now fails
        drain(v);
        LogicalVolumeMetadata next;
        try {
            next = editor.resize(lvName, extents);
        } catch (RuntimeException e) {
            v.setSize(v.map().size() / v.blockSize()); // the commit failed: the old size stands
            throw e;
        }
        LvMap map = LvMap.of(editor.metadata(), next, pvDevices);
        v.publish(map);
        if (map.size() != extents * extentBytes) {
            v.setSize(map.size() / v.blockSize()); // striped tails round up to whole rows
        }
        return next;
    }

    /**
     * Forgets the active raid volume {@code lvName} after its holder drained and closed it
     * ({@link BdevHost#remove}), so it can be changed and activated again.
     */
    public synchronized void raidDeactivated(String lvName) {
        if (active.get(lvName) instanceof RaidBdev) {
            active.remove(lvName);
            dropRaidParts(editor.metadata().logicalVolume(lvName));
        }
    }

    /**
     * {@code lvextend} of an inactive raid volume: each rimage grows (rmeta kept), then the new
     * region is synced through an array over the grown images (parity computed, raid1 copied from
     * image 0, as dm-raid's resync of an extended region does), then the VG commits. A crash
     * before the commit leaves the VG unchanged. An active array keeps its geometry, so an active
     * volume is refused; shrinking is refused (it would cut every image).
     */
    private LogicalVolumeMetadata growRaid(LogicalVolumeMetadata lv, long extents) {
        String op = "lvresize " + name() + "/" + lv.name();
        if (extents < lv.extentCount()) {
            throw new ErrnoException(Errno.EOPNOTSUPP, op, null, "orion does not shrink raid volumes: it would cut "
                    + "every image and, for raid5/6, move the parity of the last stripes; lvm2's lvreduce can, with the "
                    + "volume inactive. Nothing was changed");
        }
        BlockDevice v = active.get(lv.name());
        if (v != null) {
            throw ErrnoException.withMessage(Errno.EBUSY, op, v.name(), "raid volume " + name() + "/" + lv.name()
                    + " is active" + (v.claims().isEmpty() ? "" : " and in use by " + v.claims()) + "; orion's raid "
                    + "arrays keep their geometry while active: stop using it (an NBD export: serve without it), grow "
                    + "it, and use it again");
        }
        VolumeGroupMetadata next = editor.planRaidGrow(lv.name(), extents);
        LogicalVolumeMetadata grown = next.logicalVolume(lv.name());
        RaidSegments.Raid raid = RaidSegments.raidOf(grown);
        long oldImageSectors = editor.metadata().logicalVolume(raid.imageLvs().get(0)).extentCount()
                * next.extentSize();
        long imageSectors = next.logicalVolume(raid.imageLvs().get(0)).extentCount() * next.extentSize();
        if (!grown.status().contains(RaidSegments.NOTSYNCED)) {
            BlockDevice[] imgs = new BlockDevice[raid.devices()];
            for (int i = 0; i < imgs.length; i++) {
                LogicalVolumeMetadata im = next.logicalVolume(raid.imageLvs().get(i));
                LvMap map = LvMap.of(next, im, pvDevices);
                imgs[i] = new LogicalVolume(name() + "/" + im.name(), name(), im.name(), map, blockSize(),
                        LogicalVolume.capabilitiesOf(map));
            }
            RaidBdev r = new RaidBdev(name() + "/" + lv.name() + "-grow", LvmRaid.geometry(raid, imageSectors), imgs, 0);
            try {
                LvmRaid.sync(r, host.context(0), r.syncUnitOfMemberSector(oldImageSectors));
            } finally {
                r.close();
            }
        }
        editor.commit(next, "orion lvextend " + name() + "/" + lv.name());
        return grown;
    }

    /**
     * A thin volume's new virtual size (whole chunks), also while it is active and exported: the
     * device is suspended and drained, the LVM metadata commits first, then the pool's device
     * (chunks past a smaller end unmapped); activation reconciles the two after a crash between.
     */
    private LogicalVolumeMetadata resizeThin(LogicalVolumeMetadata lv, long extents, boolean force) {
        String op = "lvresize " + name() + "/" + lv.name();
        ThinSegments.Thin t = ThinSegments.thinOf(lv);
        ThinPool p = pool(t.pool());
        long extentBytes = editor.metadata().extentSize() * 512;
        if ((extents * extentBytes) % p.chunkBytes != 0) {
            throw new ErrnoException(Errno.EINVAL, op, null, "the size must be a whole number of "
                    + p.chunkBytes + "-byte chunks");
        }
        if (extents == lv.extentCount()) {
            throw new ErrnoException(Errno.EINVAL, op, null, "the volume already has " + extents + " extents");
        }
        if (extents < lv.extentCount() && !force) {
            throw new ErrnoException(Errno.EINVAL, op, null, "shrinking from " + lv.extentCount() + " to " + extents
                    + " extents destroys the data past the new end; add --force to do it anyway");
        }
        ThinVolume v = thinVolume(lv.name());
        long bytes = extents * extentBytes;
        if (v != null && extents < lv.extentCount()) {
            v.setSize(bytes); // new I/O past the new end now fails
        }
        if (v != null) {
            v.suspend();
        }
        try {
            if (v != null) {
                drain(v);
            }
            LogicalVolumeMetadata next = editor.resizeThin(lv.name(), extents);
            p.resizeDevice(t.deviceId(), bytes / p.chunkBytes);
            if (v != null && extents > lv.extentCount()) {
                v.setSize(bytes); // mapped before anyone can address it
            }
            return next;
        } finally {
            if (v != null) {
                v.resume();
            }
        }
    }

    private static void checkBoundary(LogicalVolume v, LvMap map) {
        if (map.boundary % v.optimalBoundary() != 0) {
            throw new ErrnoException(Errno.EINVAL, "resize " + v.name(), null, "the new segments need splits every "
                    + map.boundary + " bytes, finer than the " + v.optimalBoundary() + " the volume was activated "
                    + "with; deactivate and activate it again");
        }
    }

    /**
     * Waits until no request that the volume mapped with its old size is in flight. Each reactor
     * counts the volume's requests it passed down; the count is read by a task on that reactor,
     * which runs between submit calls, so a request that passed the old size check is counted by then.
     */
    private void drain(BlockDevice v) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (int i = 0; i < host.reactorCount(); i++) {
            var ctx = host.context(i);
            while (true) {
                int n;
                try {
                    n = ctx.reactor().call(() -> v instanceof ThinVolume t ? t.inFlight(ctx)
                            : ((LogicalVolume) v).inFlight(ctx)).get(5, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new ErrnoException(Errno.ETIMEDOUT, "drain " + v.name(), null, "reactor " + i
                            + " did not answer: " + e);
                }
                if (n == 0) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    throw new ErrnoException(Errno.ETIMEDOUT, "drain " + v.name(), null, n
                            + " requests still in flight after 30 s; the shrink is not committed");
                }
                Thread.onSpinWait();
            }
        }
    }

    /**
     * {@code lvremove}: refuses an active volume that someone has claimed (an export, a layer),
     * then deactivates it and frees its extents.
     */
    public synchronized void remove(String lvName) {
        BlockDevice v = active.get(lvName);
        if (v != null && !v.claims().isEmpty()) {
            throw ErrnoException.withMessage(Errno.EBUSY, "lvremove " + name() + "/" + lvName, v.name(),
                    "logical volume " + name() + "/" + lvName + " is open (in use by " + v.claims()
                            + "); stop using it first");
        }
        if (editor.metadata().logicalVolume(lvName) == null) {
            throw new ErrnoException(Errno.ENOENT, "lvremove " + name() + "/" + lvName, null, "no such LV");
        }
        LogicalVolumeMetadata meta = editor.metadata().logicalVolume(lvName);
        ThinSegments.Thin thin = ThinSegments.thinOf(meta);
        if (ThinSegments.poolOf(meta) != null && !editor.thinVolumesOf(lvName).isEmpty()) {
            throw new ErrnoException(Errno.EBUSY, "lvremove " + name() + "/" + lvName, null, "thin volumes "
                    + editor.thinVolumesOf(lvName) + " use this pool; remove them first");
        }
        if (v != null) {
            v.announceRemoval();
            if (v instanceof RaidBdev r) {
                r.close(); // the caller drained it (registry removal); its images are released
                dropRaidParts(meta);
            } else {
                drain(v);
            }
            active.remove(lvName);
        }
        ThinPool pool = pools.remove(lvName);
        if (pool != null) {
            pool.close();
        }
        editor.removeLogicalVolume(lvName);
        if (thin != null) {
            // The LV is gone first: a crash now leaves an orphan device that the pool drops on open.
            pool(thin.pool()).deleteDevice(thin.deviceId());
        }
    }

    /** Bytes pvmove copies per window. */
    static final long MOVE_WINDOW = 1 << 20;
    /** Test hook: fail pvmove (as a crash would stop it) after this many windows copied; negative = never. */
    volatile long pvmoveFailAfterWindows = -1;

    /**
     * {@code pvmove source [destination]}: moves every extent on {@code source} to
     * {@code destination} (or to any other PV with room), while the volumes stay in use. Each
     * piece (a run of a linear segment that fits one free range, or one stripe area of a striped
     * segment, which needs one free range of its size) is copied window by window: writes to the
     * piece go to both PVs, writes to the window being copied wait, and once the piece is copied
     * one LVM commit moves it and the volume's map switches to the new place. A crash leaves
     * every piece either committed on the new PV or still whole on the old one (which received
     * every write), so running pvmove again resumes where it stopped.
     *
     * @return extents moved
     */
    public synchronized long pvmove(BlockDevice source, BlockDevice destination) {
        String src = pvName(source);
        String dst = destination == null ? null : pvName(destination);
        if (src.equals(dst)) {
            throw new ErrnoException(Errno.EINVAL, "pvmove " + source.name(), null, "source and destination are the same PV");
        }
        long moved = 0;
        long[] windows = {0};
        while (true) {
            VolumeGroupMetadata vg = editor.metadata();
            LogicalVolumeMetadata lv = null;
            int segIndex = -1;
            int stripe = -1;
            for (LogicalVolumeMetadata l : vg.logicalVolumes()) {
                for (int i = 0; i < l.segments().size() && lv == null; i++) {
                    if (l.segments().get(i) instanceof StripedSegment st) {
                        for (int k = 0; k < st.stripeCount() && lv == null; k++) {
                            if (st.stripes().get(k).pvName().equals(src)) {
                                lv = l;
                                segIndex = i;
                                stripe = k;
                            }
                        }
                    }
                }
            }
            if (lv == null) {
                return moved;
            }
            StripedSegment seg = (StripedSegment) lv.segments().get(segIndex);
            long need = seg.stripeCount() == 1 ? 1 : seg.extentsPerStripe();
            ExtentAllocator.FreeRange to = null;
            ExtentAllocator alloc = new ExtentAllocator(vg);
            Set<String> siblings = raidSiblingPvs(vg, lv.name());
            for (PhysicalVolumeMetadata pv : vg.physicalVolumes()) {
                if (!pv.name().equals(src) && (dst == null || pv.name().equals(dst)) && !siblings.contains(pv.name())) {
                    for (ExtentAllocator.FreeRange f : alloc.freeOn(pv.name())) {
                        if (to == null && f.count() >= need) {
                            to = f;
                        }
                    }
                }
            }
            if (to == null) {
                throw new ErrnoException(Errno.ENOSPC, "pvmove " + source.name(), null, "no free range of " + need
                        + " extents left on " + (dst == null ? "the other PVs" : destination.name())
                        + (siblings.isEmpty() ? "" : " not holding another image of " + lv.name() + "'s raid volume "
                        + siblings) + " after moving "
                        + moved + " extents; add a PV (vgextend) and run pvmove again to continue");
            }
            long count = seg.stripeCount() == 1 ? Math.min(seg.extentCount(), to.count()) : seg.extentsPerStripe();
            movePiece(lv.name(), segIndex, stripe, count, to, windows);
            moved += count;
        }
    }

    /**
     * The PVs holding the other images (rimage and rmeta) of the raid volume that sub-LV
     * {@code lvName} belongs to: a move there would put two images on one PV and lose the
     * redundancy (lvm2 refuses such an allocation too). Empty for any other LV.
     */
    private static Set<String> raidSiblingPvs(VolumeGroupMetadata vg, String lvName) {
        Set<String> out = new HashSet<>();
        for (LogicalVolumeMetadata l : vg.logicalVolumes()) {
            RaidSegments.Raid r = RaidSegments.raidOf(l);
            if (r == null || !(r.imageLvs().contains(lvName) || r.metaLvs().contains(lvName))) {
                continue;
            }
            for (int i = 0; i < r.devices(); i++) {
                if (r.imageLvs().get(i).equals(lvName) || lvName.equals(r.metaLvs().get(i))) {
                    continue;
                }
                for (String sub : java.util.Arrays.asList(r.imageLvs().get(i), r.metaLvs().get(i))) {
                    LogicalVolumeMetadata s = sub == null ? null : vg.logicalVolume(sub);
                    if (s != null) {
                        for (LvSegment seg : s.segments()) {
                            if (seg instanceof StripedSegment st) {
                                st.stripes().forEach(a -> out.add(a.pvName()));
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    /** Copies the first {@code count} extents of one stripe area to {@code to} under load, then commits the move. */
    private void movePiece(String lvName, int segIndex, int stripe, long count, ExtentAllocator.FreeRange to,
                           long[] windows) {
        VolumeGroupMetadata vg = editor.metadata();
        long ext = vg.extentSize() * 512;
        StripedSegment seg = (StripedSegment) vg.logicalVolume(lvName).segments().get(segIndex);
        StripeArea a = seg.stripes().get(stripe);
        BlockDevice srcDev = pvDevices.get(a.pvName());
        BlockDevice dstDev = pvDevices.get(to.pvName());
        long srcBase = vg.physicalVolume(a.pvName()).peStart() * 512 + a.startExtent() * ext;
        long dstBase = vg.physicalVolume(to.pvName()).peStart() * 512 + to.start() * ext;
        long bytes = count * ext;
        LogicalVolume v = movable(lvName);
        if (v != null) {
            v.setWindow(0, 0);
            v.publish(v.map().withMove(segIndex, stripe, 0, bytes, dstDev, dstBase));
            waitMirrored(v); // writes that read the map without the move are done before any copying starts
        }
        var client = host.client();
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared()) {
            java.lang.foreign.MemorySegment buf = arena.allocate(MOVE_WINDOW, 4096);
            for (long off = 0; off < bytes; off += MOVE_WINDOW) {
                long n = Math.min(MOVE_WINDOW, bytes - off);
                if (v != null) {
                    v.setWindow(off, off + n);
                    waitMirrored(v);
                }
                if (windows[0]++ == pvmoveFailAfterWindows) {
                    throw new ErrnoException(Errno.EIO, "pvmove " + name() + "/" + lvName, null, "stopped by the test hook");
                }
                java.lang.foreign.MemorySegment piece = buf.asSlice(0, n);
                client.read(srcDev, srcBase + off, piece).get(60, TimeUnit.SECONDS);
                client.write(dstDev, dstBase + off, piece, 0).get(60, TimeUnit.SECONDS);
            }
            if (v != null) {
                v.setWindow(0, 0); // the copy is whole; writes keep going to both until the switch
            }
            client.flush(dstDev).get(60, TimeUnit.SECONDS);
        } catch (ErrnoException e) {
            abortMove(v);
            throw e;
        } catch (Exception e) {
            abortMove(v);
            throw new ErrnoException(Errno.EIO, "pvmove " + name() + "/" + lvName, null, "copy failed: " + e);
        }
        LogicalVolumeMetadata next;
        try {
            next = seg.stripeCount() == 1
                    ? editor.moveExtents(lvName, seg.startExtent(), count, to.pvName(), to.start())
                    : editor.moveStripe(lvName, seg.startExtent(), stripe, to.pvName(), to.start());
        } catch (RuntimeException e) {
            abortMove(v);
            throw e;
        }
        if (v != null) {
            v.publish(LvMap.of(editor.metadata(), next, pvDevices));
            waitMirrored(v); // no write still lands on the extents the commit just freed
        }
    }

    /** The running volume whose map covers {@code lvName}: an active LV, or a part of an open thin pool. */
    private LogicalVolume movable(String lvName) {
        LogicalVolume v = volume(lvName);
        if (v != null) {
            return v;
        }
        if (raidParts.containsKey(lvName)) {
            return raidParts.get(lvName);
        }
        for (ThinPool p : pools.values()) {
            if (p.data.lvName().equals(lvName)) {
                return p.data;
            }
            if (p.meta.lvName().equals(lvName)) {
                return p.meta;
            }
        }
        return null;
    }

    private void abortMove(LogicalVolume v) {
        if (v != null) {
            v.setWindow(0, 0);
            v.publish(LvMap.of(editor.metadata(), editor.metadata().logicalVolume(v.lvName()), pvDevices));
            waitMirrored(v);
        }
    }

    /** Flips the volume's epoch and waits until no mirrored write of the old parity is in flight. */
    private void waitMirrored(LogicalVolume v) {
        int parity = v.flipEpoch();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (int i = 0; i < host.reactorCount(); i++) {
            var ctx = host.context(i);
            while (true) {
                int n;
                try {
                    n = ctx.reactor().call(() -> v.writesInFlight(ctx, parity)).get(5, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new ErrnoException(Errno.ETIMEDOUT, "pvmove " + v.name(), null, "reactor " + i + " did not answer: " + e);
                }
                if (n == 0) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    throw new ErrnoException(Errno.ETIMEDOUT, "pvmove " + v.name(), null, n + " writes still in flight after 30 s");
                }
                Thread.onSpinWait();
            }
        }
    }

    private String pvName(BlockDevice d) {
        for (Map.Entry<String, BlockDevice> e : pvDevices.entrySet()) {
            if (e.getValue() == d) {
                return e.getKey();
            }
        }
        throw new ErrnoException(Errno.ENODEV, "pvmove", d.name(), "not a PV of VG " + name());
    }

    /** {@code vgextend}: formats (if needed) and adds these block devices as PVs, claiming them. */
    public synchronized void extend(List<BlockDevice> devices) {
        List<MetadataIo> ios = new ArrayList<>();
        for (BlockDevice d : devices) {
            if (!d.claims().isEmpty()) {
                throw ErrnoException.withMessage(Errno.EBUSY, "vgextend " + name(), d.name(),
                        "block device '" + d.name() + "' is in use by " + d.claims());
            }
            ios.add(new BdevMetadataIo(d, host.client()));
        }
        List<Claim> fresh = new ArrayList<>();
        for (BlockDevice d : devices) {
            fresh.add(d.claim("lvm VG " + name(), true, () -> pvRemoved(d)));
        }
        try {
            editor.extend(ios, false, PhysicalVolumeFormatter.Options.defaults());
        } catch (RuntimeException e) {
            fresh.forEach(Claim::close);
            throw e;
        }
        claims.addAll(fresh);
        List<BlockDevice> all = new ArrayList<>(pvDevices.values());
        all.addAll(devices);
        mapDevices(all);
    }

    /** {@code vgreduce}: drops unused PVs and releases them. */
    public synchronized void reduce(List<BlockDevice> devices) {
        List<String> names = new ArrayList<>();
        for (BlockDevice d : devices) {
            names.add(d.name());
        }
        editor.reduce(names);
        List<BlockDevice> left = new ArrayList<>(pvDevices.values());
        left.removeAll(devices);
        for (Claim c : new ArrayList<>(claims)) {
            if (devices.contains(c.device())) {
                c.close();
                claims.remove(c);
            }
        }
        mapDevices(left);
    }

    private void dropRaidParts(LogicalVolumeMetadata lv) {
        RaidSegments.Raid raid = RaidSegments.raidOf(lv);
        if (raid != null) {
            raid.imageLvs().forEach(raidParts::remove);
            raid.metaLvs().forEach(m -> {
                if (m != null) {
                    raidParts.remove(m);
                }
            });
        }
    }

    /** Deactivates every volume (they fail new I/O with ENODEV) and releases the PVs. */
    @Override
    public synchronized void close() {
        for (BlockDevice v : active.values()) {
            v.announceRemoval();
        }
        for (BlockDevice v : active.values()) {
            if (v instanceof ThinVolume) {
                drain(v);
            } else if (v instanceof RaidBdev r) {
                r.close();
            }
        }
        active.clear();
        raidParts.clear();
        for (ThinPool p : pools.values()) {
            p.close();
        }
        pools.clear();
        claims.forEach(Claim::close);
        claims.clear();
    }
}
