package org.orionos.host.lvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.bdev.BdevClient;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.IoContext;
import org.orionos.host.lvm.metadata.RaidSegments;
import org.orionos.host.lvm.metadata.SegmentTypes;
import org.orionos.host.raid.MdBitmap;
import org.orionos.host.raid.ParityGeometry;
import org.orionos.host.raid.ParityLayout;
import org.orionos.host.raid.Raid1Geometry;
import org.orionos.host.raid.RaidBdev;
import org.orionos.host.raid.RaidGeometry;
import org.orionos.host.raid.RaidLevel;

/**
 * RAID logical volumes on the RAID layer: the md geometry dm-raid gives each lvm2 segment type
 * (dm-raid is md underneath, so the images hold exactly md's layout from their byte 0), and the
 * initial sync orion runs before it commits a new raid LV.
 */
final class LvmRaid {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(LvmRaid.class);
    /** lvm2's default {@code activation/raid_region_size}: 2 MiB. */
    static final long DEFAULT_REGION_SECTORS = 4096;
    /** lvm2's default raid stripe size: 64 KiB. */
    static final long DEFAULT_STRIPE_SECTORS = 128;

    private LvmRaid() {
    }

    /** The md geometry of {@code raid} over images of {@code imageSectors} each, as dm-raid's table maps the type. */
    static RaidGeometry geometry(RaidSegments.Raid raid, long imageSectors) {
        long[] sizes = new long[raid.devices()];
        java.util.Arrays.fill(sizes, imageSectors);
        if (raid.type().equals(SegmentTypes.RAID1)) {
            return Raid1Geometry.of(sizes);
        }
        ParityLayout layout = switch (raid.type()) {
            // dm-raid's raid_types table: lvm2's raid5 is raid5_ls, its raid6 is raid6_zr.
            case SegmentTypes.RAID5, SegmentTypes.RAID5_LS -> ParityLayout.LEFT_SYMMETRIC;
            case SegmentTypes.RAID5_LA -> ParityLayout.LEFT_ASYMMETRIC;
            case SegmentTypes.RAID5_RS -> ParityLayout.RIGHT_SYMMETRIC;
            case SegmentTypes.RAID5_RA -> ParityLayout.RIGHT_ASYMMETRIC;
            case SegmentTypes.RAID5_N -> ParityLayout.PARITY_N;
            case SegmentTypes.RAID6, SegmentTypes.RAID6_ZR -> ParityLayout.ROTATING_ZERO_RESTART;
            case SegmentTypes.RAID6_NR -> ParityLayout.ROTATING_N_RESTART;
            case SegmentTypes.RAID6_NC -> ParityLayout.ROTATING_N_CONTINUE;
            default -> throw new ErrnoException(Errno.EOPNOTSUPP, "map raid type", raid.type(), "not a raid1/5/6 type");
        };
        RaidLevel level = raid.parityDevices() == 2 ? RaidLevel.RAID6 : RaidLevel.RAID5;
        return ParityGeometry.of(level, layout, Math.toIntExact(raid.stripeSectors()), sizes);
    }

    /**
     * The initial sync of a new raid volume, before its LV is committed (no one else can address
     * it yet): every sync unit (a chunk row, or 1 MiB of a mirror) is read on all images and made
     * consistent the way md's resync makes it: parity recomputed from the data, mirrors copied
     * from the first image. Management-rate work on the array's home reactor.
     */
    static void initialSync(RaidBdev array, IoContext ctx) {
        sync(array, ctx, 0);
    }

    /** Syncs (parity recomputed, raid1 copied from image 0) the sync units from {@code fromUnit} to the end. */
    static void sync(RaidBdev array, IoContext ctx, long fromUnit) {
        long units = array.syncStripes();
        long started = System.nanoTime();
        long lastLog = started;
        for (long u = fromUnit; u < units; u++) {
            long now = System.nanoTime();
            if (now - lastLog > 5_000_000_000L) { // progress for a long sync, as md's /proc/mdstat
                lastLog = now;
                LOG.info("{}: resync {}% ({} of {} sync units, {} MiB/s)", array.name(), (u - fromUnit) * 100 / Math.max(1, units - fromUnit),
                        u, units, (u - fromUnit) * array.syncUnitIoBytes() * 1000 / Math.max(1, (now - started) / 1_000_000) >> 20);
            }
            int st;
            try {
                st = array.syncStripe(ctx, u, RaidBdev.SYNC_REPAIR).get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new ErrnoException(Errno.EIO, "raid initial sync", array.name(), "sync unit " + u + " of " + units
                        + " did not complete: " + e + "; nothing was committed, the extents stay free");
            }
            if (st < 0) {
                throw new ErrnoException(-st, "raid initial sync", array.name(), "sync unit " + u + " of " + units
                        + " failed; nothing was committed, the extents stay free");
            }
        }
    }

    /**
     * Zeroes a whole rmeta LV: dm-raid then finds no superblock and takes the images as a new
     * array, which it resyncs (or not, with lvm2's {@code nosync}) from their contents.
     */
    static void zero(BdevClient client, BlockDevice dev) {
        long step = 1 << 20;
        try (Arena arena = Arena.ofShared()) { // the reactor threads read it
            MemorySegment zeros = arena.allocate(step, 4096);
            for (long at = 0; at < dev.sizeBytes(); at += step) {
                MemorySegment part = zeros.asSlice(0, Math.min(step, dev.sizeBytes() - at));
                client.write(dev, at, part, 0).get(60, TimeUnit.SECONDS);
            }
            client.flush(dev).get(60, TimeUnit.SECONDS);
        } catch (ErrnoException e) {
            throw e;
        } catch (Exception e) {
            throw new ErrnoException(Errno.EIO, "zero raid metadata", dev.name(), e.toString());
        }
    }

    /** The dm-raid superblock on {@code meta}, or null when it has none (zeroed: a new array) or cannot be read. */
    static DmRaidSuperblock readSuperblock(BdevClient client, BlockDevice meta) {
        try (Arena arena = Arena.ofShared()) { // the reactor threads write it
            MemorySegment buf = arena.allocate(DmRaidSuperblock.SIZE, 4096);
            client.read(meta, 0, buf).get(30, TimeUnit.SECONDS);
            return DmRaidSuperblock.parse(buf.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        } catch (Exception e) {
            return null;
        }
    }

    static void writeSuperblock(BdevClient client, BlockDevice meta, DmRaidSuperblock sb) {
        writeBlock(client, meta, 0, sb.bytes());
    }

    /** Writes {@code b} (whole 4 KiB blocks) at byte {@code off} of {@code meta} and flushes it. */
    private static void writeBlock(BdevClient client, BlockDevice meta, long off, byte[] b) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(b.length, 4096);
            MemorySegment.copy(b, 0, buf, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, b.length);
            client.write(meta, off, buf, 0).get(30, TimeUnit.SECONDS);
            client.flush(meta).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new ErrnoException(Errno.EIO, "write raid metadata", meta.name(), e.toString());
        }
    }

    /** {@code len} bytes (whole 4 KiB blocks) at {@code off} of {@code meta}, or null when they cannot be read. */
    private static byte[] readBlock(BdevClient client, BlockDevice meta, long off, long len) {
        if (off + len > meta.sizeBytes()) {
            return null;
        }
        try (Arena arena = Arena.ofShared()) { // the reactor threads write it
            MemorySegment buf = arena.allocate(len, 4096);
            client.read(meta, off, buf).get(30, TimeUnit.SECONDS);
            return buf.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        } catch (Exception e) {
            return null;
        }
    }

    /** Where dm-raid keeps its md bitmap in an rmeta: right after the 4 KiB superblock. */
    static final long BITMAP_OFFSET = 4096;

    /** The header and bits of dm-raid's bitmap on {@code meta} (whole blocks), or null when it has none. */
    private static byte[] readBitmap(BdevClient client, BlockDevice meta) {
        byte[] head = readBlock(client, meta, BITMAP_OFFSET, 4096);
        if (head == null) {
            return null;
        }
        MdBitmap h;
        try {
            h = MdBitmap.decode(MemorySegment.ofArray(head), meta.name());
        } catch (ErrnoException e) {
            return null; // no bitmap (zeroed rmeta, or one dm-raid never wrote)
        }
        long bytes = (h.byteSize() + 4095) / 4096 * 4096;
        return bytes == 4096 ? head : readBlock(client, meta, BITMAP_OFFSET, bytes);
    }

    /** What a crash left to resync: why, and the dirty regions of {@code regionSectors} each (null: all of it). */
    record Unclean(String why, long[] regions, long regionSectors) {
    }

    /** The reason of {@link #unclean}, or null. */
    static String uncleanReason(BdevClient client, BlockDevice[] metas) {
        Unclean u = unclean(client, metas);
        return u == null ? null : u.why();
    }

    /**
     * Whether the array behind {@code metas} must be resynced before its images agree, or null
     * when it was shut down cleanly: orion's dirty mark (an activation that never closed; only the
     * regions its bitmap marks when it kept one), dm-raid's {@code array_resync_offset} short of the
     * end (its crash without a usable bitmap, an unfinished initial sync, orion's full-resync mark),
     * the stale flag or set bits in dm-raid's write-intent bitmap (a crash with the bitmap in use,
     * dm-raid's or orion's). Set bits of all current copies count. Management thread.
     */
    static Unclean unclean(BdevClient client, BlockDevice[] metas) {
        DmRaidSuperblock[] sbs = new DmRaidSuperblock[metas.length];
        String orionDirty = null;
        for (int i = 0; i < metas.length; i++) {
            byte[] b = metas[i] == null ? null : readBlock(client, metas[i], 0, DmRaidSuperblock.SIZE);
            if (b != null && DmRaidSuperblock.orionDirty(b) && orionDirty == null) {
                orionDirty = "orion's dirty mark in " + metas[i].name() + ": the volume was not closed cleanly";
            }
            sbs[i] = b == null ? null : DmRaidSuperblock.parse(b);
        }
        DmRaidSuperblock f = freshest(sbs);
        if (f != null && f.arrayResyncOffset() != 0 && f.arrayResyncOffset() != DmRaidSuperblock.MAX_SECTOR) {
            return new Unclean("dm-raid's resync stopped at sector " + f.arrayResyncOffset(), null, 0);
        }
        if (f != null && f.arrayResyncOffset() == 0) {
            // md's dirty superblock: with a usable bitmap only its set bits need the resync (as md's
            // bitmap load with recovery_cp 0), without one all of it.
            orionDirty = "array_resync_offset 0 in the rmeta superblocks: the volume was not shut down cleanly";
            if (f.orionMarker()) {
                return new Unclean(orionDirty, null, 0);
            }
        }
        if (f != null && f.orionMarker() || f == null && orionDirty == null) {
            // No superblock and no mark: closed cleanly (orion's bitmap there counts only under its mark).
            return orionDirty == null ? null : new Unclean(orionDirty, null, 0);
        }
        // The bitmap copies on the current images (all of them when no superblock exists).
        MdBitmap h = null;
        byte[] or = null;
        for (int i = 0; i < metas.length; i++) {
            if (metas[i] == null || f != null && (sbs[i] == null || sbs[i].events() != f.events() || (f.failed() & 1L << i) != 0)) {
                continue;
            }
            byte[] bm = readBitmap(client, metas[i]);
            if (bm == null) {
                continue;
            }
            MdBitmap hi = MdBitmap.decode(MemorySegment.ofArray(bm), metas[i].name());
            if ((hi.state & MdBitmap.BITMAP_STALE) != 0) {
                return new Unclean("the write-intent bitmap in " + metas[i].name() + " is marked stale", null, 0);
            }
            if (h == null) {
                h = hi;
                or = bm;
            } else if (hi.chunksize == h.chunksize && bm.length == or.length) {
                for (int k = MdBitmap.HEADER_BYTES; k < or.length; k++) {
                    or[k] |= bm[k];
                }
            }
        }
        if (h == null) {
            return orionDirty == null ? null : new Unclean(orionDirty + " (no write-intent bitmap)", null, 0);
        }
        MemorySegment seg = MemorySegment.ofArray(or);
        long n = 0;
        for (long k = 0; k < h.bits(); k++) {
            n += MdBitmap.isDirty(seg, k) ? 1 : 0;
        }
        if (n == 0) {
            return orionDirty == null ? null : new Unclean(orionDirty + "; its write-intent bitmap has no dirty region", new long[0],
                    h.chunksize / 512);
        }
        long[] regions = new long[(int) n];
        int j = 0;
        for (long k = 0; k < h.bits(); k++) {
            if (MdBitmap.isDirty(seg, k)) {
                regions[j++] = k;
            }
        }
        return new Unclean((orionDirty != null ? orionDirty + "; " : "") + "the write-intent bitmap has " + n + " dirty "
                + "region(s) of " + h.bits() + " (first: " + regions[0] + ")", regions, h.chunksize / 512);
    }

    /** Syncs the sync units covering the given dirty regions ({@code regionSectors} member sectors each). */
    static void syncRegions(RaidBdev array, IoContext ctx, long[] regions, long regionSectors) {
        long units = array.syncStripes();
        long done = -1;
        for (long k : regions) {
            long u0 = Math.max(done + 1, array.syncUnitOfMemberSector(k * regionSectors));
            long u1 = Math.min(units - 1, array.syncUnitOfMemberSector((k + 1) * regionSectors - 1));
            for (long u = u0; u <= u1; u++) {
                int st;
                try {
                    st = array.syncStripe(ctx, u, RaidBdev.SYNC_REPAIR).get(60, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new ErrnoException(Errno.EIO, "raid resync", array.name(), "sync unit " + u + " did not complete: " + e);
                }
                if (st < 0) {
                    throw new ErrnoException(-st, "raid resync", array.name(), "sync unit " + u + " failed");
                }
                done = u;
            }
        }
    }

    /**
     * Starts using dm-raid's md bitmap in the rmetas (after 4 KiB) as the volume's write-intent log
     * when every current rmeta has one (dm-raid assembled the array) or none has a superblock
     * (orion writes a bitmap of its own there, region_size from the LV; dm-raid overwrites it when it
     * first assembles the array). All bits start clear: the caller resynced what was dirty. Returns
     * the handle that stops it, or null when the rmetas cannot carry one (orion's stale marker,
     * mixed state): the volume then relies on the full-resync marks. Management thread.
     */
    static AutoCloseable startWriteIntent(BdevClient client, RaidBdev r, BlockDevice[] metas, long regionSectors,
                                          long imageSectors) {
        List<BlockDevice> copies = new java.util.ArrayList<>();
        MdBitmap header = null;
        boolean anySb = false;
        boolean allSb = true;
        for (int i = 0; i < metas.length; i++) {
            if (metas[i] == null || (r.failedMask() & 1L << i) != 0) {
                continue;
            }
            byte[] b = readBlock(client, metas[i], 0, DmRaidSuperblock.SIZE);
            DmRaidSuperblock sb = b == null ? null : DmRaidSuperblock.parse(b);
            if (b == null || sb != null && sb.orionMarker()) {
                return null;
            }
            anySb |= sb != null;
            allSb &= sb != null;
            if (sb != null) {
                byte[] bm = readBitmap(client, metas[i]);
                if (bm == null) {
                    return null;
                }
                MdBitmap h = MdBitmap.decode(MemorySegment.ofArray(bm), metas[i].name());
                if (header == null || Long.compareUnsigned(h.events, header.events) > 0) {
                    header = h;
                }
            }
            copies.add(metas[i]);
        }
        if (copies.isEmpty() || anySb && !allSb) {
            return null;
        }
        if (header == null) {
            header = new MdBitmap();
            header.chunksize = Math.toIntExact(regionSectors * 512);
            header.syncSize = imageSectors;
        }
        header.state &= ~MdBitmap.BITMAP_STALE;
        header.eventsCleared = header.events;
        if (header.byteSize() + BITMAP_OFFSET > copies.get(0).sizeBytes()) {
            return null;
        }
        long bytes = (header.byteSize() + 4095) / 4096 * 4096;
        byte[] image = new byte[(int) bytes];
        MemorySegment seg = MemorySegment.ofArray(image);
        header.encode(seg);
        for (BlockDevice m : copies) {
            writeBlock(client, m, BITMAP_OFFSET, image);
        }
        return r.useWriteIntent(header, seg, copies, BITMAP_OFFSET, client);
    }

    /**
     * Marks the array dirty (see {@link DmRaidSuperblock}) on every reachable rmeta before orion
     * writes to it: superblocks get {@code array_resync_offset} 0 and dm-raid's bitmap the stale
     * flag (orion's writes set no bits, so only a full resync is safe for dm-raid too); rmetas
     * without a superblock get orion's mark. Fails when no rmeta took the mark. Management thread.
     */
    static void markDirty(BdevClient client, BlockDevice[] metas) {
        mark(client, metas, true, false, false);
    }

    /**
     * Marks the array dirty while its write-intent bitmap (see {@link #startWriteIntent}) carries
     * the regions: rmetas without a superblock get orion's mark (dm-raid still resyncs a new array
     * in full), dm-raid's superblocks {@code array_resync_offset} 0 without the stale flag: md then
     * resyncs only the regions whose bits are set.
     */
    static void markDirtyBitmapped(BdevClient client, BlockDevice[] metas) {
        mark(client, metas, true, false, true);
    }

    /**
     * Marks the array clean after its images were flushed at a clean close: {@code
     * array_resync_offset} back to MaxSector, orion's mark zeroed; when {@code allInSync} (no image
     * failed) dm-raid's bitmap is emptied and its stale flag cleared, since every region agrees.
     * A degraded array keeps its bitmap: its bits say what a returning image lacks. Management thread.
     */
    static void markClean(BdevClient client, BlockDevice[] metas, boolean allInSync) {
        mark(client, metas, false, allInSync, false);
    }

    private static void mark(BdevClient client, BlockDevice[] metas, boolean dirty, boolean clearBitmap,
                             boolean bitmapped) {
        int ok = 0;
        ErrnoException last = null;
        for (BlockDevice m : metas) {
            if (m == null) {
                continue;
            }
            try {
                byte[] b = readBlock(client, m, 0, DmRaidSuperblock.SIZE);
                if (b == null) {
                    throw new ErrnoException(Errno.EIO, "read raid metadata", m.name(), "superblock not readable");
                }
                DmRaidSuperblock sb = DmRaidSuperblock.parse(b);
                if (sb == null) {
                    writeBlock(client, m, 0, dirty ? DmRaidSuperblock.orionDirtyBlock() : new byte[DmRaidSuperblock.SIZE]);
                } else if (dirty && bitmapped && !sb.orionMarker()) {
                    // md's dirty superblock (resync from 0) over the bitmap orion keeps: dm-raid then
                    // resyncs exactly the regions whose bits are set, as after its own crash.
                    writeSuperblock(client, m, sb.withResyncOffset(0));
                } else {
                    // Superblock first when dirtying, bitmap first when cleaning: a crash between the
                    // two writes leaves the array marked dirty by at least one of them.
                    if (dirty) {
                        writeSuperblock(client, m, sb.withResyncOffset(0));
                    }
                    if (!sb.orionMarker() && (dirty || clearBitmap)) {
                        byte[] bm = readBitmap(client, m);
                        if (bm != null) {
                            MemorySegment seg = MemorySegment.ofArray(bm);
                            MdBitmap h = MdBitmap.decode(seg, m.name());
                            h.state = dirty ? h.state | MdBitmap.BITMAP_STALE : h.state & ~MdBitmap.BITMAP_STALE;
                            if (!dirty) {
                                seg.asSlice(MdBitmap.HEADER_BYTES).fill((byte) 0);
                                h.eventsCleared = h.events; // every bit cleared with the array in sync
                            }
                            h.encode(seg);
                            writeBlock(client, m, BITMAP_OFFSET, dirty ? java.util.Arrays.copyOf(bm, 4096) : bm);
                        }
                    }
                    if (!dirty) {
                        writeSuperblock(client, m, sb.withResyncOffset(DmRaidSuperblock.MAX_SECTOR));
                    }
                }
                ok++;
            } catch (ErrnoException e) {
                LOG.warn("{}: marking the raid volume {} failed: {}", m.name(), dirty ? "dirty" : "clean", e.getMessage());
                last = e;
            }
        }
        if (dirty && ok == 0 && last != null) {
            throw last;
        }
    }

    /** The freshest superblock (highest events), or null when none has the magic. */
    static DmRaidSuperblock freshest(DmRaidSuperblock[] sbs) {
        DmRaidSuperblock best = null;
        for (DmRaidSuperblock s : sbs) {
            if (s != null && (best == null || Long.compareUnsigned(s.events(), best.events()) > 0)) {
                best = s;
            }
        }
        return best;
    }

    /**
     * The images whose data the superblocks say is not current, as dm-raid reads them: those
     * the freshest superblock records as failed, and those whose own superblock shows a
     * recovery that has not finished. Refuses what orion cannot take over (a reshape left
     * running, reshape space, incompatible features other than orion's own marker).
     */
    static long staleImages(String op, DmRaidSuperblock[] sbs) {
        DmRaidSuperblock f = freshest(sbs);
        if (f == null) {
            return 0;
        }
        if (f.incompat() != 0 && !f.orionMarker()) {
            throw new ErrnoException(Errno.EOPNOTSUPP, op, null, "its dm-raid superblock has incompatible features 0x"
                    + Integer.toHexString(f.incompat()) + " orion does not know");
        }
        if ((f.flags() & DmRaidSuperblock.SB_FLAG_RESHAPE_ACTIVE) != 0 || f.dataOffset() != 0) {
            throw new ErrnoException(Errno.EOPNOTSUPP, op, null, "dm-raid left a reshape on it (or reshape space); "
                    + "let lvm2 finish it first");
        }
        long stale = f.failed();
        for (int i = 0; i < sbs.length; i++) {
            if (sbs[i] != null && !sbs[i].orionMarker() && sbs[i].diskRecoveryOffset() != DmRaidSuperblock.MAX_SECTOR) {
                stale |= 1L << i;
            }
        }
        return stale;
    }

    /**
     * Records the images in {@code failed} as not current, for dm-raid and for orion's next
     * activation ({@code metas[i]} null where image i's rmeta is unreachable). Where the array
     * has dm-raid superblocks and the failed image's own rmeta can be written, its
     * {@code disk_recovery_offset} is set to 0: dm-raid then sees an image recovering from the
     * start and copies it in full (a bit in {@code failed_devices} would make it recover only
     * the regions its write-intent bitmap marks, and orion's writes mark none). Otherwise
     * (a never-assembled array, or the image's rmeta gone) the other images get orion's marker
     * superblock, which dm-raid refuses to assemble until orion has rebuilt the image.
     * Management thread.
     */
    static void recordFailed(BdevClient client, BlockDevice[] metas, long failed, RaidGeometry g) {
        DmRaidSuperblock[] sbs = new DmRaidSuperblock[metas.length];
        for (int i = 0; i < metas.length; i++) {
            if (metas[i] != null) {
                sbs[i] = readSuperblock(client, metas[i]);
            }
        }
        DmRaidSuperblock[] survivors = sbs.clone();
        for (int i = 0; i < metas.length; i++) {
            if ((failed & 1L << i) != 0) {
                survivors[i] = null;
            }
        }
        DmRaidSuperblock f = freshest(survivors);
        boolean dmRaid = f != null && !f.orionMarker();
        boolean marker = !dmRaid;
        for (int i = 0; i < metas.length && dmRaid; i++) {
            if ((failed & 1L << i) == 0) {
                continue;
            }
            if (sbs[i] == null || sbs[i].orionMarker() || f.failed() != 0 && (f.failed() & 1L << i) != 0) {
                marker = true; // its own rmeta is gone, or dm-raid already counts it failed (bitmap recovery)
            } else if (sbs[i].diskRecoveryOffset() != 0) {
                writeSuperblock(client, metas[i], sbs[i].withRecoveryOffset(0));
            }
        }
        if (!marker) {
            return;
        }
        long stale = failed | (f != null && f.orionMarker() ? f.failed() : 0);
        for (int i = 0; i < metas.length; i++) {
            if (metas[i] == null) {
                continue;
            }
            DmRaidSuperblock m = DmRaidSuperblock.orionStale(metas.length, i, stale, g.level().mdLevel(), g.mdLayout(),
                    g.level() == RaidLevel.RAID1 ? 0 : g.chunkSectors());
            if ((stale & 1L << i) == 0) {
                writeSuperblock(client, metas[i], m);
            } else {
                // Also on a stale image's own rmeta when it still takes writes, so that dm-raid finds
                // no "new device" and names the incompatible feature in its refusal.
                try {
                    writeSuperblock(client, metas[i], m);
                } catch (ErrnoException e) {
                    LOG.debug("rmeta of stale image {} not writable: {}", i, e.getMessage());
                }
            }
        }
    }

    /**
     * Records the images in {@code rebuilt} in sync again: in dm-raid's superblocks their failed
     * bits are cleared (events bumped); orion's markers are zeroed once no image is failed any
     * more, leaving a new array with consistent images to dm-raid. Management thread.
     */
    static void recordRebuilt(BdevClient client, BlockDevice[] metas, long rebuilt, long stillFailed, RaidGeometry g) {
        DmRaidSuperblock[] sbs = new DmRaidSuperblock[metas.length];
        for (int i = 0; i < metas.length; i++) {
            if (metas[i] != null) {
                sbs[i] = readSuperblock(client, metas[i]);
            }
        }
        DmRaidSuperblock f = freshest(sbs);
        if (f == null) {
            return;
        }
        for (int i = 0; i < metas.length; i++) {
            if (metas[i] == null || (stillFailed & 1L << i) != 0) {
                continue;
            }
            if (f.orionMarker()) {
                if (stillFailed == 0) {
                    zero(client, metas[i]);
                } else if (sbs[i] != null) {
                    writeSuperblock(client, metas[i], DmRaidSuperblock.orionStale(metas.length, i, stillFailed,
                            g.level().mdLevel(), g.mdLayout(), g.level() == RaidLevel.RAID1 ? 0 : g.chunkSectors()));
                }
            } else if (sbs[i] != null && !sbs[i].orionMarker()) {
                writeSuperblock(client, metas[i], sbs[i].withRebuilt(rebuilt, f.events() + 1));
            }
        }
    }
}
