package org.orionos.bindings.nvme;

import static org.orionos.bindings.nvme.NvmeTypesH.*;

/**
 * Decodes an NVMe status field: the 15-bit value of CQE DW3 bits 31:17, which is also what the
 * kernel's passthrough ioctls and io_uring NVMe commands return as a positive result. Layout:
 * SC bits 7:0, SCT bits 10:8, CRD bits 12:11, More bit 13, DNR bit 14. Names are libnvme's
 * {@code NVME_SC_*} without the prefix; command-specific codes are the admin and NVM/zoned I/O
 * command ones (fabrics commands reuse 0x80.. of type 1 and are not named here). Lookups allocate
 * nothing, so the data path may use them for logging decisions.
 */
public final class NvmeStatus {
    private NvmeStatus() {
    }

    /** Names by {@code sct << 8 | sc}; null where the specification assigns nothing we know. */
    private static final String[] NAMES = new String[8 << 8];

    private static void put(int sct, int sc, String name) {
        NAMES[sct << 8 | sc] = name;
    }

    static {
        put(NVME_SCT_GENERIC, NVME_SC_SUCCESS, "SUCCESS");
        put(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE, "INVALID_OPCODE");
        put(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD, "INVALID_FIELD");
        put(NVME_SCT_GENERIC, NVME_SC_CMDID_CONFLICT, "CMDID_CONFLICT");
        put(NVME_SCT_GENERIC, NVME_SC_DATA_XFER_ERROR, "DATA_XFER_ERROR");
        put(NVME_SCT_GENERIC, NVME_SC_POWER_LOSS, "POWER_LOSS");
        put(NVME_SCT_GENERIC, NVME_SC_INTERNAL, "INTERNAL");
        put(NVME_SCT_GENERIC, NVME_SC_ABORT_REQ, "ABORT_REQ");
        put(NVME_SCT_GENERIC, NVME_SC_ABORT_QUEUE, "ABORT_QUEUE");
        put(NVME_SCT_GENERIC, NVME_SC_FUSED_FAIL, "FUSED_FAIL");
        put(NVME_SCT_GENERIC, NVME_SC_FUSED_MISSING, "FUSED_MISSING");
        put(NVME_SCT_GENERIC, NVME_SC_INVALID_NS, "INVALID_NS");
        put(NVME_SCT_GENERIC, NVME_SC_CMD_SEQ_ERROR, "CMD_SEQ_ERROR");
        put(NVME_SCT_GENERIC, NVME_SC_SGL_INVALID_LAST, "SGL_INVALID_LAST");
        put(NVME_SCT_GENERIC, NVME_SC_SGL_INVALID_COUNT, "SGL_INVALID_COUNT");
        put(NVME_SCT_GENERIC, NVME_SC_SGL_INVALID_DATA, "SGL_INVALID_DATA");
        put(NVME_SCT_GENERIC, NVME_SC_SGL_INVALID_METADATA, "SGL_INVALID_METADATA");
        put(NVME_SCT_GENERIC, NVME_SC_SGL_INVALID_TYPE, "SGL_INVALID_TYPE");
        put(NVME_SCT_GENERIC, NVME_SC_CMB_INVALID_USE, "CMB_INVALID_USE");
        put(NVME_SCT_GENERIC, NVME_SC_PRP_INVALID_OFFSET, "PRP_INVALID_OFFSET");
        put(NVME_SCT_GENERIC, NVME_SC_AWU_EXCEEDED, "AWU_EXCEEDED");
        put(NVME_SCT_GENERIC, NVME_SC_OP_DENIED, "OP_DENIED");
        put(NVME_SCT_GENERIC, NVME_SC_SGL_INVALID_OFFSET, "SGL_INVALID_OFFSET");
        put(NVME_SCT_GENERIC, NVME_SC_HOSTID_FORMAT, "HOSTID_FORMAT");
        put(NVME_SCT_GENERIC, NVME_SC_KAT_EXPIRED, "KAT_EXPIRED");
        put(NVME_SCT_GENERIC, NVME_SC_KAT_INVALID, "KAT_INVALID");
        put(NVME_SCT_GENERIC, NVME_SC_CMD_ABORTED_PREMEPT, "CMD_ABORTED_PREMEPT");
        put(NVME_SCT_GENERIC, NVME_SC_SANITIZE_FAILED, "SANITIZE_FAILED");
        put(NVME_SCT_GENERIC, NVME_SC_SANITIZE_IN_PROGRESS, "SANITIZE_IN_PROGRESS");
        put(NVME_SCT_GENERIC, NVME_SC_SGL_INVALID_GRANULARITY, "SGL_INVALID_GRANULARITY");
        put(NVME_SCT_GENERIC, NVME_SC_CMD_IN_CMBQ_NOT_SUPP, "CMD_IN_CMBQ_NOT_SUPP");
        put(NVME_SCT_GENERIC, NVME_SC_NS_WRITE_PROTECTED, "NS_WRITE_PROTECTED");
        put(NVME_SCT_GENERIC, NVME_SC_CMD_INTERRUPTED, "CMD_INTERRUPTED");
        put(NVME_SCT_GENERIC, NVME_SC_TRAN_TPORT_ERROR, "TRAN_TPORT_ERROR");
        put(NVME_SCT_GENERIC, NVME_SC_PROHIBITED_BY_CMD_AND_FEAT, "PROHIBITED_BY_CMD_AND_FEAT");
        put(NVME_SCT_GENERIC, NVME_SC_ADMIN_CMD_MEDIA_NOT_READY, "ADMIN_CMD_MEDIA_NOT_READY");
        put(NVME_SCT_GENERIC, NVME_SC_LBA_RANGE, "LBA_RANGE");
        put(NVME_SCT_GENERIC, NVME_SC_CAP_EXCEEDED, "CAP_EXCEEDED");
        put(NVME_SCT_GENERIC, NVME_SC_NS_NOT_READY, "NS_NOT_READY");
        put(NVME_SCT_GENERIC, NVME_SC_RESERVATION_CONFLICT, "RESERVATION_CONFLICT");
        put(NVME_SCT_GENERIC, NVME_SC_FORMAT_IN_PROGRESS, "FORMAT_IN_PROGRESS");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_CQ_INVALID, "CQ_INVALID");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_QID_INVALID, "QID_INVALID");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_QUEUE_SIZE, "QUEUE_SIZE");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_ABORT_LIMIT, "ABORT_LIMIT");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_ABORT_MISSING, "ABORT_MISSING");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_ASYNC_LIMIT, "ASYNC_LIMIT");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_FIRMWARE_SLOT, "FIRMWARE_SLOT");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_FIRMWARE_IMAGE, "FIRMWARE_IMAGE");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_VECTOR, "INVALID_VECTOR");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_LOG_PAGE, "INVALID_LOG_PAGE");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_FORMAT, "INVALID_FORMAT");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_FW_NEEDS_CONV_RESET, "FW_NEEDS_CONV_RESET");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_QUEUE, "INVALID_QUEUE");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_FEATURE_NOT_SAVEABLE, "FEATURE_NOT_SAVEABLE");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_FEATURE_NOT_CHANGEABLE, "FEATURE_NOT_CHANGEABLE");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_FEATURE_NOT_PER_NS, "FEATURE_NOT_PER_NS");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_FW_NEEDS_SUBSYS_RESET, "FW_NEEDS_SUBSYS_RESET");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_FW_NEEDS_RESET, "FW_NEEDS_RESET");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_FW_NEEDS_MAX_TIME, "FW_NEEDS_MAX_TIME");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_FW_ACTIVATE_PROHIBITED, "FW_ACTIVATE_PROHIBITED");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_OVERLAPPING_RANGE, "OVERLAPPING_RANGE");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_NS_INSUFFICIENT_CAP, "NS_INSUFFICIENT_CAP");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_NS_ID_UNAVAILABLE, "NS_ID_UNAVAILABLE");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_NS_ALREADY_ATTACHED, "NS_ALREADY_ATTACHED");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_NS_IS_PRIVATE, "NS_IS_PRIVATE");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_NS_NOT_ATTACHED, "NS_NOT_ATTACHED");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_THIN_PROV_NOT_SUPP, "THIN_PROV_NOT_SUPP");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_CTRL_LIST_INVALID, "CTRL_LIST_INVALID");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_SELF_TEST_IN_PROGRESS, "SELF_TEST_IN_PROGRESS");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_BP_WRITE_PROHIBITED, "BP_WRITE_PROHIBITED");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_CTRL_ID, "INVALID_CTRL_ID");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_SEC_CTRL_STATE, "INVALID_SEC_CTRL_STATE");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_CTRL_RESOURCES, "INVALID_CTRL_RESOURCES");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_RESOURCE_ID, "INVALID_RESOURCE_ID");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_PMR_SAN_PROHIBITED, "PMR_SAN_PROHIBITED");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_ANA_GROUP_ID_INVALID, "ANA_GROUP_ID_INVALID");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_ANA_ATTACH_FAILED, "ANA_ATTACH_FAILED");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_INSUFFICIENT_CAP, "INSUFFICIENT_CAP");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_NS_ATTACHMENT_LIMIT_EXCEEDED, "NS_ATTACHMENT_LIMIT_EXCEEDED");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_PROHIBIT_CMD_EXEC_NOT_SUPPORTED, "PROHIBIT_CMD_EXEC_NOT_SUPPORTED");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_IOCS_NOT_SUPPORTED, "IOCS_NOT_SUPPORTED");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_IOCS_NOT_ENABLED, "IOCS_NOT_ENABLED");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_IOCS_COMBINATION_REJECTED, "IOCS_COMBINATION_REJECTED");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_IOCS, "INVALID_IOCS");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_ID_UNAVAILABLE, "ID_UNAVAILABLE");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_DISCOVERY_INFO, "INVALID_DISCOVERY_INFO");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_ZONING_DATA_STRUCT_LOCKED, "ZONING_DATA_STRUCT_LOCKED");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_ZONING_DATA_STRUCT_NOTFND, "ZONING_DATA_STRUCT_NOTFND");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_INSUFFICIENT_DISC_RES, "INSUFFICIENT_DISC_RES");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_REQSTD_FUNCTION_DISABLED, "REQSTD_FUNCTION_DISABLED");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_ZONEGRP_ORIGINATOR_INVLD, "ZONEGRP_ORIGINATOR_INVLD");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_BAD_ATTRIBUTES, "BAD_ATTRIBUTES");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_PI, "INVALID_PI");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_READ_ONLY, "READ_ONLY");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_CMD_SIZE_LIMIT_EXCEEDED, "CMD_SIZE_LIMIT_EXCEEDED");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_ZNS_INVALID_OP_REQUEST, "ZNS_INVALID_OP_REQUEST");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_ZNS_ZRWA_RESOURCES_UNAVAILABLE, "ZNS_ZRWA_RESOURCES_UNAVAILABLE");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_ZNS_BOUNDARY_ERROR, "ZNS_BOUNDARY_ERROR");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_ZNS_FULL, "ZNS_FULL");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_ZNS_READ_ONLY, "ZNS_READ_ONLY");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_ZNS_OFFLINE, "ZNS_OFFLINE");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_ZNS_INVALID_WRITE, "ZNS_INVALID_WRITE");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_ZNS_TOO_MANY_ACTIVE, "ZNS_TOO_MANY_ACTIVE");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_ZNS_TOO_MANY_OPENS, "ZNS_TOO_MANY_OPENS");
        put(NVME_SCT_CMD_SPECIFIC, NVME_SC_ZNS_INVAL_TRANSITION, "ZNS_INVAL_TRANSITION");
        put(NVME_SCT_MEDIA, NVME_SC_WRITE_FAULT, "WRITE_FAULT");
        put(NVME_SCT_MEDIA, NVME_SC_READ_ERROR, "READ_ERROR");
        put(NVME_SCT_MEDIA, NVME_SC_GUARD_CHECK, "GUARD_CHECK");
        put(NVME_SCT_MEDIA, NVME_SC_APPTAG_CHECK, "APPTAG_CHECK");
        put(NVME_SCT_MEDIA, NVME_SC_REFTAG_CHECK, "REFTAG_CHECK");
        put(NVME_SCT_MEDIA, NVME_SC_COMPARE_FAILED, "COMPARE_FAILED");
        put(NVME_SCT_MEDIA, NVME_SC_ACCESS_DENIED, "ACCESS_DENIED");
        put(NVME_SCT_MEDIA, NVME_SC_UNWRITTEN_BLOCK, "UNWRITTEN_BLOCK");
        put(NVME_SCT_MEDIA, NVME_SC_STORAGE_TAG_CHECK, "STORAGE_TAG_CHECK");
        put(NVME_SCT_PATH, NVME_SC_ANA_INTERNAL_PATH_ERROR, "ANA_INTERNAL_PATH_ERROR");
        put(NVME_SCT_PATH, NVME_SC_ANA_PERSISTENT_LOSS, "ANA_PERSISTENT_LOSS");
        put(NVME_SCT_PATH, NVME_SC_ANA_INACCESSIBLE, "ANA_INACCESSIBLE");
        put(NVME_SCT_PATH, NVME_SC_ANA_TRANSITION, "ANA_TRANSITION");
        put(NVME_SCT_PATH, NVME_SC_CTRL_PATH_ERROR, "CTRL_PATH_ERROR");
        put(NVME_SCT_PATH, NVME_SC_HOST_PATH_ERROR, "HOST_PATH_ERROR");
        put(NVME_SCT_PATH, NVME_SC_CMD_ABORTED_BY_HOST, "CMD_ABORTED_BY_HOST");
    }

    /** Status code (bits 7:0). */
    public static int sc(int status) {
        return (status >> NVME_SC_SHIFT) & NVME_SC_MASK;
    }

    /** Status code type (bits 10:8): NVME_SCT_GENERIC, _CMD_SPECIFIC, _MEDIA, _PATH or _VS. */
    public static int sct(int status) {
        return (status >> NVME_SCT_SHIFT) & NVME_SCT_MASK;
    }

    /** Command retry delay index (bits 12:11), 0 = retry at once; selects CRDT1..3 of Identify Controller. */
    public static int crd(int status) {
        return (status & NVME_SC_CRD) >> 11;
    }

    /** Do Not Retry: the same command will fail again. */
    public static boolean dnr(int status) {
        return (status & NVME_SC_DNR) != 0;
    }

    /** More: further information is in the Error Information log page. */
    public static boolean more(int status) {
        return (status & NVME_SC_MORE) != 0;
    }

    /** True for success (any flags aside). */
    public static boolean ok(int status) {
        return (status & ((NVME_SCT_MASK << NVME_SCT_SHIFT) | NVME_SC_MASK)) == 0;
    }

    /** Name of the type/code, e.g. {@code INVALID_FIELD}, or null when unknown (including vendor specific). */
    public static String name(int status) {
        return NAMES[sct(status) << 8 | sc(status)];
    }

    /** Name of a status code type. */
    public static String typeName(int sct) {
        return switch (sct) {
            case NVME_SCT_GENERIC -> "generic";
            case NVME_SCT_CMD_SPECIFIC -> "command specific";
            case NVME_SCT_MEDIA -> "media and data integrity";
            case NVME_SCT_PATH -> "path related";
            case NVME_SCT_VS -> "vendor specific";
            default -> "reserved type " + sct;
        };
    }

    /**
     * Readable form for messages, e.g. {@code INVALID_FIELD (generic 0x2) DNR}, or
     * {@code unknown (media and data integrity 0xc3) MORE}. Allocates: for the API edge, not the data path.
     */
    public static String describe(int status) {
        String n = name(status);
        StringBuilder sb = new StringBuilder(n == null ? "unknown" : n)
                .append(" (").append(typeName(sct(status))).append(" 0x").append(Integer.toHexString(sc(status)))
                .append(')');
        if (crd(status) != 0) {
            sb.append(" CRD").append(crd(status));
        }
        if (more(status)) {
            sb.append(" MORE");
        }
        if (dnr(status)) {
            sb.append(" DNR");
        }
        return sb.toString();
    }
}
