package org.orionos.bindings;

import org.junit.jupiter.api.Test;
import org.orionos.bindings.uapi.BlkzonedH;
import org.orionos.bindings.uapi.FsH;
import org.orionos.bindings.uapi.NbdH;
import org.orionos.bindings.uapi.NvmeIoctlH;
import org.orionos.bindings.uapi.VfioH;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Request numbers as strace and the kernel print them (independent of the layout check, which
 * proves the same numbers against gcc): direction, size, type and number in the right bits.
 */
class IoctlTest {
    @Test
    void knownRequestNumbers() {
        assertEquals(0xC0484E41L, NvmeIoctlH.NVME_IOCTL_ADMIN_CMD); // _IOWR('N', 0x41, 72 bytes)
        assertEquals(0xC0484E43L, NvmeIoctlH.NVME_IOCTL_IO_CMD);
        assertEquals(0x4E40L, NvmeIoctlH.NVME_IOCTL_ID);
        assertEquals(0xC0504E47L, NvmeIoctlH.NVME_IOCTL_ADMIN64_CMD); // 80-byte passthru_cmd64
        assertEquals(0xC0484E80L, NvmeIoctlH.NVME_URING_CMD_IO);
        assertEquals(0x80081272L, FsH.BLKGETSIZE64); // _IOR(0x12, 114, size_t)
        assertEquals(0x1268L, FsH.BLKSSZGET);
        assertEquals(0xAB00L, NbdH.NBD_SET_SOCK);
        assertEquals(0xAB03L, NbdH.NBD_DO_IT);
        assertEquals(0x3B64L, VfioH.VFIO_GET_API_VERSION); // _IO(';', 100)
        assertEquals(0x3B71L, VfioH.VFIO_IOMMU_MAP_DMA);
        assertEquals(0xC0101282L, BlkzonedH.BLKREPORTZONE); // 16-byte report header
    }

    @Test
    void decodesItsOwnEncoding() {
        long r = NvmeIoctlH.NVME_IOCTL_ADMIN64_CMD;
        assertEquals(Ioctl._IOC_READ | Ioctl._IOC_WRITE, Ioctl.dir(r));
        assertEquals('N', Ioctl.type(r));
        assertEquals(0x47, Ioctl.nr(r));
        assertEquals(80, Ioctl.size(r));
        assertEquals("_IOWR('N', 0x47, 80)", Ioctl.describe(r));
        assertEquals("_IO(0xab, 0x3)", Ioctl.describe(NbdH.NBD_DO_IT));
        assertEquals("_IOR(0x12, 0x72, 8)", Ioctl.describe(FsH.BLKGETSIZE64));
    }

    @Test
    void rejectsFieldsThatDoNotFit() {
        assertThrows(IllegalArgumentException.class, () -> Ioctl._IOC(Ioctl._IOC_READ, 0x100, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> Ioctl._IOC(Ioctl._IOC_READ, 1, 256, 0));
        assertThrows(IllegalArgumentException.class, () -> Ioctl._IOC(Ioctl._IOC_READ, 1, 1, 1 << 14));
        assertThrows(IllegalArgumentException.class, () -> Ioctl._IOC(4, 1, 1, 0));
    }
}
