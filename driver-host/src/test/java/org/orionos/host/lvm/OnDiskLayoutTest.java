package org.orionos.host.lvm;

import java.nio.ByteBuffer;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.lvm.metadata.DiskLocation;
import org.orionos.host.lvm.metadata.LvmUuid;
import org.orionos.host.lvm.metadata.MdaHeader;
import org.orionos.host.lvm.metadata.PvLabel;
import org.orionos.host.lvm.metadata.RawLocation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OnDiskLayoutTest {

    private static ByteBuffer head(byte[] labelSector, int sector) {
        ByteBuffer b = ByteBuffer.allocate(2048);
        b.put(sector * 512, labelSector);
        return b;
    }

    @Test
    void decodesLvm2sLabelAndEncodesItBackByteForByte() {
        byte[] lvm2 = Lvm2CrcTest.sector(Lvm2CrcTest.LVM2_LABEL);
        PvLabel label = PvLabel.find(head(lvm2, 1), "test");
        assertEquals(1, label.sector());
        assertEquals("sLcsfd-WFDv-LTFv-iqZS-jGF2-XKxw-hR5HRj", label.pvId().dashed());
        assertEquals(64L << 20, label.deviceSize());
        assertEquals(List.of(new DiskLocation(1 << 20, 0)), label.dataAreas());
        assertEquals(List.of(new DiskLocation(4096, 1044480)), label.metadataAreas());
        assertEquals(2, label.extensionVersion());
        assertEquals(PvLabel.PV_EXT_USED, label.extensionFlags());
        assertEquals(List.of(), label.bootloaderAreas());
        byte[] encoded = new byte[512];
        label.encode().get(encoded);
        assertArrayEquals(lvm2, encoded);
    }

    @Test
    void findsALabelInAnyOfTheFirstFourSectorsAndNoneInZeros() {
        PvLabel l = new PvLabel(3, LvmUuid.random(), 1 << 24, List.of(new DiskLocation(1 << 20, 0)),
                List.of(new DiskLocation(4096, (1 << 20) - 4096)), 2, 0, List.of());
        byte[] s = new byte[512];
        l.encode().get(s);
        assertEquals(l, PvLabel.find(head(s, 3), "test"));
        assertNull(PvLabel.find(ByteBuffer.allocate(2048), "test"));
    }

    @Test
    void aDamagedLabelIsAnErrorNamingTheDeviceAndSector() {
        byte[] lvm2 = Lvm2CrcTest.sector(Lvm2CrcTest.LVM2_LABEL);
        lvm2[60] ^= 1;
        ErrnoException e = assertThrows(ErrnoException.class, () -> PvLabel.find(head(lvm2, 1), "/dev/loop9"));
        assertEquals(Errno.EBADMSG, e.errno());
        assertTrue(e.getMessage().contains("/dev/loop9 label sector 1"), e.getMessage());
        assertTrue(e.getMessage().contains("checksum"), e.getMessage());
    }

    @Test
    void decodesLvm2sMdaHeaderAndEncodesItBackByteForByte() {
        byte[] lvm2 = Lvm2CrcTest.sector(Lvm2CrcTest.LVM2_MDA_HEADER);
        MdaHeader h = MdaHeader.decode(ByteBuffer.wrap(lvm2), 4096, "test");
        assertEquals(4096, h.start());
        assertEquals(1044480, h.size());
        assertEquals(new RawLocation(512, 842, 0x97282f72, 0), h.committed());
        assertEquals(RawLocation.NONE, h.precommitted());
        byte[] encoded = new byte[512];
        h.encode().get(encoded);
        assertArrayEquals(lvm2, encoded);
    }

    @Test
    void aDamagedMdaHeaderIsAnErrorNamingTheArea() {
        byte[] lvm2 = Lvm2CrcTest.sector(Lvm2CrcTest.LVM2_MDA_HEADER);
        lvm2[48] ^= 0x40;
        ErrnoException e = assertThrows(ErrnoException.class,
                () -> MdaHeader.decode(ByteBuffer.wrap(lvm2), 4096, "/dev/loop9 metadata area 1 (offset 4096)"));
        assertEquals(Errno.EBADMSG, e.errno());
        assertTrue(e.getMessage().contains("/dev/loop9 metadata area 1"), e.getMessage());
        assertTrue(e.getMessage().contains("checksum"), e.getMessage());
        byte[] ok = Lvm2CrcTest.sector(Lvm2CrcTest.LVM2_MDA_HEADER);
        ErrnoException moved = assertThrows(ErrnoException.class,
                () -> MdaHeader.decode(ByteBuffer.wrap(ok), 8192, "x"));
        assertTrue(moved.getMessage().contains("starts at 4096"), moved.getMessage());
    }

    @Test
    void uuidsUseLvm2sAlphabetAndDashedForm() {
        LvmUuid u = LvmUuid.parse("sLcsfd-WFDv-LTFv-iqZS-jGF2-XKxw-hR5HRj");
        assertEquals("sLcsfdWFDvLTFviqZSjGF2XKxwhR5HRj", u.chars());
        assertEquals(u, LvmUuid.parse(u.chars()));
        for (int i = 0; i < 100; i++) {
            LvmUuid r = LvmUuid.random();
            assertTrue(r.chars().matches("[A-Za-z0-9]{32}"), r.chars());
            assertEquals(r, LvmUuid.parse(r.dashed()));
        }
        assertThrows(IllegalArgumentException.class, () -> LvmUuid.parse("sLcsfd-WFDv-LTFv-iqZS-jGF2-XKxw-hR5HR$"));
        assertThrows(IllegalArgumentException.class, () -> LvmUuid.parse("sLcsfd+WFDv-LTFv-iqZS-jGF2-XKxw-hR5HRj"));
        assertThrows(IllegalArgumentException.class, () -> LvmUuid.parse("short"));
        assertEquals(u, LvmUuid.parse("sLcs-fdWFDvLTFviqZSjGF2XKxwhR5HRj"), "lvm2 ignores dashes anywhere");
    }
}
