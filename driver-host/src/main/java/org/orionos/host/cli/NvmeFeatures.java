package org.orionos.host.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;

import static org.orionos.bindings.nvme.NvmeTypesH.NVME_FEAT_FID_ARBITRATION;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_FEAT_FID_NUM_QUEUES;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_FEAT_FID_POWER_MGMT;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_FEAT_FID_TEMP_THRESH;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_FEAT_FID_VOLATILE_WC;

/** Names and field decoding of the features {@code orion nvme get-feature} explains. */
final class NvmeFeatures {
    private NvmeFeatures() {
    }

    static String name(int fid) {
        return switch (fid) {
            case NVME_FEAT_FID_ARBITRATION -> "Arbitration";
            case NVME_FEAT_FID_POWER_MGMT -> "Power Management";
            case NVME_FEAT_FID_TEMP_THRESH -> "Temperature Threshold";
            case NVME_FEAT_FID_VOLATILE_WC -> "Volatile Write Cache";
            case NVME_FEAT_FID_NUM_QUEUES -> "Number of Queues";
            default -> "Feature 0x" + Integer.toHexString(fid);
        };
    }

    /** Adds the feature's fields (NVMe Base Specification, Get Features completion dword 0). */
    static void decode(int fid, int v, ObjectNode o) {
        switch (fid) {
            case NVME_FEAT_FID_ARBITRATION -> {
                o.put("ab", v & 7); // arbitration burst, log2 (7 = unlimited)
                o.put("lpw", (v >>> 8) & 0xff); // weighted round robin weights, 0-based
                o.put("mpw", (v >>> 16) & 0xff);
                o.put("hpw", (v >>> 24) & 0xff);
            }
            case NVME_FEAT_FID_POWER_MGMT -> {
                o.put("ps", v & 0x1f);
                o.put("wh", (v >>> 5) & 7);
            }
            case NVME_FEAT_FID_TEMP_THRESH -> {
                o.put("tmpth", v & 0xffff); // kelvin
                o.put("tmpth_celsius", (v & 0xffff) - 273);
                o.put("tmpsel", (v >>> 16) & 0xf);
                o.put("thsel", (v >>> 20) & 3);
            }
            case NVME_FEAT_FID_VOLATILE_WC -> o.put("wce", v & 1);
            case NVME_FEAT_FID_NUM_QUEUES -> {
                o.put("nsqa", (v & 0xffff) + 1); // allocated, reported 0-based
                o.put("ncqa", (v >>> 16) + 1);
            }
            default -> {
            }
        }
    }
}
