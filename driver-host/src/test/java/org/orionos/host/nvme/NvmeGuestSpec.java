package org.orionos.host.nvme;

import java.util.function.Supplier;

import org.orionos.host.guest.GuestSpec;

/**
 * The guest for the NVMe tests: one conventional controller (serial {@value #SERIAL}, 256 MiB) and one
 * with a zoned namespace (serial {@value #ZNS_SERIAL}, 128 MiB in 16 MiB zones).
 */
public final class NvmeGuestSpec implements Supplier<GuestSpec> {
    public static final String SERIAL = "onvme0";
    public static final String ZNS_SERIAL = "ozns0";

    @Override
    public GuestSpec get() {
        return GuestSpec.builder().nvme(SERIAL, 256L << 20).zonedNvme(ZNS_SERIAL, 128L << 20, 16L << 20)
                .build();
    }
}
