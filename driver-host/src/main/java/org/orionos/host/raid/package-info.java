/**
 * RAID for orion, on Linux md's on-disk terms so member images are interchangeable with md's.
 *
 * <p>This package holds the pure, allocation-free pieces a stripe engine calls per I/O:
 * <ul>
 *   <li>Geometry ({@link org.orionos.host.raid.RaidGeometry} and its subclasses): md's mapping of
 *       array sectors to members for RAID0 (including md's multi-zone layouts), RAID1, RAID10 near, RAID5 and RAID6 in
 *       every md layout ({@link org.orionos.host.raid.ParityLayout}), including md's Q slot order.</li>
 *   <li>Parity ({@link org.orionos.host.raid.ParityEngine}): ISA-L through FFM when installed,
 *       otherwise pure Java; {@link org.orionos.host.raid.Raid6Recovery} rebuilds any one or two
 *       lost blocks.</li>
 *   <li>Metadata: md's v1.2 superblock ({@link org.orionos.host.raid.MdSuperblock1}) and internal
 *       write-intent bitmap ({@link org.orionos.host.raid.MdBitmap}).</li>
 * </ul>
 *
 * <p>What md cannot express, orion does not build: RAID50/60 exist only as md nests them, a RAID0
 * over RAID5/6 arrays each with their own superblocks ({@link org.orionos.host.raid.NestedGeometry});
 * there is no level-50 superblock. Not built yet (refused with a reason): RAID10 far and offset
 * layouts, superblock formats other than 1.2, and the md features reshape, journal, PPL,
 * clustering and recorded bad blocks.
 */
package org.orionos.host.raid;
