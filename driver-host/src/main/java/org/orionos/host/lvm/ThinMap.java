package org.orionos.host.lvm;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One thin device's mapping from virtual chunk to data chunk, shared by every reactor without
 * locks: a fixed top array of lazily created pages of 4096 entries, each entry read and changed
 * with volatile loads and CAS. An entry is 0 when unmapped, else {@code dataChunk + 1} in its low
 * 48 bits, with {@link #BUSY} set while one request provisions or copies that chunk (others wait
 * and retry; readers use the old mapping, whose data does not change until the new one is published).
 * A page is allocated the first time a chunk in its 4096-chunk range is written.
 */
final class ThinMap {
    static final long BUSY = 1L << 62;
    static final long CHUNK_MASK = (1L << 48) - 1;
    private static final int PAGE_SHIFT = 12;
    private static final int PAGE = 1 << PAGE_SHIFT;
    private static final VarHandle ENTRY = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle PAGES = MethodHandles.arrayElementVarHandle(long[][].class);

    final long id;
    /** Changed only by {@link #resize} while the device is quiesced. */
    volatile long virtualChunks;
    /** Replaced (pages shared) only by {@link #resize} while the device is quiesced. */
    private volatile long[][] pages;

    ThinMap(long id, long virtualChunks) {
        this.id = id;
        this.virtualChunks = virtualChunks;
        this.pages = new long[(int) ((virtualChunks + PAGE - 1) >>> PAGE_SHIFT)][];
    }

    /** The entry of virtual chunk {@code vc} (0 when never written or past the end). */
    long get(long vc) {
        long[][] top = pages;
        int i = (int) (vc >>> PAGE_SHIFT);
        long[] p = i < top.length ? (long[]) PAGES.getAcquire(top, i) : null;
        return p == null ? 0 : (long) ENTRY.getVolatile(p, (int) (vc & (PAGE - 1)));
    }

    /**
     * New virtual size. The caller has quiesced the device and unmapped every chunk past a
     * smaller end; pages stay shared between the old and new top arrays.
     */
    void resize(long chunks) {
        pages = java.util.Arrays.copyOf(pages, (int) ((chunks + PAGE - 1) >>> PAGE_SHIFT));
        virtualChunks = chunks;
    }

    boolean compareAndSet(long vc, long expected, long value) {
        return ENTRY.compareAndSet(page(vc), (int) (vc & (PAGE - 1)), expected, value);
    }

    /** Sets the entry; only the request holding its {@link #BUSY} bit (or a quiesced device) may. */
    void set(long vc, long value) {
        ENTRY.setVolatile(page(vc), (int) (vc & (PAGE - 1)), value);
    }

    private long[] page(long vc) {
        int i = (int) (vc >>> PAGE_SHIFT);
        long[][] top = pages;
        long[] p = (long[]) PAGES.getAcquire(top, i);
        if (p == null) {
            long[] fresh = new long[PAGE];
            // Release: the zeroed page is fully visible to whoever loads the reference.
            long[] witness = (long[]) PAGES.compareAndExchangeRelease(top, i, (long[]) null, fresh);
            p = witness == null ? fresh : witness;
        }
        return p;
    }

    /** The mapped data chunk of an entry, or -1. */
    static long chunkOf(long entry) {
        long d = entry & CHUNK_MASK;
        return d == 0 ? -1 : d - 1;
    }

    /**
     * The mappings as runs {vc, dc, count} (an entry being provisioned counts as its old value),
     * for a commit image; entries may change meanwhile, each is read once.
     */
    long[] runs() {
        long[] out = new long[48];
        int n = 0;
        long runV = -1;
        long runD = -1;
        long runN = 0;
        long[][] top = pages;
        for (int pi = 0; pi < top.length; pi++) {
            long[] p = (long[]) PAGES.getAcquire(top, pi);
            if (p == null) {
                continue;
            }
            for (int k = 0; k < PAGE; k++) {
                long d = chunkOf((long) ENTRY.getVolatile(p, k));
                if (d < 0) {
                    continue;
                }
                long vc = ((long) pi << PAGE_SHIFT) + k;
                if (runN > 0 && vc == runV + runN && d == runD + runN) {
                    runN++;
                    continue;
                }
                if (runN > 0) {
                    if (n + 3 > out.length) {
                        out = java.util.Arrays.copyOf(out, out.length * 2);
                    }
                    out[n++] = runV;
                    out[n++] = runD;
                    out[n++] = runN;
                }
                runV = vc;
                runD = d;
                runN = 1;
            }
        }
        if (runN > 0) {
            if (n + 3 > out.length) {
                out = java.util.Arrays.copyOf(out, out.length * 2);
            }
            out[n++] = runV;
            out[n++] = runD;
            out[n++] = runN;
        }
        return java.util.Arrays.copyOf(out, n);
    }
}
