package org.orionos.host.lvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.bdev.BdevClient;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.IoContext;
import org.orionos.host.lvm.metadata.RaidSegments;
import org.orionos.host.lvm.metadata.SegmentTypes;
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
        long units = array.syncStripes();
        for (long u = 0; u < units; u++) {
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
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(DmRaidSuperblock.SIZE, 4096);
            MemorySegment.copy(sb.bytes(), 0, buf, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, DmRaidSuperblock.SIZE);
            client.write(meta, 0, buf, 0).get(30, TimeUnit.SECONDS);
            client.flush(meta).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new ErrnoException(Errno.EIO, "write dm-raid superblock", meta.name(), e.toString());
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
