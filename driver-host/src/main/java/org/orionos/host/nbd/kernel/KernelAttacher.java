package org.orionos.host.nbd.kernel;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.bindings.Libc;
import org.orionos.bindings.uapi.NbdH;
import org.orionos.bindings.uapi.NbdNetlinkH;
import org.orionos.bindings.uapi.SocketH;
import org.orionos.host.netlink.GenericNetlinkSocket;
import org.orionos.host.netlink.GenlMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Attaches exports to kernel block devices ({@code /dev/nbdN}) through the nbd netlink family:
 * one socketpair per connection, our end served by the {@link ExportEndpoint} (the NBD server), the
 * other end handed to the kernel in NBD_CMD_CONNECT.
 *
 * <p>Survival: every device carries the backend identifier {@code orion:EXPORT} and a dead-connection
 * timeout, and {@link #close()} leaves the kernel device configured. When the host comes back (after
 * a stop or a kill -9) and attaches the same export to the same device, the kernel still holds the
 * device with dead connections and queued I/O waiting; the attach sees our identifier in
 * {@code /sys/block/nbdN/backend} and hands over fresh sockets with NBD_CMD_RECONFIGURE, and the
 * waiting I/O is resent to the new server. While running, a monitor thread subscribed to the
 * family's multicast group replaces any connection the kernel reports dead (NBD_CMD_LINK_DEAD), and
 * notices devices disconnected from outside ({@code nbd-client -d}) by polling NBD_CMD_STATUS.
 */
public final class KernelAttacher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KernelAttacher.class);
    private static final String BACKEND_PREFIX = "orion:";
    private static final long STATUS_POLL_NANOS = 2_000_000_000L;

    private final ExportEndpoint endpoint;
    private final NbdNetlink netlink;
    private final GenericNetlinkSocket events;
    private final Map<Integer, Attachment> attached = new ConcurrentHashMap<>();
    private final Thread monitor;
    private volatile boolean closing;

    /** What to attach. {@code device} negative: let the kernel pick a free device. */
    public record Spec(String export, int device, int connections, long timeoutSeconds, long deadConnTimeoutSeconds) {
        public Spec {
            if (connections < 1 || connections > 64) {
                throw new IllegalArgumentException("connections must be 1..64, not " + connections);
            }
            if (timeoutSeconds < 0 || deadConnTimeoutSeconds < 0) {
                throw new IllegalArgumentException("timeouts must be >= 0 seconds");
            }
        }

        /** Defaults: 30 s request timeout (then resent), 120 s for a dead server to come back. */
        public static Spec of(String export, int device, int connections) {
            return new Spec(export, device, connections, 30, 120);
        }
    }

    /** An attached device. */
    public record Attachment(int index, String export, int connections, boolean reattached) {
        public String path() {
            return NbdNetlink.device(index);
        }
    }

    private KernelAttacher(ExportEndpoint endpoint, NbdNetlink netlink, GenericNetlinkSocket events) {
        this.endpoint = endpoint;
        this.netlink = netlink;
        this.events = events;
        monitor = Thread.ofPlatform().daemon().name("nbd-kernel-monitor").unstarted(this::monitorLoop);
    }

    /**
     * Opens the nbd family and starts watching for dead connections.
     *
     * @throws ErrnoException "modprobe nbd" when the module is absent
     */
    public static KernelAttacher open(ExportEndpoint endpoint) {
        NbdNetlink nl = NbdNetlink.open();
        GenericNetlinkSocket ev = null;
        try {
            ev = GenericNetlinkSocket.open(Duration.ofMillis(500));
            int group = nl.multicastGroup();
            if (group < 0) {
                throw new ErrnoException(Errno.ENOENT, "find the nbd multicast group", "nbd",
                        "this kernel's nbd module has no \"" + NbdNetlinkH.NBD_GENL_MCAST_GROUP_NAME
                                + "\" group (needs Linux 4.13 or later)");
            }
            ev.subscribe(group);
        } catch (RuntimeException e) {
            if (ev != null) {
                ev.close();
            }
            nl.close();
            throw e;
        }
        KernelAttacher a = new KernelAttacher(endpoint, nl, ev);
        a.monitor.start();
        return a;
    }

    /** The backend identifier orion gives devices attached to {@code export}. */
    public static String backendIdentifier(String export) {
        return BACKEND_PREFIX + export;
    }

    /**
     * Attaches {@code spec.export()} to a kernel device. A device that still carries this export's
     * backend identifier (a previous run of the host) is taken over with RECONFIGURE.
     *
     * @throws ErrnoException export unknown, device busy, not root, kernel refusal: each with what to do
     */
    public synchronized Attachment attach(Spec spec) {
        KernelExport e = endpoint.describe(spec.export());
        if (spec.connections() > 1 && !e.multiConn()) {
            throw ErrnoException.withMessage(Errno.EINVAL, "nbd attach", spec.export(), "export " + spec.export()
                    + " cannot take several connections: the kernel sends each flush on one of them, and its device"
                    + " does not make a flush cover writes from the others; attach it with 1 connection");
        }
        String backend = backendIdentifier(spec.export());
        if (spec.device() < 0) {
            int left = leftBehind(backend);
            if (left >= 0) {
                // No device named: the one a stopped host of this export left waiting is the one to take back.
                return reattach(new Spec(spec.export(), left, spec.connections(), spec.timeoutSeconds(),
                        spec.deadConnTimeoutSeconds()), e, backend);
            }
        }
        if (spec.device() >= 0) {
            if (attached.containsKey(spec.device())) {
                throw new ErrnoException(Errno.EBUSY, "nbd attach", NbdNetlink.device(spec.device()),
                        "this host already attached " + attached.get(spec.device()).export() + " there");
            }
            boolean connected = netlink.status(spec.device()).stream()
                    .anyMatch(s -> s.index() == spec.device() && s.connected());
            if (connected) {
                String owner = backendOf(spec.device());
                if (!backend.equals(owner)) {
                    throw new ErrnoException(Errno.EBUSY, "nbd attach", NbdNetlink.device(spec.device()),
                            NbdNetlink.device(spec.device()) + " is connected to "
                                    + (owner == null ? "another NBD client" : "\"" + owner + "\"")
                                    + ": pick another device (--device /dev/nbdN, see `./orion devices`)"
                                    + " or disconnect it first (`nbd-client -d " + NbdNetlink.device(spec.device()) + "`)");
                }
                long holder = processOf(pidOf(spec.device()));
                if (holder > 0 && holder != ProcessHandle.current().pid()) {
                    // Its connections are alive: RECONFIGURE would only replace dead ones and drop ours.
                    throw new ErrnoException(Errno.EBUSY, "nbd attach", NbdNetlink.device(spec.device()),
                            NbdNetlink.device(spec.device()) + " is served by another running process (pid " + holder
                                    + ") for export " + spec.export() + ": stop that host first, or pick another device");
                }
                return reattach(spec, e, backend);
            }
        }
        long clientFlags = spec.device() < 0 ? NbdH.NBD_CFLAG_DESTROY_ON_DISCONNECT : 0;
        NbdNetlink.Config c = new NbdNetlink.Config(e.sizeBytes(), e.blockSize(),
                NbdNetlink.serverFlags(e, spec.connections()), spec.timeoutSeconds(), spec.deadConnTimeoutSeconds(),
                backend, clientFlags);
        int[] kernelEnds = servedPairs(spec.export(), spec.connections());
        int index;
        try {
            index = netlink.connect(spec.device(), c, kernelEnds);
        } finally {
            closeAll(kernelEnds); // the kernel holds its own references; refused ones end their server side
        }
        Attachment a = new Attachment(index, spec.export(), spec.connections(), false);
        attached.put(index, a);
        LOG.info("attached export {} as {} ({} bytes, block {}, {} connection(s))", spec.export(), a.path(),
                e.sizeBytes(), e.blockSize(), spec.connections());
        return a;
    }

    /**
     * A connected device carrying {@code backend} whose connecting process is gone (a host that
     * stopped or was killed left it waiting), not one this host attached; -1 when there is none.
     */
    private int leftBehind(String backend) {
        for (NbdNetlink.DeviceStatus s : netlink.status(-1)) {
            if (s.connected() && !attached.containsKey(s.index()) && backend.equals(backendOf(s.index()))
                    && processOf(pidOf(s.index())) <= 0) {
                return s.index();
            }
        }
        return -1;
    }

    /** Hands a device still held by the kernel (our earlier run) fresh connections. */
    private Attachment reattach(Spec spec, KernelExport e, String backend) {
        int[] kernelEnds = servedPairs(spec.export(), spec.connections());
        try {
            netlink.reconfigure(spec.device(), backend, e.sizeBytes(), e.blockSize(), spec.timeoutSeconds(),
                    spec.deadConnTimeoutSeconds(), kernelEnds);
        } finally {
            closeAll(kernelEnds);
        }
        Attachment a = new Attachment(spec.device(), spec.export(), spec.connections(), true);
        attached.put(spec.device(), a);
        LOG.info("re-attached export {} to {} (kept by the kernel since the last run)", spec.export(), a.path());
        return a;
    }

    /** Disconnects {@code index} (ours or not: this is also how a stale device is cleared). */
    public synchronized void detach(int index) {
        // The kernel acknowledges a disconnect of an unconfigured device silently: say so instead.
        if (netlink.status(index).stream().noneMatch(s -> s.index() == index && s.connected())) {
            attached.remove(index);
            throw new ErrnoException(Errno.ENOTCONN, "nbd detach", NbdNetlink.device(index),
                    NbdNetlink.device(index) + " is not connected; see `./orion devices`");
        }
        Attachment a = attached.remove(index);
        netlink.disconnect(index);
        LOG.info("detached {}{}", NbdNetlink.device(index), a == null ? "" : " (export " + a.export() + ")");
    }

    /** Tells the kernel an export's new size (after a resize of the device behind it). */
    public synchronized void resized(String export, long sizeBytes) {
        for (Attachment a : attached.values()) {
            if (a.export().equals(export)) {
                netlink.reconfigure(a.index(), backendIdentifier(export), sizeBytes, 0, -1, -1, null);
                LOG.info("{}: size now {} bytes", a.path(), sizeBytes);
            }
        }
    }

    /** Devices this host has attached. */
    public List<Attachment> attachments() {
        return List.copyOf(attached.values());
    }

    /** Every nbd device the kernel knows, connected or not. */
    public List<NbdNetlink.DeviceStatus> devices() {
        return netlink.status(-1);
    }

    /**
     * Creates {@code n} socketpairs, gives one end of each to the server, returns the other ends.
     */
    private int[] servedPairs(String export, int n) {
        int[] kernelEnds = new int[n];
        int made = 0;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fds = a.allocate(ValueLayout.JAVA_INT, 2);
            for (; made < n; made++) {
                int r = Libc.socketpair(SocketH.AF_UNIX, SocketH.SOCK_STREAM | SocketH.SOCK_CLOEXEC, 0, fds);
                if (r < 0) {
                    throw new ErrnoException(-r, "socketpair for an nbd connection", export);
                }
                kernelEnds[made] = fds.getAtIndex(ValueLayout.JAVA_INT, 0);
                endpoint.serveConnected(fds.getAtIndex(ValueLayout.JAVA_INT, 1), export);
            }
            return kernelEnds;
        } catch (RuntimeException e) {
            for (int i = 0; i < made; i++) {
                Libc.close(kernelEnds[i]);
            }
            throw e;
        }
    }

    private static void closeAll(int[] fds) {
        for (int fd : fds) {
            Libc.close(fd);
        }
    }

    /**
     * The live process a task id belongs to (its thread group), or -1 when no such task runs now.
     * The kernel records the connecting <em>thread</em> in {@code /sys/block/nbdN/pid}.
     */
    static long processOf(long tid) {
        if (tid <= 0) {
            return -1;
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + tid + "/status"), StandardCharsets.UTF_8)) {
                if (line.startsWith("Tgid:")) {
                    return Long.parseLong(line.substring(5).strip());
                }
            }
            return -1;
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    /** {@code /sys/block/nbdN/pid}: the task that connected the device, or -1. */
    static long pidOf(int index) {
        try {
            return Long.parseLong(Files.readString(Path.of("/sys/block/nbd" + index + "/pid"), StandardCharsets.UTF_8).strip());
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    /** {@code /sys/block/nbdN/backend}, or null when unset or unreadable. */
    static String backendOf(int index) {
        try {
            String s = Files.readString(Path.of("/sys/block/nbd" + index + "/backend"), StandardCharsets.UTF_8).strip();
            return s.isEmpty() ? null : s;
        } catch (IOException e) {
            return null;
        }
    }

    // ---------------------------------------------------------------- monitor

    private void monitorLoop() {
        long nextPoll = System.nanoTime() + STATUS_POLL_NANOS;
        while (!closing) {
            try {
                for (GenlMessage m : events.receiveEvents()) {
                    if (m.cmd() == NbdNetlinkH.NBD_CMD_LINK_DEAD && m.attrs().has(NbdNetlinkH.NBD_ATTR_INDEX)) {
                        linkDead(m.attrs().u32(NbdNetlinkH.NBD_ATTR_INDEX));
                    }
                }
                if (System.nanoTime() - nextPoll >= 0) {
                    nextPoll = System.nanoTime() + STATUS_POLL_NANOS;
                    pollStatus();
                }
            } catch (RuntimeException e) {
                if (!closing) {
                    LOG.warn("nbd monitor: {}", e.getMessage());
                    pollStatus();
                }
            }
        }
        events.close();
    }

    /** The kernel reports a connection of {@code index} dead: give it a new one. */
    private void linkDead(int index) {
        synchronized (this) {
            Attachment a = attached.get(index);
            if (a == null || closing) {
                return;
            }
            LOG.warn("{}: the kernel reports a dead connection; replacing it", a.path());
            int[] kernelEnd = servedPairs(a.export(), 1);
            try {
                netlink.reconfigure(index, backendIdentifier(a.export()), -1, 0, -1, -1, kernelEnd);
            } catch (ErrnoException e) {
                LOG.warn("{}: could not replace the dead connection: {}", a.path(), e.getMessage());
            } finally {
                closeAll(kernelEnd);
            }
        }
    }

    /** Drops devices that were disconnected by someone else. */
    private void pollStatus() {
        if (attached.isEmpty() || closing) {
            return;
        }
        try {
            synchronized (this) {
                java.util.Set<Integer> connected = new java.util.HashSet<>();
                for (NbdNetlink.DeviceStatus s : netlink.status(-1)) {
                    if (s.connected()) {
                        connected.add(s.index());
                    }
                }
                // Not connected, or gone (a DESTROY_ON_DISCONNECT device disappears once disconnected).
                for (Attachment a : List.copyOf(attached.values())) {
                    if (!connected.contains(a.index())) {
                        attached.remove(a.index());
                        LOG.warn("{} (export {}) was disconnected from outside; no longer attached", a.path(), a.export());
                    }
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("nbd status poll failed: {}", e.getMessage());
        }
    }

    /**
     * Stops the monitor. Attached devices stay configured in the kernel (their connections die with
     * the server; I/O waits up to the dead-connection timeout for the next run to re-attach).
     */
    @Override
    public void close() {
        closing = true;
        try {
            monitor.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!attached.isEmpty()) {
            LOG.debug("leaving {} attached for the next run (I/O waits for it up to the dead-connection timeout)",
                    attached.values().stream().map(Attachment::path).toList());
        }
        netlink.close();
    }
}
