package org.orionos.host.nbd.protocol;

/**
 * The block size constraints an export advertises with INFO_BLOCK_SIZE.
 *
 * @param minimum   smallest addressable unit and alignment: power of two, 1..65536
 * @param preferred efficient I/O size: power of two, at least max(minimum, 512)
 * @param maximum   largest request length: a multiple of minimum, at most {@link NbdWire#MAX_PAYLOAD}
 */
public record BlockSizeConstraints(int minimum, int preferred, int maximum) {

    /** What a server without constraints offers: byte granularity, 4 KiB preferred, 32 MiB requests. */
    public static final BlockSizeConstraints DEFAULT = new BlockSizeConstraints(1, 4096, NbdWire.MAX_PAYLOAD);

    public BlockSizeConstraints {
        if (minimum < 1 || minimum > 65536 || Integer.bitCount(minimum) != 1) {
            throw new IllegalArgumentException("minimum block size " + minimum
                    + " must be a power of two between 1 and 65536");
        }
        if (preferred < Math.max(minimum, 512) || Integer.bitCount(preferred) != 1) {
            throw new IllegalArgumentException("preferred block size " + preferred
                    + " must be a power of two of at least max(minimum, 512)");
        }
        if (maximum < preferred || maximum % minimum != 0 || maximum > NbdWire.MAX_PAYLOAD) {
            throw new IllegalArgumentException("maximum block size " + maximum
                    + " must be a multiple of the minimum, at least the preferred size and at most "
                    + NbdWire.MAX_PAYLOAD);
        }
    }

    /** True when clients must align requests to more than one byte. */
    public boolean constrainsAlignment() {
        return minimum > 1;
    }
}
