package org.orionos.host.raid;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Rebuilds lost RAID6 blocks of one stripe from the survivors, with md's algebra: data blocks are
 * in syndrome slot order, {@code P = XOR data[z]}, {@code Q = XOR g^z data[z]}. Lost blocks are
 * outputs: {@code data[failed]} is overwritten, its old contents ignored. SWAR for XOR and
 * multiply-by-g, a 64 KiB product table for multiplication by the constants recovery needs.
 * Allocates nothing; stateless.
 *
 * <p>Two lost data blocks a &lt; b: with {@code Pd}/{@code Qd} computed over the survivors,
 * {@code px = P ^ Pd = Da ^ Db} and {@code qx = Q ^ Qd = g^a Da ^ g^b Db}, so
 * {@code Db = (qx ^ g^a px) / (g^a ^ g^b)} and {@code Da = Db ^ px} (md's raid6_2data_recov).
 */
public final class Raid6Recovery {
    private Raid6Recovery() {
    }

    private static final ValueLayout.OfLong L = JavaParity.L;
    private static final byte[] MUL = Gf256.mulTable();

    /** Eight table multiplications by the constant whose table row starts at {@code row}. */
    private static long mul(int row, long v) {
        return (MUL[row | (int) (v & 0xff)] & 0xffL)
                | (MUL[row | (int) ((v >>> 8) & 0xff)] & 0xffL) << 8
                | (MUL[row | (int) ((v >>> 16) & 0xff)] & 0xffL) << 16
                | (MUL[row | (int) ((v >>> 24) & 0xff)] & 0xffL) << 24
                | (MUL[row | (int) ((v >>> 32) & 0xff)] & 0xffL) << 32
                | (MUL[row | (int) ((v >>> 40) & 0xff)] & 0xffL) << 40
                | (MUL[row | (int) ((v >>> 48) & 0xff)] & 0xffL) << 48
                | (MUL[row | (int) (v >>> 56)] & 0xffL) << 56;
    }

    private static void check(int count, long bytes, int... slots) {
        if ((bytes & 7) != 0) {
            throw new IllegalArgumentException("recovery length " + bytes + " is not a multiple of 8 bytes");
        }
        for (int s : slots) {
            if (s < 0 || s >= count) {
                throw new IndexOutOfBoundsException("slot " + s + " of " + count);
            }
        }
    }

    /** One lost data block (or RAID5's one lost block) from P: {@code data[failed] = P ^ XOR others}. */
    public static void dataFromP(MemorySegment[] data, int count, int failed, MemorySegment p, long bytes) {
        check(count, bytes, failed);
        for (long off = 0; off < bytes; off += 8) {
            long x = p.get(L, off);
            for (int z = 0; z < count; z++) {
                if (z != failed) {
                    x ^= data[z].get(L, off);
                }
            }
            data[failed].set(L, off, x);
        }
    }

    /** One lost data block from Q (P also lost or untrusted): {@code Da = (Q ^ Qd) * g^-a}. */
    public static void dataFromQ(MemorySegment[] data, int count, int failed, MemorySegment q, long bytes) {
        check(count, bytes, failed);
        int row = Gf256.row(Gf256.inv(Gf256.exp(failed)));
        MemorySegment out = data[failed];
        for (long off = 0; off < bytes; off += 8) {
            long qd = 0;
            for (int z = count - 1; z >= 0; z--) {
                qd = Gf256.mul2(qd);
                if (z != failed) {
                    qd ^= data[z].get(L, off);
                }
            }
            out.set(L, off, mul(row, qd ^ q.get(L, off)));
        }
    }

    /** Two lost data blocks {@code a != b} from P and Q. */
    public static void twoData(MemorySegment[] data, int count, int a, int b, MemorySegment p, MemorySegment q,
                               long bytes) {
        check(count, bytes, a, b);
        if (a == b) {
            throw new IllegalArgumentException("two-data recovery of one slot " + a);
        }
        int ga = Gf256.exp(a);
        int c2 = Gf256.inv(ga ^ Gf256.exp(b));
        int rowQ = Gf256.row(c2);
        int rowP = Gf256.row(Gf256.mul(c2, ga));
        MemorySegment outA = data[a];
        MemorySegment outB = data[b];
        for (long off = 0; off < bytes; off += 8) {
            long pd = 0;
            long qd = 0;
            for (int z = count - 1; z >= 0; z--) {
                qd = Gf256.mul2(qd);
                if (z != a && z != b) {
                    long d = data[z].get(L, off);
                    pd ^= d;
                    qd ^= d;
                }
            }
            long px = p.get(L, off) ^ pd;
            long qx = q.get(L, off) ^ qd;
            long db = mul(rowQ, qx) ^ mul(rowP, px);
            outB.set(L, off, db);
            outA.set(L, off, db ^ px);
        }
    }

    /** A lost data block and lost P: data from Q, then P regenerated. */
    public static void dataAndP(MemorySegment[] data, int count, int failed, MemorySegment p, MemorySegment q,
                                long bytes) {
        dataFromQ(data, count, failed, q, bytes);
        for (long off = 0; off < bytes; off += 8) {
            long x = 0;
            for (int z = 0; z < count; z++) {
                x ^= data[z].get(L, off);
            }
            p.set(L, off, x);
        }
    }

    /** A lost data block and lost Q: data from P, then Q regenerated. */
    public static void dataAndQ(MemorySegment[] data, int count, int failed, MemorySegment p, MemorySegment q,
                                long bytes) {
        dataFromP(data, count, failed, p, bytes);
        for (long off = 0; off < bytes; off += 8) {
            long qq = 0;
            for (int z = count - 1; z >= 0; z--) {
                qq = Gf256.mul2(qq) ^ data[z].get(L, off);
            }
            q.set(L, off, qq);
        }
    }
}
