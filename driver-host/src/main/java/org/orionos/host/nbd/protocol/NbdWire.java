package org.orionos.host.nbd.protocol;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The NBD wire format: every constant and frame layout the server speaks, in one place.
 *
 * <p>All integers on the wire are big-endian. Layouts (offsets in bytes):
 *
 * <pre>
 * Greeting (server, 18):        0 u64 NBDMAGIC | 8 u64 IHAVEOPT | 16 u16 handshake flags
 * Client flags (client, 4):     0 u32 client flags
 * Option (client, 16 + len):    0 u64 IHAVEOPT | 8 u32 option | 12 u32 data length | 16 data
 * Option reply (server, 20+len): 0 u64 OPTION_REPLY_MAGIC | 8 u32 option | 12 u32 reply type
 *                               | 16 u32 data length | 20 data
 * EXPORT_NAME reply (10 [+124]): 0 u64 export size | 8 u16 transmission flags
 *                               | 10 124 zero bytes unless both sides set NO_ZEROES
 * REP_INFO data:                0 u16 info type | 2 info payload
 *   INFO_EXPORT (12):           2 u64 size | 10 u16 transmission flags
 *   INFO_NAME / DESCRIPTION:    2 string
 *   INFO_BLOCK_SIZE (14):       2 u32 minimum | 6 u32 preferred | 10 u32 maximum
 * REP_SERVER data:              0 u32 name length | 4 name | description (rest)
 * REP_META_CONTEXT data:        0 u32 context id | 4 context name
 * INFO/GO option data:          0 u32 name length | 4 name | u16 n | n x u16 info type
 * LIST/SET_META_CONTEXT data:   0 u32 name length | 4 name | u32 n | n x (u32 len | query)
 *
 * Simple request (client, 28):  0 u32 REQUEST_MAGIC | 4 u16 command flags | 6 u16 type
 *                               | 8 u64 cookie | 16 u64 offset | 24 u32 length [| payload]
 * Extended request (32):        0 u32 EXTENDED_REQUEST_MAGIC | 4 u16 flags | 6 u16 type
 *                               | 8 u64 cookie | 16 u64 offset | 24 u64 length [| payload]
 * Simple reply (server, 16):    0 u32 SIMPLE_REPLY_MAGIC | 4 u32 error | 8 u64 cookie [| data]
 * Structured chunk (20 + len):  0 u32 STRUCTURED_REPLY_MAGIC | 4 u16 flags | 6 u16 type
 *                               | 8 u64 cookie | 16 u32 payload length | 20 payload
 * Extended chunk (32 + len):    0 u32 EXTENDED_REPLY_MAGIC | 4 u16 flags | 6 u16 type
 *                               | 8 u64 cookie | 16 u64 request offset | 24 u64 payload length
 * Chunk payloads:
 *   OFFSET_DATA:                0 u64 offset | 8 data
 *   OFFSET_HOLE (12):           0 u64 offset | 8 u32 hole size
 *   BLOCK_STATUS:               0 u32 context id | n x (u32 length | u32 status flags)
 *   BLOCK_STATUS_EXT:           0 u32 context id | 4 u32 n | n x (u64 length | u64 status flags)
 *   ERROR:                      0 u32 error | 4 u16 message length | 6 message
 *   ERROR_OFFSET:               0 u32 error | 4 u16 message length | 6 message | u64 offset
 * </pre>
 *
 * <p>Strings are UTF-8 without NUL and at most {@link #MAX_STRING} bytes.
 */
public final class NbdWire {
    private NbdWire() {}

    // Network byte order, unaligned: frames start anywhere in a receive buffer.
    public static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    public static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    public static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    // Magics
    public static final long NBDMAGIC = 0x4e42444d41474943L;
    public static final long IHAVEOPT = 0x49484156454F5054L;
    public static final long OPTION_REPLY_MAGIC = 0x0003e889045565a9L;
    public static final int REQUEST_MAGIC = 0x25609513;
    public static final int EXTENDED_REQUEST_MAGIC = 0x21e41c71;
    public static final int SIMPLE_REPLY_MAGIC = 0x67446698;
    public static final int STRUCTURED_REPLY_MAGIC = 0x668e33ef;
    public static final int EXTENDED_REPLY_MAGIC = 0x6e8a278c;

    // Frame sizes
    public static final int GREETING_SIZE = 18;
    public static final int OPTION_HEADER_SIZE = 16;
    public static final int OPTION_REPLY_HEADER_SIZE = 20;
    public static final int EXPORT_NAME_REPLY_SIZE = 10;
    public static final int EXPORT_NAME_ZEROES = 124;
    public static final int REQUEST_SIZE = 28;
    public static final int EXTENDED_REQUEST_SIZE = 32;
    public static final int SIMPLE_REPLY_SIZE = 16;
    public static final int STRUCTURED_REPLY_HEADER_SIZE = 20;
    public static final int EXTENDED_REPLY_HEADER_SIZE = 32;

    /** Longest string (export name, query, message) the protocol allows. */
    public static final int MAX_STRING = 4096;
    /** Largest READ/WRITE payload this server accepts (2^25, what every client stays within). */
    public static final int MAX_PAYLOAD = 32 << 20;

    // Handshake flags (server, 16 bits)
    public static final int FLAG_FIXED_NEWSTYLE = 1;
    public static final int FLAG_NO_ZEROES = 1 << 1;

    // Client flags (32 bits)
    public static final int FLAG_C_FIXED_NEWSTYLE = 1;
    public static final int FLAG_C_NO_ZEROES = 1 << 1;
    public static final int KNOWN_CLIENT_FLAGS = FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES;

    // Transmission flags (16 bits)
    public static final int FLAG_HAS_FLAGS = 1;
    public static final int FLAG_READ_ONLY = 1 << 1;
    public static final int FLAG_SEND_FLUSH = 1 << 2;
    public static final int FLAG_SEND_FUA = 1 << 3;
    public static final int FLAG_ROTATIONAL = 1 << 4;
    public static final int FLAG_SEND_TRIM = 1 << 5;
    public static final int FLAG_SEND_WRITE_ZEROES = 1 << 6;
    public static final int FLAG_SEND_DF = 1 << 7;
    public static final int FLAG_CAN_MULTI_CONN = 1 << 8;
    public static final int FLAG_SEND_RESIZE = 1 << 9;
    public static final int FLAG_SEND_CACHE = 1 << 10;
    public static final int FLAG_SEND_FAST_ZERO = 1 << 11;
    public static final int FLAG_BLOCK_STAT_PAYLOAD = 1 << 12;

    // Options
    public static final int OPT_EXPORT_NAME = 1;
    public static final int OPT_ABORT = 2;
    public static final int OPT_LIST = 3;
    public static final int OPT_PEEK_EXPORT = 4;
    public static final int OPT_STARTTLS = 5;
    public static final int OPT_INFO = 6;
    public static final int OPT_GO = 7;
    public static final int OPT_STRUCTURED_REPLY = 8;
    public static final int OPT_LIST_META_CONTEXT = 9;
    public static final int OPT_SET_META_CONTEXT = 10;
    public static final int OPT_EXTENDED_HEADERS = 11;

    // Option reply types; errors have bit 31 set
    public static final int REP_ACK = 1;
    public static final int REP_SERVER = 2;
    public static final int REP_INFO = 3;
    public static final int REP_META_CONTEXT = 4;
    public static final int REP_FLAG_ERROR = 1 << 31;
    public static final int REP_ERR_UNSUP = REP_FLAG_ERROR | 1;
    public static final int REP_ERR_POLICY = REP_FLAG_ERROR | 2;
    public static final int REP_ERR_INVALID = REP_FLAG_ERROR | 3;
    public static final int REP_ERR_PLATFORM = REP_FLAG_ERROR | 4;
    public static final int REP_ERR_TLS_REQD = REP_FLAG_ERROR | 5;
    public static final int REP_ERR_UNKNOWN = REP_FLAG_ERROR | 6;
    public static final int REP_ERR_SHUTDOWN = REP_FLAG_ERROR | 7;
    public static final int REP_ERR_BLOCK_SIZE_REQD = REP_FLAG_ERROR | 8;
    public static final int REP_ERR_TOO_BIG = REP_FLAG_ERROR | 9;
    public static final int REP_ERR_EXT_HEADER_REQD = REP_FLAG_ERROR | 10;

    // Info types (REP_INFO and the INFO/GO request list)
    public static final int INFO_EXPORT = 0;
    public static final int INFO_NAME = 1;
    public static final int INFO_DESCRIPTION = 2;
    public static final int INFO_BLOCK_SIZE = 3;

    // Commands
    public static final int CMD_READ = 0;
    public static final int CMD_WRITE = 1;
    public static final int CMD_DISC = 2;
    public static final int CMD_FLUSH = 3;
    public static final int CMD_TRIM = 4;
    public static final int CMD_CACHE = 5;
    public static final int CMD_WRITE_ZEROES = 6;
    public static final int CMD_BLOCK_STATUS = 7;
    public static final int CMD_RESIZE = 8;

    // Command flags
    public static final int CMD_FLAG_FUA = 1;
    public static final int CMD_FLAG_NO_HOLE = 1 << 1;
    public static final int CMD_FLAG_DF = 1 << 2;
    public static final int CMD_FLAG_REQ_ONE = 1 << 3;
    public static final int CMD_FLAG_FAST_ZERO = 1 << 4;
    public static final int CMD_FLAG_PAYLOAD_LEN = 1 << 5;

    // Structured/extended reply chunk flags and types; error types have bit 15 set
    public static final int REPLY_FLAG_DONE = 1;
    public static final int REPLY_TYPE_NONE = 0;
    public static final int REPLY_TYPE_OFFSET_DATA = 1;
    public static final int REPLY_TYPE_OFFSET_HOLE = 2;
    public static final int REPLY_TYPE_BLOCK_STATUS = 5;
    public static final int REPLY_TYPE_BLOCK_STATUS_EXT = 6;
    public static final int REPLY_TYPE_ERROR = (1 << 15) | 1;
    public static final int REPLY_TYPE_ERROR_OFFSET = (1 << 15) | 2;

    // base:allocation status flags
    public static final int STATE_HOLE = 1;
    public static final int STATE_ZERO = 1 << 1;

    /** The only metadata context this server offers. */
    public static final String CONTEXT_BASE_ALLOCATION = "base:allocation";

    static int u16(MemorySegment s, long off) {
        return Short.toUnsignedInt(s.get(U16, off));
    }

    static long u32(MemorySegment s, long off) {
        return Integer.toUnsignedLong(s.get(U32, off));
    }
}
