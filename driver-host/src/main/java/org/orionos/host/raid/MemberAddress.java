package org.orionos.host.raid;

/**
 * A reusable out-parameter for geometry lookups: which member and which sector of its data area.
 * A stripe engine keeps one per in-flight request so mapping allocates nothing.
 * Sectors are 512 bytes and relative to the member's data area (md's {@code data_offset}).
 */
public final class MemberAddress {
    /** Member index (md's raid disk role). */
    public int disk;
    /** Sector within the member's data area. */
    public long sector;
    /** Sectors from {@link #sector} to the end of its chunk: how far this mapping stays contiguous. */
    public int runSectors;
    /** Stripe number (parity levels) or chunk row (RAID0/10); -1 for RAID1. */
    public long stripe;
    /** Logical data chunk index within the stripe (parity levels), else -1. */
    public int dataIndex;

    @Override
    public String toString() {
        return "disk " + disk + " sector " + sector + " (stripe " + stripe + ", data " + dataIndex
                + ", run " + runSectors + ")";
    }
}
