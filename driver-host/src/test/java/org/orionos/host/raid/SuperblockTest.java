package org.orionos.host.raid;

import org.junit.jupiter.api.Test;
import org.orionos.bindings.ErrnoException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SuperblockTest {
    private static MdSuperblock1 sample() {
        MdSuperblock1 sb = new MdSuperblock1();
        sb.featureMap = MdSuperblock1.MD_FEATURE_BITMAP_OFFSET;
        sb.setUuid = new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
        sb.setName = "orion:md7";
        sb.ctime = MdSuperblock1.mdTime(Instant.ofEpochSecond(1_700_000_000L, 250_000_000));
        sb.level = 6;
        sb.layout = ParityLayout.LEFT_SYMMETRIC.mdNumber();
        sb.size = 1 << 20;
        sb.chunksize = 1024;
        sb.raidDisks = 5;
        sb.bitmapOffset = 8;
        sb.dataOffset = 2048;
        sb.dataSize = (1 << 20) + 77;
        sb.devNumber = 2;
        sb.events = 123456789012L;
        sb.devRoles = new int[] {0, 1, 2, MdSuperblock1.MD_DISK_ROLE_FAULTY, 4, MdSuperblock1.MD_DISK_ROLE_SPARE, 3};
        return sb;
    }

    @Test
    void roundTripsEveryField() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(4096);
            MdSuperblock1 sb = sample();
            sb.encode(buf);
            assertEquals(256 + 14, sb.byteSize());
            MdSuperblock1 back = MdSuperblock1.decode(buf, "m");
            assertArrayEquals(sb.setUuid, back.setUuid);
            assertEquals("orion:md7", back.setName);
            assertEquals(sb.ctime, back.ctime);
            assertEquals(1_700_000_000L, MdSuperblock1.mdTimeSeconds(back.ctime));
            assertEquals(0, back.ctime >>> 40, "no microseconds: the kernel would show the year 2106");
            assertEquals(6, back.level);
            assertEquals(2, back.layout);
            assertEquals(sb.dataSize, back.dataSize);
            assertEquals(123456789012L, back.events);
            assertEquals(MdSuperblock1.MAX_SECTOR, back.resyncOffset);
            assertArrayEquals(sb.devRoles, back.devRoles);
            assertEquals(2, back.role());
            assertEquals(0xa92b4efc, buf.get(ValueLayout.JAVA_INT, 0)); // little-endian host
        }
    }

    @Test
    void checksumFoldsCarriesAndCountsTheOddHalfWord() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(4096);
            MdSuperblock1 sb = sample(); // max_dev 7: 270 bytes, a trailing 16-bit half word
            sb.encode(buf);
            long sum = 0;
            for (int o = 0; o < 268; o += 4) {
                if (o != 216) sum += Integer.toUnsignedLong(buf.get(ValueLayout.JAVA_INT, o));
            }
            sum += Short.toUnsignedLong(buf.get(ValueLayout.JAVA_SHORT, 268));
            assertEquals((int) ((sum & 0xffffffffL) + (sum >>> 32)), buf.get(ValueLayout.JAVA_INT, 216));
        }
    }

    @Test
    void refusesWhatMdWouldRefuseNamingTheProblem() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(4096);
            ErrnoException e = assertThrows(ErrnoException.class, () -> MdSuperblock1.decode(buf, "/dev/x"));
            assertTrue(e.getMessage().contains("no md superblock") && e.getMessage().contains("/dev/x"), e.getMessage());

            MdSuperblock1 sb = sample();
            sb.featureMap |= MdSuperblock1.MD_FEATURE_RESHAPE_BACKWARDS | MdSuperblock1.MD_FEATURE_JOURNAL;
            sb.encode(buf);
            e = assertThrows(ErrnoException.class, () -> MdSuperblock1.decode(buf, "m"));
            assertTrue(e.getMessage().contains("reshape-backwards, journal"), e.getMessage());
            assertEquals(2048, MdSuperblock1.decode(buf, "m", MdSuperblock1.MD_FEATURE_ALL).dataOffset);

            sb = sample();
            sb.encode(buf);
            buf.set(ValueLayout.JAVA_BYTE, MdSuperblock1.PAD3 + 5, (byte) 1);
            buf.set(ValueLayout.JAVA_INT, MdSuperblock1.SB_CSUM, MdSuperblock1.checksum(buf));
            e = assertThrows(ErrnoException.class, () -> MdSuperblock1.decode(buf, "m"));
            assertTrue(e.getMessage().contains("reserved"), e.getMessage());

            sb.superOffset = 0; // metadata 1.1's position
            sb.encode(buf);
            e = assertThrows(ErrnoException.class, () -> MdSuperblock1.decode(buf, "m"));
            assertTrue(e.getMessage().contains("super_offset"), e.getMessage());
        }
    }

    @Test
    void bitmapHeaderAndBitOrder() {
        try (Arena a = Arena.ofConfined()) {
            MdBitmap b = new MdBitmap();
            b.uuid[0] = 9;
            b.events = 5;
            b.eventsCleared = 4;
            b.syncSize = 129024;
            b.chunksize = 1 << 20;
            assertEquals(63, b.bits());
            assertEquals(62, b.bitOf(129023));
            MemorySegment buf = a.allocate(b.byteSize());
            b.encode(buf);
            MdBitmap.setDirty(buf, 9, true);
            assertEquals(0x02, buf.get(ValueLayout.JAVA_BYTE, 256 + 1)); // bit 9 = byte 1, mask 1<<1
            assertTrue(MdBitmap.isDirty(buf, 9));
            assertFalse(MdBitmap.isDirty(buf, 8));
            MdBitmap.setDirty(buf, 9, false);
            assertEquals(0, buf.get(ValueLayout.JAVA_BYTE, 257));
            MdBitmap back = MdBitmap.decode(buf, "m");
            assertEquals(4, back.eventsCleared);
            assertEquals(129024, back.syncSize);
            assertEquals(9, back.uuid[0]);
            buf.set(ValueLayout.JAVA_INT, 0, 0);
            ErrnoException e = assertThrows(ErrnoException.class, () -> MdBitmap.decode(buf, "m"));
            assertTrue(e.getMessage().contains("magic"), e.getMessage());
        }
    }
}
