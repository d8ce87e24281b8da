package org.orionos.bindings.uapi;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import org.orionos.bindings.CHeader;

import static org.orionos.bindings.Ioctl._IO;
import static org.orionos.bindings.Layouts.U16;
import static org.orionos.bindings.Layouts.U32;
import static org.orionos.bindings.Layouts.U64;
import static org.orionos.bindings.Layouts.U8;
import static org.orionos.bindings.Layouts.offset;
import static org.orionos.bindings.Layouts.pad;

/**
 * linux/vfio.h: the container (/dev/vfio/vfio), group (/dev/vfio/N) and device ioctls, the type1
 * IOMMU's DMA map/unmap, and the PCI region and interrupt indexes. Every VFIO argument struct starts
 * with {@code argsz} (set by the caller to the size it passes) and {@code flags}; the ioctls are all
 * {@code _IO} because the size travels in argsz. Info structs can grow capability chains
 * ({@link VfioInfoCapHeader}) reached through {@code cap_offset} when argsz was large enough.
 */
@CHeader("linux/vfio.h")
public final class VfioH {
    private VfioH() {
    }

    public static final int VFIO_API_VERSION = 0;

    // ---- extensions / IOMMU types (VFIO_CHECK_EXTENSION, VFIO_SET_IOMMU)
    public static final int VFIO_TYPE1_IOMMU = 1;
    public static final int VFIO_TYPE1v2_IOMMU = 3;
    /** Extension: DMA is cache-coherent for all devices in the container. */
    public static final int VFIO_DMA_CC_IOMMU = 4;
    public static final int VFIO_NOIOMMU_IOMMU = 8;
    public static final int VFIO_UNMAP_ALL = 9;
    public static final int VFIO_UPDATE_VADDR = 10;

    public static final int VFIO_TYPE = ';';
    public static final int VFIO_BASE = 100;

    // ---- container
    public static final long VFIO_GET_API_VERSION = _IO(VFIO_TYPE, VFIO_BASE);
    public static final long VFIO_CHECK_EXTENSION = _IO(VFIO_TYPE, VFIO_BASE + 1);
    public static final long VFIO_SET_IOMMU = _IO(VFIO_TYPE, VFIO_BASE + 2);
    // ---- group
    public static final long VFIO_GROUP_GET_STATUS = _IO(VFIO_TYPE, VFIO_BASE + 3);
    /** Argument: pointer to the container fd (int). */
    public static final long VFIO_GROUP_SET_CONTAINER = _IO(VFIO_TYPE, VFIO_BASE + 4);
    public static final long VFIO_GROUP_UNSET_CONTAINER = _IO(VFIO_TYPE, VFIO_BASE + 5);
    /** Argument: the device name, e.g. "0000:00:04.0" (NUL-terminated). Returns the device fd. */
    public static final long VFIO_GROUP_GET_DEVICE_FD = _IO(VFIO_TYPE, VFIO_BASE + 6);
    // ---- device
    public static final long VFIO_DEVICE_GET_INFO = _IO(VFIO_TYPE, VFIO_BASE + 7);
    public static final long VFIO_DEVICE_GET_REGION_INFO = _IO(VFIO_TYPE, VFIO_BASE + 8);
    public static final long VFIO_DEVICE_GET_IRQ_INFO = _IO(VFIO_TYPE, VFIO_BASE + 9);
    public static final long VFIO_DEVICE_SET_IRQS = _IO(VFIO_TYPE, VFIO_BASE + 10);
    public static final long VFIO_DEVICE_RESET = _IO(VFIO_TYPE, VFIO_BASE + 11);
    public static final long VFIO_DEVICE_GET_PCI_HOT_RESET_INFO = _IO(VFIO_TYPE, VFIO_BASE + 12);
    public static final long VFIO_DEVICE_PCI_HOT_RESET = _IO(VFIO_TYPE, VFIO_BASE + 13);
    // ---- type1 IOMMU, on the container fd (the numbers overlap device ioctls, which act on device fds)
    public static final long VFIO_IOMMU_GET_INFO = _IO(VFIO_TYPE, VFIO_BASE + 12);
    public static final long VFIO_IOMMU_MAP_DMA = _IO(VFIO_TYPE, VFIO_BASE + 13);
    public static final long VFIO_IOMMU_UNMAP_DMA = _IO(VFIO_TYPE, VFIO_BASE + 14);

    // ---- flags
    public static final int VFIO_GROUP_FLAGS_VIABLE = 1;
    public static final int VFIO_GROUP_FLAGS_CONTAINER_SET = 1 << 1;
    public static final int VFIO_DEVICE_FLAGS_RESET = 1;
    public static final int VFIO_DEVICE_FLAGS_PCI = 1 << 1;
    public static final int VFIO_DEVICE_FLAGS_CAPS = 1 << 7;
    public static final String VFIO_DEVICE_API_PCI_STRING = "vfio-pci";
    public static final int VFIO_REGION_INFO_FLAG_READ = 1;
    public static final int VFIO_REGION_INFO_FLAG_WRITE = 1 << 1;
    public static final int VFIO_REGION_INFO_FLAG_MMAP = 1 << 2;
    public static final int VFIO_REGION_INFO_FLAG_CAPS = 1 << 3;
    public static final int VFIO_REGION_INFO_CAP_SPARSE_MMAP = 1;
    public static final int VFIO_REGION_INFO_CAP_TYPE = 2;
    /** The MSI-X table BAR may be mmapped whole (otherwise the table page is carved out). */
    public static final int VFIO_REGION_INFO_CAP_MSIX_MAPPABLE = 3;
    public static final int VFIO_IRQ_INFO_EVENTFD = 1;
    public static final int VFIO_IRQ_INFO_MASKABLE = 1 << 1;
    public static final int VFIO_IRQ_INFO_AUTOMASKED = 1 << 2;
    public static final int VFIO_IRQ_INFO_NORESIZE = 1 << 3;
    public static final int VFIO_IRQ_SET_DATA_NONE = 1;
    public static final int VFIO_IRQ_SET_DATA_BOOL = 1 << 1;
    public static final int VFIO_IRQ_SET_DATA_EVENTFD = 1 << 2;
    public static final int VFIO_IRQ_SET_ACTION_MASK = 1 << 3;
    public static final int VFIO_IRQ_SET_ACTION_UNMASK = 1 << 4;
    public static final int VFIO_IRQ_SET_ACTION_TRIGGER = 1 << 5;
    public static final int VFIO_IRQ_SET_DATA_TYPE_MASK =
            VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_DATA_EVENTFD;
    public static final int VFIO_IRQ_SET_ACTION_TYPE_MASK =
            VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_ACTION_TRIGGER;
    public static final int VFIO_IOMMU_INFO_PGSIZES = 1;
    public static final int VFIO_IOMMU_INFO_CAPS = 1 << 1;
    public static final int VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE = 1;
    public static final int VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION = 2;
    public static final int VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL = 3;
    public static final int VFIO_DMA_MAP_FLAG_READ = 1;
    public static final int VFIO_DMA_MAP_FLAG_WRITE = 1 << 1;
    public static final int VFIO_DMA_MAP_FLAG_VADDR = 1 << 2;
    public static final int VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP = 1;
    public static final int VFIO_DMA_UNMAP_FLAG_ALL = 1 << 1;
    public static final int VFIO_DMA_UNMAP_FLAG_VADDR = 1 << 2;

    // ---- PCI region indexes (VFIO_DEVICE_GET_REGION_INFO index)
    public static final int VFIO_PCI_BAR0_REGION_INDEX = 0;
    public static final int VFIO_PCI_BAR1_REGION_INDEX = 1;
    public static final int VFIO_PCI_BAR2_REGION_INDEX = 2;
    public static final int VFIO_PCI_BAR3_REGION_INDEX = 3;
    public static final int VFIO_PCI_BAR4_REGION_INDEX = 4;
    public static final int VFIO_PCI_BAR5_REGION_INDEX = 5;
    public static final int VFIO_PCI_ROM_REGION_INDEX = 6;
    public static final int VFIO_PCI_CONFIG_REGION_INDEX = 7;
    public static final int VFIO_PCI_VGA_REGION_INDEX = 8;
    public static final int VFIO_PCI_NUM_REGIONS = 9;
    // ---- PCI interrupt indexes (VFIO_DEVICE_GET_IRQ_INFO / SET_IRQS index)
    public static final int VFIO_PCI_INTX_IRQ_INDEX = 0;
    public static final int VFIO_PCI_MSI_IRQ_INDEX = 1;
    public static final int VFIO_PCI_MSIX_IRQ_INDEX = 2;
    public static final int VFIO_PCI_ERR_IRQ_INDEX = 3;
    public static final int VFIO_PCI_REQ_IRQ_INDEX = 4;
    public static final int VFIO_PCI_NUM_IRQS = 5;

    /** {@code struct vfio_info_cap_header}: one link of a capability chain; next 0 ends it. */
    public static final class VfioInfoCapHeader {
        private VfioInfoCapHeader() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U16.withName("id"), U16.withName("version"), U32.withName("next"))
                .withName("vfio_info_cap_header");
        public static final long ID = offset(LAYOUT, "id");
        public static final long VERSION = offset(LAYOUT, "version");
        public static final long NEXT = offset(LAYOUT, "next");
    }

    /** {@code struct vfio_group_status}: VFIO_GROUP_GET_STATUS. */
    public static final class VfioGroupStatus {
        private VfioGroupStatus() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U32.withName("argsz"), U32.withName("flags"))
                .withName("vfio_group_status");
        public static final long ARGSZ = offset(LAYOUT, "argsz");
        public static final long FLAGS = offset(LAYOUT, "flags");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /** {@code struct vfio_device_info}: VFIO_DEVICE_GET_INFO. */
    public static final class VfioDeviceInfo {
        private VfioDeviceInfo() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U32.withName("argsz"), U32.withName("flags"), U32.withName("num_regions"), U32.withName("num_irqs"),
                U32.withName("cap_offset"))
                .withName("vfio_device_info");
        public static final long ARGSZ = offset(LAYOUT, "argsz");
        public static final long FLAGS = offset(LAYOUT, "flags");
        public static final long NUM_REGIONS = offset(LAYOUT, "num_regions");
        public static final long NUM_IRQS = offset(LAYOUT, "num_irqs");
        public static final long CAP_OFFSET = offset(LAYOUT, "cap_offset");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /** {@code struct vfio_region_info}: VFIO_DEVICE_GET_REGION_INFO; offset is the mmap/pread offset. */
    public static final class VfioRegionInfo {
        private VfioRegionInfo() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U32.withName("argsz"), U32.withName("flags"), U32.withName("index"), U32.withName("cap_offset"),
                U64.withName("size"), U64.withName("offset"))
                .withName("vfio_region_info");
        public static final long ARGSZ = offset(LAYOUT, "argsz");
        public static final long FLAGS = offset(LAYOUT, "flags");
        public static final long INDEX = offset(LAYOUT, "index");
        public static final long CAP_OFFSET = offset(LAYOUT, "cap_offset");
        public static final long REGION_SIZE = offset(LAYOUT, "size");
        public static final long REGION_OFFSET = offset(LAYOUT, "offset");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /** {@code struct vfio_region_sparse_mmap_area}. */
    public static final class VfioRegionSparseMmapArea {
        private VfioRegionSparseMmapArea() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U64.withName("offset"), U64.withName("size"))
                .withName("vfio_region_sparse_mmap_area");
        public static final long AREA_OFFSET = offset(LAYOUT, "offset");
        public static final long AREA_SIZE = offset(LAYOUT, "size");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /** {@code struct vfio_region_info_cap_sparse_mmap}: the mmappable parts of a region. */
    public static final class VfioRegionInfoCapSparseMmap {
        private VfioRegionInfoCapSparseMmap() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                VfioInfoCapHeader.LAYOUT.withName("header"), U32.withName("nr_areas"), U32.withName("reserved"),
                MemoryLayout.sequenceLayout(0, VfioRegionSparseMmapArea.LAYOUT).withName("areas"))
                .withName("vfio_region_info_cap_sparse_mmap");
        public static final long NR_AREAS = offset(LAYOUT, "nr_areas");
        public static final long AREAS = offset(LAYOUT, "areas");
    }

    /** {@code struct vfio_region_info_cap_type}: device-specific region type/subtype. */
    public static final class VfioRegionInfoCapType {
        private VfioRegionInfoCapType() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                VfioInfoCapHeader.LAYOUT.withName("header"), U32.withName("type"), U32.withName("subtype"))
                .withName("vfio_region_info_cap_type");
        public static final long TYPE = offset(LAYOUT, "type");
        public static final long SUBTYPE = offset(LAYOUT, "subtype");
    }

    /** {@code struct vfio_irq_info}: VFIO_DEVICE_GET_IRQ_INFO. */
    public static final class VfioIrqInfo {
        private VfioIrqInfo() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U32.withName("argsz"), U32.withName("flags"), U32.withName("index"), U32.withName("count"))
                .withName("vfio_irq_info");
        public static final long ARGSZ = offset(LAYOUT, "argsz");
        public static final long FLAGS = offset(LAYOUT, "flags");
        public static final long INDEX = offset(LAYOUT, "index");
        public static final long COUNT = offset(LAYOUT, "count");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /**
     * {@code struct vfio_irq_set}: VFIO_DEVICE_SET_IRQS; with DATA_EVENTFD, {@code data} holds
     * {@code count} s32 eventfds (-1 to unassign) for vectors {@code start..start+count-1}.
     */
    public static final class VfioIrqSet {
        private VfioIrqSet() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U32.withName("argsz"), U32.withName("flags"), U32.withName("index"), U32.withName("start"),
                U32.withName("count"), MemoryLayout.sequenceLayout(0, U8).withName("data"))
                .withName("vfio_irq_set");
        public static final long ARGSZ = offset(LAYOUT, "argsz");
        public static final long FLAGS = offset(LAYOUT, "flags");
        public static final long INDEX = offset(LAYOUT, "index");
        public static final long START = offset(LAYOUT, "start");
        public static final long COUNT = offset(LAYOUT, "count");
        public static final long DATA = offset(LAYOUT, "data");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /** {@code struct vfio_pci_dependent_device}: an entry of the hot-reset info. */
    public static final class VfioPciDependentDevice {
        private VfioPciDependentDevice() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U32.withName("group_id"), U16.withName("segment"), U8.withName("bus"), U8.withName("devfn"))
                .withName("vfio_pci_dependent_device");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /** {@code struct vfio_pci_hot_reset_info}: VFIO_DEVICE_GET_PCI_HOT_RESET_INFO. */
    public static final class VfioPciHotResetInfo {
        private VfioPciHotResetInfo() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U32.withName("argsz"), U32.withName("flags"), U32.withName("count"),
                MemoryLayout.sequenceLayout(0, VfioPciDependentDevice.LAYOUT).withName("devices"))
                .withName("vfio_pci_hot_reset_info");
        public static final long COUNT = offset(LAYOUT, "count");
        public static final long DEVICES = offset(LAYOUT, "devices");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /** {@code struct vfio_pci_hot_reset}: VFIO_DEVICE_PCI_HOT_RESET with the group fds. */
    public static final class VfioPciHotReset {
        private VfioPciHotReset() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U32.withName("argsz"), U32.withName("flags"), U32.withName("count"),
                MemoryLayout.sequenceLayout(0, U32).withName("group_fds"))
                .withName("vfio_pci_hot_reset");
        public static final long COUNT = offset(LAYOUT, "count");
        public static final long GROUP_FDS = offset(LAYOUT, "group_fds");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /** {@code struct vfio_iommu_type1_info}: VFIO_IOMMU_GET_INFO (supported IOVA page sizes). */
    public static final class VfioIommuType1Info {
        private VfioIommuType1Info() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U32.withName("argsz"), U32.withName("flags"), U64.withName("iova_pgsizes"), U32.withName("cap_offset"),
                pad(4)) // C rounds the size up to the u64 alignment; FFM does not
                .withName("vfio_iommu_type1_info");
        public static final long ARGSZ = offset(LAYOUT, "argsz");
        public static final long FLAGS = offset(LAYOUT, "flags");
        public static final long IOVA_PGSIZES = offset(LAYOUT, "iova_pgsizes");
        public static final long CAP_OFFSET = offset(LAYOUT, "cap_offset");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /** {@code struct vfio_iova_range}: inclusive [start, end]. */
    public static final class VfioIovaRange {
        private VfioIovaRange() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(U64.withName("start"), U64.withName("end"))
                .withName("vfio_iova_range");
        public static final long START = offset(LAYOUT, "start");
        public static final long END = offset(LAYOUT, "end");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /** {@code struct vfio_iommu_type1_info_cap_iova_range}: the IOVA ranges DMA may use. */
    public static final class VfioIommuType1InfoCapIovaRange {
        private VfioIommuType1InfoCapIovaRange() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                VfioInfoCapHeader.LAYOUT.withName("header"), U32.withName("nr_iovas"), U32.withName("reserved"),
                MemoryLayout.sequenceLayout(0, VfioIovaRange.LAYOUT).withName("iova_ranges"))
                .withName("vfio_iommu_type1_info_cap_iova_range");
        public static final long NR_IOVAS = offset(LAYOUT, "nr_iovas");
        public static final long IOVA_RANGES = offset(LAYOUT, "iova_ranges");
    }

    /** {@code struct vfio_iommu_type1_info_dma_avail}: how many more DMA mappings are allowed. */
    public static final class VfioIommuType1InfoDmaAvail {
        private VfioIommuType1InfoDmaAvail() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                VfioInfoCapHeader.LAYOUT.withName("header"), U32.withName("avail"))
                .withName("vfio_iommu_type1_info_dma_avail");
        public static final long AVAIL = offset(LAYOUT, "avail");
    }

    /** {@code struct vfio_iommu_type1_dma_map}: VFIO_IOMMU_MAP_DMA of [vaddr, vaddr+size) at iova. */
    public static final class VfioIommuType1DmaMap {
        private VfioIommuType1DmaMap() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U32.withName("argsz"), U32.withName("flags"), U64.withName("vaddr"), U64.withName("iova"),
                U64.withName("size"))
                .withName("vfio_iommu_type1_dma_map");
        public static final long ARGSZ = offset(LAYOUT, "argsz");
        public static final long FLAGS = offset(LAYOUT, "flags");
        public static final long VADDR = offset(LAYOUT, "vaddr");
        public static final long IOVA = offset(LAYOUT, "iova");
        public static final long MAP_SIZE = offset(LAYOUT, "size");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /** {@code struct vfio_iommu_type1_dma_unmap}: VFIO_IOMMU_UNMAP_DMA; size is updated to what was unmapped. */
    public static final class VfioIommuType1DmaUnmap {
        private VfioIommuType1DmaUnmap() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U32.withName("argsz"), U32.withName("flags"), U64.withName("iova"), U64.withName("size"),
                MemoryLayout.sequenceLayout(0, U8).withName("data"))
                .withName("vfio_iommu_type1_dma_unmap");
        public static final long ARGSZ = offset(LAYOUT, "argsz");
        public static final long FLAGS = offset(LAYOUT, "flags");
        public static final long IOVA = offset(LAYOUT, "iova");
        public static final long UNMAP_SIZE = offset(LAYOUT, "size");
        public static final long SIZE = LAYOUT.byteSize();
    }
}
