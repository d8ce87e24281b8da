package org.orionos.host.raid;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.orionos.bindings.ErrnoException;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GeometryTest {
    private static final int CHUNK = 128; // 64 KiB

    /** Renders the first stripes as md's documentation draws them: data chunk numbers, P and Q per member. */
    private static String picture(ParityGeometry g, int stripes) {
        StringBuilder sb = new StringBuilder();
        for (int s = 0; s < stripes; s++) {
            if (s > 0) sb.append(" | ");
            for (int d = 0; d < g.raidDisks(); d++) {
                if (d > 0) sb.append(' ');
                int i = g.dataIndexOf(s, d);
                sb.append(i == ParityGeometry.P_ROLE ? "P" : i == ParityGeometry.Q_ROLE ? "Q"
                        : String.valueOf((long) s * g.dataDisks() + i));
            }
        }
        return sb.toString();
    }

    private static ParityGeometry g(RaidLevel level, ParityLayout layout, int n) {
        long[] sizes = new long[n];
        java.util.Arrays.fill(sizes, CHUNK * 64L + 5);
        return ParityGeometry.of(level, layout, CHUNK, sizes);
    }

    @Test
    void raid5LayoutsMatchMdPictures() {
        assertEquals("0 1 2 P | 4 5 P 3 | 8 P 6 7 | P 9 10 11 | 12 13 14 P",
                picture(g(RaidLevel.RAID5, ParityLayout.LEFT_SYMMETRIC, 4), 5));
        assertEquals("0 1 2 P | 3 4 P 5 | 6 P 7 8 | P 9 10 11",
                picture(g(RaidLevel.RAID5, ParityLayout.LEFT_ASYMMETRIC, 4), 4));
        assertEquals("P 0 1 2 | 3 P 4 5 | 6 7 P 8 | 9 10 11 P",
                picture(g(RaidLevel.RAID5, ParityLayout.RIGHT_ASYMMETRIC, 4), 4));
        assertEquals("P 0 1 2 | 5 P 3 4 | 7 8 P 6 | 9 10 11 P",
                picture(g(RaidLevel.RAID5, ParityLayout.RIGHT_SYMMETRIC, 4), 4));
        assertEquals("P 0 1 2 | P 3 4 5", picture(g(RaidLevel.RAID5, ParityLayout.PARITY_0, 4), 2));
        assertEquals("0 1 2 P | 3 4 5 P", picture(g(RaidLevel.RAID5, ParityLayout.PARITY_N, 4), 2));
    }

    @Test
    void raid6LayoutsMatchMdPictures() {
        assertEquals("Q 0 1 2 P | 3 4 5 P Q | 7 8 P Q 6 | 11 P Q 9 10 | P Q 12 13 14",
                picture(g(RaidLevel.RAID6, ParityLayout.LEFT_SYMMETRIC, 5), 5));
        assertEquals("Q 0 1 2 P | 3 4 5 P Q | 6 7 P Q 8 | 9 P Q 10 11 | P Q 12 13 14",
                picture(g(RaidLevel.RAID6, ParityLayout.LEFT_ASYMMETRIC, 5), 5));
        assertEquals("P Q 0 1 2 | 3 P Q 4 5 | 6 7 P Q 8 | 9 10 11 P Q | Q 12 13 14 P",
                picture(g(RaidLevel.RAID6, ParityLayout.RIGHT_ASYMMETRIC, 5), 5));
        assertEquals("P Q 0 1 2 | 5 P Q 3 4 | 7 8 P Q 6 | 9 10 11 P Q | Q 12 13 14 P",
                picture(g(RaidLevel.RAID6, ParityLayout.RIGHT_SYMMETRIC, 5), 5));
        assertEquals("P Q 0 1 2", picture(g(RaidLevel.RAID6, ParityLayout.PARITY_0, 5), 1));
        assertEquals("0 1 2 P Q", picture(g(RaidLevel.RAID6, ParityLayout.PARITY_N, 5), 1));
        // DDF N-restart: "first stripe is D D D P Q rather than Q D D D P" (md's comment).
        assertEquals("0 1 2 P Q | 3 4 P Q 5",
                picture(g(RaidLevel.RAID6, ParityLayout.ROTATING_N_RESTART, 5), 2));
        // DDF N-continue: left-symmetric P with Q just before it.
        assertEquals("0 1 2 Q P | 4 5 Q P 3", picture(g(RaidLevel.RAID6, ParityLayout.ROTATING_N_CONTINUE, 5), 2));
        // *_6: RAID5 layout over the first n-1 members, Q pinned on the last.
        assertEquals("0 1 2 P Q | 4 5 P 3 Q | 8 P 6 7 Q | P 9 10 11 Q | 12 13 14 P Q",
                picture(g(RaidLevel.RAID6, ParityLayout.LEFT_SYMMETRIC_6, 5), 5));
        assertEquals("P 0 1 2 Q | P 3 4 5 Q", picture(g(RaidLevel.RAID6, ParityLayout.PARITY_0_6, 5), 2));
    }

    @Test
    void raid6SyndromeSlotsFollowMdOrder() {
        // left-symmetric: walk from the member after Q gives the logical data order.
        ParityGeometry ls = g(RaidLevel.RAID6, ParityLayout.LEFT_SYMMETRIC, 6);
        for (long s = 0; s < 12; s++) {
            for (int i = 0; i < ls.dataDisks(); i++) {
                assertEquals(i, ls.syndromeSlot(s, ls.dataDisk(s, i)), "stripe " + s + " data " + i);
            }
        }
        // left-asymmetric stripe 1 of 5 members is "3 4 5 P Q": the walk starts at member 0
        // (after Q on 4), so slots are 0,1,2 for members 0,1,2.
        ParityGeometry la = g(RaidLevel.RAID6, ParityLayout.LEFT_ASYMMETRIC, 5);
        assertEquals(0, la.syndromeSlot(1, 0));
        assertEquals(2, la.syndromeSlot(1, 2));
        // stripe 2 "6 7 P Q 8": walk from member 4 -> 8 is slot 0, then 6 slot 1, 7 slot 2.
        assertEquals(0, la.syndromeSlot(2, 4));
        assertEquals(1, la.syndromeSlot(2, 0));
        assertEquals(2, la.syndromeSlot(2, 1));
        assertEquals(-1, la.syndromeSlot(2, 2));
        // DDF: slot is the member index; syndrome spans all members.
        ParityGeometry ddf = g(RaidLevel.RAID6, ParityLayout.ROTATING_N_CONTINUE, 5);
        assertEquals(5, ddf.syndromeDisks());
        assertEquals(4, ddf.syndromeSlot(1, 4)); // "4 5 Q P 3"
        assertEquals(-1, ddf.syndromeSlot(1, 3));
        // *_6: walk starts at member 0 (after Q on the last member).
        ParityGeometry ls6 = g(RaidLevel.RAID6, ParityLayout.LEFT_SYMMETRIC_6, 5);
        assertEquals(0, ls6.syndromeSlot(1, 0)); // "4 5 P 3 Q": chunk 4 at slot 0
        assertEquals(2, ls6.syndromeSlot(1, 3)); // chunk 3 at slot 2
    }

    @ParameterizedTest
    @EnumSource(ParityLayout.class)
    void everyLayoutIsABijection(ParityLayout layout) {
        for (RaidLevel level : new RaidLevel[] {RaidLevel.RAID5, RaidLevel.RAID6}) {
            if (level == RaidLevel.RAID5 && layout.raid6Only()) {
                assertThrows(ErrnoException.class, () -> g(RaidLevel.RAID5, layout, 5));
                continue;
            }
            for (int n = level.minDisks(); n <= 9; n++) {
                ParityGeometry geo = g(level, layout, n);
                assertEquals(CHUNK * 64L, geo.memberSectors());
                assertEquals(CHUNK * 64L * geo.dataDisks(), geo.arraySectors());
                Set<Long> seen = new HashSet<>();
                MemberAddress a = new MemberAddress();
                for (long sec = 0; sec < geo.arraySectors(); sec += 37) {
                    geo.map(sec, a);
                    assertTrue(a.disk >= 0 && a.disk < n);
                    assertTrue(a.sector >= 0 && a.sector < geo.memberSectors());
                    assertTrue(a.disk != geo.parityDisk(a.stripe) && a.disk != geo.qDisk(a.stripe));
                    assertEquals(a.dataIndex, geo.dataIndexOf(a.stripe, a.disk));
                    assertEquals(sec - sec % CHUNK, geo.arraySector(a.stripe, a.dataIndex));
                    assertEquals(CHUNK - sec % CHUNK, a.runSectors);
                    assertTrue(seen.add(a.disk * (1L << 40) + a.sector), "two sectors on one place");
                }
                for (long s = 0; s < 2L * n; s++) {
                    Set<Integer> slots = new HashSet<>();
                    for (int d = 0; d < n; d++) {
                        int slot = geo.syndromeSlot(s, d);
                        if (geo.dataIndexOf(s, d) >= 0) {
                            assertTrue(slot >= 0 && slot < geo.syndromeDisks() && slots.add(slot));
                        } else {
                            assertEquals(-1, slot);
                        }
                    }
                }
            }
        }
    }

    @Test
    void raid0Raid1Raid10() {
        Raid0Geometry r0 = Raid0Geometry.of(CHUNK, 1000 * CHUNK + 3, 1000 * CHUNK + 100, 1000 * CHUNK);
        assertEquals(3000L * CHUNK, r0.arraySectors());
        MemberAddress a = new MemberAddress();
        r0.map(4L * CHUNK + 7, a); // chunk 4 -> member 1, row 1
        assertEquals(1, a.disk);
        assertEquals(CHUNK + 7, a.sector);
        ErrnoException e = assertThrows(ErrnoException.class, () -> Raid0Geometry.of(CHUNK, 1000 * CHUNK, 2000 * CHUNK));
        assertTrue(e.getMessage().contains("multi-zone"), e.getMessage());

        Raid1Geometry r1 = Raid1Geometry.of(500, 400, 450);
        assertEquals(400, r1.arraySectors());
        r1.map(399, 2, a);
        assertEquals(2, a.disk);
        assertEquals(399, a.sector);

        // n2 over 4 members: chunk 0 on members 0,1; chunk 1 on 2,3; chunk 2 on 0,1 row 1.
        Raid10Geometry r10 = Raid10Geometry.near(2, CHUNK, 100L * CHUNK, 100L * CHUNK, 100L * CHUNK, 100L * CHUNK);
        assertEquals(200L * CHUNK, r10.arraySectors());
        assertEquals(0x102, r10.mdLayout());
        r10.map(2L * CHUNK + 1, 1, a);
        assertEquals(1, a.disk);
        assertEquals(CHUNK + 1, a.sector);
        // n2 over 3 members: chunk 1's copies are member 2 row 0 and member 0 row 1.
        Raid10Geometry odd = Raid10Geometry.near(2, CHUNK, 10L * CHUNK, 10L * CHUNK, 10L * CHUNK);
        assertEquals(15L * CHUNK, odd.arraySectors());
        odd.map(CHUNK, 0, a);
        assertEquals(2, a.disk);
        assertEquals(0, a.sector);
        odd.map(CHUNK, 1, a);
        assertEquals(0, a.disk);
        assertEquals(CHUNK, a.sector);
        // every member chunk holds exactly one array chunk copy
        Set<Long> seen = new HashSet<>();
        for (long c = 0; c < odd.arraySectors() / CHUNK; c++) {
            for (int k = 0; k < 2; k++) {
                odd.map(c * CHUNK, k, a);
                assertTrue(seen.add(a.disk * 1000L + a.sector / CHUNK));
            }
        }
        assertEquals(30, seen.size());
        ErrnoException far = assertThrows(ErrnoException.class,
                () -> Raid10Geometry.ofMdLayout(0x201, CHUNK, 100L * CHUNK, 100L * CHUNK));
        assertTrue(far.getMessage().contains("far"), far.getMessage());
    }

    @Test
    void raid0MultiZoneFollowsBothMdLayouts() {
        // Members of 1, 3 and 3 chunks: zone 0 stripes 3 chunks over all, zone 1 stripes 4 over members 1, 2.
        long c = CHUNK;
        ErrnoException e = assertThrows(ErrnoException.class, () -> Raid0Geometry.of(CHUNK, c + 5, 3 * c, 3 * c));
        assertTrue(e.getMessage().contains("multi-zone layout"), e.getMessage());
        MemberAddress a = new MemberAddress();
        for (int layout : new int[] {Raid0Geometry.RAID0_ORIG_LAYOUT, Raid0Geometry.RAID0_ALT_MULTIZONE_LAYOUT}) {
            Raid0Geometry g = Raid0Geometry.withLayout(CHUNK, layout, c + 5, 3 * c, 3 * c);
            assertEquals(2, g.zones());
            assertEquals(7 * c, g.arraySectors());
            assertEquals(layout, g.mdLayout());
            g.map(2 * c + 1, a); // zone 0: plain striping
            assertEquals(2, a.disk);
            assertEquals(1, a.sector);
            g.map(3 * c + 9, a); // first chunk of zone 1
            assertEquals(layout == Raid0Geometry.RAID0_ORIG_LAYOUT ? 2 : 1, a.disk); // orig: 3 % 2 picks slot 1
            assertEquals(c + 9, a.sector);
            g.map(6 * c, a); // zone chunk 3: row 1
            assertEquals(layout == Raid0Geometry.RAID0_ORIG_LAYOUT ? 1 : 2, a.disk);
            assertEquals(2 * c, a.sector);
            Set<Long> seen = new HashSet<>();
            for (long ch = 0; ch < 7; ch++) {
                g.map(ch * c, a);
                assertTrue(a.sector < g.memberSectors(a.disk));
                assertTrue(seen.add(a.disk * 1000L + a.sector / c));
            }
        }
        assertEquals(0, Raid0Geometry.withLayout(CHUNK, 2, 3 * c, 3 * c).mdLayout()); // one zone: md leaves 0
    }

    @Test
    void resyncSpaceIsWhatMdsBitmapCovers() {
        ParityGeometry r5 = g(RaidLevel.RAID5, ParityLayout.LEFT_SYMMETRIC, 4);
        assertEquals(r5.memberSectors(), r5.syncSectors());
        assertEquals(CHUNK + 5, r5.syncSector(3L * CHUNK + 5)); // chunk 3 is stripe 1
        assertEquals(CHUNK + 5, r5.syncSector(5L * CHUNK + 5)); // chunk 5 too
        Raid10Geometry r10 = Raid10Geometry.near(2, CHUNK, 10L * CHUNK, 10L * CHUNK, 10L * CHUNK);
        assertEquals(r10.arraySectors(), r10.syncSectors());
        assertEquals(7L * CHUNK + 1, r10.syncSector(7L * CHUNK + 1));
        Raid1Geometry r1 = Raid1Geometry.of(1000, 900);
        assertEquals(900, r1.syncSectors());
        assertEquals(0, Raid0Geometry.of(CHUNK, 10L * CHUNK).syncSectors());
    }

    @Test
    void nestedRaid50IsRaid0OverRaid5Groups() {
        ParityGeometry inner = g(RaidLevel.RAID5, ParityLayout.LEFT_SYMMETRIC, 3); // 128 data chunks per group
        NestedGeometry n = new NestedGeometry(inner, 2, CHUNK, 2 * CHUNK);
        assertEquals(6, n.members());
        assertEquals(2 * (inner.arraySectors() - 2 * CHUNK), n.arraySectors());
        MemberAddress a = new MemberAddress();
        MemberAddress s = new MemberAddress();
        // outer chunk 3 -> group 1, outer row 1; plus the outer data offset -> group sector 3 chunks in.
        n.map(3L * CHUNK + 5, a, s);
        inner.map(3L * CHUNK + 5, s);
        assertEquals(3 + s.disk, a.disk);
        assertEquals(s.sector, a.sector);
    }
}
