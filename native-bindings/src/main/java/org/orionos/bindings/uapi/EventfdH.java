package org.orionos.bindings.uapi;

import org.orionos.bindings.CHeader;

/** sys/eventfd.h: eventfd flags. */
@CHeader("sys/eventfd.h")
public final class EventfdH {
    private EventfdH() {
    }

    public static final int EFD_SEMAPHORE = 1;
    public static final int EFD_NONBLOCK = 04000;
    public static final int EFD_CLOEXEC = 02000000;
}
