package org.orionos.bindings.nvme;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import org.orionos.bindings.NotInHeader;

import static org.orionos.bindings.Layouts.offset;
import static org.orionos.bindings.nvme.NvmeTypesH.LE16;
import static org.orionos.bindings.nvme.NvmeTypesH.LE32;
import static org.orionos.bindings.nvme.NvmeTypesH.LE64;
import static org.orionos.bindings.nvme.NvmeTypesH.U8;

/**
 * The 64-byte NVMe submission queue entry (NVMe Base Specification 2.0, "Common Command Format"):
 * <pre>
 *  0 opcode  1 flags (FUSE 1:0, PSDT 7:6)  2 cid (u16)  4 nsid
 *  8 cdw2   12 cdw3   16 mptr (u64)   24 dptr: prp1 (u64) | 32 prp2 (u64), or a 16-byte SGL descriptor
 * 40 cdw10  44 cdw11  48 cdw12  52 cdw13  56 cdw14  60 cdw15
 * </pre>
 * The kernel passthrough structs ({@code uapi.NvmeIoctlH}) carry the same command dwords except
 * cid, mptr and dptr, which the driver owns. No header declares this entry for user space, so
 * {@code NvmeSpecLayoutTest} checks it against offsets transcribed from the specification.
 */
@NotInHeader("NVMe Base Specification 2.0, Common Command Format; not in a UAPI or libnvme header")
public final class NvmeSqe {
    private NvmeSqe() {
    }

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U8.withName("opcode"), U8.withName("flags"), LE16.withName("cid"), LE32.withName("nsid"),
            LE32.withName("cdw2"), LE32.withName("cdw3"), LE64.withName("mptr"),
            MemoryLayout.unionLayout(
                    MemoryLayout.structLayout(LE64.withName("prp1"), LE64.withName("prp2")),
                    MemoryLayout.sequenceLayout(16, U8).withName("sgl")).withName("dptr"),
            LE32.withName("cdw10"), LE32.withName("cdw11"), LE32.withName("cdw12"), LE32.withName("cdw13"),
            LE32.withName("cdw14"), LE32.withName("cdw15"))
            .withName("nvme_sqe");

    public static final long OPCODE = offset(LAYOUT, "opcode");
    public static final long FLAGS = offset(LAYOUT, "flags");
    public static final long CID = offset(LAYOUT, "cid");
    public static final long NSID = offset(LAYOUT, "nsid");
    public static final long CDW2 = offset(LAYOUT, "cdw2");
    public static final long CDW3 = offset(LAYOUT, "cdw3");
    public static final long MPTR = offset(LAYOUT, "mptr");
    public static final long DPTR = offset(LAYOUT, "dptr");
    public static final long PRP1 = offset(LAYOUT, "dptr.prp1");
    public static final long PRP2 = offset(LAYOUT, "dptr.prp2");
    public static final long SGL = offset(LAYOUT, "dptr.sgl");
    public static final long CDW10 = offset(LAYOUT, "cdw10");
    public static final long CDW11 = offset(LAYOUT, "cdw11");
    public static final long CDW12 = offset(LAYOUT, "cdw12");
    public static final long CDW13 = offset(LAYOUT, "cdw13");
    public static final long CDW14 = offset(LAYOUT, "cdw14");
    public static final long CDW15 = offset(LAYOUT, "cdw15");
    public static final long SIZE = LAYOUT.byteSize();

    /** flags bits 1:0: fused operation (0 normal, 1 first, 2 second of a fused pair). */
    public static final int FLAGS_FUSE_MASK = 0x3;
    /** flags bits 7:6: data pointer is PRPs (0) or an SGL (1: buffer, 2: segment for metadata). */
    public static final int FLAGS_PSDT_SHIFT = 6;
    public static final int PSDT_PRP = 0;
    public static final int PSDT_SGL_MPTR_CONTIGUOUS = 1;
    public static final int PSDT_SGL_MPTR_SGL = 2;

    /** Byte offset of command dword {@code n} (0..15). */
    public static long cdw(int n) {
        if (n < 0 || n > 15) {
            throw new IllegalArgumentException("command dword " + n + " is not in 0..15");
        }
        return 4L * n;
    }
}
