package org.orionos.host.bdev;

/** Block-device operations, as ints so requests carry them without boxing. */
public final class BdevOp {
    private BdevOp() {
    }

    public static final int READ = 1;
    public static final int WRITE = 2;
    public static final int FLUSH = 3;
    /** Deallocate: reads may return zeros or old data afterwards; the space may be freed. */
    public static final int TRIM = 4;
    /** The range reads as zeros afterwards; it may be deallocated. */
    public static final int WRITE_ZEROES = 5;
    /**
     * Allocation status of the range starting at {@code offset}: on completion
     * {@link BdevRequest#extentLength()} is the length of the first run of equal status and
     * {@link BdevRequest#extentFlags()} its {@link #EXTENT_HOLE}/{@link #EXTENT_ZERO} bits.
     */
    public static final int BLOCK_STATUS = 6;

    /** Request flag: the write is durable when it completes (Force Unit Access). */
    public static final int FLAG_FUA = 1;
    /** Request flag (WRITE_ZEROES): fail with -EOPNOTSUPP rather than write zeros slowly. */
    public static final int FLAG_NO_FALLBACK = 2;
    /** Request flag (WRITE_ZEROES): zeros must be allocated, not a hole. */
    public static final int FLAG_NO_HOLE = 4;

    /** BLOCK_STATUS result bit: the extent is not allocated. */
    public static final int EXTENT_HOLE = 1;
    /** BLOCK_STATUS result bit: the extent reads as zeros. */
    public static final int EXTENT_ZERO = 2;

    public static String name(int op) {
        return switch (op) {
            case READ -> "read";
            case WRITE -> "write";
            case FLUSH -> "flush";
            case TRIM -> "trim";
            case WRITE_ZEROES -> "write-zeroes";
            case BLOCK_STATUS -> "block-status";
            default -> "op" + op;
        };
    }
}
