package org.orionos.bindings.nvme;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import org.orionos.bindings.CHeader;

import static org.orionos.bindings.Layouts.offset;

/**
 * NVMe Base / NVM Command Set / Zoned Namespace specification data structures and codes, shared
 * by both NVMe transports (kernel passthrough through {@code uapi.NvmeIoctlH} and the VFIO driver).
 *
 * <p>No kernel UAPI header carries these, so the holder mirrors libnvme's {@code nvme/types.h}
 * (Debian package libnvme-dev), the NVMe project's own transcription of the specifications: the
 * layout check proves every offset, size and code against it, and names are libnvme's, which are
 * also the keys of {@code nvme-cli}'s JSON output (so {@code orion nvme id-ctrl --json} can match
 * nvme-cli field for field). Reserved ranges keep libnvme's {@code rsvdN} names (N = byte offset).
 * All multi-byte fields are little-endian on the wire; the layouts say so explicitly.
 * The 64-byte submission and 16-byte completion entries, which libnvme does not declare, are
 * {@link NvmeSqe} and {@link NvmeCqe}; status decoding is {@link NvmeStatus}.
 */
@CHeader("nvme/types.h")
public final class NvmeTypesH {
    private NvmeTypesH() {
    }

    /** Field layouts as the specification defines them: little-endian, naturally aligned. */
    public static final ValueLayout.OfByte U8 = ValueLayout.JAVA_BYTE;
    public static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfInt LE32 = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfLong LE64 = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * An ASCII string field (sn, mn, fr, subnqn, frs[i], ...) without its trailing space or NUL
     * padding. Non-ASCII bytes become U+FFFD.
     */
    public static String text(MemorySegment data, long offset, long length) {
        byte[] b = data.asSlice(offset, length).toArray(ValueLayout.JAVA_BYTE);
        int end = b.length;
        for (int i = 0; i < b.length; i++) {
            if (b[i] == 0) {
                end = i;
                break;
            }
        }
        while (end > 0 && b[end - 1] == ' ') {
            end--;
        }
        return new String(b, 0, end, StandardCharsets.US_ASCII);
    }

    /** A little-endian 128-bit counter (SMART data units, power-on hours, ...), unsigned. */
    public static BigInteger u128(MemorySegment data, long offset) {
        byte[] le = data.asSlice(offset, 16).toArray(ValueLayout.JAVA_BYTE);
        byte[] be = new byte[17]; // leading zero byte keeps the value non-negative
        for (int i = 0; i < 16; i++) {
            be[16 - i] = le[i];
        }
        return new BigInteger(be);
    }

    // ---- command set identifiers (Identify CDW11 bits 31:24 with CNS 05h/06h)
    public static final int NVME_CSI_NVM = 0;
    public static final int NVME_CSI_KV = 1;
    public static final int NVME_CSI_ZNS = 2;
    // ---- Zone Management Send actions (CDW13 bits 7:0), Receive actions and filters
    public static final int NVME_ZNS_ZSA_CLOSE = 0x1;
    public static final int NVME_ZNS_ZSA_FINISH = 0x2;
    public static final int NVME_ZNS_ZSA_OPEN = 0x3;
    public static final int NVME_ZNS_ZSA_RESET = 0x4;
    public static final int NVME_ZNS_ZSA_OFFLINE = 0x5;
    public static final int NVME_ZNS_ZRA_REPORT_ZONES = 0x0;
    public static final int NVME_ZNS_ZRA_EXTENDED_REPORT_ZONES = 0x1;
    public static final int NVME_ZNS_ZRAS_REPORT_ALL = 0x0;
    // ---- zone states (zone descriptor zs bits 7:4)
    public static final int NVME_ZNS_ZS_EMPTY = 0x1;
    public static final int NVME_ZNS_ZS_IMPL_OPEN = 0x2;
    public static final int NVME_ZNS_ZS_EXPL_OPEN = 0x3;
    public static final int NVME_ZNS_ZS_CLOSED = 0x4;
    public static final int NVME_ZNS_ZS_READ_ONLY = 0xd;
    public static final int NVME_ZNS_ZS_FULL = 0xe;
    public static final int NVME_ZNS_ZS_OFFLINE = 0xf;

    // ---- admin command opcodes (enum nvme_admin_opcode)
    public static final int nvme_admin_delete_sq = 0x00;
    public static final int nvme_admin_create_sq = 0x01;
    public static final int nvme_admin_get_log_page = 0x02;
    public static final int nvme_admin_delete_cq = 0x04;
    public static final int nvme_admin_create_cq = 0x05;
    public static final int nvme_admin_identify = 0x06;
    public static final int nvme_admin_abort_cmd = 0x08;
    public static final int nvme_admin_set_features = 0x09;
    public static final int nvme_admin_get_features = 0x0a;
    public static final int nvme_admin_async_event = 0x0c;
    public static final int nvme_admin_ns_mgmt = 0x0d;
    public static final int nvme_admin_fw_commit = 0x10;
    public static final int nvme_admin_fw_download = 0x11;
    public static final int nvme_admin_dev_self_test = 0x14;
    public static final int nvme_admin_ns_attach = 0x15;
    public static final int nvme_admin_keep_alive = 0x18;
    public static final int nvme_admin_directive_send = 0x19;
    public static final int nvme_admin_directive_recv = 0x1a;
    public static final int nvme_admin_virtual_mgmt = 0x1c;
    public static final int nvme_admin_nvme_mi_send = 0x1d;
    public static final int nvme_admin_nvme_mi_recv = 0x1e;
    public static final int nvme_admin_capacity_mgmt = 0x20;
    public static final int nvme_admin_discovery_info_mgmt = 0x21;
    public static final int nvme_admin_fabric_zoning_recv = 0x22;
    public static final int nvme_admin_lockdown = 0x24;
    public static final int nvme_admin_fabric_zoning_lookup = 0x25;
    public static final int nvme_admin_fabric_zoning_send = 0x29;
    public static final int nvme_admin_dbbuf = 0x7c;
    public static final int nvme_admin_fabrics = 0x7f;
    public static final int nvme_admin_format_nvm = 0x80;
    public static final int nvme_admin_security_send = 0x81;
    public static final int nvme_admin_security_recv = 0x82;
    public static final int nvme_admin_sanitize_nvm = 0x84;
    public static final int nvme_admin_get_lba_status = 0x86;

    // ---- I/O command opcodes, NVM and zoned command sets (enum nvme_io_opcode)
    public static final int nvme_cmd_flush = 0x00;
    public static final int nvme_cmd_write = 0x01;
    public static final int nvme_cmd_read = 0x02;
    public static final int nvme_cmd_write_uncor = 0x04;
    public static final int nvme_cmd_compare = 0x05;
    public static final int nvme_cmd_write_zeroes = 0x08;
    public static final int nvme_cmd_dsm = 0x09;
    public static final int nvme_cmd_verify = 0x0c;
    public static final int nvme_cmd_resv_register = 0x0d;
    public static final int nvme_cmd_resv_report = 0x0e;
    public static final int nvme_cmd_resv_acquire = 0x11;
    public static final int nvme_cmd_io_mgmt_recv = 0x12;
    public static final int nvme_cmd_resv_release = 0x15;
    public static final int nvme_cmd_copy = 0x19;
    public static final int nvme_cmd_io_mgmt_send = 0x1d;
    public static final int nvme_zns_cmd_mgmt_send = 0x79;
    public static final int nvme_zns_cmd_mgmt_recv = 0x7a;
    public static final int nvme_zns_cmd_append = 0x7d;

    // ---- Identify CNS values (CDW10 bits 7:0)
    public static final int NVME_IDENTIFY_CNS_NS = 0x00;
    public static final int NVME_IDENTIFY_CNS_CTRL = 0x01;
    public static final int NVME_IDENTIFY_CNS_NS_ACTIVE_LIST = 0x02;
    public static final int NVME_IDENTIFY_CNS_NS_DESC_LIST = 0x03;
    public static final int NVME_IDENTIFY_CNS_NVMSET_LIST = 0x04;
    public static final int NVME_IDENTIFY_CNS_CSI_NS = 0x05;
    public static final int NVME_IDENTIFY_CNS_CSI_CTRL = 0x06;
    public static final int NVME_IDENTIFY_CNS_CSI_NS_ACTIVE_LIST = 0x07;
    public static final int NVME_IDENTIFY_CNS_CSI_INDEPENDENT_ID_NS = 0x08;
    public static final int NVME_IDENTIFY_CNS_NS_USER_DATA_FORMAT = 0x09;
    public static final int NVME_IDENTIFY_CNS_CSI_NS_USER_DATA_FORMAT = 0x0A;
    public static final int NVME_IDENTIFY_CNS_ALLOCATED_NS_LIST = 0x10;
    public static final int NVME_IDENTIFY_CNS_ALLOCATED_NS = 0x11;
    public static final int NVME_IDENTIFY_CNS_NS_CTRL_LIST = 0x12;
    public static final int NVME_IDENTIFY_CNS_CTRL_LIST = 0x13;
    public static final int NVME_IDENTIFY_CNS_PRIMARY_CTRL_CAP = 0x14;
    public static final int NVME_IDENTIFY_CNS_SECONDARY_CTRL_LIST = 0x15;
    public static final int NVME_IDENTIFY_CNS_NS_GRANULARITY = 0x16;
    public static final int NVME_IDENTIFY_CNS_UUID_LIST = 0x17;
    public static final int NVME_IDENTIFY_CNS_DOMAIN_LIST = 0x18;
    public static final int NVME_IDENTIFY_CNS_ENDURANCE_GROUP_ID = 0x19;
    public static final int NVME_IDENTIFY_CNS_CSI_ALLOCATED_NS_LIST = 0x1A;
    public static final int NVME_IDENTIFY_CNS_CSI_ID_NS_DATA_STRUCTURE = 0x1B;
    public static final int NVME_IDENTIFY_CNS_COMMAND_SET_STRUCTURE = 0x1C;

    // ---- log page identifiers (Get Log Page CDW10 bits 7:0)
    public static final int NVME_LOG_LID_SUPPORTED_LOG_PAGES = 0x00;
    public static final int NVME_LOG_LID_ERROR = 0x01;
    public static final int NVME_LOG_LID_SMART = 0x02;
    public static final int NVME_LOG_LID_FW_SLOT = 0x03;
    public static final int NVME_LOG_LID_CHANGED_NS = 0x04;
    public static final int NVME_LOG_LID_CMD_EFFECTS = 0x05;
    public static final int NVME_LOG_LID_DEVICE_SELF_TEST = 0x06;
    public static final int NVME_LOG_LID_TELEMETRY_HOST = 0x07;
    public static final int NVME_LOG_LID_TELEMETRY_CTRL = 0x08;
    public static final int NVME_LOG_LID_ENDURANCE_GROUP = 0x09;
    public static final int NVME_LOG_LID_PREDICTABLE_LAT_NVMSET = 0x0a;
    public static final int NVME_LOG_LID_PREDICTABLE_LAT_AGG = 0x0b;
    public static final int NVME_LOG_LID_ANA = 0x0c;
    public static final int NVME_LOG_LID_PERSISTENT_EVENT = 0x0d;
    public static final int NVME_LOG_LID_LBA_STATUS = 0x0e;
    public static final int NVME_LOG_LID_ENDURANCE_GRP_EVT = 0x0f;
    public static final int NVME_LOG_LID_MEDIA_UNIT_STATUS = 0x10;
    public static final int NVME_LOG_LID_SUPPORTED_CAP_CONFIG_LIST = 0x11;
    public static final int NVME_LOG_LID_FID_SUPPORTED_EFFECTS = 0x12;
    public static final int NVME_LOG_LID_MI_CMD_SUPPORTED_EFFECTS = 0x13;
    public static final int NVME_LOG_LID_BOOT_PARTITION = 0x15;
    public static final int NVME_LOG_LID_FDP_CONFIGS = 0x20;
    public static final int NVME_LOG_LID_FDP_RUH_USAGE = 0x21;
    public static final int NVME_LOG_LID_FDP_STATS = 0x22;
    public static final int NVME_LOG_LID_FDP_EVENTS = 0x23;
    public static final int NVME_LOG_LID_DISCOVER = 0x70;
    public static final int NVME_LOG_LID_RESERVATION = 0x80;
    public static final int NVME_LOG_LID_SANITIZE = 0x81;
    public static final int NVME_LOG_LID_ZNS_CHANGED_ZONES = 0xbf;

    // ---- feature identifiers (Get/Set Features CDW10 bits 7:0)
    public static final int NVME_FEAT_FID_ARBITRATION = 0x01;
    public static final int NVME_FEAT_FID_POWER_MGMT = 0x02;
    public static final int NVME_FEAT_FID_LBA_RANGE = 0x03;
    public static final int NVME_FEAT_FID_TEMP_THRESH = 0x04;
    public static final int NVME_FEAT_FID_ERR_RECOVERY = 0x05;
    public static final int NVME_FEAT_FID_VOLATILE_WC = 0x06;
    public static final int NVME_FEAT_FID_NUM_QUEUES = 0x07;
    public static final int NVME_FEAT_FID_IRQ_COALESCE = 0x08;
    public static final int NVME_FEAT_FID_IRQ_CONFIG = 0x09;
    public static final int NVME_FEAT_FID_WRITE_ATOMIC = 0x0a;
    public static final int NVME_FEAT_FID_ASYNC_EVENT = 0x0b;
    public static final int NVME_FEAT_FID_AUTO_PST = 0x0c;
    public static final int NVME_FEAT_FID_HOST_MEM_BUF = 0x0d;
    public static final int NVME_FEAT_FID_TIMESTAMP = 0x0e;
    public static final int NVME_FEAT_FID_KATO = 0x0f;
    public static final int NVME_FEAT_FID_HCTM = 0x10;
    public static final int NVME_FEAT_FID_NOPSC = 0x11;
    public static final int NVME_FEAT_FID_RRL = 0x12;
    public static final int NVME_FEAT_FID_PLM_CONFIG = 0x13;
    public static final int NVME_FEAT_FID_PLM_WINDOW = 0x14;
    public static final int NVME_FEAT_FID_LBA_STS_INTERVAL = 0x15;
    public static final int NVME_FEAT_FID_HOST_BEHAVIOR = 0x16;
    public static final int NVME_FEAT_FID_SANITIZE = 0x17;
    public static final int NVME_FEAT_FID_ENDURANCE_EVT_CFG = 0x18;
    public static final int NVME_FEAT_FID_IOCS_PROFILE = 0x19;
    public static final int NVME_FEAT_FID_SPINUP_CONTROL = 0x1a;
    public static final int NVME_FEAT_FID_FDP = 0x1d;
    public static final int NVME_FEAT_FID_FDP_EVENTS = 0x1e;
    public static final int NVME_FEAT_FID_ENH_CTRL_METADATA = 0x7d;
    public static final int NVME_FEAT_FID_CTRL_METADATA = 0x7e;
    public static final int NVME_FEAT_FID_NS_METADATA = 0x7f;
    public static final int NVME_FEAT_FID_SW_PROGRESS = 0x80;
    public static final int NVME_FEAT_FID_HOST_ID = 0x81;
    public static final int NVME_FEAT_FID_RESV_MASK = 0x82;
    public static final int NVME_FEAT_FID_RESV_PERSIST = 0x83;
    public static final int NVME_FEAT_FID_WRITE_PROTECT = 0x84;

    // ---- status field: type, code and flags (the 15-bit status, CQE DW3 bits 31:17)
    public static final int NVME_SCT_GENERIC = 0x0;
    public static final int NVME_SCT_CMD_SPECIFIC = 0x1;
    public static final int NVME_SCT_MEDIA = 0x2;
    public static final int NVME_SCT_PATH = 0x3;
    public static final int NVME_SCT_VS = 0x7;
    public static final int NVME_SCT_MASK = 0x7;
    public static final int NVME_SCT_SHIFT = 0x8;
    public static final int NVME_SC_MASK = 0xff;
    public static final int NVME_SC_SHIFT = 0x0;
    public static final int NVME_SC_CRD = 0x1800;
    public static final int NVME_SC_MORE = 0x2000;
    public static final int NVME_SC_DNR = 0x4000;

    // ---- status codes, type 0 (generic)
    public static final int NVME_SC_SUCCESS = 0x0;
    public static final int NVME_SC_INVALID_OPCODE = 0x1;
    public static final int NVME_SC_INVALID_FIELD = 0x2;
    public static final int NVME_SC_CMDID_CONFLICT = 0x3;
    public static final int NVME_SC_DATA_XFER_ERROR = 0x4;
    public static final int NVME_SC_POWER_LOSS = 0x5;
    public static final int NVME_SC_INTERNAL = 0x6;
    public static final int NVME_SC_ABORT_REQ = 0x7;
    public static final int NVME_SC_ABORT_QUEUE = 0x8;
    public static final int NVME_SC_FUSED_FAIL = 0x9;
    public static final int NVME_SC_FUSED_MISSING = 0xa;
    public static final int NVME_SC_INVALID_NS = 0xb;
    public static final int NVME_SC_CMD_SEQ_ERROR = 0xc;
    public static final int NVME_SC_SGL_INVALID_LAST = 0xd;
    public static final int NVME_SC_SGL_INVALID_COUNT = 0xe;
    public static final int NVME_SC_SGL_INVALID_DATA = 0xf;
    public static final int NVME_SC_SGL_INVALID_METADATA = 0x10;
    public static final int NVME_SC_SGL_INVALID_TYPE = 0x11;
    public static final int NVME_SC_CMB_INVALID_USE = 0x12;
    public static final int NVME_SC_PRP_INVALID_OFFSET = 0x13;
    public static final int NVME_SC_AWU_EXCEEDED = 0x14;
    public static final int NVME_SC_OP_DENIED = 0x15;
    public static final int NVME_SC_SGL_INVALID_OFFSET = 0x16;
    public static final int NVME_SC_HOSTID_FORMAT = 0x18;
    public static final int NVME_SC_KAT_EXPIRED = 0x19;
    public static final int NVME_SC_KAT_INVALID = 0x1a;
    public static final int NVME_SC_CMD_ABORTED_PREMEPT = 0x1b;
    public static final int NVME_SC_SANITIZE_FAILED = 0x1c;
    public static final int NVME_SC_SANITIZE_IN_PROGRESS = 0x1d;
    public static final int NVME_SC_SGL_INVALID_GRANULARITY = 0x1e;
    public static final int NVME_SC_CMD_IN_CMBQ_NOT_SUPP = 0x1f;
    public static final int NVME_SC_NS_WRITE_PROTECTED = 0x20;
    public static final int NVME_SC_CMD_INTERRUPTED = 0x21;
    public static final int NVME_SC_TRAN_TPORT_ERROR = 0x22;
    public static final int NVME_SC_PROHIBITED_BY_CMD_AND_FEAT = 0x23;
    public static final int NVME_SC_ADMIN_CMD_MEDIA_NOT_READY = 0x24;
    public static final int NVME_SC_LBA_RANGE = 0x80;
    public static final int NVME_SC_CAP_EXCEEDED = 0x81;
    public static final int NVME_SC_NS_NOT_READY = 0x82;
    public static final int NVME_SC_RESERVATION_CONFLICT = 0x83;
    public static final int NVME_SC_FORMAT_IN_PROGRESS = 0x84;

    // ---- status codes, type 1 (command specific)
    public static final int NVME_SC_CQ_INVALID = 0x00;
    public static final int NVME_SC_QID_INVALID = 0x01;
    public static final int NVME_SC_QUEUE_SIZE = 0x02;
    public static final int NVME_SC_ABORT_LIMIT = 0x03;
    public static final int NVME_SC_ABORT_MISSING = 0x04;
    public static final int NVME_SC_ASYNC_LIMIT = 0x05;
    public static final int NVME_SC_FIRMWARE_SLOT = 0x06;
    public static final int NVME_SC_FIRMWARE_IMAGE = 0x07;
    public static final int NVME_SC_INVALID_VECTOR = 0x08;
    public static final int NVME_SC_INVALID_LOG_PAGE = 0x09;
    public static final int NVME_SC_INVALID_FORMAT = 0x0a;
    public static final int NVME_SC_FW_NEEDS_CONV_RESET = 0x0b;
    public static final int NVME_SC_INVALID_QUEUE = 0x0c;
    public static final int NVME_SC_FEATURE_NOT_SAVEABLE = 0x0d;
    public static final int NVME_SC_FEATURE_NOT_CHANGEABLE = 0x0e;
    public static final int NVME_SC_FEATURE_NOT_PER_NS = 0x0f;
    public static final int NVME_SC_FW_NEEDS_SUBSYS_RESET = 0x10;
    public static final int NVME_SC_FW_NEEDS_RESET = 0x11;
    public static final int NVME_SC_FW_NEEDS_MAX_TIME = 0x12;
    public static final int NVME_SC_FW_ACTIVATE_PROHIBITED = 0x13;
    public static final int NVME_SC_OVERLAPPING_RANGE = 0x14;
    public static final int NVME_SC_NS_INSUFFICIENT_CAP = 0x15;
    public static final int NVME_SC_NS_ID_UNAVAILABLE = 0x16;
    public static final int NVME_SC_NS_ALREADY_ATTACHED = 0x18;
    public static final int NVME_SC_NS_IS_PRIVATE = 0x19;
    public static final int NVME_SC_NS_NOT_ATTACHED = 0x1a;
    public static final int NVME_SC_THIN_PROV_NOT_SUPP = 0x1b;
    public static final int NVME_SC_CTRL_LIST_INVALID = 0x1c;
    public static final int NVME_SC_SELF_TEST_IN_PROGRESS = 0x1d;
    public static final int NVME_SC_BP_WRITE_PROHIBITED = 0x1e;
    public static final int NVME_SC_INVALID_CTRL_ID = 0x1f;
    public static final int NVME_SC_INVALID_SEC_CTRL_STATE = 0x20;
    public static final int NVME_SC_INVALID_CTRL_RESOURCES = 0x21;
    public static final int NVME_SC_INVALID_RESOURCE_ID = 0x22;
    public static final int NVME_SC_PMR_SAN_PROHIBITED = 0x23;
    public static final int NVME_SC_ANA_GROUP_ID_INVALID = 0x24;
    public static final int NVME_SC_ANA_ATTACH_FAILED = 0x25;
    public static final int NVME_SC_INSUFFICIENT_CAP = 0x26;
    public static final int NVME_SC_NS_ATTACHMENT_LIMIT_EXCEEDED = 0x27;
    public static final int NVME_SC_PROHIBIT_CMD_EXEC_NOT_SUPPORTED = 0x28;

    // ---- status codes, type 1, namespace types
    public static final int NVME_SC_IOCS_NOT_SUPPORTED = 0x29;
    public static final int NVME_SC_IOCS_NOT_ENABLED = 0x2a;
    public static final int NVME_SC_IOCS_COMBINATION_REJECTED = 0x2b;
    public static final int NVME_SC_INVALID_IOCS = 0x2c;
    public static final int NVME_SC_ID_UNAVAILABLE = 0x2d;

    // ---- status codes, type 1, discovery information management
    public static final int NVME_SC_INVALID_DISCOVERY_INFO = 0x2f;
    public static final int NVME_SC_ZONING_DATA_STRUCT_LOCKED = 0x30;
    public static final int NVME_SC_ZONING_DATA_STRUCT_NOTFND = 0x31;
    public static final int NVME_SC_INSUFFICIENT_DISC_RES = 0x32;
    public static final int NVME_SC_REQSTD_FUNCTION_DISABLED = 0x33;
    public static final int NVME_SC_ZONEGRP_ORIGINATOR_INVLD = 0x34;

    // ---- status codes, type 1, NVM command set
    public static final int NVME_SC_BAD_ATTRIBUTES = 0x80;
    public static final int NVME_SC_INVALID_PI = 0x81;
    public static final int NVME_SC_READ_ONLY = 0x82;
    public static final int NVME_SC_CMD_SIZE_LIMIT_EXCEEDED = 0x83;

    // ---- status codes, type 1, fabrics commands
    public static final int NVME_SC_CONNECT_FORMAT = 0x80;
    public static final int NVME_SC_CONNECT_CTRL_BUSY = 0x81;
    public static final int NVME_SC_CONNECT_INVALID_PARAM = 0x82;
    public static final int NVME_SC_CONNECT_RESTART_DISC = 0x83;
    public static final int NVME_SC_CONNECT_INVALID_HOST = 0x84;
    public static final int NVME_SC_DISCONNECT_INVALID_QTYPE = 0x85;
    public static final int NVME_SC_DISCOVERY_RESTART = 0x90;
    public static final int NVME_SC_AUTH_REQUIRED = 0x91;

    // ---- status codes, type 1, zoned namespace command set
    public static final int NVME_SC_ZNS_INVALID_OP_REQUEST = 0xb6;
    public static final int NVME_SC_ZNS_ZRWA_RESOURCES_UNAVAILABLE = 0xb7;
    public static final int NVME_SC_ZNS_BOUNDARY_ERROR = 0xb8;
    public static final int NVME_SC_ZNS_FULL = 0xb9;
    public static final int NVME_SC_ZNS_READ_ONLY = 0xba;
    public static final int NVME_SC_ZNS_OFFLINE = 0xbb;
    public static final int NVME_SC_ZNS_INVALID_WRITE = 0xbc;
    public static final int NVME_SC_ZNS_TOO_MANY_ACTIVE = 0xbd;
    public static final int NVME_SC_ZNS_TOO_MANY_OPENS = 0xbe;
    public static final int NVME_SC_ZNS_INVAL_TRANSITION = 0xbf;

    // ---- status codes, type 2 (media and data integrity errors)
    public static final int NVME_SC_WRITE_FAULT = 0x80;
    public static final int NVME_SC_READ_ERROR = 0x81;
    public static final int NVME_SC_GUARD_CHECK = 0x82;
    public static final int NVME_SC_APPTAG_CHECK = 0x83;
    public static final int NVME_SC_REFTAG_CHECK = 0x84;
    public static final int NVME_SC_COMPARE_FAILED = 0x85;
    public static final int NVME_SC_ACCESS_DENIED = 0x86;
    public static final int NVME_SC_UNWRITTEN_BLOCK = 0x87;
    public static final int NVME_SC_STORAGE_TAG_CHECK = 0x88;

    // ---- status codes, type 3 (path related)
    public static final int NVME_SC_ANA_INTERNAL_PATH_ERROR = 0x00;
    public static final int NVME_SC_ANA_PERSISTENT_LOSS = 0x01;
    public static final int NVME_SC_ANA_INACCESSIBLE = 0x02;
    public static final int NVME_SC_ANA_TRANSITION = 0x03;
    public static final int NVME_SC_CTRL_PATH_ERROR = 0x60;
    public static final int NVME_SC_HOST_PATH_ERROR = 0x70;
    public static final int NVME_SC_CMD_ABORTED_BY_HOST = 0x71;

    /**
     * {@code struct nvme_id_psd}: Identify Controller power state descriptor (32 bytes; mp in centiwatts unless
     * flags say 0.0001 W, latencies in microseconds).
     */
    public static final class NvmeIdPsd {
        private NvmeIdPsd() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                LE16.withName("mp"),
                U8.withName("rsvd2"),
                U8.withName("flags"),
                LE32.withName("enlat"),
                LE32.withName("exlat"),
                U8.withName("rrt"),
                U8.withName("rrl"),
                U8.withName("rwt"),
                U8.withName("rwl"),
                LE16.withName("idlp"),
                U8.withName("ips"),
                U8.withName("rsvd19"),
                LE16.withName("actp"),
                U8.withName("apws"),
                MemoryLayout.sequenceLayout(9, U8).withName("rsvd23"))
                .withName("nvme_id_psd");
        public static final long MP = offset(LAYOUT, "mp");
        public static final long FLAGS = offset(LAYOUT, "flags");
        public static final long ENLAT = offset(LAYOUT, "enlat");
        public static final long EXLAT = offset(LAYOUT, "exlat");
        public static final long RRT = offset(LAYOUT, "rrt");
        public static final long RRL = offset(LAYOUT, "rrl");
        public static final long RWT = offset(LAYOUT, "rwt");
        public static final long RWL = offset(LAYOUT, "rwl");
        public static final long IDLP = offset(LAYOUT, "idlp");
        public static final long IPS = offset(LAYOUT, "ips");
        public static final long ACTP = offset(LAYOUT, "actp");
        public static final long APWS = offset(LAYOUT, "apws");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /**
     * {@code struct nvme_id_ctrl}: Identify Controller data (CNS 01h, 4096 bytes). Strings (sn, mn, fr, subnqn)
     * are ASCII, space- or NUL-padded; mdts and the sqes/cqes nibbles are log2 values.
     */
    public static final class NvmeIdCtrl {
        private NvmeIdCtrl() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                LE16.withName("vid"),
                LE16.withName("ssvid"),
                MemoryLayout.sequenceLayout(20, U8).withName("sn"),
                MemoryLayout.sequenceLayout(40, U8).withName("mn"),
                MemoryLayout.sequenceLayout(8, U8).withName("fr"),
                U8.withName("rab"),
                MemoryLayout.sequenceLayout(3, U8).withName("ieee"),
                U8.withName("cmic"),
                U8.withName("mdts"),
                LE16.withName("cntlid"),
                LE32.withName("ver"),
                LE32.withName("rtd3r"),
                LE32.withName("rtd3e"),
                LE32.withName("oaes"),
                LE32.withName("ctratt"),
                LE16.withName("rrls"),
                MemoryLayout.sequenceLayout(9, U8).withName("rsvd102"),
                U8.withName("cntrltype"),
                MemoryLayout.sequenceLayout(16, U8).withName("fguid"),
                LE16.withName("crdt1"),
                LE16.withName("crdt2"),
                LE16.withName("crdt3"),
                MemoryLayout.sequenceLayout(119, U8).withName("rsvd134"),
                U8.withName("nvmsr"),
                U8.withName("vwci"),
                U8.withName("mec"),
                LE16.withName("oacs"),
                U8.withName("acl"),
                U8.withName("aerl"),
                U8.withName("frmw"),
                U8.withName("lpa"),
                U8.withName("elpe"),
                U8.withName("npss"),
                U8.withName("avscc"),
                U8.withName("apsta"),
                LE16.withName("wctemp"),
                LE16.withName("cctemp"),
                LE16.withName("mtfa"),
                LE32.withName("hmpre"),
                LE32.withName("hmmin"),
                MemoryLayout.sequenceLayout(16, U8).withName("tnvmcap"),
                MemoryLayout.sequenceLayout(16, U8).withName("unvmcap"),
                LE32.withName("rpmbs"),
                LE16.withName("edstt"),
                U8.withName("dsto"),
                U8.withName("fwug"),
                LE16.withName("kas"),
                LE16.withName("hctma"),
                LE16.withName("mntmt"),
                LE16.withName("mxtmt"),
                LE32.withName("sanicap"),
                LE32.withName("hmminds"),
                LE16.withName("hmmaxd"),
                LE16.withName("nsetidmax"),
                LE16.withName("endgidmax"),
                U8.withName("anatt"),
                U8.withName("anacap"),
                LE32.withName("anagrpmax"),
                LE32.withName("nanagrpid"),
                LE32.withName("pels"),
                LE16.withName("domainid"),
                MemoryLayout.sequenceLayout(10, U8).withName("rsvd358"),
                MemoryLayout.sequenceLayout(16, U8).withName("megcap"),
                MemoryLayout.sequenceLayout(128, U8).withName("rsvd384"),
                U8.withName("sqes"),
                U8.withName("cqes"),
                LE16.withName("maxcmd"),
                LE32.withName("nn"),
                LE16.withName("oncs"),
                LE16.withName("fuses"),
                U8.withName("fna"),
                U8.withName("vwc"),
                LE16.withName("awun"),
                LE16.withName("awupf"),
                U8.withName("icsvscc"),
                U8.withName("nwpc"),
                LE16.withName("acwu"),
                LE16.withName("ocfs"),
                LE32.withName("sgls"),
                LE32.withName("mnan"),
                MemoryLayout.sequenceLayout(16, U8).withName("maxdna"),
                LE32.withName("maxcna"),
                MemoryLayout.sequenceLayout(204, U8).withName("rsvd564"),
                MemoryLayout.sequenceLayout(256, U8).withName("subnqn"),
                MemoryLayout.sequenceLayout(768, U8).withName("rsvd1024"),
                LE32.withName("ioccsz"),
                LE32.withName("iorcsz"),
                LE16.withName("icdoff"),
                U8.withName("fcatt"),
                U8.withName("msdbd"),
                LE16.withName("ofcs"),
                U8.withName("dctype"),
                MemoryLayout.sequenceLayout(241, U8).withName("rsvd1807"),
                MemoryLayout.sequenceLayout(32, NvmeIdPsd.LAYOUT).withName("psd"),
                MemoryLayout.sequenceLayout(1024, U8).withName("vs"))
                .withName("nvme_id_ctrl");
        public static final long VID = offset(LAYOUT, "vid");
        public static final long SSVID = offset(LAYOUT, "ssvid");
        public static final long SN = offset(LAYOUT, "sn");
        public static final long MN = offset(LAYOUT, "mn");
        public static final long FR = offset(LAYOUT, "fr");
        public static final long RAB = offset(LAYOUT, "rab");
        public static final long IEEE = offset(LAYOUT, "ieee");
        public static final long CMIC = offset(LAYOUT, "cmic");
        public static final long MDTS = offset(LAYOUT, "mdts");
        public static final long CNTLID = offset(LAYOUT, "cntlid");
        public static final long VER = offset(LAYOUT, "ver");
        public static final long RTD3R = offset(LAYOUT, "rtd3r");
        public static final long RTD3E = offset(LAYOUT, "rtd3e");
        public static final long OAES = offset(LAYOUT, "oaes");
        public static final long CTRATT = offset(LAYOUT, "ctratt");
        public static final long CNTRLTYPE = offset(LAYOUT, "cntrltype");
        public static final long FGUID = offset(LAYOUT, "fguid");
        public static final long OACS = offset(LAYOUT, "oacs");
        public static final long ACL = offset(LAYOUT, "acl");
        public static final long AERL = offset(LAYOUT, "aerl");
        public static final long FRMW = offset(LAYOUT, "frmw");
        public static final long LPA = offset(LAYOUT, "lpa");
        public static final long ELPE = offset(LAYOUT, "elpe");
        public static final long NPSS = offset(LAYOUT, "npss");
        public static final long AVSCC = offset(LAYOUT, "avscc");
        public static final long APSTA = offset(LAYOUT, "apsta");
        public static final long WCTEMP = offset(LAYOUT, "wctemp");
        public static final long CCTEMP = offset(LAYOUT, "cctemp");
        public static final long MTFA = offset(LAYOUT, "mtfa");
        public static final long HMPRE = offset(LAYOUT, "hmpre");
        public static final long HMMIN = offset(LAYOUT, "hmmin");
        public static final long TNVMCAP = offset(LAYOUT, "tnvmcap");
        public static final long UNVMCAP = offset(LAYOUT, "unvmcap");
        public static final long SQES = offset(LAYOUT, "sqes");
        public static final long CQES = offset(LAYOUT, "cqes");
        public static final long MAXCMD = offset(LAYOUT, "maxcmd");
        public static final long NN = offset(LAYOUT, "nn");
        public static final long ONCS = offset(LAYOUT, "oncs");
        public static final long FUSES = offset(LAYOUT, "fuses");
        public static final long FNA = offset(LAYOUT, "fna");
        public static final long VWC = offset(LAYOUT, "vwc");
        public static final long AWUN = offset(LAYOUT, "awun");
        public static final long AWUPF = offset(LAYOUT, "awupf");
        public static final long ICSVSCC = offset(LAYOUT, "icsvscc");
        public static final long NWPC = offset(LAYOUT, "nwpc");
        public static final long ACWU = offset(LAYOUT, "acwu");
        public static final long OCFS = offset(LAYOUT, "ocfs");
        public static final long SGLS = offset(LAYOUT, "sgls");
        public static final long MNAN = offset(LAYOUT, "mnan");
        public static final long SUBNQN = offset(LAYOUT, "subnqn");
        public static final long PSD = offset(LAYOUT, "psd");
        public static final long VS = offset(LAYOUT, "vs");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /**
     * {@code struct nvme_lbaf}: LBA format (metadata bytes, data size as a power of two, relative performance).
     */
    public static final class NvmeLbaf {
        private NvmeLbaf() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                LE16.withName("ms"),
                U8.withName("ds"),
                U8.withName("rp"))
                .withName("nvme_lbaf");
        public static final long MS = offset(LAYOUT, "ms");
        public static final long DS = offset(LAYOUT, "ds");
        public static final long RP = offset(LAYOUT, "rp");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /**
     * {@code struct nvme_id_ns}: Identify Namespace data for the NVM command set (CNS 00h, 4096 bytes). Sizes
     * are in logical blocks; the format in use is {@code lbaf[flbas & 0xf]} (plus bits 6:5 as high bits when
     * nlbaf > 16).
     */
    public static final class NvmeIdNs {
        private NvmeIdNs() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                LE64.withName("nsze"),
                LE64.withName("ncap"),
                LE64.withName("nuse"),
                U8.withName("nsfeat"),
                U8.withName("nlbaf"),
                U8.withName("flbas"),
                U8.withName("mc"),
                U8.withName("dpc"),
                U8.withName("dps"),
                U8.withName("nmic"),
                U8.withName("rescap"),
                U8.withName("fpi"),
                U8.withName("dlfeat"),
                LE16.withName("nawun"),
                LE16.withName("nawupf"),
                LE16.withName("nacwu"),
                LE16.withName("nabsn"),
                LE16.withName("nabo"),
                LE16.withName("nabspf"),
                LE16.withName("noiob"),
                MemoryLayout.sequenceLayout(16, U8).withName("nvmcap"),
                LE16.withName("npwg"),
                LE16.withName("npwa"),
                LE16.withName("npdg"),
                LE16.withName("npda"),
                LE16.withName("nows"),
                LE16.withName("mssrl"),
                LE32.withName("mcl"),
                U8.withName("msrc"),
                U8.withName("rsvd81"),
                U8.withName("nulbaf"),
                MemoryLayout.sequenceLayout(9, U8).withName("rsvd83"),
                LE32.withName("anagrpid"),
                MemoryLayout.sequenceLayout(3, U8).withName("rsvd96"),
                U8.withName("nsattr"),
                LE16.withName("nvmsetid"),
                LE16.withName("endgid"),
                MemoryLayout.sequenceLayout(16, U8).withName("nguid"),
                MemoryLayout.sequenceLayout(8, U8).withName("eui64"),
                MemoryLayout.sequenceLayout(64, NvmeLbaf.LAYOUT).withName("lbaf"),
                LE64.withName("lbstm"),
                MemoryLayout.sequenceLayout(3704, U8).withName("vs"))
                .withName("nvme_id_ns");
        public static final long NSZE = offset(LAYOUT, "nsze");
        public static final long NCAP = offset(LAYOUT, "ncap");
        public static final long NUSE = offset(LAYOUT, "nuse");
        public static final long NSFEAT = offset(LAYOUT, "nsfeat");
        public static final long NLBAF = offset(LAYOUT, "nlbaf");
        public static final long FLBAS = offset(LAYOUT, "flbas");
        public static final long MC = offset(LAYOUT, "mc");
        public static final long DPC = offset(LAYOUT, "dpc");
        public static final long DPS = offset(LAYOUT, "dps");
        public static final long NMIC = offset(LAYOUT, "nmic");
        public static final long RESCAP = offset(LAYOUT, "rescap");
        public static final long FPI = offset(LAYOUT, "fpi");
        public static final long DLFEAT = offset(LAYOUT, "dlfeat");
        public static final long NAWUN = offset(LAYOUT, "nawun");
        public static final long NAWUPF = offset(LAYOUT, "nawupf");
        public static final long NACWU = offset(LAYOUT, "nacwu");
        public static final long NABSN = offset(LAYOUT, "nabsn");
        public static final long NABO = offset(LAYOUT, "nabo");
        public static final long NABSPF = offset(LAYOUT, "nabspf");
        public static final long NOIOB = offset(LAYOUT, "noiob");
        public static final long NVMCAP = offset(LAYOUT, "nvmcap");
        public static final long NPWG = offset(LAYOUT, "npwg");
        public static final long NPWA = offset(LAYOUT, "npwa");
        public static final long NPDG = offset(LAYOUT, "npdg");
        public static final long NPDA = offset(LAYOUT, "npda");
        public static final long NOWS = offset(LAYOUT, "nows");
        public static final long MSSRL = offset(LAYOUT, "mssrl");
        public static final long MCL = offset(LAYOUT, "mcl");
        public static final long MSRC = offset(LAYOUT, "msrc");
        public static final long NULBAF = offset(LAYOUT, "nulbaf");
        public static final long ANAGRPID = offset(LAYOUT, "anagrpid");
        public static final long NSATTR = offset(LAYOUT, "nsattr");
        public static final long NVMSETID = offset(LAYOUT, "nvmsetid");
        public static final long ENDGID = offset(LAYOUT, "endgid");
        public static final long NGUID = offset(LAYOUT, "nguid");
        public static final long EUI64 = offset(LAYOUT, "eui64");
        public static final long LBAF = offset(LAYOUT, "lbaf");
        public static final long LBSTM = offset(LAYOUT, "lbstm");
        public static final long VS = offset(LAYOUT, "vs");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /**
     * {@code struct nvme_smart_log}: SMART / Health Information log page (LID 02h, 512 bytes). Temperatures in
     * kelvin; the 16-byte counters are little-endian 128-bit integers; data units are thousands of 512-byte
     * units.
     */
    public static final class NvmeSmartLog {
        private NvmeSmartLog() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U8.withName("critical_warning"),
                MemoryLayout.sequenceLayout(2, U8).withName("temperature"),
                U8.withName("avail_spare"),
                U8.withName("spare_thresh"),
                U8.withName("percent_used"),
                U8.withName("endu_grp_crit_warn_sumry"),
                MemoryLayout.sequenceLayout(25, U8).withName("rsvd7"),
                MemoryLayout.sequenceLayout(16, U8).withName("data_units_read"),
                MemoryLayout.sequenceLayout(16, U8).withName("data_units_written"),
                MemoryLayout.sequenceLayout(16, U8).withName("host_reads"),
                MemoryLayout.sequenceLayout(16, U8).withName("host_writes"),
                MemoryLayout.sequenceLayout(16, U8).withName("ctrl_busy_time"),
                MemoryLayout.sequenceLayout(16, U8).withName("power_cycles"),
                MemoryLayout.sequenceLayout(16, U8).withName("power_on_hours"),
                MemoryLayout.sequenceLayout(16, U8).withName("unsafe_shutdowns"),
                MemoryLayout.sequenceLayout(16, U8).withName("media_errors"),
                MemoryLayout.sequenceLayout(16, U8).withName("num_err_log_entries"),
                LE32.withName("warning_temp_time"),
                LE32.withName("critical_comp_time"),
                MemoryLayout.sequenceLayout(8, LE16).withName("temp_sensor"),
                LE32.withName("thm_temp1_trans_count"),
                LE32.withName("thm_temp2_trans_count"),
                LE32.withName("thm_temp1_total_time"),
                LE32.withName("thm_temp2_total_time"),
                MemoryLayout.sequenceLayout(280, U8).withName("rsvd232"))
                .withName("nvme_smart_log");
        public static final long CRITICAL_WARNING = offset(LAYOUT, "critical_warning");
        public static final long TEMPERATURE = offset(LAYOUT, "temperature");
        public static final long AVAIL_SPARE = offset(LAYOUT, "avail_spare");
        public static final long SPARE_THRESH = offset(LAYOUT, "spare_thresh");
        public static final long PERCENT_USED = offset(LAYOUT, "percent_used");
        public static final long ENDU_GRP_CRIT_WARN_SUMRY = offset(LAYOUT, "endu_grp_crit_warn_sumry");
        public static final long DATA_UNITS_READ = offset(LAYOUT, "data_units_read");
        public static final long DATA_UNITS_WRITTEN = offset(LAYOUT, "data_units_written");
        public static final long HOST_READS = offset(LAYOUT, "host_reads");
        public static final long HOST_WRITES = offset(LAYOUT, "host_writes");
        public static final long CTRL_BUSY_TIME = offset(LAYOUT, "ctrl_busy_time");
        public static final long POWER_CYCLES = offset(LAYOUT, "power_cycles");
        public static final long POWER_ON_HOURS = offset(LAYOUT, "power_on_hours");
        public static final long UNSAFE_SHUTDOWNS = offset(LAYOUT, "unsafe_shutdowns");
        public static final long MEDIA_ERRORS = offset(LAYOUT, "media_errors");
        public static final long NUM_ERR_LOG_ENTRIES = offset(LAYOUT, "num_err_log_entries");
        public static final long WARNING_TEMP_TIME = offset(LAYOUT, "warning_temp_time");
        public static final long CRITICAL_COMP_TIME = offset(LAYOUT, "critical_comp_time");
        public static final long TEMP_SENSOR = offset(LAYOUT, "temp_sensor");
        public static final long THM_TEMP1_TRANS_COUNT = offset(LAYOUT, "thm_temp1_trans_count");
        public static final long THM_TEMP2_TRANS_COUNT = offset(LAYOUT, "thm_temp2_trans_count");
        public static final long THM_TEMP1_TOTAL_TIME = offset(LAYOUT, "thm_temp1_total_time");
        public static final long THM_TEMP2_TOTAL_TIME = offset(LAYOUT, "thm_temp2_total_time");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /** {@code struct nvme_error_log_page}: one Error Information log entry (LID 01h, 64 bytes each). */
    public static final class NvmeErrorLogPage {
        private NvmeErrorLogPage() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                LE64.withName("error_count"),
                LE16.withName("sqid"),
                LE16.withName("cmdid"),
                LE16.withName("status_field"),
                LE16.withName("parm_error_location"),
                LE64.withName("lba"),
                LE32.withName("nsid"),
                U8.withName("vs"),
                U8.withName("trtype"),
                MemoryLayout.sequenceLayout(2, U8).withName("rsvd"),
                LE64.withName("cs"),
                LE16.withName("trtype_spec_info"),
                MemoryLayout.sequenceLayout(22, U8).withName("rsvd2"))
                .withName("nvme_error_log_page");
        public static final long ERROR_COUNT = offset(LAYOUT, "error_count");
        public static final long SQID = offset(LAYOUT, "sqid");
        public static final long CMDID = offset(LAYOUT, "cmdid");
        public static final long STATUS_FIELD = offset(LAYOUT, "status_field");
        public static final long PARM_ERROR_LOCATION = offset(LAYOUT, "parm_error_location");
        public static final long LBA = offset(LAYOUT, "lba");
        public static final long NSID = offset(LAYOUT, "nsid");
        public static final long VS = offset(LAYOUT, "vs");
        public static final long TRTYPE = offset(LAYOUT, "trtype");
        public static final long CS = offset(LAYOUT, "cs");
        public static final long TRTYPE_SPEC_INFO = offset(LAYOUT, "trtype_spec_info");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /**
     * {@code struct nvme_firmware_slot}: Firmware Slot Information log page (LID 03h, 512 bytes); frs[i] is slot
     * i+1's revision.
     */
    public static final class NvmeFirmwareSlot {
        private NvmeFirmwareSlot() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U8.withName("afi"),
                MemoryLayout.sequenceLayout(7, U8).withName("rsvd1"),
                MemoryLayout.sequenceLayout(7, MemoryLayout.sequenceLayout(8, U8)).withName("frs"),
                MemoryLayout.sequenceLayout(448, U8).withName("rsvd2"))
                .withName("nvme_firmware_slot");
        public static final long AFI = offset(LAYOUT, "afi");
        public static final long FRS = offset(LAYOUT, "frs");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /** {@code struct nvme_zns_lbafe}: zone size (in logical blocks) and descriptor extension size of one LBA format. */
    public static final class NvmeZnsLbafe {
        private NvmeZnsLbafe() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                LE64.withName("zsze"),
                U8.withName("zdes"),
                MemoryLayout.sequenceLayout(7, U8).withName("rsvd9"))
                .withName("nvme_zns_lbafe");
        public static final long ZSZE = offset(LAYOUT, "zsze");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /**
     * {@code struct nvme_zns_id_ns}: I/O Command Set specific Identify Namespace for ZNS (CNS 05h, CSI 02h,
     * 4096 bytes): max active/open resources (0-based, all ones = no limit) and the zone size per LBA format.
     */
    public static final class NvmeZnsIdNs {
        private NvmeZnsIdNs() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                LE16.withName("zoc"),
                LE16.withName("ozcs"),
                LE32.withName("mar"),
                LE32.withName("mor"),
                LE32.withName("rrl"),
                LE32.withName("frl"),
                LE32.withName("rrl1"),
                LE32.withName("rrl2"),
                LE32.withName("rrl3"),
                LE32.withName("frl1"),
                LE32.withName("frl2"),
                LE32.withName("frl3"),
                LE32.withName("numzrwa"),
                LE16.withName("zrwafg"),
                LE16.withName("zrwasz"),
                U8.withName("zrwacap"),
                MemoryLayout.sequenceLayout(2763, U8).withName("rsvd53"),
                MemoryLayout.sequenceLayout(64, NvmeZnsLbafe.LAYOUT).withName("lbafe"),
                MemoryLayout.sequenceLayout(256, U8).withName("vs"))
                .withName("nvme_zns_id_ns");
        public static final long ZOC = offset(LAYOUT, "zoc");
        public static final long OZCS = offset(LAYOUT, "ozcs");
        public static final long MAR = offset(LAYOUT, "mar");
        public static final long MOR = offset(LAYOUT, "mor");
        public static final long LBAFE = offset(LAYOUT, "lbafe");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /**
     * {@code struct nvme_zns_desc}: one zone descriptor of a Report Zones answer (64 bytes): type (2 =
     * sequential write required), state in zs bits 7:4, capacity, start LBA and write pointer in blocks.
     */
    public static final class NvmeZnsDesc {
        private NvmeZnsDesc() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U8.withName("zt"),
                U8.withName("zs"),
                U8.withName("za"),
                U8.withName("zai"),
                MemoryLayout.sequenceLayout(4, U8).withName("rsvd4"),
                LE64.withName("zcap"),
                LE64.withName("zslba"),
                LE64.withName("wp"),
                MemoryLayout.sequenceLayout(32, U8).withName("rsvd32"))
                .withName("nvme_zns_desc");
        public static final long ZT = offset(LAYOUT, "zt");
        public static final long ZS = offset(LAYOUT, "zs");
        public static final long ZA = offset(LAYOUT, "za");
        public static final long ZCAP = offset(LAYOUT, "zcap");
        public static final long ZSLBA = offset(LAYOUT, "zslba");
        public static final long WP = offset(LAYOUT, "wp");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /** {@code struct nvme_zone_report}: Report Zones header (64 bytes); descriptors follow it. */
    public static final class NvmeZoneReport {
        private NvmeZoneReport() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                LE64.withName("nr_zones"),
                MemoryLayout.sequenceLayout(56, U8).withName("rsvd8"))
                .withName("nvme_zone_report");
        public static final long NR_ZONES = offset(LAYOUT, "nr_zones");
        public static final long SIZE = LAYOUT.byteSize();
    }
}
