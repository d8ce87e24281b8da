package org.orionos.bindings.nvme;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NvmeStatusTest {
    @Test
    void decodesTypeCodeAndFlags() {
        int invalidFieldDnr = 0x4002; // what an ioctl returns for a rejected Identify CNS, say
        assertEquals("INVALID_FIELD", NvmeStatus.name(invalidFieldDnr));
        assertEquals(NvmeTypesH.NVME_SCT_GENERIC, NvmeStatus.sct(invalidFieldDnr));
        assertEquals(NvmeTypesH.NVME_SC_INVALID_FIELD, NvmeStatus.sc(invalidFieldDnr));
        assertTrue(NvmeStatus.dnr(invalidFieldDnr));
        assertFalse(NvmeStatus.more(invalidFieldDnr));
        assertFalse(NvmeStatus.ok(invalidFieldDnr));
        assertEquals("INVALID_FIELD (generic 0x2) DNR", NvmeStatus.describe(invalidFieldDnr));

        assertTrue(NvmeStatus.ok(0));
        assertEquals("SUCCESS", NvmeStatus.name(0));
        assertEquals("LBA_RANGE", NvmeStatus.name(0x080));
        // Same code, other types: the type selects the table.
        assertEquals("INVALID_LOG_PAGE", NvmeStatus.name(0x109));
        assertEquals("READ_ERROR", NvmeStatus.name(0x281));
        assertEquals("UNWRITTEN_BLOCK", NvmeStatus.name(0x287));
        assertEquals("ANA_INACCESSIBLE", NvmeStatus.name(0x302));
        assertEquals("ZNS_FULL", NvmeStatus.name(0x1b9));
        assertEquals("READ_ERROR (media and data integrity 0x81) CRD1 MORE DNR",
                NvmeStatus.describe(0x4000 | 0x2000 | 0x0800 | 0x281));
        assertEquals(1, NvmeStatus.crd(0x0800));
    }

    @Test
    void unknownAndVendorCodesHaveNoName() {
        assertNull(NvmeStatus.name(0x2ff));
        assertEquals("unknown (media and data integrity 0xff)", NvmeStatus.describe(0x2ff));
        assertNull(NvmeStatus.name(0x701));
        assertEquals("unknown (vendor specific 0x1)", NvmeStatus.describe(0x701));
    }

    @Test
    void completionEntryStatusWordCarriesPhaseAndStatus() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment cqe = a.allocate(NvmeCqe.LAYOUT);
            // Status word as a controller writes it: status field 0x4002 shifted past the phase bit.
            cqe.set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN),
                    NvmeCqe.STATUS, (short) (0x4002 << 1 | 1));
            short status = cqe.get(NvmeTypesH.LE16, NvmeCqe.STATUS);
            assertEquals(1, NvmeCqe.phase(status));
            assertEquals(0x4002, NvmeCqe.statusField(status));
            assertEquals("INVALID_FIELD", NvmeStatus.name(NvmeCqe.statusField(status)));
            // Bytes 14..15 on the wire, little-endian.
            assertEquals((byte) 0x05, cqe.get(NvmeTypesH.U8, 14));
            assertEquals((byte) 0x80, cqe.get(NvmeTypesH.U8, 15));
        }
    }
}
