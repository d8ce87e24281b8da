/**
 * LVM2's on-disk metadata, bit-compatible with the lvm2 tools: the PV label ({@link
 * org.orionos.host.lvm.metadata.PvLabel}), metadata area headers ({@link
 * org.orionos.host.lvm.metadata.MdaHeader}) with LVM2's CRC ({@link
 * org.orionos.host.lvm.metadata.Lvm2Crc}), the circular buffer of text copies ({@link
 * org.orionos.host.lvm.metadata.MetadataArea}), the text format ({@link
 * org.orionos.host.lvm.metadata.ConfigParser}, {@link org.orionos.host.lvm.metadata.ConfigWriter},
 * {@link org.orionos.host.lvm.metadata.MetadataText}) and the VG model it encodes.
 *
 * <p>Changes commit in lvm2's three durable steps ({@link
 * org.orionos.host.lvm.metadata.MetadataCommit}); reads take the highest valid seqno and report
 * every damaged or stale copy ({@link org.orionos.host.lvm.metadata.VolumeGroupReader}). {@link
 * org.orionos.host.lvm.metadata.OfflineVolumeGroup} writes PVs, VGs and linear/striped LVs
 * straight to files or block devices. Nothing here is on the data path.
 */
package org.orionos.host.lvm.metadata;
