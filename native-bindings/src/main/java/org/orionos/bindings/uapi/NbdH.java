package org.orionos.bindings.uapi;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import org.orionos.bindings.CHeader;

import static org.orionos.bindings.Ioctl._IO;
import static org.orionos.bindings.Layouts.U8;
import static org.orionos.bindings.Layouts.offset;

/**
 * linux/nbd.h: the kernel NBD client's ioctls on /dev/nbdX (the legacy configuration path; the
 * netlink one is {@link NbdNetlinkH}), its view of the transmission flags and commands, and the
 * wire headers of the transmission phase. These constants say what <em>this kernel's client</em>
 * sends and understands; the full protocol (structured replies, extensions) is NBD's proto.md.
 *
 * <p>Wire format, all big-endian: request = magic, type (flags high 16 bits, command low 16),
 * 8-byte opaque handle, offset, length (28 bytes, packed), then the data for writes; simple reply =
 * magic, error (an NBD errno), handle (16 bytes), then the data for reads.
 */
@CHeader({"linux/ioctl.h", "linux/nbd.h"}) // nbd.h uses _IO without including linux/ioctl.h
public final class NbdH {
    private NbdH() {
    }

    private static final int NBD = 0xab;

    /** Hand the connected socket (fd as the argument) to the device. */
    public static final long NBD_SET_SOCK = _IO(NBD, 0);
    public static final long NBD_SET_BLKSIZE = _IO(NBD, 1);
    public static final long NBD_SET_SIZE = _IO(NBD, 2);
    /** Runs the device until disconnect: blocks the calling thread. */
    public static final long NBD_DO_IT = _IO(NBD, 3);
    public static final long NBD_CLEAR_SOCK = _IO(NBD, 4);
    public static final long NBD_CLEAR_QUE = _IO(NBD, 5);
    public static final long NBD_PRINT_DEBUG = _IO(NBD, 6);
    public static final long NBD_SET_SIZE_BLOCKS = _IO(NBD, 7);
    public static final long NBD_DISCONNECT = _IO(NBD, 8);
    public static final long NBD_SET_TIMEOUT = _IO(NBD, 9);
    public static final long NBD_SET_FLAGS = _IO(NBD, 10);

    // ---- commands (low 16 bits of type)
    public static final int NBD_CMD_READ = 0;
    public static final int NBD_CMD_WRITE = 1;
    public static final int NBD_CMD_DISC = 2;
    public static final int NBD_CMD_FLUSH = 3;
    public static final int NBD_CMD_TRIM = 4;

    // ---- transmission flags the kernel client understands (NBD_SET_FLAGS / NBD_ATTR_SERVER_FLAGS)
    public static final int NBD_FLAG_HAS_FLAGS = 1;
    public static final int NBD_FLAG_READ_ONLY = 1 << 1;
    public static final int NBD_FLAG_SEND_FLUSH = 1 << 2;
    public static final int NBD_FLAG_SEND_FUA = 1 << 3;
    public static final int NBD_FLAG_SEND_TRIM = 1 << 5;
    public static final int NBD_FLAG_CAN_MULTI_CONN = 1 << 8;

    /** Command flag FUA, as the kernel ORs it into {@code type} (bit 0 of the 16-bit flags field). */
    public static final int NBD_CMD_FLAG_FUA = 1 << 16;

    // ---- client flags (NBD_ATTR_CLIENT_FLAGS)
    /** Delete the device when the connection goes away. */
    public static final int NBD_CFLAG_DESTROY_ON_DISCONNECT = 1;
    /** Disconnect when the last opener closes the device. */
    public static final int NBD_CFLAG_DISCONNECT_ON_CLOSE = 1 << 1;

    public static final int NBD_REQUEST_MAGIC = 0x25609513;
    public static final int NBD_REPLY_MAGIC = 0x67446698;

    private static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt BE32_UNALIGNED = BE32.withByteAlignment(1);
    private static final ValueLayout.OfLong BE64_UNALIGNED =
            ValueLayout.JAVA_LONG.withOrder(ByteOrder.BIG_ENDIAN).withByteAlignment(1);

    /** {@code struct nbd_request} (packed, 28 bytes, big-endian fields). */
    public static final class NbdRequest {
        private NbdRequest() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                BE32_UNALIGNED.withName("magic"), BE32_UNALIGNED.withName("type"),
                MemoryLayout.sequenceLayout(8, U8).withName("handle"),
                BE64_UNALIGNED.withName("from"), BE32_UNALIGNED.withName("len"))
                .withName("nbd_request");
        public static final long MAGIC = offset(LAYOUT, "magic");
        public static final long TYPE = offset(LAYOUT, "type");
        public static final long HANDLE = offset(LAYOUT, "handle");
        public static final long FROM = offset(LAYOUT, "from");
        public static final long LEN = offset(LAYOUT, "len");
        public static final long SIZE = LAYOUT.byteSize();
    }

    /** {@code struct nbd_reply}: the simple reply header (16 bytes, big-endian fields). */
    public static final class NbdReply {
        private NbdReply() {
        }

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                BE32.withName("magic"), BE32.withName("error"), MemoryLayout.sequenceLayout(8, U8).withName("handle"))
                .withName("nbd_reply");
        public static final long MAGIC = offset(LAYOUT, "magic");
        public static final long ERROR = offset(LAYOUT, "error");
        public static final long HANDLE = offset(LAYOUT, "handle");
        public static final long SIZE = LAYOUT.byteSize();
    }
}
