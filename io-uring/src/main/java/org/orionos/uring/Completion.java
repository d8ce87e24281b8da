package org.orionos.uring;

/**
 * Receives the completion of one submitted operation (or each completion of a multishot one).
 *
 * <p>The ring stores the handler and a caller-chosen {@code cookie} in a preallocated slot and
 * packs the slot index into the SQE's user_data, so a completion costs one array load and one
 * interface call: no map, no boxing, no lambda per I/O. A pooled request object (a block-device
 * request, a connection) implements this itself and uses the cookie to tell its operations
 * apart (e.g. a request tag, or which of several linked SQEs completed).
 *
 * <p>Runs on the ring's thread. {@code res} is the operation's result or a negative errno.
 * {@code flags} are the CQE flags: {@link org.orionos.bindings.uapi.IoUringH#IORING_CQE_F_MORE}
 * means more completions will follow for the same submission (multishot accept, multishot
 * poll); the slot is released when a completion arrives without it, before this call, so the
 * handler may submit again at once. For CQE32 rings {@link Ring#bigCqe(int)} gives the extra
 * completion words during this call.
 */
@FunctionalInterface
public interface Completion {
    void complete(int res, int flags, long cookie);

    /** A handler that drops the completion, for operations whose result nobody needs. */
    Completion IGNORE = (res, flags, cookie) -> { };
}
