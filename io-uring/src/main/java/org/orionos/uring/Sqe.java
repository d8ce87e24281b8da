package org.orionos.uring;

import java.lang.foreign.MemorySegment;

import org.orionos.bindings.uapi.IoUringH.IoUringSqe;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.orionos.bindings.uapi.IoUringH.IORING_ACCEPT_MULTISHOT;
import static org.orionos.bindings.uapi.IoUringH.IORING_ASYNC_CANCEL_FD;
import static org.orionos.bindings.uapi.IoUringH.IORING_OP_ACCEPT;
import static org.orionos.bindings.uapi.IoUringH.IORING_OP_ASYNC_CANCEL;
import static org.orionos.bindings.uapi.IoUringH.IORING_OP_CLOSE;
import static org.orionos.bindings.uapi.IoUringH.IORING_OP_CONNECT;
import static org.orionos.bindings.uapi.IoUringH.IORING_OP_FALLOCATE;
import static org.orionos.bindings.uapi.IoUringH.IORING_OP_FSYNC;
import static org.orionos.bindings.uapi.IoUringH.IORING_OP_LINK_TIMEOUT;
import static org.orionos.bindings.uapi.IoUringH.IORING_OP_NOP;
import static org.orionos.bindings.uapi.IoUringH.IORING_OP_OPENAT;
import static org.orionos.bindings.uapi.IoUringH.IORING_OP_POLL_ADD;
import static org.orionos.bindings.uapi.IoUringH.IORING_OP_READ;
import static org.orionos.bindings.uapi.IoUringH.IORING_OP_READV;
import static org.orionos.bindings.uapi.IoUringH.IORING_OP_READ_FIXED;
import static org.orionos.bindings.uapi.IoUringH.IORING_OP_RECV;
import static org.orionos.bindings.uapi.IoUringH.IORING_OP_RECVMSG;
import static org.orionos.bindings.uapi.IoUringH.IORING_OP_SEND;
import static org.orionos.bindings.uapi.IoUringH.IORING_OP_SENDMSG;
import static org.orionos.bindings.uapi.IoUringH.IORING_OP_STATX;
import static org.orionos.bindings.uapi.IoUringH.IORING_OP_TIMEOUT;
import static org.orionos.bindings.uapi.IoUringH.IORING_OP_URING_CMD;
import static org.orionos.bindings.uapi.IoUringH.IORING_OP_WRITE;
import static org.orionos.bindings.uapi.IoUringH.IORING_OP_WRITEV;
import static org.orionos.bindings.uapi.IoUringH.IORING_OP_WRITE_FIXED;
import static org.orionos.bindings.uapi.IoUringH.IOSQE_ASYNC;
import static org.orionos.bindings.uapi.IoUringH.IOSQE_FIXED_FILE;
import static org.orionos.bindings.uapi.IoUringH.IOSQE_IO_DRAIN;
import static org.orionos.bindings.uapi.IoUringH.IOSQE_IO_LINK;

/**
 * Flyweight over one submission queue entry, handed out by {@link Ring#acquire}. It is reused:
 * fill it right away with one operation method and optional flag methods; it is only valid until
 * the next {@code acquire}. The entry is zeroed and its user_data set before it is handed out,
 * so an operation method writes only the fields its opcode reads (the field use of each follows
 * the kernel's {@code io_uring_sqe} documentation, as liburing's prep helpers do).
 *
 * <p>Addresses are raw native addresses ({@link MemorySegment#address()}); the caller keeps the
 * memory alive until the completion arrives.
 */
public final class Sqe {
    private static final long OPCODE = IoUringSqe.OPCODE;
    private static final long FLAGS = IoUringSqe.FLAGS;
    private static final long IOPRIO = IoUringSqe.IOPRIO;
    private static final long FD = IoUringSqe.FD;
    private static final long OFF = IoUringSqe.OFF;
    private static final long ADDR = IoUringSqe.ADDR;
    private static final long LEN = IoUringSqe.LEN;
    private static final long OP_FLAGS = IoUringSqe.OP_FLAGS;
    private static final long BUF_INDEX = IoUringSqe.BUF_INDEX;
    private static final long FILE_INDEX = IoUringSqe.FILE_INDEX;
    private static final long CMD = IoUringSqe.CMD;

    private final MemorySegment sqes;
    private final int cmdSize;
    private long base;

    Sqe(MemorySegment sqes, boolean sqe128) {
        this.sqes = sqes;
        this.cmdSize = (int) (sqe128 ? IoUringSqe.CMD_SIZE_SQE128 : IoUringSqe.SIZE - CMD);
    }

    void bind(long base) {
        this.base = base;
    }

    /** Byte offset of this entry in the SQE array (tests, debugging). */
    long base() {
        return base;
    }

    private Sqe rw(int op, int fd, long addr, int len, long off) {
        sqes.set(JAVA_BYTE, base + OPCODE, (byte) op);
        sqes.set(JAVA_INT, base + FD, fd);
        sqes.set(JAVA_LONG, base + OFF, off);
        sqes.set(JAVA_LONG, base + ADDR, addr);
        sqes.set(JAVA_INT, base + LEN, len);
        return this;
    }

    /** Per-request RWF_* flags of READ/WRITE/READV/WRITEV (e.g. RWF_DSYNC for a FUA write). */
    public Sqe rwFlags(int rwf) {
        return opFlags(rwf);
    }

    private Sqe opFlags(int f) {
        sqes.set(JAVA_INT, base + OP_FLAGS, f);
        return this;
    }

    // ---------------------------------------------------------------- SQE flags

    /** Adds IOSQE_* flags. */
    public Sqe flags(int iosqeFlags) {
        byte f = sqes.get(JAVA_BYTE, base + FLAGS);
        sqes.set(JAVA_BYTE, base + FLAGS, (byte) (f | iosqeFlags));
        return this;
    }

    /** IOSQE_IO_LINK: the next SQE starts only when this one succeeded. */
    public Sqe link() {
        return flags(IOSQE_IO_LINK);
    }

    /** IOSQE_IO_DRAIN: starts only after every earlier SQE completed. */
    public Sqe drain() {
        return flags(IOSQE_IO_DRAIN);
    }

    /** IOSQE_FIXED_FILE: {@code fd} is an index into the registered file table. */
    public Sqe fixedFile() {
        return flags(IOSQE_FIXED_FILE);
    }

    /** IOSQE_ASYNC: go to the io-wq worker at once instead of trying inline first. */
    public Sqe async() {
        return flags(IOSQE_ASYNC);
    }

    public Sqe ioprio(int prio) {
        sqes.set(JAVA_SHORT, base + IOPRIO, (short) prio);
        return this;
    }

    // ---------------------------------------------------------------- operations

    public Sqe nop() {
        return rw(IORING_OP_NOP, -1, 0, 0, 0);
    }

    /** read(2) at {@code offset} (-1: the file position) into {@code addr}. */
    public Sqe read(int fd, long addr, int len, long offset) {
        return rw(IORING_OP_READ, fd, addr, len, offset);
    }

    public Sqe write(int fd, long addr, int len, long offset) {
        return rw(IORING_OP_WRITE, fd, addr, len, offset);
    }

    /** Read into registered buffer {@code bufIndex}; {@code addr} must lie inside it. */
    public Sqe readFixed(int fd, long addr, int len, long offset, int bufIndex) {
        rw(IORING_OP_READ_FIXED, fd, addr, len, offset);
        sqes.set(JAVA_SHORT, base + BUF_INDEX, (short) bufIndex);
        return this;
    }

    public Sqe writeFixed(int fd, long addr, int len, long offset, int bufIndex) {
        rw(IORING_OP_WRITE_FIXED, fd, addr, len, offset);
        sqes.set(JAVA_SHORT, base + BUF_INDEX, (short) bufIndex);
        return this;
    }

    /** preadv(2): {@code iovecs} points at {@code count} {@code struct iovec}. */
    public Sqe readv(int fd, long iovecs, int count, long offset) {
        return rw(IORING_OP_READV, fd, iovecs, count, offset);
    }

    public Sqe writev(int fd, long iovecs, int count, long offset) {
        return rw(IORING_OP_WRITEV, fd, iovecs, count, offset);
    }

    /** fsync(2), or fdatasync(2) with {@code IORING_FSYNC_DATASYNC}. */
    public Sqe fsync(int fd, int fsyncFlags) {
        return rw(IORING_OP_FSYNC, fd, 0, 0, 0).opFlags(fsyncFlags);
    }

    /** fallocate(2): the kernel takes the mode in len and the length in addr. */
    public Sqe fallocate(int fd, int mode, long offset, long length) {
        return rw(IORING_OP_FALLOCATE, fd, length, mode, offset);
    }

    /** openat(2); {@code path} is a NUL-terminated string. */
    public Sqe openat(int dirfd, long path, int openFlags, int mode) {
        return rw(IORING_OP_OPENAT, dirfd, path, mode, 0).opFlags(openFlags);
    }

    /** openat(2) straight into registered file slot {@code slot}. */
    public Sqe openatDirect(int dirfd, long path, int openFlags, int mode, int slot) {
        openat(dirfd, path, openFlags, mode);
        sqes.set(JAVA_INT, base + FILE_INDEX, slot + 1);
        return this;
    }

    public Sqe close(int fd) {
        return rw(IORING_OP_CLOSE, fd, 0, 0, 0);
    }

    /** Closes registered file slot {@code slot} (file_index is 1-based, fd must be 0). */
    public Sqe closeDirect(int slot) {
        rw(IORING_OP_CLOSE, 0, 0, 0, 0);
        sqes.set(JAVA_INT, base + FILE_INDEX, slot + 1);
        return this;
    }

    /** statx(2) into {@code statxBuf}: mask in len, buffer address in off. */
    public Sqe statx(int dirfd, long path, int statxFlags, int mask, long statxBuf) {
        return rw(IORING_OP_STATX, dirfd, path, mask, statxBuf).opFlags(statxFlags);
    }

    /** accept4(2): {@code addrLen} points at a socklen_t (off carries its address). */
    public Sqe accept(int fd, long addr, long addrLen, int acceptFlags) {
        return rw(IORING_OP_ACCEPT, fd, addr, 0, addrLen).opFlags(acceptFlags);
    }

    /** Multishot accept: one completion (with F_MORE) per connection until cancelled or failed. */
    public Sqe acceptMultishot(int fd, long addr, long addrLen, int acceptFlags) {
        accept(fd, addr, addrLen, acceptFlags);
        return ioprio(IORING_ACCEPT_MULTISHOT);
    }

    /** connect(2): the address length travels in off. */
    public Sqe connect(int fd, long addr, int addrLen) {
        return rw(IORING_OP_CONNECT, fd, addr, 0, addrLen);
    }

    public Sqe recv(int fd, long buf, int len, int msgFlags) {
        return rw(IORING_OP_RECV, fd, buf, len, 0).opFlags(msgFlags);
    }

    public Sqe send(int fd, long buf, int len, int msgFlags) {
        return rw(IORING_OP_SEND, fd, buf, len, 0).opFlags(msgFlags);
    }

    public Sqe recvmsg(int fd, long msghdr, int msgFlags) {
        return rw(IORING_OP_RECVMSG, fd, msghdr, 1, 0).opFlags(msgFlags);
    }

    public Sqe sendmsg(int fd, long msghdr, int msgFlags) {
        return rw(IORING_OP_SENDMSG, fd, msghdr, 1, 0).opFlags(msgFlags);
    }

    /** One-shot poll for {@code events} (POLLIN etc., as poll32_events). */
    public Sqe pollAdd(int fd, int events) {
        return rw(IORING_OP_POLL_ADD, fd, 0, 0, 0).opFlags(events);
    }

    /**
     * Completes after the {@code __kernel_timespec} at {@code ts} elapses (res -ETIME) or after
     * {@code count} other completions (res 0; count 0 means time only).
     */
    public Sqe timeout(long ts, int count, int timeoutFlags) {
        return rw(IORING_OP_TIMEOUT, -1, ts, 1, count).opFlags(timeoutFlags);
    }

    /** Bounds the previous (linked) SQE: it is cancelled when the timespec at {@code ts} elapses. */
    public Sqe linkTimeout(long ts, int timeoutFlags) {
        return rw(IORING_OP_LINK_TIMEOUT, -1, ts, 1, 0).opFlags(timeoutFlags);
    }

    /** Cancels the operation submitted with {@code userData} (see {@link Ring#lastUserData()}). */
    public Sqe cancel(long userData, int cancelFlags) {
        return rw(IORING_OP_ASYNC_CANCEL, -1, userData, 0, 0).opFlags(cancelFlags);
    }

    /** Cancels by file descriptor (IORING_ASYNC_CANCEL_FD is added), plus any other cancel flags. */
    public Sqe cancelFd(int fd, int cancelFlags) {
        return rw(IORING_OP_ASYNC_CANCEL, fd, 0, 0, 0)
                .opFlags(cancelFlags | IORING_ASYNC_CANCEL_FD);
    }

    /**
     * A driver passthrough command ({@code cmd_op} for {@code fd}); write its payload with
     * {@link #cmd()} (16 bytes, or 80 on a SQE128 ring).
     */
    public Sqe uringCmd(int fd, int cmdOp) {
        sqes.set(JAVA_BYTE, base + OPCODE, (byte) IORING_OP_URING_CMD);
        sqes.set(JAVA_INT, base + FD, fd);
        sqes.set(JAVA_INT, base + IoUringSqe.CMD_OP, cmdOp);
        return this;
    }

    /** The command area of this entry (a slice; off the per-I/O path use {@link #cmdOffset()}). */
    public MemorySegment cmd() {
        return sqes.asSlice(base + CMD, cmdSize);
    }

    /** Offset of the command area inside {@link #segment()}: write the payload without a slice. */
    public long cmdOffset() {
        return base + CMD;
    }

    /** The whole SQE array; with {@link #cmdOffset()} for allocation-free command payloads. */
    public MemorySegment segment() {
        return sqes;
    }

    public int cmdSize() {
        return cmdSize;
    }
}
