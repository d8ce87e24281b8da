package org.orionos.bindings.nvme;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import org.orionos.bindings.NotInHeader;

import static org.orionos.bindings.Layouts.offset;
import static org.orionos.bindings.nvme.NvmeTypesH.LE16;
import static org.orionos.bindings.nvme.NvmeTypesH.LE32;

/**
 * The 16-byte NVMe completion queue entry (NVMe Base Specification 2.0, "Common Completion Queue
 * Entry"): dw0 (command specific result), dw1, sq_head (how far the controller consumed the SQ),
 * sq_id, cid (the submitter's command id) and status: bit 0 is the phase tag, bits 15:1 the status
 * field that {@link NvmeStatus} decodes (the value the kernel passthrough ioctls return).
 * A new entry is recognised by its phase tag differing from the previous pass over the ring.
 */
@NotInHeader("NVMe Base Specification 2.0, Common Completion Queue Entry; not in a UAPI or libnvme header")
public final class NvmeCqe {
    private NvmeCqe() {
    }

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            LE32.withName("dw0"), LE32.withName("dw1"), LE16.withName("sq_head"), LE16.withName("sq_id"),
            LE16.withName("cid"), LE16.withName("status"))
            .withName("nvme_cqe");

    public static final long DW0 = offset(LAYOUT, "dw0");
    public static final long DW1 = offset(LAYOUT, "dw1");
    public static final long SQ_HEAD = offset(LAYOUT, "sq_head");
    public static final long SQ_ID = offset(LAYOUT, "sq_id");
    public static final long CID = offset(LAYOUT, "cid");
    public static final long STATUS = offset(LAYOUT, "status");
    public static final long SIZE = LAYOUT.byteSize();

    /** Phase tag of a raw 16-bit {@code status} word. */
    public static int phase(short status) {
        return status & 1;
    }

    /** The 15-bit status field of a raw {@code status} word (0 = success). */
    public static int statusField(short status) {
        return (status & 0xffff) >>> 1;
    }
}
