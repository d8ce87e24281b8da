package org.orionos.host.raid;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import org.orionos.bindings.ErrnoException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Member images written with orion's superblock, bitmap, geometry and parity code, read back by the
 * real mdadm ({@code --examine}, {@code --examine-bitmap}) on plain files. (mdadm cannot create
 * arrays here: that needs the md driver, which only the test guest has.)
 */
class MdadmExamineTest {
    private static final long MEMBER_BYTES = 64L << 20;
    private static final long DATA_OFFSET = 2048;      // sectors: 1 MiB, mdadm's choice for small members
    private static final int BITMAP_OFFSET = MdNewArray.BITMAP_OFFSET;
    private static final int CHUNK = 1024;             // 512 KiB
    private static final int BITMAP_CHUNK = 1 << 20;   // 1 MiB per bit

    @TempDir(cleanup = CleanupMode.ON_SUCCESS) // keep the images of a failing run for inspection
    Path dir;

    private static Map<String, String> run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + " failed:\n" + out);
        Map<String, String> m = new HashMap<>();
        for (String line : out.split("\n")) {
            int c = line.indexOf(" : ");
            if (c > 0) {
                m.put(line.substring(0, c).trim(), line.substring(c + 3).trim());
            }
        }
        m.put("", out);
        return m;
    }

    /** mdadm prints v1 UUIDs as the 16 bytes in order, in groups of four, separated by ':'. */
    private static String mdadmUuid(byte[] u) {
        String h = HexFormat.of().formatHex(u);
        return h.substring(0, 8) + ":" + h.substring(8, 16) + ":" + h.substring(16, 24) + ":" + h.substring(24);
    }

    /** Writes superblock (+ bitmap with {@code dirty} bits) of every member, made by {@link MdNewArray}. */
    private Path[] writeMembers(RaidGeometry g, String name, byte[] uuid, long events, long[] dirty, Arena arena)
            throws IOException {
        long[] dataSectors = new long[g.raidDisks()];
        java.util.Arrays.fill(dataSectors, MEMBER_BYTES / 512 - DATA_OFFSET);
        MdSuperblock1[] sbs = MdNewArray.superblocks(g, name, uuid, dataSectors, DATA_OFFSET, events,
                Instant.parse("2026-11-20T12:00:00.123456Z"), new SplittableRandom(7));
        Path[] files = new Path[g.raidDisks()];
        MemorySegment sbBuf = arena.allocate(MdSuperblock1.MAX_SB_SIZE, 4096);
        for (int d = 0; d < files.length; d++) {
            files[d] = dir.resolve(name.replace(':', '-') + "-" + d + ".img");
            try (FileChannel ch = FileChannel.open(files[d], StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.READ, StandardOpenOption.SPARSE)) {
                ch.truncate(0);
                ch.write(java.nio.ByteBuffer.wrap(new byte[1]), MEMBER_BYTES - 1); // sparse, full size
                sbs[d].encode(sbBuf);
                ch.write(sbBuf.asByteBuffer(), MdSuperblock1.SUPER_OFFSET_1_2 * 512);
                if (g.level() != RaidLevel.RAID0) {
                    MdBitmap b = MdNewArray.bitmap(g, uuid, events, DATA_OFFSET, BITMAP_CHUNK);
                    assertEquals(BITMAP_CHUNK, b.chunksize);
                    MemorySegment bm = arena.allocate((b.byteSize() + 511) / 512 * 512, 4096);
                    b.encode(bm);
                    for (long k : dirty) {
                        MdBitmap.setDirty(bm, k, true);
                    }
                    ch.write(bm.asByteBuffer(), (MdSuperblock1.SUPER_OFFSET_1_2 + MdNewArray.BITMAP_OFFSET) * 512);
                }
            }
        }
        return files;
    }

    /**
     * mdadm -X treats a regular file as an external bitmap file (it locates internal bitmaps only
     * on block devices), so copy the internal bitmap region out: same header, same bits.
     */
    private static Path bitmapFile(Path member) throws IOException {
        Path out = member.resolveSibling(member.getFileName() + ".bitmap");
        try (FileChannel in = FileChannel.open(member, StandardOpenOption.READ);
             FileChannel o = FileChannel.open(out, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                     StandardOpenOption.TRUNCATE_EXISTING)) {
            long from = (MdSuperblock1.SUPER_OFFSET_1_2 + BITMAP_OFFSET) * 512;
            in.transferTo(from, (DATA_OFFSET - MdSuperblock1.SUPER_OFFSET_1_2 - BITMAP_OFFSET) * 512, o);
        }
        return out;
    }

    /** Fills the first {@code stripes} stripes with data laid out by the geometry, P (and Q) by the parity engine. */
    private static void writeStripes(ParityGeometry g, Path[] files, int stripes, Arena arena) throws IOException {
        long chunkBytes = g.chunkSectors() * 512L;
        MemorySegment[] blocks = new MemorySegment[g.raidDisks()];
        for (int d = 0; d < blocks.length; d++) {
            blocks[d] = arena.allocate(chunkBytes, 4096);
        }
        MemorySegment[] slots = new MemorySegment[g.syndromeDisks()];
        MemorySegment zero = arena.allocate(chunkBytes, 4096);
        ParityEngine engine = ParityEngine.best();
        FileChannel[] ch = new FileChannel[files.length];
        try {
            for (int d = 0; d < files.length; d++) {
                ch[d] = FileChannel.open(files[d], StandardOpenOption.WRITE);
            }
            for (long s = 0; s < stripes; s++) {
                java.util.Arrays.fill(slots, zero);
                for (int i = 0; i < g.dataDisks(); i++) {
                    int disk = g.dataDisk(s, i);
                    long arraySector = g.arraySector(s, i);
                    for (long o = 0; o < chunkBytes; o += 8) { // each 8 bytes: its own array byte offset
                        blocks[disk].set(ValueLayout.JAVA_LONG_UNALIGNED, o, arraySector * 512 + o);
                    }
                    slots[g.syndromeSlot(s, disk)] = blocks[disk];
                }
                MemorySegment p = blocks[g.parityDisk(s)];
                if (g.level() == RaidLevel.RAID6) {
                    engine.pq(slots, slots.length, p, blocks[g.qDisk(s)], chunkBytes);
                } else {
                    engine.xor(slots, slots.length, p, chunkBytes);
                }
                for (int d = 0; d < files.length; d++) {
                    ch[d].write(blocks[d].asByteBuffer(), (DATA_OFFSET + s * g.chunkSectors()) * 512);
                }
            }
        } finally {
            for (FileChannel c : ch) {
                if (c != null) c.close();
            }
        }
    }

    @Test
    void mdadmExaminesOrionRaid5Members() throws Exception {
        byte[] uuid = HexFormat.of().parseHex("0a1b2c3d4e5f60718293a4b5c6d7e8f9");
        long sectors = MEMBER_BYTES / 512 - DATA_OFFSET;
        ParityGeometry g = ParityGeometry.of(RaidLevel.RAID5, ParityLayout.LEFT_SYMMETRIC, CHUNK,
                sectors, sectors, sectors, sectors);
        try (Arena arena = Arena.ofConfined()) {
            // Dirty exactly the bits covering the 6 stripes about to be written, as a writer must.
            long bitSectors = BITMAP_CHUNK / 512;
            long[] dirty = java.util.stream.LongStream.range(0, 6L * CHUNK * g.dataDisks())
                    .map(sec -> g.syncSector(sec) / bitSectors).distinct().toArray();
            assertEquals(3, dirty.length); // 6 stripes x 512 KiB of each member = 3 bits of 1 MiB
            Path[] files = writeMembers(g, "orion:md0", uuid, 42, dirty, arena);
            writeStripes(g, files, 6, arena);
            MemorySegment read = arena.allocate(MdSuperblock1.MAX_SB_SIZE);
            for (int d = 0; d < files.length; d++) {
                Map<String, String> ex = run("mdadm", "--examine", files[d].toString());
                String all = ex.get("");
                assertEquals("a92b4efc", ex.get("Magic"), all);
                assertEquals("1.2", ex.get("Version"), all);
                assertEquals("0x1", ex.get("Feature Map"), all);
                assertEquals(mdadmUuid(uuid), ex.get("Array UUID"), all);
                assertTrue(ex.get("Name").startsWith("orion:md0"), all);
                assertEquals("raid5", ex.get("Raid Level"), all);
                assertEquals("4", ex.get("Raid Devices"), all);
                assertTrue(ex.get("Avail Dev Size").startsWith("129024 sectors"), all);
                assertTrue(ex.get("Array Size").startsWith("193536 KiB"), all);
                assertTrue(ex.get("Data Offset").startsWith("2048 sectors"), all);
                assertTrue(ex.get("Super Offset").startsWith("8 sectors"), all);
                assertEquals("clean", ex.get("State"), all);
                assertEquals("8 sectors from superblock", ex.get("Internal Bitmap"), all);
                assertTrue(ex.get("Checksum").endsWith(" - correct"), all);
                assertEquals("42", ex.get("Events"), all);
                assertEquals("left-symmetric", ex.get("Layout"), all);
                assertEquals("512K", ex.get("Chunk Size"), all);
                assertEquals("Active device " + d, ex.get("Device Role"), all);
                assertTrue(ex.get("Array State").startsWith("AAAA "), all);

                try (FileChannel ch = FileChannel.open(files[d], StandardOpenOption.READ)) {
                    ch.read(read.asByteBuffer(), 4096);
                }
                MdSuperblock1 sb = MdSuperblock1.decode(read, files[d].toString());
                assertEquals(mdadmUuid(sb.deviceUuid), ex.get("Device UUID"), all);
                assertEquals(String.format("%08x - correct", MdSuperblock1.checksum(read)), ex.get("Checksum"));
                assertEquals(d, sb.role());

                Map<String, String> bx = run("mdadm", "--examine-bitmap", bitmapFile(files[d]).toString());
                String ball = bx.get("");
                assertEquals("6d746962", bx.get("Magic"), ball);
                assertEquals("4", bx.get("Version"), ball);
                assertEquals(mdadmUuid(uuid), bx.get("UUID"), ball);
                assertEquals("42", bx.get("Events"), ball);
                assertEquals("42", bx.get("Events Cleared"), ball);
                assertEquals("OK", bx.get("State"), ball);
                assertEquals("1 MB", bx.get("Chunksize"), ball);
                assertTrue(bx.get("Sync Size").startsWith("64512 "), ball); // KiB
                assertTrue(bx.get("Bitmap").startsWith("63 bits (chunks), 3 dirty"), ball);
            }
        }
    }

    @Test
    void mdadmNamesEveryLevelAndLayout() throws Exception {
        long s = MEMBER_BYTES / 512 - DATA_OFFSET;
        Object[][] cases = {
            {ParityGeometry.of(RaidLevel.RAID5, ParityLayout.PARITY_0, CHUNK, s, s, s), "raid5", "parity-first"},
            {ParityGeometry.of(RaidLevel.RAID5, ParityLayout.RIGHT_ASYMMETRIC, CHUNK, s, s, s), "raid5", "right-asymmetric"},
            {ParityGeometry.of(RaidLevel.RAID6, ParityLayout.LEFT_SYMMETRIC, CHUNK, s, s, s, s, s), "raid6", "left-symmetric"},
            {ParityGeometry.of(RaidLevel.RAID6, ParityLayout.ROTATING_N_CONTINUE, CHUNK, s, s, s, s), "raid6", "ddf-N-continue"},
            {ParityGeometry.of(RaidLevel.RAID6, ParityLayout.LEFT_SYMMETRIC_6, CHUNK, s, s, s, s), "raid6", "left-symmetric-6"},
            {Raid10Geometry.near(2, CHUNK, s, s, s, s), "raid10", "near=2"},
            {Raid1Geometry.of(s, s), "raid1", null},
            {Raid0Geometry.of(CHUNK, s, s, s), "raid0", null},
            {Raid0Geometry.withLayout(CHUNK, Raid0Geometry.RAID0_ORIG_LAYOUT, s, s / 2, s), "raid0", "original"},
            {Raid0Geometry.withLayout(CHUNK, Raid0Geometry.RAID0_ALT_MULTIZONE_LAYOUT, s / 2, s, s), "raid0", "alternate"},
        };
        SplittableRandom rnd = new SplittableRandom(11);
        try (Arena arena = Arena.ofConfined()) {
            int k = 0;
            for (Object[] c : cases) {
                RaidGeometry g = (RaidGeometry) c[0];
                byte[] uuid = new byte[16];
                rnd.nextBytes(uuid);
                Path[] files = writeMembers(g, "orion:t" + k++, uuid, 7, new long[0], arena);
                Map<String, String> ex = run("mdadm", "--examine", files[files.length - 1].toString());
                String all = ex.get("");
                assertEquals(c[1], ex.get("Raid Level"), all);
                assertEquals(String.valueOf(g.raidDisks()), ex.get("Raid Devices"), all);
                assertTrue(ex.get("Checksum").endsWith(" - correct"), all);
                assertEquals("Active device " + (g.raidDisks() - 1), ex.get("Device Role"), all);
                assertEquals(c[2], ex.get("Layout"), all);
                if (g.level() != RaidLevel.RAID0) { // mdadm prints no array size for RAID0
                    assertTrue(ex.get("Array Size").startsWith(g.arraySectors() / 2 + " KiB"), all);
                    Map<String, String> bx = run("mdadm", "--examine-bitmap", bitmapFile(files[0]).toString());
                    assertTrue(bx.get("Bitmap").contains(" 0 dirty"), bx.get(""));
                }
            }
        }
    }

    @Test
    void corruptionIsReportedByMdadmAndRefusedByDecode() throws Exception {
        long s = MEMBER_BYTES / 512 - DATA_OFFSET;
        ParityGeometry g = ParityGeometry.of(RaidLevel.RAID5, ParityLayout.LEFT_SYMMETRIC, CHUNK, s, s, s);
        try (Arena arena = Arena.ofConfined()) {
            Path[] files = writeMembers(g, "orion:bad", new byte[16], 3, new long[0], arena);
            MemorySegment buf = arena.allocate(4096);
            try (FileChannel ch = FileChannel.open(files[0], StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                ch.read(buf.asByteBuffer(), 4096);
                buf.set(ValueLayout.JAVA_BYTE, MdSuperblock1.EVENTS, (byte) 4); // events 3 -> 4 without re-checksumming
                ch.write(buf.asByteBuffer(), 4096);
            }
            Map<String, String> ex = run("mdadm", "--examine", files[0].toString());
            assertTrue(ex.get("Checksum").contains("expected"), ex.get(""));
            ErrnoException e = assertThrows(ErrnoException.class, () -> MdSuperblock1.decode(buf, "m0"));
            assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
        }
    }
}
