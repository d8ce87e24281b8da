package org.orionos.host.config;

import java.nio.file.Path;
import java.util.List;

/** A {@code [[bdev]]} entry: which backend, with what parameters. Validated when read. */
public sealed interface BdevSpec permits BdevSpec.Memory, BdevSpec.File, BdevSpec.Null, BdevSpec.Error,
        BdevSpec.Delay, BdevSpec.Nvme, BdevSpec.NvmeMultipath, RaidSpec {
    /** Unique device name. */
    String name();

    /** Devices this one consumes, built before it. */
    default List<String> bases() {
        return List.of();
    }

    /** Off-heap memory, allocated in chunks on first write. Block sizes are 512 or 4096. */
    record Memory(String name, long size, int blockSize) implements BdevSpec {
    }

    /**
     * A regular file or block device through io_uring. {@code size} creates a sparse file of that
     * size when the path does not exist (0: the file must exist). {@code direct}: auto, on or off.
     */
    record File(String name, Path path, long size, int blockSize, String direct) implements BdevSpec {
    }

    /** Discards writes, reads zeros: for measuring the stack above it. */
    record Null(String name, long size, int blockSize) implements BdevSpec {
    }

    /** Wraps {@code base}; injects failures, corruption or delay, switchable at runtime. */
    record Error(String name, String base) implements BdevSpec {
        @Override
        public List<String> bases() {
            return List.of(base);
        }
    }

    /** Wraps {@code base}, adding fixed latencies in microseconds. */
    record Delay(String name, String base, long readLatencyMicros, long writeLatencyMicros,
                 long flushLatencyMicros) implements BdevSpec {
        @Override
        public List<String> bases() {
            return List.of(base);
        }
    }

    /**
     * An NVMe namespace through the kernel's passthrough node ({@code [[nvme]]}): {@code path} is
     * /dev/ngXnY (or /dev/nvmeXnY, whose generic twin is used). Needs SQE128/CQE32 reactor rings.
     * {@code healthIntervalSeconds}: how often {@code serve} polls its controller's SMART/health log
     * (0: only on the controller's health events).
     */
    record Nvme(String name, Path path, long healthIntervalSeconds) implements BdevSpec {
        public Nvme(String name, Path path) {
            this(name, path, DEFAULT_HEALTH_INTERVAL_S);
        }
    }

    /** SMART/health poll interval of an NVMe device's controllers when the config names none. */
    long DEFAULT_HEALTH_INTERVAL_S = 60;

    /**
     * One namespace through several controllers ({@code [[nvme]]} with {@code paths}): the nodes of
     * each path and the policy (round-robin, least-queue-depth, priority = configuration order).
     */
    record NvmeMultipath(String name, List<Path> paths, String policy, long healthIntervalSeconds) implements BdevSpec {
        public NvmeMultipath(String name, List<Path> paths, String policy) {
            this(name, paths, policy, DEFAULT_HEALTH_INTERVAL_S);
        }
    }
}
