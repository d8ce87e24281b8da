package org.orionos.host.lvm.metadata;

/**
 * One valid copy of VG metadata found in a metadata area.
 *
 * @param area     the area it was read from (device and area number)
 * @param location the committed slot pointing at it
 */
public record MetadataCopy(MetadataArea area, RawLocation location, MetadataText text) {

    public long seqno() {
        return text.vg().seqno();
    }

    /** e.g. {@code /dev/loop0 metadata area 1 (offset 4096) seqno 3}. */
    public String describe() {
        return area.describe() + " seqno " + seqno();
    }
}
