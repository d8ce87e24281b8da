package org.orionos.host.bdev;

/** Capability bits a block device advertises; the core refuses operations a device lacks. */
public final class Capability {
    private Capability() {
    }

    public static final int READ = 1;
    public static final int WRITE = 1 << 1;
    public static final int FLUSH = 1 << 2;
    public static final int FUA = 1 << 3;
    public static final int TRIM = 1 << 4;
    public static final int WRITE_ZEROES = 1 << 5;
    public static final int ALLOCATION_STATUS = 1 << 6;
    public static final int ZONED = 1 << 7;
    /** Flush makes every completed write durable, whichever connection or channel issued it. */
    public static final int SHARED_FLUSH = 1 << 8;

    private static final String[] NAMES = {
        "read", "write", "flush", "fua", "trim", "write-zeroes", "allocation-status", "zoned", "shared-flush",
    };

    public static String describe(int caps) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < NAMES.length; i++) {
            if ((caps & (1 << i)) != 0) {
                if (!sb.isEmpty()) {
                    sb.append(',');
                }
                sb.append(NAMES[i]);
            }
        }
        return sb.toString();
    }

    /** The capability an operation needs. */
    static int requiredFor(int op) {
        return switch (op) {
            case BdevOp.READ -> READ;
            case BdevOp.WRITE -> WRITE;
            case BdevOp.FLUSH -> FLUSH;
            case BdevOp.TRIM -> TRIM;
            case BdevOp.WRITE_ZEROES -> WRITE_ZEROES;
            case BdevOp.BLOCK_STATUS -> ALLOCATION_STATUS;
            default -> Integer.MIN_VALUE; // no device has it: unknown ops are refused
        };
    }
}
