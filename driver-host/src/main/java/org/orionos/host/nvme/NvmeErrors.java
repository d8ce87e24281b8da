package org.orionos.host.nvme;

import org.orionos.bindings.Errno;
import org.orionos.bindings.nvme.NvmeStatus;

import static org.orionos.bindings.nvme.NvmeTypesH.NVME_SCT_CMD_SPECIFIC;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_SCT_GENERIC;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_SCT_PATH;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_SC_CAP_EXCEEDED;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_SC_INVALID_FIELD;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_SC_INVALID_NS;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_SC_INVALID_OPCODE;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_SC_LBA_RANGE;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_SC_NS_WRITE_PROTECTED;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_SC_ZNS_BOUNDARY_ERROR;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_SC_ZNS_FULL;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_SC_ZNS_INVALID_WRITE;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_SC_ZNS_INVAL_TRANSITION;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_SC_ZNS_READ_ONLY;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_SC_ZNS_TOO_MANY_ACTIVE;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_SC_ZNS_TOO_MANY_OPENS;

/**
 * Maps an NVMe status to the errno the block layer sees, the way the kernel's nvme driver does
 * (nvme_error_status): range errors are ENOSPC, an unknown opcode/field/namespace is EOPNOTSUPP or
 * EINVAL, zone errors are EIO/EOVERFLOW/ETOOMANYREFS-like codes, path errors are ETIMEDOUT-class
 * transport failures (retryable on another path), everything else EIO. Allocation-free.
 */
public final class NvmeErrors {
    private static final int ETOOMANYREFS = 109;

    private NvmeErrors() {
    }

    /** Negative errno for NVMe status {@code status} (> 0); positive value for {@link #errno}. */
    public static int negErrno(int status) {
        return -errno(status);
    }

    /** Positive errno for an NVMe status. */
    public static int errno(int status) {
        int sct = NvmeStatus.sct(status);
        int sc = NvmeStatus.sc(status);
        if (sct == NVME_SCT_GENERIC) {
            return switch (sc) {
                case NVME_SC_LBA_RANGE, NVME_SC_CAP_EXCEEDED -> Errno.ENOSPC;
                case NVME_SC_INVALID_OPCODE -> Errno.EOPNOTSUPP;
                case NVME_SC_INVALID_FIELD, NVME_SC_INVALID_NS -> Errno.EINVAL;
                case NVME_SC_NS_WRITE_PROTECTED -> Errno.EROFS;
                default -> Errno.EIO;
            };
        }
        if (sct == NVME_SCT_CMD_SPECIFIC) {
            return switch (sc) {
                case NVME_SC_ZNS_FULL, NVME_SC_ZNS_BOUNDARY_ERROR, NVME_SC_ZNS_INVALID_WRITE,
                     NVME_SC_ZNS_INVAL_TRANSITION -> Errno.EIO;
                case NVME_SC_ZNS_READ_ONLY -> Errno.EROFS;
                case NVME_SC_ZNS_TOO_MANY_ACTIVE, NVME_SC_ZNS_TOO_MANY_OPENS -> ETOOMANYREFS;
                default -> Errno.EIO;
            };
        }
        if (sct == NVME_SCT_PATH) {
            return Errno.ENOTCONN;
        }
        return Errno.EIO;
    }
}
