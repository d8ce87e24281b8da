package org.orionos.bindings.nvme;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.orionos.bindings.nvme.NvmeTypesH.NvmeIdCtrl;
import org.orionos.bindings.nvme.NvmeTypesH.NvmeIdPsd;
import org.orionos.bindings.nvme.NvmeTypesH.NvmeSmartLog;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Reads fields from byte images built at the specification's offsets (literal numbers here, not the
 * layout's), the way a QEMU NVMe controller answers Identify Controller and Get Log Page SMART.
 */
class NvmeIdCtrlImageTest {
    private static void ascii(MemorySegment s, long off, int len, String v) {
        byte[] b = (v + " ".repeat(len - v.length())).getBytes(StandardCharsets.US_ASCII);
        MemorySegment.copy(b, 0, s, ValueLayout.JAVA_BYTE, off, len);
    }

    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED
            .withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE32 = ValueLayout.JAVA_INT_UNALIGNED
            .withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    @Test
    void identifyControllerFields() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment id = a.allocate(4096, 4096);
            id.set(LE16, 0, (short) 0x1b36);           // vid: Red Hat (QEMU)
            id.set(LE16, 2, (short) 0x1af4);           // ssvid
            ascii(id, 4, 20, "deadbeef");              // sn
            ascii(id, 24, 40, "QEMU NVMe Ctrl");       // mn
            ascii(id, 64, 8, "8.0.0");                 // fr
            id.set(ValueLayout.JAVA_BYTE, 77, (byte) 7);  // mdts: 2^7 pages
            id.set(LE32, 80, 0x00010400);              // ver 1.4.0
            id.set(LE16, 256, (short) 0x000a);         // oacs
            id.set(ValueLayout.JAVA_BYTE, 512, (byte) 0x66); // sqes: 64-byte entries
            id.set(ValueLayout.JAVA_BYTE, 513, (byte) 0x44); // cqes: 16-byte entries
            id.set(LE32, 516, 256);                    // nn
            id.set(LE16, 520, (short) 0x015d);         // oncs
            ascii(id, 768, 256, "nqn.2019-08.org.qemu:deadbeef");
            id.set(LE16, 2048 + 32, (short) 2500);     // psd[1].mp = 25.00 W
            id.set(LE32, 2048 + 32 + 4, 16);           // psd[1].enlat

            assertEquals(0x1b36, Short.toUnsignedInt(id.get(NvmeTypesH.LE16, NvmeIdCtrl.VID)));
            assertEquals(0x1af4, Short.toUnsignedInt(id.get(NvmeTypesH.LE16, NvmeIdCtrl.SSVID)));
            assertEquals("deadbeef", NvmeTypesH.text(id, NvmeIdCtrl.SN, 20));
            assertEquals("QEMU NVMe Ctrl", NvmeTypesH.text(id, NvmeIdCtrl.MN, 40));
            assertEquals("8.0.0", NvmeTypesH.text(id, NvmeIdCtrl.FR, 8));
            assertEquals(7, id.get(NvmeTypesH.U8, NvmeIdCtrl.MDTS));
            assertEquals(0x00010400, id.get(NvmeTypesH.LE32, NvmeIdCtrl.VER));
            assertEquals(0x000a, id.get(NvmeTypesH.LE16, NvmeIdCtrl.OACS));
            assertEquals(6, id.get(NvmeTypesH.U8, NvmeIdCtrl.SQES) & 0xf);
            assertEquals(4, id.get(NvmeTypesH.U8, NvmeIdCtrl.CQES) & 0xf);
            assertEquals(256, id.get(NvmeTypesH.LE32, NvmeIdCtrl.NN));
            assertEquals(0x015d, id.get(NvmeTypesH.LE16, NvmeIdCtrl.ONCS));
            assertEquals("nqn.2019-08.org.qemu:deadbeef", NvmeTypesH.text(id, NvmeIdCtrl.SUBNQN, 256));
            long psd1 = NvmeIdCtrl.PSD + NvmeIdPsd.SIZE;
            assertEquals(2500, id.get(NvmeTypesH.LE16, psd1 + NvmeIdPsd.MP));
            assertEquals(16, id.get(NvmeTypesH.LE32, psd1 + NvmeIdPsd.ENLAT));
        }
    }

    @Test
    void smartLogCountersAndTemperature() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment log = a.allocate(512, 8);
            log.set(LE16, 1, (short) 310);                        // temperature, kelvin, unaligned
            log.set(ValueLayout.JAVA_BYTE, 3, (byte) 100);       // avail_spare %
            log.set(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 32, -1L);
            log.set(ValueLayout.JAVA_BYTE, 32 + 8, (byte) 1);    // data_units_read = 2^64 + 2^64 - 1
            log.set(LE32, 128, 4242);                             // power_on_hours

            assertEquals(310, Short.toUnsignedInt(log.get(LE16, NvmeSmartLog.TEMPERATURE)));
            assertEquals(100, log.get(NvmeTypesH.U8, NvmeSmartLog.AVAIL_SPARE));
            assertEquals(BigInteger.ONE.shiftLeft(65).subtract(BigInteger.ONE),
                    NvmeTypesH.u128(log, NvmeSmartLog.DATA_UNITS_READ));
            assertEquals(BigInteger.valueOf(4242), NvmeTypesH.u128(log, NvmeSmartLog.POWER_ON_HOURS));
        }
    }
}
