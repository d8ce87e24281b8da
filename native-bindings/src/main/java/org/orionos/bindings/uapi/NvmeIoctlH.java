package org.orionos.bindings.uapi;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import org.orionos.bindings.CHeader;

import static org.orionos.bindings.Ioctl._IO;
import static org.orionos.bindings.Ioctl._IOW;
import static org.orionos.bindings.Ioctl._IOWR;
import static org.orionos.bindings.Layouts.U16;
import static org.orionos.bindings.Layouts.U32;
import static org.orionos.bindings.Layouts.U64;
import static org.orionos.bindings.Layouts.U8;
import static org.orionos.bindings.Layouts.offset;
import static org.orionos.bindings.Layouts.pad;

/**
 * linux/nvme_ioctl.h: the NVMe driver's passthrough ioctls on /dev/nvmeX (admin) and
 * /dev/nvmeXnY (I/O), and the io_uring passthrough command for /dev/ngXnY
 * ({@code IORING_OP_URING_CMD} with {@code cmd_op} = {@link #NVME_URING_CMD_IO}, the
 * {@link NvmeUringCmd} in the SQE's {@code cmd} area, which needs IORING_SETUP_SQE128).
 * The command words are the 64-byte submission entry's (see {@code org.orionos.bindings.nvme.NvmeSqe});
 * the driver fills in command id, PRPs/SGLs and (for I/O) the namespace only where said.
 */
@CHeader({"linux/ioctl.h", "linux/nvme_ioctl.h"}) // nvme_ioctl.h uses _IOWR without including it
public final class NvmeIoctlH {
    private NvmeIoctlH() {
    }

    /** {@code struct nvme_user_io}: the legacy NVME_IOCTL_SUBMIT_IO read/write/compare. */
    public static final class NvmeUserIo {
        private NvmeUserIo() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U8.withName("opcode"), U8.withName("flags"), U16.withName("control"), U16.withName("nblocks"),
                U16.withName("rsvd"), U64.withName("metadata"), U64.withName("addr"), U64.withName("slba"),
                U32.withName("dsmgmt"), U32.withName("reftag"), U16.withName("apptag"), U16.withName("appmask"),
                pad(4)) // C rounds the size up to the u64 alignment; FFM does not
                .withName("nvme_user_io");
        public static final long OPCODE = offset(LAYOUT, "opcode");
        public static final long CONTROL = offset(LAYOUT, "control");
        /** Zero-based: number of logical blocks minus one. */
        public static final long NBLOCKS = offset(LAYOUT, "nblocks");
        public static final long METADATA = offset(LAYOUT, "metadata");
        public static final long ADDR = offset(LAYOUT, "addr");
        public static final long SLBA = offset(LAYOUT, "slba");
        public static final long DSMGMT = offset(LAYOUT, "dsmgmt");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /**
     * {@code struct nvme_passthru_cmd} (= {@code nvme_admin_cmd}): NVME_IOCTL_ADMIN_CMD and
     * NVME_IOCTL_IO_CMD. {@code result} receives completion dword 0; the ioctl returns the NVMe
     * status (positive), or -errno.
     */
    public static final class NvmePassthruCmd {
        private NvmePassthruCmd() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U8.withName("opcode"), U8.withName("flags"), U16.withName("rsvd1"), U32.withName("nsid"),
                U32.withName("cdw2"), U32.withName("cdw3"), U64.withName("metadata"), U64.withName("addr"),
                U32.withName("metadata_len"), U32.withName("data_len"),
                U32.withName("cdw10"), U32.withName("cdw11"), U32.withName("cdw12"), U32.withName("cdw13"),
                U32.withName("cdw14"), U32.withName("cdw15"), U32.withName("timeout_ms"), U32.withName("result"))
                .withName("nvme_passthru_cmd");
        public static final long OPCODE = offset(LAYOUT, "opcode");
        public static final long FLAGS = offset(LAYOUT, "flags");
        public static final long NSID = offset(LAYOUT, "nsid");
        public static final long CDW2 = offset(LAYOUT, "cdw2");
        public static final long CDW3 = offset(LAYOUT, "cdw3");
        public static final long METADATA = offset(LAYOUT, "metadata");
        public static final long ADDR = offset(LAYOUT, "addr");
        public static final long METADATA_LEN = offset(LAYOUT, "metadata_len");
        public static final long DATA_LEN = offset(LAYOUT, "data_len");
        public static final long CDW10 = offset(LAYOUT, "cdw10");
        public static final long CDW11 = offset(LAYOUT, "cdw11");
        public static final long CDW12 = offset(LAYOUT, "cdw12");
        public static final long CDW13 = offset(LAYOUT, "cdw13");
        public static final long CDW14 = offset(LAYOUT, "cdw14");
        public static final long CDW15 = offset(LAYOUT, "cdw15");
        public static final long TIMEOUT_MS = offset(LAYOUT, "timeout_ms");
        public static final long RESULT = offset(LAYOUT, "result");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /**
     * {@code struct nvme_passthru_cmd64}: the 64-bit-result variant (NVME_IOCTL_ADMIN64_CMD,
     * NVME_IOCTL_IO64_CMD, and NVME_IOCTL_IO64_CMD_VEC where {@code addr} points to iovecs and
     * {@code vec_cnt} counts them).
     */
    public static final class NvmePassthruCmd64 {
        private NvmePassthruCmd64() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U8.withName("opcode"), U8.withName("flags"), U16.withName("rsvd1"), U32.withName("nsid"),
                U32.withName("cdw2"), U32.withName("cdw3"), U64.withName("metadata"), U64.withName("addr"),
                U32.withName("metadata_len"),
                MemoryLayout.unionLayout(U32.withName("data_len"), U32.withName("vec_cnt")),
                U32.withName("cdw10"), U32.withName("cdw11"), U32.withName("cdw12"), U32.withName("cdw13"),
                U32.withName("cdw14"), U32.withName("cdw15"), U32.withName("timeout_ms"), U32.withName("rsvd2"),
                U64.withName("result"))
                .withName("nvme_passthru_cmd64");
        public static final long OPCODE = offset(LAYOUT, "opcode");
        public static final long FLAGS = offset(LAYOUT, "flags");
        public static final long NSID = offset(LAYOUT, "nsid");
        public static final long CDW2 = offset(LAYOUT, "cdw2");
        public static final long CDW3 = offset(LAYOUT, "cdw3");
        public static final long METADATA = offset(LAYOUT, "metadata");
        public static final long ADDR = offset(LAYOUT, "addr");
        public static final long METADATA_LEN = offset(LAYOUT, "metadata_len");
        public static final long DATA_LEN = offset(LAYOUT, "data_len");
        public static final long VEC_CNT = offset(LAYOUT, "vec_cnt");
        public static final long CDW10 = offset(LAYOUT, "cdw10");
        public static final long CDW11 = offset(LAYOUT, "cdw11");
        public static final long CDW12 = offset(LAYOUT, "cdw12");
        public static final long CDW13 = offset(LAYOUT, "cdw13");
        public static final long CDW14 = offset(LAYOUT, "cdw14");
        public static final long CDW15 = offset(LAYOUT, "cdw15");
        public static final long TIMEOUT_MS = offset(LAYOUT, "timeout_ms");
        public static final long RESULT = offset(LAYOUT, "result");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /**
     * {@code struct nvme_uring_cmd}: 72 bytes in the SQE's {@code cmd} area (80 bytes with SQE128).
     * Completion dword 0 comes back in {@code big_cqe[0]} of a 32-byte CQE (IORING_SETUP_CQE32),
     * the NVMe status in {@code res}.
     */
    public static final class NvmeUringCmd {
        private NvmeUringCmd() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U8.withName("opcode"), U8.withName("flags"), U16.withName("rsvd1"), U32.withName("nsid"),
                U32.withName("cdw2"), U32.withName("cdw3"), U64.withName("metadata"), U64.withName("addr"),
                U32.withName("metadata_len"), U32.withName("data_len"),
                U32.withName("cdw10"), U32.withName("cdw11"), U32.withName("cdw12"), U32.withName("cdw13"),
                U32.withName("cdw14"), U32.withName("cdw15"), U32.withName("timeout_ms"), U32.withName("rsvd2"))
                .withName("nvme_uring_cmd");
        public static final long OPCODE = offset(LAYOUT, "opcode");
        public static final long FLAGS = offset(LAYOUT, "flags");
        public static final long NSID = offset(LAYOUT, "nsid");
        public static final long CDW2 = offset(LAYOUT, "cdw2");
        public static final long CDW3 = offset(LAYOUT, "cdw3");
        public static final long METADATA = offset(LAYOUT, "metadata");
        public static final long ADDR = offset(LAYOUT, "addr");
        public static final long METADATA_LEN = offset(LAYOUT, "metadata_len");
        public static final long DATA_LEN = offset(LAYOUT, "data_len");
        public static final long CDW10 = offset(LAYOUT, "cdw10");
        public static final long CDW11 = offset(LAYOUT, "cdw11");
        public static final long CDW12 = offset(LAYOUT, "cdw12");
        public static final long CDW13 = offset(LAYOUT, "cdw13");
        public static final long CDW14 = offset(LAYOUT, "cdw14");
        public static final long CDW15 = offset(LAYOUT, "cdw15");
        public static final long TIMEOUT_MS = offset(LAYOUT, "timeout_ms");
        public static final long SIZE = LAYOUT.byteSize();
    }

    private static final int N = 'N';

    /** Returns the namespace id of an nvmeXnY/ngXnY file descriptor. */
    public static final long NVME_IOCTL_ID = _IO(N, 0x40);
    public static final long NVME_IOCTL_ADMIN_CMD = _IOWR(N, 0x41, NvmePassthruCmd.LAYOUT);
    public static final long NVME_IOCTL_SUBMIT_IO = _IOW(N, 0x42, NvmeUserIo.LAYOUT);
    public static final long NVME_IOCTL_IO_CMD = _IOWR(N, 0x43, NvmePassthruCmd.LAYOUT);
    public static final long NVME_IOCTL_RESET = _IO(N, 0x44);
    public static final long NVME_IOCTL_SUBSYS_RESET = _IO(N, 0x45);
    public static final long NVME_IOCTL_RESCAN = _IO(N, 0x46);
    public static final long NVME_IOCTL_ADMIN64_CMD = _IOWR(N, 0x47, NvmePassthruCmd64.LAYOUT);
    public static final long NVME_IOCTL_IO64_CMD = _IOWR(N, 0x48, NvmePassthruCmd64.LAYOUT);
    public static final long NVME_IOCTL_IO64_CMD_VEC = _IOWR(N, 0x49, NvmePassthruCmd64.LAYOUT);
    /** io_uring {@code cmd_op} values for /dev/ngXnY (not ioctls, but encoded like them). */
    public static final long NVME_URING_CMD_IO = _IOWR(N, 0x80, NvmeUringCmd.LAYOUT);
    public static final long NVME_URING_CMD_IO_VEC = _IOWR(N, 0x81, NvmeUringCmd.LAYOUT);
    public static final long NVME_URING_CMD_ADMIN = _IOWR(N, 0x82, NvmeUringCmd.LAYOUT);
    public static final long NVME_URING_CMD_ADMIN_VEC = _IOWR(N, 0x83, NvmeUringCmd.LAYOUT);
}
