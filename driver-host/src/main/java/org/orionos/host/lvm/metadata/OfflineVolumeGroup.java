package org.orionos.host.lvm.metadata;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;

/**
 * Creates and changes a VG directly on its PVs' metadata (regular files or block devices), with
 * no volume manager running: the offline writer tests and tools use until the block-device layer
 * and the {@code orion lvm} commands exist. Every change is one {@link MetadataCommit} with the
 * seqno bumped by one; refusals happen before anything is written.
 */
public final class OfflineVolumeGroup implements AutoCloseable {

    /** lvm2's default extent: 4 MiB in sectors. */
    public static final long DEFAULT_EXTENT_SIZE = 8192;
    private static final long SECTOR = 512;

    private final List<MetadataIo> owned;
    private final List<PhysicalVolumeDevice> pvs;
    private VolumeGroupMetadata vg;
    private VolumeGroupRead lastRead;

    private OfflineVolumeGroup(List<MetadataIo> owned, List<PhysicalVolumeDevice> pvs, VolumeGroupMetadata vg) {
        this.owned = new ArrayList<>(owned);
        this.pvs = new ArrayList<>(pvs);
        this.vg = vg;
    }

    /**
     * {@code pvcreate} + {@code vgcreate}: formats each device as a PV and commits a VG of them at seqno 1.
     *
     * @param extentSize sectors per extent, a power of two of at least 8 (4 KiB)
     */
    public static OfflineVolumeGroup create(String name, List<Path> devices, long extentSize,
                                            PhysicalVolumeFormatter.Options pvOptions) {
        return create(name, openAll(devices), true, extentSize, pvOptions);
    }

    /** As {@link #create(String, List, long, PhysicalVolumeFormatter.Options)} on already open devices. */
    public static OfflineVolumeGroup create(String name, List<MetadataIo> devices, boolean own, long extentSize,
                                            PhysicalVolumeFormatter.Options pvOptions) {
        checkName("VG", name);
        if (extentSize < 8 || Long.bitCount(extentSize) != 1) {
            throw new ErrnoException(Errno.EINVAL, "vgcreate " + name, null,
                    "extent size must be a power of two of at least 8 sectors, got " + extentSize);
        }
        long minBytes = pvOptions.peStart() * (pvOptions.metadataCopies() == 2 ? 2 : 1) + extentSize * SECTOR;
        for (MetadataIo io : devices) {
            if (io.size() < minBytes) {
                throw new ErrnoException(Errno.ENOSPC, "vgcreate " + name, io.name(), "the device has " + io.size()
                        + " bytes; a PV with one extent of " + extentSize + " sectors needs at least " + minBytes);
            }
        }
        List<PhysicalVolumeDevice> pvs = new ArrayList<>();
        List<PhysicalVolumeMetadata> pvMeta = new ArrayList<>();
        int i = 0;
        for (MetadataIo io : devices) {
            PvLabel label = PhysicalVolumeFormatter.format(io, i == 0 ? pvOptions
                    : new PhysicalVolumeFormatter.Options(pvOptions.metadataCopies(), pvOptions.peStart(), null));
            long peStart = label.dataAreas().get(0).offset();
            long peCount = (PhysicalVolumeFormatter.dataEnd(label) - peStart) / (extentSize * SECTOR);
            if (peCount < 1) {
                throw new ErrnoException(Errno.ENOSPC, "vgcreate " + name, io.name(),
                        "the PV has no room for one extent of " + extentSize + " sectors");
            }
            PhysicalVolumeDevice pv = PhysicalVolumeDevice.open(io);
            pvs.add(pv);
            pvMeta.add(new PhysicalVolumeMetadata("pv" + i, label.pvId(), io.name(),
                    PhysicalVolumeMetadata.ALLOCATABLE, List.of(), label.deviceSize() / SECTOR, peStart / SECTOR,
                    peCount, List.of()));
            i++;
        }
        VolumeGroupMetadata vg = new VolumeGroupMetadata(name, LvmUuid.random(), 1, "lvm2",
                VolumeGroupMetadata.RESIZEABLE_READ_WRITE, List.of(), extentSize, 0, 0, 0, pvMeta, List.of(),
                List.of());
        // A PV in a VG carries PV_EXT_USED in its label, as lvm2's vgcreate sets it.
        for (PhysicalVolumeDevice pv : pvs) {
            pv.writeLabel(pv.label().withExtensionFlags(pv.label().extensionFlags() | PvLabel.PV_EXT_USED));
        }
        MetadataCommit.prepare(pvs, new MetadataText(vg, "Created by orion vgcreate " + name, hostName(),
                System.currentTimeMillis() / 1000)).run();
        return new OfflineVolumeGroup(own ? devices : List.of(), pvs, vg);
    }

    /** Opens the VG on these devices (read-write), using the highest valid metadata copy. */
    public static OfflineVolumeGroup open(List<Path> devices) {
        return open(openAll(devices), true);
    }

    public static OfflineVolumeGroup open(List<MetadataIo> devices, boolean own) {
        List<PhysicalVolumeDevice> pvs = new ArrayList<>();
        for (MetadataIo io : devices) {
            pvs.add(PhysicalVolumeDevice.open(io));
        }
        VolumeGroupRead read = VolumeGroupReader.read(pvs, null);
        OfflineVolumeGroup g = new OfflineVolumeGroup(own ? devices : List.of(), pvs, read.vg());
        g.lastRead = read;
        return g;
    }

    private static List<MetadataIo> openAll(List<Path> devices) {
        List<MetadataIo> out = new ArrayList<>();
        for (Path p : devices) {
            out.add(FileMetadataIo.open(p, true));
        }
        return out;
    }

    public VolumeGroupMetadata metadata() {
        return vg;
    }

    /** How the VG was read by {@link #open}, or null after {@link #create}. */
    public VolumeGroupRead lastRead() {
        return lastRead;
    }

    public List<PhysicalVolumeDevice> physicalVolumes() {
        return List.copyOf(pvs);
    }

    /** The open device of the VG's PV {@code pvName} (pv0, pv1...), matched by PV id. */
    public PhysicalVolumeDevice device(String pvName) {
        PhysicalVolumeMetadata pv = vg.physicalVolume(pvName);
        if (pv != null) {
            for (PhysicalVolumeDevice d : pvs) {
                if (d.label().pvId().equals(pv.id())) {
                    return d;
                }
            }
        }
        return null;
    }

    /**
     * {@code lvresize -l extents}: grows by appending extents (a linear volume continues its last
     * area when the next extents there are free, as lvm2 does; a striped one gets a new segment
     * with the same stripes and stripe size) or shrinks by cutting segments from the end. A
     * striped tail is rounded up to whole rows of stripes, like lvm2. Refuses before writing.
     *
     * @return the volume as committed
     */
    public LogicalVolumeMetadata resize(String name, long extents) {
        LogicalVolumeMetadata lv = requireLv(name, "lvresize");
        long now = lv.extentCount();
        if (extents <= 0) {
            throw new ErrnoException(Errno.EINVAL, "lvresize " + vg.name() + "/" + name, null,
                    "a volume keeps at least one extent; use lvremove to drop it");
        }
        if (extents == now) {
            throw new ErrnoException(Errno.EINVAL, "lvresize " + vg.name() + "/" + name, null,
                    "the volume already has " + now + " extents; nothing to change");
        }
        if (!lv.status().contains("VISIBLE") && RaidSegments.isSubLvName(name)) {
            throw new ErrnoException(Errno.EOPNOTSUPP, "lvresize " + vg.name() + "/" + name, null,
                    "this is a hidden part of a raid volume; orion does not resize raid volumes (lvm2's lvextend can)");
        }
        List<LvSegment> segs = new ArrayList<>(lv.segments());
        for (LvSegment seg : segs) {
            if (!(seg instanceof StripedSegment)) {
                throw new ErrnoException(Errno.EOPNOTSUPP, "lvresize " + vg.name() + "/" + name, null,
                        "the volume has a " + seg.type() + " segment; orion resizes linear and striped volumes only");
            }
        }
        if (extents > now) {
            StripedSegment last = (StripedSegment) segs.get(segs.size() - 1);
            long more = extents - now;
            ExtentAllocator alloc = new ExtentAllocator(vg);
            if (last.stripeCount() == 1) {
                for (ExtentAllocator.FreeRange r : alloc.linear(more)) {
                    StripedSegment tail = (StripedSegment) segs.get(segs.size() - 1);
                    StripeArea ta = tail.stripes().get(0);
                    if (tail.stripeCount() == 1 && ta.pvName().equals(r.pvName())
                            && ta.startExtent() + tail.extentCount() == r.start()) {
                        segs.set(segs.size() - 1, new StripedSegment(tail.startExtent(), tail.extentCount() + r.count(),
                                0, tail.stripes(), tail.extra()));
                    } else {
                        segs.add(StripedSegment.linear(now, r.count(), r.pvName(), r.start()));
                    }
                    now += r.count();
                }
            } else {
                int n = last.stripeCount();
                long perStripe = (more + n - 1) / n;
                List<StripeArea> areas = new ArrayList<>();
                for (ExtentAllocator.FreeRange r : alloc.striped(perStripe, n)) {
                    areas.add(new StripeArea(r.pvName(), r.start()));
                }
                segs.add(new StripedSegment(now, perStripe * n, last.stripeSize(), areas, List.of()));
            }
        } else {
            while (!segs.isEmpty()) {
                StripedSegment last = (StripedSegment) segs.get(segs.size() - 1);
                if (last.startExtent() >= extents) {
                    segs.remove(segs.size() - 1);
                    continue;
                }
                long keep = extents - last.startExtent();
                int n = last.stripeCount();
                keep = (keep + n - 1) / n * n;
                if (keep < last.extentCount()) {
                    segs.set(segs.size() - 1, new StripedSegment(last.startExtent(), keep, last.stripeSize(),
                            last.stripes(), last.extra()));
                }
                break;
            }
        }
        LogicalVolumeMetadata next = new LogicalVolumeMetadata(lv.name(), lv.id(), lv.status(), lv.flags(),
                lv.creationTime(), lv.creationHost(), segs, lv.extra());
        List<LogicalVolumeMetadata> lvs = new ArrayList<>(vg.logicalVolumes());
        lvs.set(lvs.indexOf(lv), next);
        commit(vg.withLogicalVolumes(lvs).withSeqno(vg.seqno() + 1), "orion lvresize " + vg.name() + "/" + name);
        return next;
    }

    /**
     * {@code vgextend}: adds devices as PVs (formatting those that are not PVs yet; orphan PVs
     * keep their label) and commits the VG, now listing them, to every PV including the new ones.
     */
    public void extend(List<MetadataIo> devices, boolean own, PhysicalVolumeFormatter.Options pvOptions) {
        for (MetadataIo io : devices) {
            PvLabel existing = PhysicalVolumeDevice.readLabel(io);
            if (existing != null && (existing.extensionFlags() & PvLabel.PV_EXT_USED) != 0) {
                throw new ErrnoException(Errno.EBUSY, "vgextend " + vg.name(), io.name(),
                        "the device is already a PV in a VG; vgreduce it from that VG first");
            }
        }
        List<PhysicalVolumeMetadata> pvMeta = new ArrayList<>(vg.physicalVolumes());
        List<PhysicalVolumeDevice> added = new ArrayList<>();
        int index = 0;
        for (MetadataIo io : devices) {
            while (vg.physicalVolume("pv" + index) != null || containsName(pvMeta, "pv" + index)) {
                index++;
            }
            PvLabel label = PhysicalVolumeDevice.readLabel(io);
            if (label == null) {
                label = PhysicalVolumeFormatter.format(io, new PhysicalVolumeFormatter.Options(
                        pvOptions.metadataCopies(), pvOptions.peStart(), null));
            }
            long peStart = label.dataAreas().get(0).offset();
            long peCount = (PhysicalVolumeFormatter.dataEnd(label) - peStart) / (vg.extentSize() * SECTOR);
            if (peCount < 1) {
                throw new ErrnoException(Errno.ENOSPC, "vgextend " + vg.name(), io.name(),
                        "the PV has no room for one extent of " + vg.extentSize() + " sectors");
            }
            PhysicalVolumeDevice pv = PhysicalVolumeDevice.open(io);
            added.add(pv);
            pvMeta.add(new PhysicalVolumeMetadata("pv" + index, label.pvId(), io.name(),
                    PhysicalVolumeMetadata.ALLOCATABLE, List.of(), label.deviceSize() / SECTOR, peStart / SECTOR,
                    peCount, List.of()));
        }
        VolumeGroupMetadata next = new VolumeGroupMetadata(vg.name(), vg.id(), vg.seqno() + 1, vg.format(),
                vg.status(), vg.flags(), vg.extentSize(), vg.maxLv(), vg.maxPv(), vg.metadataCopies(), pvMeta,
                vg.logicalVolumes(), vg.extra());
        for (PhysicalVolumeDevice pv : added) {
            pv.writeLabel(pv.label().withExtensionFlags(pv.label().extensionFlags() | PvLabel.PV_EXT_USED));
        }
        pvs.addAll(added);
        if (own) {
            owned.addAll(devices);
        }
        commit(next, "orion vgextend " + vg.name());
    }

    /**
     * {@code vgreduce}: drops PVs that hold no extents of any volume from the VG, commits the VG
     * to the remaining PVs, then leaves the dropped ones as orphan PVs (empty metadata areas, label
     * without PV_EXT_USED), as lvm2 does. Refuses, before writing, a PV in use or the last PV.
     */
    public void reduce(List<String> deviceNames) {
        List<PhysicalVolumeDevice> drop = new ArrayList<>();
        List<PhysicalVolumeMetadata> keep = new ArrayList<>(vg.physicalVolumes());
        for (String dev : deviceNames) {
            PhysicalVolumeDevice d = null;
            for (PhysicalVolumeDevice p : pvs) {
                if (p.io().name().equals(dev)) {
                    d = p;
                }
            }
            if (d == null) {
                throw new ErrnoException(Errno.ENOENT, "vgreduce " + vg.name(), dev, "the device is not a PV of this VG");
            }
            PhysicalVolumeDevice found = d;
            PhysicalVolumeMetadata meta = keep.stream().filter(p -> p.id().equals(found.label().pvId())).findFirst()
                    .orElseThrow();
            for (LogicalVolumeMetadata lv : vg.logicalVolumes()) {
                for (LvSegment seg : lv.segments()) {
                    if (seg instanceof StripedSegment st
                            && st.stripes().stream().anyMatch(a -> a.pvName().equals(meta.name()))) {
                        throw new ErrnoException(Errno.EBUSY, "vgreduce " + vg.name(), dev, "PV " + meta.name()
                                + " holds extents of " + lv.name() + "; move them (pvmove) or remove that volume first");
                    }
                }
            }
            keep.remove(meta);
            drop.add(d);
        }
        if (keep.isEmpty()) {
            throw new ErrnoException(Errno.EINVAL, "vgreduce " + vg.name(), null,
                    "a VG keeps at least one PV; use vgremove to drop the whole VG");
        }
        VolumeGroupMetadata next = new VolumeGroupMetadata(vg.name(), vg.id(), vg.seqno() + 1, vg.format(),
                vg.status(), vg.flags(), vg.extentSize(), vg.maxLv(), vg.maxPv(), vg.metadataCopies(), keep,
                vg.logicalVolumes(), vg.extra());
        List<PhysicalVolumeDevice> remaining = new ArrayList<>(pvs);
        remaining.removeAll(drop);
        MetadataCommit.prepare(remaining, new MetadataText(next, "orion vgreduce " + vg.name(), hostName(),
                System.currentTimeMillis() / 1000)).run();
        pvs.clear();
        pvs.addAll(remaining);
        vg = next;
        for (PhysicalVolumeDevice d : drop) {
            for (MetadataArea a : d.areas()) {
                a.writeHeader(MdaHeader.empty(a.location().offset(), a.location().size()));
            }
            d.io().flush();
            d.writeLabel(d.label().withExtensionFlags(d.label().extensionFlags() & ~PvLabel.PV_EXT_USED));
            d.io().flush();
        }
    }

    private static boolean containsName(List<PhysicalVolumeMetadata> pvs, String name) {
        for (PhysicalVolumeMetadata p : pvs) {
            if (p.name().equals(name)) {
                return true;
            }
        }
        return false;
    }

    private LogicalVolumeMetadata requireLv(String name, String op) {
        LogicalVolumeMetadata lv = vg.logicalVolume(name);
        if (lv == null) {
            throw new ErrnoException(Errno.ENOENT, op + " " + vg.name() + "/" + name, null, "no such LV");
        }
        return lv;
    }

    /** {@code lvcreate -n name -l extents}: a linear volume, spanning PVs when it must. */
    public LogicalVolumeMetadata createLinear(String name, long extents) {
        checkNewLv(name);
        List<LvSegment> segs = new ArrayList<>();
        long le = 0;
        for (ExtentAllocator.FreeRange r : new ExtentAllocator(vg).linear(extents)) {
            segs.add(StripedSegment.linear(le, r.count(), r.pvName(), r.start()));
            le += r.count();
        }
        return addLv(name, segs);
    }

    /**
     * {@code lvcreate -n name -l extents -i stripes -I stripeSize}: rounds the size up to a whole
     * number of extents per stripe, as lvm2 does.
     *
     * @param stripeSize sectors per chunk, a power of two no larger than the extent
     */
    public LogicalVolumeMetadata createStriped(String name, long extents, int stripes, long stripeSize) {
        checkNewLv(name);
        if (stripes < 2 || stripes > vg.physicalVolumes().size()) {
            throw new ErrnoException(Errno.EINVAL, "lvcreate " + name, "VG " + vg.name(), "a striped volume needs "
                    + "2 to " + vg.physicalVolumes().size() + " stripes (one per PV), got " + stripes);
        }
        if (stripeSize < 8 || Long.bitCount(stripeSize) != 1 || stripeSize > vg.extentSize()) {
            throw new ErrnoException(Errno.EINVAL, "lvcreate " + name, "VG " + vg.name(),
                    "stripe size must be a power of two from 8 sectors up to the extent size, got " + stripeSize);
        }
        long perStripe = (extents + stripes - 1) / stripes;
        List<StripeArea> areas = new ArrayList<>();
        for (ExtentAllocator.FreeRange r : new ExtentAllocator(vg).striped(perStripe, stripes)) {
            areas.add(new StripeArea(r.pvName(), r.start()));
        }
        return addLv(name, List.of(new StripedSegment(0, perStripe * stripes, stripeSize, areas, List.of())));
    }

    /**
     * {@code lvcreate --type thin-pool -n name -l dataExtents --poolmetadatasize ...}: the hidden
     * linear LVs {@code name_tmeta} and {@code name_tdata} and the pool LV naming them, in one
     * commit (see {@link ThinSegments}). The caller formats the mappings on {@code name_tmeta}
     * before using the pool.
     *
     * @param chunkSectors chunk size in sectors: a power of two from 128 (64 KiB) to 65536 (32 MiB)
     */
    public LogicalVolumeMetadata createThinPool(String name, long dataExtents, long metaExtents, long chunkSectors) {
        checkNewLv(name);
        checkNewLv(name + "_tmeta");
        checkNewLv(name + "_tdata");
        if (chunkSectors < 128 || chunkSectors > 65536 || Long.bitCount(chunkSectors) != 1) {
            throw new ErrnoException(Errno.EINVAL, "lvcreate --type thin-pool " + name, "VG " + vg.name(),
                    "chunk size must be a power of two from 64 KiB to 32 MiB (orion copies a chunk through one "
                            + "pooled buffer), got " + chunkSectors + " sectors");
        }
        if ((vg.extentSize() % chunkSectors) != 0 && (chunkSectors % vg.extentSize()) != 0) {
            throw new ErrnoException(Errno.EINVAL, "lvcreate --type thin-pool " + name, "VG " + vg.name(),
                    "chunk size " + chunkSectors + " and extent size " + vg.extentSize() + " sectors must divide one another");
        }
        if (dataExtents < 1 || metaExtents < 1) {
            throw new ErrnoException(Errno.EINVAL, "lvcreate --type thin-pool " + name, "VG " + vg.name(),
                    "a pool needs at least one data and one metadata extent");
        }
        List<String> hidden = List.of("READ", "WRITE");
        long stamp = System.currentTimeMillis() / 1000;
        List<LvSegment> meta = linearSegments(vg, metaExtents);
        LogicalVolumeMetadata tmeta = new LogicalVolumeMetadata(name + "_tmeta", LvmUuid.random(), hidden, List.of(),
                stamp, hostName(), meta, List.of());
        List<LogicalVolumeMetadata> lvs = new ArrayList<>(vg.logicalVolumes());
        lvs.add(tmeta);
        List<LvSegment> data = linearSegments(vg.withLogicalVolumes(lvs), dataExtents);
        LogicalVolumeMetadata tdata = new LogicalVolumeMetadata(name + "_tdata", LvmUuid.random(), hidden, List.of(),
                stamp, hostName(), data, List.of());
        lvs.add(tdata);
        LogicalVolumeMetadata pool = new LogicalVolumeMetadata(name, LvmUuid.random(),
                LogicalVolumeMetadata.READ_WRITE_VISIBLE, List.of(), stamp, hostName(),
                List.of(ThinSegments.pool(dataExtents, tmeta.name(), tdata.name(), chunkSectors)), List.of());
        lvs.add(pool);
        commit(vg.withLogicalVolumes(lvs).withSeqno(vg.seqno() + 1), "orion lvcreate --type thin-pool " + vg.name() + "/" + name);
        return pool;
    }

    /**
     * Plans {@code lvcreate --type raid1|raid5|raid6 -n name -l extents} in lvm2's layout (see
     * {@link RaidSegments}) without committing it: per image one contiguous range of 1 + n
     * extents on its own PV, the rmeta LV on the first extent and the rimage LV on the rest.
     * The caller prepares the images (zeroed rmeta, synced data) and then {@link #commit}s, so
     * a crash before the commit leaves the extents free and the VG unchanged.
     *
     * @param images        images (md members) including the parity ones
     * @param extents       LV extents wanted; rounded up to a whole number per data image, as lvm2 does
     * @param stripeSectors sectors per chunk for raid5/6 (ignored for raid1)
     * @param regionSectors dm-raid bitmap region size in sectors
     * @param nosync        marks the LV {@code NOTSYNCED}, as lvm2's {@code --nosync} does
     * @return the VG with the new LV and its sub-LVs, seqno bumped
     */
    public VolumeGroupMetadata planRaid(String name, String type, int images, long extents, long stripeSectors,
                                        long regionSectors, boolean nosync) {
        String op = "lvcreate --type " + type + " " + vg.name() + "/" + name;
        checkNewLv(name);
        if (RaidSegments.isSubLvName(name)) {
            throw new ErrnoException(Errno.EINVAL, op, null, "names ending in _rmeta_N or _rimage_N are lvm2's raid sub-LVs");
        }
        if (!RaidSegments.TYPES.contains(type)) {
            throw new ErrnoException(Errno.EINVAL, op, null, "orion makes raid LVs of type " + RaidSegments.TYPES);
        }
        int parity = RaidSegments.parityDevicesOf(type);
        int dataImages = parity == 0 ? 1 : images - parity;
        int pvs = vg.physicalVolumes().size();
        if (images < parity + 2 || images > pvs) {
            throw new ErrnoException(Errno.EINVAL, op, null, type + " needs " + (parity + 2) + " to " + pvs
                    + " images (each on its own PV, and the VG has " + pvs + "), got " + images);
        }
        if (parity > 0 && (stripeSectors < 8 || Long.bitCount(stripeSectors) != 1 || stripeSectors > vg.extentSize()
                || vg.extentSize() % stripeSectors != 0)) {
            throw new ErrnoException(Errno.EINVAL, op, null, "stripe size must be a power of two from 8 sectors up to "
                    + "the extent size (" + vg.extentSize() + " sectors), got " + stripeSectors);
        }
        if (regionSectors < 8 || Long.bitCount(regionSectors) != 1) {
            throw new ErrnoException(Errno.EINVAL, op, null, "region size must be a power of two of at least 4 KiB, got "
                    + regionSectors + " sectors");
        }
        if (extents < 1) {
            throw new ErrnoException(Errno.EINVAL, op, null, "a volume needs at least one extent");
        }
        for (int i = 0; i < images; i++) {
            checkNewLv(RaidSegments.metaName(name, i));
            checkNewLv(RaidSegments.imageName(name, i));
        }
        long perImage = (extents + dataImages - 1) / dataImages;
        List<ExtentAllocator.FreeRange> ranges;
        try {
            ranges = new ExtentAllocator(vg).striped(perImage + 1, images);
        } catch (ErrnoException e) {
            throw new ErrnoException(Errno.ENOSPC, op, null, "each of the " + images + " images needs " + (perImage + 1)
                    + " contiguous free extents (1 rmeta + " + perImage + " rimage) on its own PV: " + e.getMessage()
                    + "; add PVs (vgextend) or ask for less");
        }
        List<String> hidden = List.of("READ", "WRITE");
        long stamp = System.currentTimeMillis() / 1000;
        List<String> status = new ArrayList<>(LogicalVolumeMetadata.READ_WRITE_VISIBLE);
        if (nosync) {
            status.add(RaidSegments.NOTSYNCED);
        }
        List<LogicalVolumeMetadata> lvs = new ArrayList<>(vg.logicalVolumes());
        lvs.add(new LogicalVolumeMetadata(name, LvmUuid.random(), status, List.of(), stamp, hostName(),
                List.of(RaidSegments.segment(perImage * dataImages, type, regionSectors, parity > 0 ? stripeSectors : 0,
                        images, name)), List.of()));
        for (int i = 0; i < images; i++) {
            ExtentAllocator.FreeRange r = ranges.get(i);
            lvs.add(new LogicalVolumeMetadata(RaidSegments.metaName(name, i), LvmUuid.random(), hidden, List.of(), stamp,
                    hostName(), List.of(StripedSegment.linear(0, 1, r.pvName(), r.start())), List.of()));
            lvs.add(new LogicalVolumeMetadata(RaidSegments.imageName(name, i), LvmUuid.random(), hidden, List.of(), stamp,
                    hostName(), List.of(StripedSegment.linear(0, perImage, r.pvName(), r.start() + 1)), List.of()));
        }
        return vg.withLogicalVolumes(lvs).withSeqno(vg.seqno() + 1);
    }

    private static List<LvSegment> linearSegments(VolumeGroupMetadata in, long extents) {
        List<LvSegment> segs = new ArrayList<>();
        long le = 0;
        for (ExtentAllocator.FreeRange r : new ExtentAllocator(in).linear(extents)) {
            segs.add(StripedSegment.linear(le, r.count(), r.pvName(), r.start()));
            le += r.count();
        }
        return segs;
    }

    /**
     * {@code lvcreate --type thin --thinpool pool -V size -n name} (or a thin snapshot of
     * {@code origin}): the LV naming the pool and the device id. The pool's mappings for that id
     * are the caller's (an empty device, or the origin's mappings shared).
     */
    public LogicalVolumeMetadata createThin(String name, String pool, long virtualExtents, long deviceId, String origin) {
        checkNewLv(name);
        LogicalVolumeMetadata p = vg.logicalVolume(pool);
        if (p == null || ThinSegments.poolOf(p) == null) {
            throw new ErrnoException(Errno.ENOENT, "lvcreate --type thin " + name, "VG " + vg.name(),
                    pool + " is not a thin pool of this VG");
        }
        if (virtualExtents < 1) {
            throw new ErrnoException(Errno.EINVAL, "lvcreate --type thin " + name, "VG " + vg.name(),
                    "a thin volume needs a virtual size of at least one extent");
        }
        LogicalVolumeMetadata lv = new LogicalVolumeMetadata(name, LvmUuid.random(),
                LogicalVolumeMetadata.READ_WRITE_VISIBLE, List.of(), System.currentTimeMillis() / 1000, hostName(),
                List.of(ThinSegments.thin(virtualExtents, pool, deviceId, origin)), List.of());
        List<LogicalVolumeMetadata> lvs = new ArrayList<>(vg.logicalVolumes());
        lvs.add(lv);
        commit(vg.withLogicalVolumes(lvs).withSeqno(vg.seqno() + 1), "orion lvcreate --type thin " + vg.name() + "/" + name);
        return lv;
    }

    /** A thin snapshot LV of {@code origin} (device {@code deviceId}, already made in the pool). */
    public LogicalVolumeMetadata createThinSnapshot(String name, String pool, long virtualExtents, long deviceId,
                                                    String origin, boolean readOnly) {
        checkNewLv(name);
        List<String> status = readOnly ? List.of("READ", "VISIBLE") : LogicalVolumeMetadata.READ_WRITE_VISIBLE;
        LogicalVolumeMetadata lv = new LogicalVolumeMetadata(name, LvmUuid.random(), status, List.of(),
                System.currentTimeMillis() / 1000, hostName(),
                List.of(ThinSegments.thin(virtualExtents, pool, deviceId, origin)), List.of());
        List<LogicalVolumeMetadata> lvs = new ArrayList<>(vg.logicalVolumes());
        lvs.add(lv);
        commit(vg.withLogicalVolumes(lvs).withSeqno(vg.seqno() + 1), "orion lvcreate -s " + vg.name() + "/" + origin);
        return lv;
    }

    /**
     * One committed step of {@code pvmove}: logical extents {@code [le, le + count)} of linear
     * volume {@code lvName}, which lie on one PV, now lie on {@code dstPv} from {@code dstStart}.
     * The segment is split around the moved piece; pieces contiguous on one PV are joined again.
     */
    public LogicalVolumeMetadata moveExtents(String lvName, long le, long count, String dstPv, long dstStart) {
        LogicalVolumeMetadata lv = requireLv(lvName, "pvmove");
        List<LvSegment> out = new ArrayList<>();
        boolean moved = false;
        for (LvSegment seg : lv.segments()) {
            long end = seg.startExtent() + seg.extentCount();
            if (!(seg instanceof StripedSegment st) || le < seg.startExtent() || le >= end) {
                out.add(seg);
                continue;
            }
            if (st.stripeCount() != 1 || le + count > end) {
                throw new ErrnoException(Errno.EINVAL, "pvmove " + vg.name() + "/" + lvName, null, "extents " + le
                        + ".." + (le + count - 1) + " are not inside one linear segment");
            }
            StripeArea a = st.stripes().get(0);
            long head = le - seg.startExtent();
            if (head > 0) {
                out.add(StripedSegment.linear(seg.startExtent(), head, a.pvName(), a.startExtent()));
            }
            out.add(StripedSegment.linear(le, count, dstPv, dstStart));
            long tail = end - le - count;
            if (tail > 0) {
                out.add(StripedSegment.linear(le + count, tail, a.pvName(), a.startExtent() + head + count));
            }
            moved = true;
        }
        if (!moved) {
            throw new ErrnoException(Errno.EINVAL, "pvmove " + vg.name() + "/" + lvName, null, "no segment holds extent " + le);
        }
        List<LvSegment> joined = new ArrayList<>();
        for (LvSegment seg : out) {
            if (!joined.isEmpty() && joined.get(joined.size() - 1) instanceof StripedSegment p && p.stripeCount() == 1
                    && seg instanceof StripedSegment n && n.stripeCount() == 1 && p.extra().isEmpty()
                    && p.stripes().get(0).pvName().equals(n.stripes().get(0).pvName())
                    && p.stripes().get(0).startExtent() + p.extentCount() == n.stripes().get(0).startExtent()) {
                joined.set(joined.size() - 1, StripedSegment.linear(p.startExtent(), p.extentCount() + n.extentCount(),
                        p.stripes().get(0).pvName(), p.stripes().get(0).startExtent()));
            } else {
                joined.add(seg);
            }
        }
        LogicalVolumeMetadata next = new LogicalVolumeMetadata(lv.name(), lv.id(), lv.status(), lv.flags(),
                lv.creationTime(), lv.creationHost(), joined, lv.extra());
        List<LogicalVolumeMetadata> lvs = new ArrayList<>(vg.logicalVolumes());
        lvs.set(lvs.indexOf(lv), next);
        commit(vg.withLogicalVolumes(lvs).withSeqno(vg.seqno() + 1), "orion pvmove " + vg.name() + "/" + lvName);
        return next;
    }

    /**
     * One committed step of {@code pvmove} for a striped segment: stripe area {@code stripe} of the
     * segment starting at logical extent {@code segStart} now lies on {@code dstPv} from {@code dstStart}.
     */
    public LogicalVolumeMetadata moveStripe(String lvName, long segStart, int stripe, String dstPv, long dstStart) {
        LogicalVolumeMetadata lv = requireLv(lvName, "pvmove");
        List<LvSegment> segs = new ArrayList<>(lv.segments());
        for (int i = 0; i < segs.size(); i++) {
            if (segs.get(i) instanceof StripedSegment st && st.startExtent() == segStart && stripe < st.stripeCount()) {
                List<StripeArea> areas = new ArrayList<>(st.stripes());
                areas.set(stripe, new StripeArea(dstPv, dstStart));
                segs.set(i, new StripedSegment(st.startExtent(), st.extentCount(), st.stripeSize(), areas, st.extra()));
                LogicalVolumeMetadata next = new LogicalVolumeMetadata(lv.name(), lv.id(), lv.status(), lv.flags(),
                        lv.creationTime(), lv.creationHost(), segs, lv.extra());
                List<LogicalVolumeMetadata> lvs = new ArrayList<>(vg.logicalVolumes());
                lvs.set(lvs.indexOf(lv), next);
                commit(vg.withLogicalVolumes(lvs).withSeqno(vg.seqno() + 1), "orion pvmove " + vg.name() + "/" + lvName);
                return next;
            }
        }
        throw new ErrnoException(Errno.EINVAL, "pvmove " + vg.name() + "/" + lvName, null, "no striped segment at extent "
                + segStart + " with stripe " + stripe);
    }

    /** {@code lvresize} of a thin volume: its virtual size in extents (the pool's device is resized by the caller). */
    public LogicalVolumeMetadata resizeThin(String name, long extents) {
        LogicalVolumeMetadata lv = requireLv(name, "lvresize");
        if (ThinSegments.thinOf(lv) == null || extents < 1) {
            throw new ErrnoException(Errno.EINVAL, "lvresize " + vg.name() + "/" + name, null,
                    "not a thin volume, or a size below one extent");
        }
        OtherSegment o = (OtherSegment) lv.segments().get(0);
        LogicalVolumeMetadata next = new LogicalVolumeMetadata(lv.name(), lv.id(), lv.status(), lv.flags(),
                lv.creationTime(), lv.creationHost(), List.of(new OtherSegment(0, extents, o.type(), o.body())), lv.extra());
        List<LogicalVolumeMetadata> lvs = new ArrayList<>(vg.logicalVolumes());
        lvs.set(lvs.indexOf(lv), next);
        commit(vg.withLogicalVolumes(lvs).withSeqno(vg.seqno() + 1), "orion lvresize " + vg.name() + "/" + name);
        return next;
    }

    /** The thin volumes of this VG that use {@code pool}. */
    public List<String> thinVolumesOf(String pool) {
        List<String> out = new ArrayList<>();
        for (LogicalVolumeMetadata l : vg.logicalVolumes()) {
            ThinSegments.Thin t = ThinSegments.thinOf(l);
            if (t != null && t.pool().equals(pool)) {
                out.add(l.name());
            }
        }
        return out;
    }

    /**
     * {@code lvextend -l +N pool}: grows {@code pool_tdata} and the pool LV by {@code moreExtents}
     * in one commit. The new chunks are usable once the running pool learns the new size.
     */
    public LogicalVolumeMetadata extendThinPool(String name, long moreExtents) {
        LogicalVolumeMetadata pool = requireLv(name, "lvextend");
        ThinSegments.Pool p = ThinSegments.poolOf(pool);
        if (p == null) {
            throw new ErrnoException(Errno.EINVAL, "lvextend " + vg.name() + "/" + name, null, "not a thin pool");
        }
        if (moreExtents < 1) {
            throw new ErrnoException(Errno.EINVAL, "lvextend " + vg.name() + "/" + name, null, "nothing to add");
        }
        LogicalVolumeMetadata data = requireLv(p.dataLv(), "lvextend");
        List<LvSegment> segs = new ArrayList<>(data.segments());
        long now = data.extentCount();
        for (LvSegment s : linearSegments(vg, moreExtents)) {
            StripedSegment n = (StripedSegment) s;
            StripedSegment tail = (StripedSegment) segs.get(segs.size() - 1);
            StripeArea ta = tail.stripes().get(0);
            StripeArea na = n.stripes().get(0);
            if (tail.stripeCount() == 1 && ta.pvName().equals(na.pvName()) && ta.startExtent() + tail.extentCount() == na.startExtent()) {
                segs.set(segs.size() - 1, new StripedSegment(tail.startExtent(), tail.extentCount() + n.extentCount(), 0,
                        tail.stripes(), tail.extra()));
            } else {
                segs.add(StripedSegment.linear(now, n.extentCount(), na.pvName(), na.startExtent()));
            }
            now += n.extentCount();
        }
        LogicalVolumeMetadata nextData = new LogicalVolumeMetadata(data.name(), data.id(), data.status(), data.flags(),
                data.creationTime(), data.creationHost(), segs, data.extra());
        OtherSegment ps = (OtherSegment) pool.segments().get(0);
        LogicalVolumeMetadata nextPool = new LogicalVolumeMetadata(pool.name(), pool.id(), pool.status(), pool.flags(),
                pool.creationTime(), pool.creationHost(),
                List.of(new OtherSegment(0, now, ps.type(), ps.body())), pool.extra());
        List<LogicalVolumeMetadata> lvs = new ArrayList<>(vg.logicalVolumes());
        lvs.set(lvs.indexOf(data), nextData);
        lvs.set(lvs.indexOf(pool), nextPool);
        commit(vg.withLogicalVolumes(lvs).withSeqno(vg.seqno() + 1), "orion lvextend " + vg.name() + "/" + name);
        return nextPool;
    }

    /** {@code lvremove}: drops the volume from the metadata (its extents become free). */
    public void removeLogicalVolume(String name) {
        LogicalVolumeMetadata lv = vg.logicalVolume(name);
        if (lv == null) {
            throw new ErrnoException(Errno.ENOENT, "lvremove " + vg.name() + "/" + name, null, "no such LV");
        }
        List<LogicalVolumeMetadata> lvs = new ArrayList<>(vg.logicalVolumes());
        lvs.remove(lv);
        ThinSegments.Pool pool = ThinSegments.poolOf(lv);
        if (pool != null) {
            List<String> users = thinVolumesOf(name);
            if (!users.isEmpty()) {
                throw new ErrnoException(Errno.EBUSY, "lvremove " + vg.name() + "/" + name, null,
                        "thin volumes " + users + " use this pool; remove them first");
            }
            lvs.remove(vg.logicalVolume(pool.metadataLv()));
            lvs.remove(vg.logicalVolume(pool.dataLv()));
        }
        RaidSegments.Raid raid = RaidSegments.raidOf(lv);
        if (raid != null) {
            for (int i = 0; i < raid.devices(); i++) {
                lvs.remove(vg.logicalVolume(raid.imageLvs().get(i)));
                if (raid.metaLvs().get(i) != null) {
                    lvs.remove(vg.logicalVolume(raid.metaLvs().get(i)));
                }
            }
        } else if (!lv.status().contains("VISIBLE") && RaidSegments.isSubLvName(name)) {
            throw new ErrnoException(Errno.EINVAL, "lvremove " + vg.name() + "/" + name, null,
                    "this is a hidden image of a raid volume; remove the raid volume instead");
        }
        if (pool == null && !lv.status().contains("VISIBLE") && name.matches(".*_t(meta|data)")) {
            throw new ErrnoException(Errno.EINVAL, "lvremove " + vg.name() + "/" + name, null,
                    "this is a hidden part of a thin pool; remove the pool instead");
        }
        commit(vg.withLogicalVolumes(lvs).withSeqno(vg.seqno() + 1), "orion lvremove " + vg.name() + "/" + name);
    }

    private LogicalVolumeMetadata addLv(String name, List<LvSegment> segs) {
        LogicalVolumeMetadata lv = new LogicalVolumeMetadata(name, LvmUuid.random(),
                LogicalVolumeMetadata.READ_WRITE_VISIBLE, List.of(), System.currentTimeMillis() / 1000, hostName(),
                segs, List.of());
        List<LogicalVolumeMetadata> lvs = new ArrayList<>(vg.logicalVolumes());
        lvs.add(lv);
        commit(vg.withLogicalVolumes(lvs).withSeqno(vg.seqno() + 1), "orion lvcreate " + vg.name() + "/" + name);
        return lv;
    }

    /** Commits {@code next} (its seqno already bumped) to every metadata area. */
    public void commit(VolumeGroupMetadata next, String description) {
        prepareCommit(next, description).run();
        vg = next;
    }

    /**
     * Prepares a commit without running it, for callers (tests) that drive its steps one by one;
     * {@link #metadata()} does not change.
     */
    public MetadataCommit prepareCommit(VolumeGroupMetadata next, String description) {
        if (next.seqno() <= vg.seqno()) {
            throw new IllegalArgumentException("seqno must grow: " + vg.seqno() + " -> " + next.seqno());
        }
        return MetadataCommit.prepare(pvs, new MetadataText(next, description, hostName(),
                System.currentTimeMillis() / 1000));
    }

    private void checkNewLv(String name) {
        checkName("LV", name);
        if (vg.logicalVolume(name) != null) {
            throw new ErrnoException(Errno.EEXIST, "lvcreate " + vg.name() + "/" + name, null,
                    "an LV of that name exists");
        }
    }

    private static void checkName(String what, String name) {
        if (name.isEmpty() || name.length() > 127 || name.startsWith("-") || name.equals(".") || name.equals("..")
                || !name.matches("[A-Za-z0-9+_.-]+")) {
            throw new ErrnoException(Errno.EINVAL, "name " + what, name,
                    "use up to 127 of A-Z a-z 0-9 + _ . -, not starting with '-'");
        }
    }

    static String hostName() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
        } catch (IOException e) {
            return "localhost";
        }
    }

    @Override
    public void close() {
        for (MetadataIo io : owned) {
            io.close();
        }
    }
}
