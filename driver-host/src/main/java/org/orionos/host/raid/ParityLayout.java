package org.orionos.host.raid;

/**
 * md's RAID4/5/6 layouts ({@code ALGORITHM_*} in the kernel's raid5.h), with the number stored in
 * the superblock's {@code layout} field and the name mdadm prints and accepts.
 *
 * <p>The first six apply to RAID5 and RAID6. The {@code ddf*} layouts are RAID6-only (DDF
 * compatible; their Q syndrome covers every member in physical order). The {@code *_6} layouts are
 * RAID6-only: a RAID5 layout over the first n-1 members with Q fixed on the last member (what md
 * uses while converting RAID5 to RAID6).
 */
public enum ParityLayout {
    LEFT_ASYMMETRIC(0, "left-asymmetric"),
    RIGHT_ASYMMETRIC(1, "right-asymmetric"),
    LEFT_SYMMETRIC(2, "left-symmetric"),
    RIGHT_SYMMETRIC(3, "right-symmetric"),
    /** Parity (P, then Q) on the first member(s) of every stripe: mdadm "parity-first". */
    PARITY_0(4, "parity-first"),
    /** Parity on the last member(s) of every stripe: mdadm "parity-last" (RAID4's arrangement). */
    PARITY_N(5, "parity-last"),
    ROTATING_ZERO_RESTART(8, "ddf-zero-restart"),
    ROTATING_N_RESTART(9, "ddf-N-restart"),
    ROTATING_N_CONTINUE(10, "ddf-N-continue"),
    LEFT_ASYMMETRIC_6(16, "left-asymmetric-6"),
    RIGHT_ASYMMETRIC_6(17, "right-asymmetric-6"),
    LEFT_SYMMETRIC_6(18, "left-symmetric-6"),
    RIGHT_SYMMETRIC_6(19, "right-symmetric-6"),
    PARITY_0_6(20, "parity-first-6");

    /** md's default for RAID5 and RAID6. */
    public static final ParityLayout DEFAULT = LEFT_SYMMETRIC;

    private final int mdNumber;
    private final String mdadmName;

    ParityLayout(int mdNumber, String mdadmName) {
        this.mdNumber = mdNumber;
        this.mdadmName = mdadmName;
    }

    /** The value of the superblock's {@code layout} field. */
    public int mdNumber() {
        return mdNumber;
    }

    /** The name mdadm prints in {@code --examine} and accepts in {@code --layout}. */
    public String mdadmName() {
        return mdadmName;
    }

    /** True for the layouts md accepts only at RAID level 6. */
    public boolean raid6Only() {
        return mdNumber >= 8;
    }

    /** True for the DDF layouts, whose Q covers all members in physical order (md's ddf_layout). */
    public boolean ddf() {
        return mdNumber >= 8 && mdNumber <= 10;
    }

    /** The layout with superblock number {@code n}, or null if md has none. */
    public static ParityLayout ofMdNumber(int n) {
        for (ParityLayout l : values()) {
            if (l.mdNumber == n) {
                return l;
            }
        }
        return null;
    }

    /** The layout mdadm calls {@code name} (case-insensitive; also md's short aliases ls/la/rs/ra), or null. */
    public static ParityLayout ofMdadmName(String name) {
        String n = name.toLowerCase(java.util.Locale.ROOT);
        switch (n) {
            case "la": return LEFT_ASYMMETRIC;
            case "ra": return RIGHT_ASYMMETRIC;
            case "ls": return LEFT_SYMMETRIC;
            case "rs": return RIGHT_SYMMETRIC;
            case "default": return DEFAULT;
            default: break;
        }
        for (ParityLayout l : values()) {
            if (l.mdadmName.equalsIgnoreCase(n)) {
                return l;
            }
        }
        return null;
    }
}
