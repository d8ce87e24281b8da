package org.orionos.host.nbd.protocol;

/**
 * A reusable list of block-status extents (length, base:allocation flags) for one reply; sized
 * once per connection so filling it on the request path allocates nothing.
 */
public final class ExtentList {
    private final long[] lengths;
    private final int[] flags;
    private int count;

    /** A list that holds at most {@code capacity} extents. */
    public ExtentList(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity " + capacity + " must be at least 1");
        }
        lengths = new long[capacity];
        flags = new int[capacity];
    }

    public void clear() {
        count = 0;
    }

    /**
     * Appends an extent, merging it into the previous one when the flags are equal.
     *
     * @return false when the list is full (the extent was not added)
     */
    public boolean add(long length, int statusFlags) {
        if (length <= 0) {
            return true; // an empty extent describes nothing; the wire forbids zero lengths
        }
        if (count > 0 && flags[count - 1] == statusFlags) {
            lengths[count - 1] += length;
            return true;
        }
        if (count == lengths.length) {
            return false;
        }
        lengths[count] = length;
        flags[count] = statusFlags;
        count++;
        return true;
    }

    public int count() {
        return count;
    }

    public int capacity() {
        return lengths.length;
    }

    public long length(int i) {
        return lengths[i];
    }

    public int flags(int i) {
        return flags[i];
    }

    /** Sum of the extent lengths. */
    public long totalLength() {
        long t = 0;
        for (int i = 0; i < count; i++) {
            t += lengths[i];
        }
        return t;
    }
}
