package org.orionos.host.bdev;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;

/** The named block devices of a host. Management path only; the data path holds device references. */
public final class BdevRegistry {
    private final Map<String, BlockDevice> devices = new LinkedHashMap<>();

    public synchronized void add(BlockDevice device) {
        if (devices.putIfAbsent(device.name(), device) != null) {
            throw ErrnoException.withMessage(Errno.EEXIST, "add", device.name(),
                    "a block device named '" + device.name() + "' already exists; pick another name");
        }
    }

    public synchronized Optional<BlockDevice> find(String name) {
        return Optional.ofNullable(devices.get(name));
    }

    /** The device, or an error listing the ones that exist. */
    public synchronized BlockDevice get(String name) {
        BlockDevice d = devices.get(name);
        if (d == null) {
            throw ErrnoException.withMessage(Errno.ENODEV, "lookup", name, "no block device named '" + name
                    + "'; known: " + (devices.isEmpty() ? "none" : String.join(", ", devices.keySet())));
        }
        return d;
    }

    public synchronized List<BlockDevice> all() {
        return new ArrayList<>(devices.values());
    }

    /**
     * Hot-removes a device: claimers are told, new I/O fails with ENODEV, and the device is closed.
     * A device that others consume stays until they release it unless {@code force}.
     */
    public BlockDevice remove(String name, boolean force) {
        BlockDevice d;
        synchronized (this) {
            d = get(name);
            if (!force && !d.claims().isEmpty()) {
                throw ErrnoException.withMessage(Errno.EBUSY, "remove", name, "block device '" + name
                        + "' is in use by " + d.claims() + "; remove those first, or force the removal");
            }
            devices.remove(name);
        }
        d.announceRemoval();
        return d;
    }
}
