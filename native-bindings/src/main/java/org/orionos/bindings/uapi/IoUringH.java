package org.orionos.bindings.uapi;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import org.orionos.bindings.CHeader;
import org.orionos.bindings.NotInHeader;

import static org.orionos.bindings.Layouts.U16;
import static org.orionos.bindings.Layouts.U32;
import static org.orionos.bindings.Layouts.U64;
import static org.orionos.bindings.Layouts.U8;
import static org.orionos.bindings.Layouts.offset;
import static org.orionos.bindings.Layouts.pad;

/** linux/io_uring.h: ring setup, SQE/CQE layouts, opcodes, flags, register opcodes. */
@CHeader({"linux/io_uring.h", "linux/time_types.h"})
public final class IoUringH {
    private IoUringH() {
    }

    // ---- setup flags
    public static final int IORING_SETUP_IOPOLL = 1;
    public static final int IORING_SETUP_SQPOLL = 1 << 1;
    public static final int IORING_SETUP_SQ_AFF = 1 << 2;
    public static final int IORING_SETUP_CQSIZE = 1 << 3;
    public static final int IORING_SETUP_CLAMP = 1 << 4;
    public static final int IORING_SETUP_ATTACH_WQ = 1 << 5;
    public static final int IORING_SETUP_R_DISABLED = 1 << 6;
    public static final int IORING_SETUP_SUBMIT_ALL = 1 << 7;
    public static final int IORING_SETUP_COOP_TASKRUN = 1 << 8;
    public static final int IORING_SETUP_TASKRUN_FLAG = 1 << 9;
    public static final int IORING_SETUP_SQE128 = 1 << 10;
    public static final int IORING_SETUP_CQE32 = 1 << 11;
    public static final int IORING_SETUP_SINGLE_ISSUER = 1 << 12;
    public static final int IORING_SETUP_DEFER_TASKRUN = 1 << 13;
    @NotInHeader("Linux 6.5, newer than the installed linux-libc-dev 6.1")
    public static final int IORING_SETUP_NO_MMAP = 1 << 14;

    // ---- opcodes (enum io_uring_op)
    public static final int IORING_OP_NOP = 0;
    public static final int IORING_OP_READV = 1;
    public static final int IORING_OP_WRITEV = 2;
    public static final int IORING_OP_FSYNC = 3;
    public static final int IORING_OP_READ_FIXED = 4;
    public static final int IORING_OP_WRITE_FIXED = 5;
    public static final int IORING_OP_POLL_ADD = 6;
    public static final int IORING_OP_POLL_REMOVE = 7;
    public static final int IORING_OP_SYNC_FILE_RANGE = 8;
    public static final int IORING_OP_SENDMSG = 9;
    public static final int IORING_OP_RECVMSG = 10;
    public static final int IORING_OP_TIMEOUT = 11;
    public static final int IORING_OP_TIMEOUT_REMOVE = 12;
    public static final int IORING_OP_ACCEPT = 13;
    public static final int IORING_OP_ASYNC_CANCEL = 14;
    public static final int IORING_OP_LINK_TIMEOUT = 15;
    public static final int IORING_OP_CONNECT = 16;
    public static final int IORING_OP_FALLOCATE = 17;
    public static final int IORING_OP_OPENAT = 18;
    public static final int IORING_OP_CLOSE = 19;
    public static final int IORING_OP_FILES_UPDATE = 20;
    public static final int IORING_OP_STATX = 21;
    public static final int IORING_OP_READ = 22;
    public static final int IORING_OP_WRITE = 23;
    public static final int IORING_OP_FADVISE = 24;
    public static final int IORING_OP_MADVISE = 25;
    public static final int IORING_OP_SEND = 26;
    public static final int IORING_OP_RECV = 27;
    public static final int IORING_OP_OPENAT2 = 28;
    public static final int IORING_OP_EPOLL_CTL = 29;
    public static final int IORING_OP_SPLICE = 30;
    public static final int IORING_OP_PROVIDE_BUFFERS = 31;
    public static final int IORING_OP_REMOVE_BUFFERS = 32;
    public static final int IORING_OP_TEE = 33;
    public static final int IORING_OP_SHUTDOWN = 34;
    public static final int IORING_OP_RENAMEAT = 35;
    public static final int IORING_OP_UNLINKAT = 36;
    public static final int IORING_OP_MKDIRAT = 37;
    public static final int IORING_OP_SYMLINKAT = 38;
    public static final int IORING_OP_LINKAT = 39;
    public static final int IORING_OP_MSG_RING = 40;
    public static final int IORING_OP_FSETXATTR = 41;
    public static final int IORING_OP_SETXATTR = 42;
    public static final int IORING_OP_FGETXATTR = 43;
    public static final int IORING_OP_GETXATTR = 44;
    public static final int IORING_OP_SOCKET = 45;
    public static final int IORING_OP_URING_CMD = 46;
    public static final int IORING_OP_SEND_ZC = 47;
    public static final int IORING_OP_SENDMSG_ZC = 48;

    /**
     * Printable names indexed by opcode, for the probe and error messages. Names past SENDMSG_ZC (48)
     * come from kernels newer than the installed headers (6.7 to 6.16).
     */
    public static final String[] OP_NAMES = {
        "NOP", "READV", "WRITEV", "FSYNC", "READ_FIXED", "WRITE_FIXED", "POLL_ADD", "POLL_REMOVE",
        "SYNC_FILE_RANGE", "SENDMSG", "RECVMSG", "TIMEOUT", "TIMEOUT_REMOVE", "ACCEPT", "ASYNC_CANCEL",
        "LINK_TIMEOUT", "CONNECT", "FALLOCATE", "OPENAT", "CLOSE", "FILES_UPDATE", "STATX", "READ", "WRITE",
        "FADVISE", "MADVISE", "SEND", "RECV", "OPENAT2", "EPOLL_CTL", "SPLICE", "PROVIDE_BUFFERS",
        "REMOVE_BUFFERS", "TEE", "SHUTDOWN", "RENAMEAT", "UNLINKAT", "MKDIRAT", "SYMLINKAT", "LINKAT", "MSG_RING",
        "FSETXATTR", "SETXATTR", "FGETXATTR", "GETXATTR", "SOCKET", "URING_CMD", "SEND_ZC", "SENDMSG_ZC",
        "READ_MULTISHOT", "WAITID", "FUTEX_WAIT", "FUTEX_WAKE", "FUTEX_WAITV", "FIXED_FD_INSTALL", "FTRUNCATE",
        "BIND", "LISTEN", "RECV_ZC", "EPOLL_WAIT", "READV_FIXED", "WRITEV_FIXED", "PIPE",
    };

    /** Name of an opcode, or {@code OP_<n>} for opcodes newer than this table. */
    public static String opName(int op) {
        return op >= 0 && op < OP_NAMES.length ? OP_NAMES[op] : "OP_" + op;
    }

    // ---- SQE flags
    public static final int IOSQE_FIXED_FILE_BIT = 0;
    public static final int IOSQE_IO_DRAIN_BIT = 1;
    public static final int IOSQE_IO_LINK_BIT = 2;
    public static final int IOSQE_IO_HARDLINK_BIT = 3;
    public static final int IOSQE_ASYNC_BIT = 4;
    public static final int IOSQE_BUFFER_SELECT_BIT = 5;
    public static final int IOSQE_CQE_SKIP_SUCCESS_BIT = 6;
    public static final int IOSQE_FIXED_FILE = 1;
    public static final int IOSQE_IO_DRAIN = 1 << 1;
    public static final int IOSQE_IO_LINK = 1 << 2;
    public static final int IOSQE_IO_HARDLINK = 1 << 3;
    public static final int IOSQE_ASYNC = 1 << 4;
    public static final int IOSQE_BUFFER_SELECT = 1 << 5;
    public static final int IOSQE_CQE_SKIP_SUCCESS = 1 << 6;

    // ---- per-op flags
    public static final int IORING_FILE_INDEX_ALLOC = ~0;
    public static final int IORING_URING_CMD_FIXED = 1;
    public static final int IORING_FSYNC_DATASYNC = 1;
    public static final int IORING_TIMEOUT_ABS = 1;
    public static final int IORING_TIMEOUT_UPDATE = 1 << 1;
    public static final int IORING_TIMEOUT_BOOTTIME = 1 << 2;
    public static final int IORING_TIMEOUT_REALTIME = 1 << 3;
    public static final int IORING_LINK_TIMEOUT_UPDATE = 1 << 4;
    public static final int IORING_TIMEOUT_ETIME_SUCCESS = 1 << 5;
    public static final int IORING_POLL_ADD_MULTI = 1;
    public static final int IORING_POLL_UPDATE_EVENTS = 1 << 1;
    public static final int IORING_POLL_UPDATE_USER_DATA = 1 << 2;
    public static final int IORING_POLL_ADD_LEVEL = 1 << 3;
    public static final int IORING_ASYNC_CANCEL_ALL = 1;
    public static final int IORING_ASYNC_CANCEL_FD = 1 << 1;
    public static final int IORING_ASYNC_CANCEL_ANY = 1 << 2;
    public static final int IORING_ASYNC_CANCEL_FD_FIXED = 1 << 3;
    public static final int IORING_ASYNC_CANCEL_USERDATA = 1 << 4;
    public static final int IORING_ASYNC_CANCEL_OP = 1 << 5;
    public static final int IORING_RECVSEND_POLL_FIRST = 1;
    public static final int IORING_RECV_MULTISHOT = 1 << 1;
    public static final int IORING_RECVSEND_FIXED_BUF = 1 << 2;
    public static final int IORING_ACCEPT_MULTISHOT = 1;

    // ---- CQE flags
    public static final int IORING_CQE_F_BUFFER = 1;
    public static final int IORING_CQE_F_MORE = 1 << 1;
    public static final int IORING_CQE_F_SOCK_NONEMPTY = 1 << 2;
    public static final int IORING_CQE_F_NOTIF = 1 << 3;
    public static final int IORING_CQE_BUFFER_SHIFT = 16;

    // ---- mmap offsets
    public static final long IORING_OFF_SQ_RING = 0L;
    public static final long IORING_OFF_CQ_RING = 0x8000000L;
    public static final long IORING_OFF_SQES = 0x10000000L;

    // ---- ring flags
    public static final int IORING_SQ_NEED_WAKEUP = 1;
    public static final int IORING_SQ_CQ_OVERFLOW = 1 << 1;
    public static final int IORING_SQ_TASKRUN = 1 << 2;
    public static final int IORING_CQ_EVENTFD_DISABLED = 1;

    // ---- enter flags
    public static final int IORING_ENTER_GETEVENTS = 1;
    public static final int IORING_ENTER_SQ_WAKEUP = 1 << 1;
    public static final int IORING_ENTER_SQ_WAIT = 1 << 2;
    public static final int IORING_ENTER_EXT_ARG = 1 << 3;
    public static final int IORING_ENTER_REGISTERED_RING = 1 << 4;

    // ---- features
    public static final int IORING_FEAT_SINGLE_MMAP = 1;
    public static final int IORING_FEAT_NODROP = 1 << 1;
    public static final int IORING_FEAT_SUBMIT_STABLE = 1 << 2;
    public static final int IORING_FEAT_RW_CUR_POS = 1 << 3;
    public static final int IORING_FEAT_CUR_PERSONALITY = 1 << 4;
    public static final int IORING_FEAT_FAST_POLL = 1 << 5;
    public static final int IORING_FEAT_POLL_32BITS = 1 << 6;
    public static final int IORING_FEAT_SQPOLL_NONFIXED = 1 << 7;
    public static final int IORING_FEAT_EXT_ARG = 1 << 8;
    public static final int IORING_FEAT_NATIVE_WORKERS = 1 << 9;
    public static final int IORING_FEAT_RSRC_TAGS = 1 << 10;
    public static final int IORING_FEAT_CQE_SKIP = 1 << 11;
    public static final int IORING_FEAT_LINKED_FILE = 1 << 12;
    @NotInHeader("Linux 6.6, newer than the installed linux-libc-dev 6.1")
    public static final int IORING_FEAT_REG_REG_RING = 1 << 13;

    /** Printable names indexed by feature bit; bits past 12 come from kernels 6.6 to 6.15. */
    public static final String[] FEATURE_NAMES = {
        "SINGLE_MMAP", "NODROP", "SUBMIT_STABLE", "RW_CUR_POS", "CUR_PERSONALITY", "FAST_POLL", "POLL_32BITS",
        "SQPOLL_NONFIXED", "EXT_ARG", "NATIVE_WORKERS", "RSRC_TAGS", "CQE_SKIP", "LINKED_FILE", "REG_REG_RING",
        "RECVSEND_BUNDLE", "MIN_TIMEOUT", "RW_ATTR", "NO_IOWAIT",
    };

    // ---- register opcodes
    public static final int IORING_REGISTER_BUFFERS = 0;
    public static final int IORING_UNREGISTER_BUFFERS = 1;
    public static final int IORING_REGISTER_FILES = 2;
    public static final int IORING_UNREGISTER_FILES = 3;
    public static final int IORING_REGISTER_EVENTFD = 4;
    public static final int IORING_UNREGISTER_EVENTFD = 5;
    public static final int IORING_REGISTER_FILES_UPDATE = 6;
    public static final int IORING_REGISTER_EVENTFD_ASYNC = 7;
    public static final int IORING_REGISTER_PROBE = 8;
    public static final int IORING_REGISTER_PERSONALITY = 9;
    public static final int IORING_UNREGISTER_PERSONALITY = 10;
    public static final int IORING_REGISTER_RESTRICTIONS = 11;
    public static final int IORING_REGISTER_ENABLE_RINGS = 12;
    public static final int IORING_REGISTER_FILES2 = 13;
    public static final int IORING_REGISTER_FILES_UPDATE2 = 14;
    public static final int IORING_REGISTER_BUFFERS2 = 15;
    public static final int IORING_REGISTER_BUFFERS_UPDATE = 16;
    public static final int IORING_REGISTER_IOWQ_AFF = 17;
    public static final int IORING_UNREGISTER_IOWQ_AFF = 18;
    public static final int IORING_REGISTER_IOWQ_MAX_WORKERS = 19;
    public static final int IORING_REGISTER_RING_FDS = 20;
    public static final int IORING_UNREGISTER_RING_FDS = 21;
    public static final int IORING_REGISTER_PBUF_RING = 22;
    public static final int IORING_UNREGISTER_PBUF_RING = 23;
    public static final int IORING_REGISTER_SYNC_CANCEL = 24;
    public static final int IORING_REGISTER_FILE_ALLOC_RANGE = 25;
    public static final int IORING_RSRC_REGISTER_SPARSE = 1;
    public static final int IORING_REGISTER_FILES_SKIP = -2;
    public static final int IO_URING_OP_SUPPORTED = 1;

    /**
     * {@code struct io_uring_sqe}, 64 bytes (128 with IORING_SETUP_SQE128, where the second half
     * extends {@code cmd}). Unions are laid out with every C member name so each can be checked.
     */
    public static final class IoUringSqe {
        private IoUringSqe() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U8.withName("opcode"),
                U8.withName("flags"),
                U16.withName("ioprio"),
                U32.withName("fd"),
                MemoryLayout.unionLayout(
                        U64.withName("off"),
                        U64.withName("addr2"),
                        MemoryLayout.structLayout(U32.withName("cmd_op"), U32.withName("__pad1"))),
                MemoryLayout.unionLayout(U64.withName("addr"), U64.withName("splice_off_in")),
                U32.withName("len"),
                MemoryLayout.unionLayout(
                        U32.withName("rw_flags"), U32.withName("fsync_flags"), U16.withName("poll_events"),
                        U32.withName("poll32_events"), U32.withName("sync_range_flags"), U32.withName("msg_flags"),
                        U32.withName("timeout_flags"), U32.withName("accept_flags"), U32.withName("cancel_flags"),
                        U32.withName("open_flags"), U32.withName("statx_flags"), U32.withName("fadvise_advice"),
                        U32.withName("splice_flags"), U32.withName("rename_flags"), U32.withName("unlink_flags"),
                        U32.withName("hardlink_flags"), U32.withName("xattr_flags"), U32.withName("msg_ring_flags"),
                        U32.withName("uring_cmd_flags")),
                U64.withName("user_data"),
                MemoryLayout.unionLayout(U16.withName("buf_index"), U16.withName("buf_group")),
                U16.withName("personality"),
                MemoryLayout.unionLayout(
                        U32.withName("splice_fd_in"),
                        U32.withName("file_index"),
                        MemoryLayout.structLayout(U16.withName("addr_len"), pad(2))),
                MemoryLayout.unionLayout(
                        MemoryLayout.structLayout(U64.withName("addr3"), pad(8)),
                        MemoryLayout.sequenceLayout(0, U8).withName("cmd")))
                .withName("io_uring_sqe");

        public static final long OPCODE = offset(LAYOUT, "opcode");
        public static final long FLAGS = offset(LAYOUT, "flags");
        public static final long IOPRIO = offset(LAYOUT, "ioprio");
        public static final long FD = offset(LAYOUT, "fd");
        public static final long OFF = offset(LAYOUT, "off");
        public static final long ADDR2 = offset(LAYOUT, "addr2");
        public static final long CMD_OP = offset(LAYOUT, "cmd_op");
        public static final long ADDR = offset(LAYOUT, "addr");
        public static final long LEN = offset(LAYOUT, "len");
        /** The per-opcode flags word (rw_flags, fsync_flags, timeout_flags, ... share it). */
        public static final long OP_FLAGS = offset(LAYOUT, "rw_flags");
        public static final long USER_DATA = offset(LAYOUT, "user_data");
        public static final long BUF_INDEX = offset(LAYOUT, "buf_index");
        public static final long PERSONALITY = offset(LAYOUT, "personality");
        public static final long FILE_INDEX = offset(LAYOUT, "file_index");
        public static final long SPLICE_FD_IN = offset(LAYOUT, "splice_fd_in");
        public static final long ADDR_LEN = offset(LAYOUT, "addr_len");
        public static final long ADDR3 = offset(LAYOUT, "addr3");
        /** Start of the URING_CMD command area: 16 bytes, or 80 with SQE128. */
        public static final long CMD = offset(LAYOUT, "cmd");
        public static final long SIZE = LAYOUT.byteSize();
        /** Size of the command area in a 128-byte SQE. */
        public static final long CMD_SIZE_SQE128 = 2 * SIZE - CMD;
    }

    /** {@code struct io_uring_cqe}: 16 bytes, 32 with IORING_SETUP_CQE32 ({@code big_cqe}). */
    public static final class IoUringCqe {
        private IoUringCqe() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U64.withName("user_data"),
                U32.withName("res"),
                U32.withName("flags"),
                MemoryLayout.sequenceLayout(0, U64).withName("big_cqe"))
                .withName("io_uring_cqe");
        public static final long USER_DATA = offset(LAYOUT, "user_data");
        public static final long RES = offset(LAYOUT, "res");
        public static final long FLAGS = offset(LAYOUT, "flags");
        public static final long BIG_CQE = offset(LAYOUT, "big_cqe");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /** {@code struct io_sqring_offsets}. */
    public static final class IoSqringOffsets {
        private IoSqringOffsets() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U32.withName("head"), U32.withName("tail"), U32.withName("ring_mask"), U32.withName("ring_entries"),
                U32.withName("flags"), U32.withName("dropped"), U32.withName("array"), U32.withName("resv1"),
                U64.withName("resv2"))
                .withName("io_sqring_offsets");
    }

    /** {@code struct io_cqring_offsets}. */
    public static final class IoCqringOffsets {
        private IoCqringOffsets() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U32.withName("head"), U32.withName("tail"), U32.withName("ring_mask"), U32.withName("ring_entries"),
                U32.withName("overflow"), U32.withName("cqes"), U32.withName("flags"), U32.withName("resv1"),
                U64.withName("resv2"))
                .withName("io_cqring_offsets");
    }

    /** {@code struct io_uring_params}: in/out argument of io_uring_setup. */
    public static final class IoUringParams {
        private IoUringParams() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U32.withName("sq_entries"), U32.withName("cq_entries"), U32.withName("flags"),
                U32.withName("sq_thread_cpu"), U32.withName("sq_thread_idle"), U32.withName("features"),
                U32.withName("wq_fd"), MemoryLayout.sequenceLayout(3, U32).withName("resv"),
                IoSqringOffsets.LAYOUT.withName("sq_off"),
                IoCqringOffsets.LAYOUT.withName("cq_off"))
                .withName("io_uring_params");
        public static final long SQ_ENTRIES = offset(LAYOUT, "sq_entries");
        public static final long CQ_ENTRIES = offset(LAYOUT, "cq_entries");
        public static final long FLAGS = offset(LAYOUT, "flags");
        public static final long SQ_THREAD_CPU = offset(LAYOUT, "sq_thread_cpu");
        public static final long SQ_THREAD_IDLE = offset(LAYOUT, "sq_thread_idle");
        public static final long FEATURES = offset(LAYOUT, "features");
        public static final long WQ_FD = offset(LAYOUT, "wq_fd");
        public static final long SQ_OFF_HEAD = offset(LAYOUT, "sq_off.head");
        public static final long SQ_OFF_TAIL = offset(LAYOUT, "sq_off.tail");
        public static final long SQ_OFF_RING_MASK = offset(LAYOUT, "sq_off.ring_mask");
        public static final long SQ_OFF_RING_ENTRIES = offset(LAYOUT, "sq_off.ring_entries");
        public static final long SQ_OFF_FLAGS = offset(LAYOUT, "sq_off.flags");
        public static final long SQ_OFF_DROPPED = offset(LAYOUT, "sq_off.dropped");
        public static final long SQ_OFF_ARRAY = offset(LAYOUT, "sq_off.array");
        public static final long CQ_OFF_HEAD = offset(LAYOUT, "cq_off.head");
        public static final long CQ_OFF_TAIL = offset(LAYOUT, "cq_off.tail");
        public static final long CQ_OFF_RING_MASK = offset(LAYOUT, "cq_off.ring_mask");
        public static final long CQ_OFF_RING_ENTRIES = offset(LAYOUT, "cq_off.ring_entries");
        public static final long CQ_OFF_OVERFLOW = offset(LAYOUT, "cq_off.overflow");
        public static final long CQ_OFF_CQES = offset(LAYOUT, "cq_off.cqes");
        public static final long CQ_OFF_FLAGS = offset(LAYOUT, "cq_off.flags");

        public static int features(MemorySegment params) {
            return params.get(U32, FEATURES);
        }
    }

    /** {@code struct io_uring_probe_op}. */
    public static final class IoUringProbeOp {
        private IoUringProbeOp() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U8.withName("op"), U8.withName("resv"), U16.withName("flags"), U32.withName("resv2"))
                .withName("io_uring_probe_op");
        public static final long OP = offset(LAYOUT, "op");
        public static final long FLAGS = offset(LAYOUT, "flags");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /** {@code struct io_uring_probe}, followed by {@code ops[ops_len]}. */
    public static final class IoUringProbe {
        private IoUringProbe() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U8.withName("last_op"), U8.withName("ops_len"), U16.withName("resv"),
                MemoryLayout.sequenceLayout(3, U32).withName("resv2"),
                MemoryLayout.sequenceLayout(0, IoUringProbeOp.LAYOUT).withName("ops"))
                .withName("io_uring_probe");
        public static final long LAST_OP = offset(LAYOUT, "last_op");
        public static final long OPS_LEN = offset(LAYOUT, "ops_len");
        public static final long OPS = offset(LAYOUT, "ops");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /** {@code struct io_uring_rsrc_register}: IORING_REGISTER_FILES2 / BUFFERS2. */
    public static final class IoUringRsrcRegister {
        private IoUringRsrcRegister() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U32.withName("nr"), U32.withName("flags"), U64.withName("resv2"),
                U64.withName("data"), U64.withName("tags"))
                .withName("io_uring_rsrc_register");
        public static final long NR = offset(LAYOUT, "nr");
        public static final long FLAGS = offset(LAYOUT, "flags");
        public static final long DATA = offset(LAYOUT, "data");
        public static final long TAGS = offset(LAYOUT, "tags");
    }

    /** {@code struct io_uring_rsrc_update2}: IORING_REGISTER_FILES_UPDATE2 / BUFFERS_UPDATE. */
    public static final class IoUringRsrcUpdate2 {
        private IoUringRsrcUpdate2() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U32.withName("offset"), U32.withName("resv"), U64.withName("data"), U64.withName("tags"),
                U32.withName("nr"), U32.withName("resv2"))
                .withName("io_uring_rsrc_update2");
        public static final long OFFSET = offset(LAYOUT, "offset");
        public static final long DATA = offset(LAYOUT, "data");
        public static final long TAGS = offset(LAYOUT, "tags");
        public static final long NR = offset(LAYOUT, "nr");
    }

    /** {@code struct io_uring_rsrc_update}: IORING_REGISTER_RING_FDS entries. */
    public static final class IoUringRsrcUpdate {
        private IoUringRsrcUpdate() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U32.withName("offset"), U32.withName("resv"), U64.withName("data"))
                .withName("io_uring_rsrc_update");
        public static final long OFFSET = offset(LAYOUT, "offset");
        public static final long DATA = offset(LAYOUT, "data");
    }

    /** {@code struct io_uring_getevents_arg}: IORING_ENTER_EXT_ARG. */
    public static final class IoUringGeteventsArg {
        private IoUringGeteventsArg() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U64.withName("sigmask"), U32.withName("sigmask_sz"), U32.withName("pad"), U64.withName("ts"))
                .withName("io_uring_getevents_arg");
        public static final long SIGMASK = offset(LAYOUT, "sigmask");
        public static final long SIGMASK_SZ = offset(LAYOUT, "sigmask_sz");
        public static final long TS = offset(LAYOUT, "ts");
    }

    /** {@code struct __kernel_timespec} (linux/time_types.h): TIMEOUT and LINK_TIMEOUT arguments. */
    public static final class KernelTimespec {
        private KernelTimespec() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                U64.withName("tv_sec"), U64.withName("tv_nsec"))
                .withName("__kernel_timespec");
        public static final long TV_SEC = offset(LAYOUT, "tv_sec");
        public static final long TV_NSEC = offset(LAYOUT, "tv_nsec");
    }
}
