package org.orionos.host.raid;

import java.lang.foreign.MemorySegment;

/**
 * RAID5 and RAID6 geometry exactly as md's {@code raid5_compute_sector} computes it: array chunk
 * {@code c} is data chunk {@code c % dataDisks} of stripe {@code c / dataDisks}; every member holds
 * chunk row {@code stripe} of every stripe; the layout decides which member holds P, Q and each
 * data chunk.
 *
 * <p>Every layout repeats after a short period of stripes (n, n-1 or 1), so the constructor
 * evaluates md's per-layout formulas once per phase into tables; lookups are then two divisions and
 * an array load.
 *
 * <p>RAID6's Q multiplies each data chunk by {@code g^slot}. md's slot order (its
 * {@code set_syndrome_sources}) is: for the non-DDF layouts, walk the members cyclically starting
 * just after Q's member and number the data members 0, 1, ... in that order (for left-symmetric
 * this equals the logical data index); for the DDF layouts, slot = member index and the P and Q
 * members' slots contribute zero. {@link #syndromeSlot} gives that slot; a parity engine is fed
 * data in slot order (with zero blocks at P/Q slots for DDF, {@link #syndromeDisks()} slots in all).
 */
public final class ParityGeometry extends RaidGeometry {
    private final RaidLevel level;
    private final ParityLayout layout;
    private final int dataDisks;
    private final int period;
    private final int[] pd;
    private final int[] qd;
    private final int[] diskOfData;   // [phase * dataDisks + dataIndex]
    private final int[] dataOfDisk;   // [phase * n + disk]: data index, P_ROLE or Q_ROLE
    private final int[] slotOfDisk;   // [phase * n + disk]: Q coefficient exponent, -1 for P/Q

    /** {@link #dataIndexOf} of the P member. */
    public static final int P_ROLE = -1;
    /** {@link #dataIndexOf} of the Q member. */
    public static final int Q_ROLE = -2;

    private ParityGeometry(RaidLevel level, ParityLayout layout, int n, int chunkSectors, long memberSectors) {
        super(n, chunkSectors, memberSectors);
        this.level = level;
        this.layout = layout;
        this.dataDisks = n - (level == RaidLevel.RAID6 ? 2 : 1);
        this.period = switch (layout) {
            case PARITY_0, PARITY_N, PARITY_0_6 -> 1;
            case LEFT_ASYMMETRIC_6, RIGHT_ASYMMETRIC_6, LEFT_SYMMETRIC_6, RIGHT_SYMMETRIC_6 -> n - 1;
            default -> n;
        };
        pd = new int[period];
        qd = new int[period];
        diskOfData = new int[period * dataDisks];
        dataOfDisk = new int[period * n];
        slotOfDisk = new int[period * n];
        int[] r = new int[3];
        for (int ph = 0; ph < period; ph++) {
            java.util.Arrays.fill(dataOfDisk, ph * n, ph * n + n, Integer.MIN_VALUE);
            for (int i = 0; i < dataDisks; i++) {
                mdCompute(ph, i, r);
                diskOfData[ph * dataDisks + i] = r[2];
                dataOfDisk[ph * n + r[2]] = i;
            }
            pd[ph] = r[0];
            qd[ph] = r[1];
            dataOfDisk[ph * n + r[0]] = P_ROLE;
            if (r[1] >= 0) {
                dataOfDisk[ph * n + r[1]] = Q_ROLE;
            }
            for (int d = 0; d < n; d++) {
                if (dataOfDisk[ph * n + d] == Integer.MIN_VALUE) {
                    throw new IllegalStateException("layout " + layout + " leaves member " + d + " unused");
                }
            }
            fillSlots(ph);
        }
    }

    /**
     * A RAID5 or RAID6 array of {@code memberDataSectors.length} members (md uses the smallest,
     * rounded down to a chunk).
     * @throws org.orionos.bindings.ErrnoException EINVAL naming what md would refuse
     */
    public static ParityGeometry of(RaidLevel level, ParityLayout layout, int chunkSectors, long... memberDataSectors) {
        int n = memberDataSectors.length;
        if (level != RaidLevel.RAID5 && level != RaidLevel.RAID6) {
            throw invalid("parity geometry at " + level, "use RAID5 or RAID6");
        }
        if (level == RaidLevel.RAID5 && layout.raid6Only()) {
            throw invalid("RAID5 with layout " + layout.mdadmName(), "that layout exists only for RAID6");
        }
        if (n < level.minDisks()) {
            throw invalid(level.mdadmName() + " with " + n + " members",
                    "md needs at least " + level.minDisks() + " members at this level");
        }
        checkChunk(chunkSectors, true);
        long min = Long.MAX_VALUE;
        for (long s : memberDataSectors) {
            min = Math.min(min, s);
        }
        long size = min / chunkSectors * chunkSectors;
        if (size == 0) {
            throw invalid(level.mdadmName() + " members smaller than one chunk", "use larger members or a smaller chunk");
        }
        return new ParityGeometry(level, layout, n, chunkSectors, size);
    }

    /** md's raid5_compute_sector for one stripe: r = {pd, qd (-1 for RAID5), member of data index dd}. */
    private void mdCompute(long stripe, int dd, int[] r) {
        int n = raidDisks;
        int p;
        int q = -1;
        if (level == RaidLevel.RAID5) {
            switch (layout) {
                case LEFT_ASYMMETRIC -> {
                    p = dataDisks - (int) (stripe % n);
                    if (dd >= p) dd++;
                }
                case RIGHT_ASYMMETRIC -> {
                    p = (int) (stripe % n);
                    if (dd >= p) dd++;
                }
                case LEFT_SYMMETRIC -> {
                    p = dataDisks - (int) (stripe % n);
                    dd = (p + 1 + dd) % n;
                }
                case RIGHT_SYMMETRIC -> {
                    p = (int) (stripe % n);
                    dd = (p + 1 + dd) % n;
                }
                case PARITY_0 -> {
                    p = 0;
                    dd++;
                }
                case PARITY_N -> p = dataDisks;
                default -> throw new IllegalStateException(layout.toString());
            }
        } else {
            switch (layout) {
                case LEFT_ASYMMETRIC, RIGHT_ASYMMETRIC, ROTATING_ZERO_RESTART, ROTATING_N_RESTART -> {
                    long s = layout == ParityLayout.ROTATING_N_RESTART ? stripe + 1 : stripe;
                    p = layout == ParityLayout.LEFT_ASYMMETRIC || layout == ParityLayout.ROTATING_N_RESTART
                            ? n - 1 - (int) (s % n) : (int) (s % n);
                    q = p + 1;
                    if (p == n - 1) {
                        dd++;
                        q = 0;
                    } else if (dd >= p) {
                        dd += 2;
                    }
                }
                case LEFT_SYMMETRIC, RIGHT_SYMMETRIC -> {
                    p = layout == ParityLayout.LEFT_SYMMETRIC ? n - 1 - (int) (stripe % n) : (int) (stripe % n);
                    q = (p + 1) % n;
                    dd = (p + 2 + dd) % n;
                }
                case ROTATING_N_CONTINUE -> {
                    p = n - 1 - (int) (stripe % n);
                    q = (p + n - 1) % n;
                    dd = (p + 1 + dd) % n;
                }
                case PARITY_0 -> {
                    p = 0;
                    q = 1;
                    dd += 2;
                }
                case PARITY_N -> {
                    p = dataDisks;
                    q = dataDisks + 1;
                }
                case LEFT_ASYMMETRIC_6 -> {
                    p = dataDisks - (int) (stripe % (n - 1));
                    if (dd >= p) dd++;
                    q = n - 1;
                }
                case RIGHT_ASYMMETRIC_6 -> {
                    p = (int) (stripe % (n - 1));
                    if (dd >= p) dd++;
                    q = n - 1;
                }
                case LEFT_SYMMETRIC_6 -> {
                    p = dataDisks - (int) (stripe % (n - 1));
                    dd = (p + 1 + dd) % (n - 1);
                    q = n - 1;
                }
                case RIGHT_SYMMETRIC_6 -> {
                    p = (int) (stripe % (n - 1));
                    dd = (p + 1 + dd) % (n - 1);
                    q = n - 1;
                }
                case PARITY_0_6 -> {
                    p = 0;
                    dd++;
                    q = n - 1;
                }
                default -> throw new IllegalStateException(layout.toString());
            }
        }
        r[0] = p;
        r[1] = q;
        r[2] = dd;
    }

    private void fillSlots(int ph) {
        int n = raidDisks;
        int base = ph * n;
        if (level == RaidLevel.RAID5) {
            for (int d = 0; d < n; d++) {
                slotOfDisk[base + d] = dataOfDisk[base + d] >= 0 ? dataOfDisk[base + d] : -1;
            }
            return;
        }
        if (layout.ddf()) {
            for (int d = 0; d < n; d++) {
                slotOfDisk[base + d] = dataOfDisk[base + d] >= 0 ? d : -1;
            }
            return;
        }
        // md: start just after Q and number data members in walk order (raid6_d0 / raid6_idx_to_slot).
        int slot = 0;
        int d = (qd[ph] + 1) % n;
        for (int k = 0; k < n; k++, d = (d + 1) % n) {
            slotOfDisk[base + d] = dataOfDisk[base + d] >= 0 ? slot++ : -1;
        }
    }

    @Override
    public RaidLevel level() {
        return level;
    }

    /** The md layout. */
    public ParityLayout layout() {
        return layout;
    }

    @Override
    public int mdLayout() {
        return layout.mdNumber();
    }

    /** Data chunks per stripe. */
    public int dataDisks() {
        return dataDisks;
    }

    /** Slots a RAID6 syndrome is computed over: data members, or all members for DDF layouts. */
    public int syndromeDisks() {
        return layout.ddf() ? raidDisks : dataDisks;
    }

    @Override
    public long arraySectors() {
        return memberSectors * dataDisks;
    }

    /** Number of stripes (chunk rows). */
    public long stripes() {
        return memberSectors / chunkSectors;
    }

    @Override
    public int copies() {
        return 1;
    }

    private int phase(long stripe) {
        return period == 1 ? 0 : (int) (stripe % period);
    }

    /** Member holding P in {@code stripe}. */
    public int parityDisk(long stripe) {
        return pd[phase(stripe)];
    }

    /** Member holding Q in {@code stripe}, or -1 for RAID5. */
    public int qDisk(long stripe) {
        return qd[phase(stripe)];
    }

    /** Member holding data chunk {@code dataIndex} of {@code stripe}. */
    public int dataDisk(long stripe, int dataIndex) {
        return diskOfData[phase(stripe) * dataDisks + dataIndex];
    }

    /** Data index held by {@code disk} in {@code stripe}, or {@link #P_ROLE} / {@link #Q_ROLE}. */
    public int dataIndexOf(long stripe, int disk) {
        return dataOfDisk[phase(stripe) * raidDisks + disk];
    }

    /** RAID6: Q coefficient exponent of {@code disk}'s chunk in {@code stripe} (-1 for P/Q); RAID5: the data index. */
    public int syndromeSlot(long stripe, int disk) {
        return slotOfDisk[phase(stripe) * raidDisks + disk];
    }

    /**
     * Arranges one stripe's member blocks in syndrome slot order for a {@link ParityEngine} or
     * {@link Raid6Recovery}: {@code slots[syndromeSlot(stripe, d)] = memberBlocks[d]} for every data
     * member, and {@code zero} (a block of zeros) at the P/Q slots of DDF layouts. For RAID5 the
     * slots are the data indices. Allocates nothing.
     * @return the number of slots filled ({@link #syndromeDisks()})
     */
    public int syndromeSources(long stripe, MemorySegment[] memberBlocks, MemorySegment zero, MemorySegment[] slots) {
        int base = phase(stripe) * raidDisks;
        int count = syndromeDisks();
        if (layout.ddf()) {
            for (int i = 0; i < count; i++) {
                slots[i] = zero;
            }
        }
        for (int d = 0; d < raidDisks; d++) {
            int slot = slotOfDisk[base + d];
            if (slot >= 0) {
                slots[slot] = memberBlocks[d];
            }
        }
        return count;
    }

    /** Array sector of the first sector of data chunk {@code dataIndex} of {@code stripe} (md's compute_blocknr). */
    public long arraySector(long stripe, int dataIndex) {
        return (stripe * dataDisks + dataIndex) * chunkSectors;
    }

    @Override
    public void map(long arraySector, int copy, MemberAddress out) {
        checkSector(arraySector);
        if (copy != 0) {
            throw new IndexOutOfBoundsException("parity arrays keep one copy, asked for copy " + copy);
        }
        long chunk = arraySector / chunkSectors;
        int inChunk = (int) (arraySector - chunk * chunkSectors);
        long stripe = chunk / dataDisks;
        int dataIndex = (int) (chunk - stripe * dataDisks);
        out.disk = diskOfData[phase(stripe) * dataDisks + dataIndex];
        out.sector = stripe * chunkSectors + inChunk;
        out.runSectors = chunkSectors - inChunk;
        out.stripe = stripe;
        out.dataIndex = dataIndex;
    }
}
