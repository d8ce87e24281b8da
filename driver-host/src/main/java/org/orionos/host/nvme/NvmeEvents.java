package org.orionos.host.nvme;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.function.Consumer;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.bindings.Libc;
import org.orionos.bindings.uapi.NetlinkH.SockaddrNl;
import org.orionos.bindings.uapi.SocketH;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_FEAT_FID_ASYNC_EVENT;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_LOG_LID_ERROR;
import static org.orionos.bindings.nvme.NvmeTypesH.NVME_LOG_LID_SMART;
import static org.orionos.bindings.uapi.NetlinkH.NETLINK_KOBJECT_UEVENT;

/**
 * NVMe Asynchronous Events as the kernel passes them on, and the health follow-up they call for.
 *
 * <p>Why not an Asynchronous Event Request of our own: the admin passthrough ioctl would carry
 * one (the kernel does not filter the opcode), but it completes only when an event occurs, so it
 * holds a thread in an uninterruptible wait and an admin tag, and when the command's timeout
 * (default: the 60 s admin timeout) expires the PCIe driver treats the admin command as lost and
 * resets the controller. Worse, the controller hands each event to one outstanding AER, so ours
 * would steal events the kernel needs (namespace changes, firmware activation, ANA) and leave them
 * unhandled. The kernel keeps its own AER outstanding instead; it handles notices itself and, for
 * error, SMART/health, command-set and vendor events, emits a {@code change} uevent of the
 * controller (/sys/class/nvme/nvmeN) carrying {@code NVME_AEN=0x<completion dword 0>}. This class
 * listens for those on a NETLINK_KOBJECT_UEVENT socket.
 *
 * <p>An event of a type stays masked in the controller until the host reads the log page it
 * names; the kernel does not read SMART or error logs, so the default handler
 * ({@link #healthHandler}) reads the named page (which clears the mask) and logs the health
 * warnings. The kernel configures Asynchronous Event Configuration with only the notices it
 * handles, each time the controller starts, so SMART critical-warning events are off until
 * {@link #enableHealthEvents} turns them on (again after a controller reset).
 */
public final class NvmeEvents implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NvmeEvents.class);
    /** Asynchronous Event Configuration bits 5:0: the SMART/health critical warnings (spare, temperature, ...). */
    public static final int SMART_CRITICAL_WARNINGS = 0x3f;
    /** The kernel's uevent multicast group (udev re-broadcasts on group 2 in its own format). */
    private static final int KERNEL_GROUP = 1;
    private static final int RX = 8192;

    /**
     * One asynchronous event of controller {@code controller} (e.g. nvme0), completion dword 0 as
     * the spec lays it out: type in bits 2:0, information in 15:8, the log page to read in 23:16.
     */
    public record Event(String controller, int result) {
        public int type() {
            return result & 7;
        }

        public int info() {
            return result >>> 8 & 0xff;
        }

        public int logPage() {
            return result >>> 16 & 0xff;
        }

        public String typeName() {
            return switch (type()) {
                case 0 -> "error";
                case 1 -> "SMART/health";
                case 2 -> "notice";
                case 3 -> "immediate";
                case 6 -> "I/O command set";
                case 7 -> "vendor";
                default -> "type " + type();
            };
        }

        @Override
        public String toString() {
            return controller + ": " + typeName() + " event, info 0x" + Integer.toHexString(info()) + ", log page 0x"
                    + Integer.toHexString(logPage());
        }
    }

    private final int fd;
    private final Thread thread;
    private volatile boolean closed;

    private NvmeEvents(int fd, Consumer<Event> sink) {
        this.fd = fd;
        this.thread = new Thread(() -> loop(sink), "orion-nvme-events");
        thread.setDaemon(true);
    }

    /** Starts listening; {@code sink} runs on the listener thread for each NVMe event. */
    public static NvmeEvents listen(Consumer<Event> sink) {
        int fd = Libc.socket(SocketH.AF_NETLINK, SocketH.SOCK_RAW | SocketH.SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
        if (fd < 0) {
            throw new ErrnoException(-fd, "socket(AF_NETLINK, NETLINK_KOBJECT_UEVENT)", "nvme events");
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment tv = a.allocate(16, 8); // struct timeval 0.5 s: the loop checks for close that often
            tv.set(JAVA_LONG, 8, 500_000);
            check(Libc.setsockopt(fd, SocketH.SOL_SOCKET, SocketH.SO_RCVTIMEO, tv, 16), fd, "setsockopt(SO_RCVTIMEO)");
            MemorySegment addr = a.allocate(SockaddrNl.LAYOUT);
            addr.set(JAVA_SHORT, SockaddrNl.NL_FAMILY, (short) SocketH.AF_NETLINK);
            addr.set(JAVA_INT, SockaddrNl.NL_GROUPS, KERNEL_GROUP);
            check(Libc.bind(fd, addr, (int) SockaddrNl.SIZE), fd, "bind(NETLINK_KOBJECT_UEVENT)");
        }
        NvmeEvents e = new NvmeEvents(fd, sink);
        e.thread.start();
        return e;
    }

    private static void check(int r, int fd, String op) {
        if (r < 0) {
            Libc.close(fd);
            throw new ErrnoException(-r, op, "nvme events");
        }
    }

    private void loop(Consumer<Event> sink) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment rx = a.allocate(RX, 8);
            while (!closed) {
                int n = (int) Libc.read(fd, rx, RX);
                if (n == -Errno.EAGAIN || n == -Errno.EINTR) {
                    continue;
                }
                if (n < 0) {
                    if (!closed) {
                        LOG.warn("nvme events: read failed with {}; no more events", Errno.name(n));
                    }
                    return;
                }
                Event ev = parse(rx, n);
                if (ev != null) {
                    try {
                        sink.accept(ev);
                    } catch (RuntimeException e) {
                        LOG.warn("nvme events: handler failed on {}: {}", ev, e.toString());
                    }
                }
            }
        }
    }

    /**
     * A kernel uevent: "ACTION@DEVPATH" then NUL-separated KEY=VALUE pairs. Returns the event when
     * it is an NVMe controller's with NVME_AEN, else null.
     */
    static Event parse(MemorySegment buf, int len) {
        String subsystem = null;
        String devname = null;
        String aen = null;
        int start = 0;
        for (int i = 0; i <= len; i++) {
            if (i == len || buf.get(JAVA_BYTE, i) == 0) {
                if (i > start) {
                    String kv = new String(buf.asSlice(start, i - start).toArray(JAVA_BYTE), StandardCharsets.UTF_8);
                    if (kv.startsWith("SUBSYSTEM=")) {
                        subsystem = kv.substring(10);
                    } else if (kv.startsWith("DEVNAME=")) {
                        devname = kv.substring(8);
                    } else if (kv.startsWith("NVME_AEN=")) {
                        aen = kv.substring(9);
                    }
                }
                start = i + 1;
            }
        }
        if (!"nvme".equals(subsystem) || devname == null || aen == null) {
            return null;
        }
        try {
            String hex = aen.startsWith("0x") || aen.startsWith("0X") ? aen.substring(2) : aen;
            return new Event(Path.of(devname).getFileName().toString(), (int) Long.parseLong(hex, 16));
        } catch (NumberFormatException e) {
            LOG.warn("nvme events: unreadable NVME_AEN={} from {}", aen, devname);
            return null;
        }
    }

    /**
     * Turns on the SMART/health critical-warning events in the controller's Asynchronous Event
     * Configuration, keeping the notice bits the kernel set. Returns the configuration now in effect.
     */
    public static int enableHealthEvents(NvmeController c) {
        int now = (int) c.getFeature(NVME_FEAT_FID_ASYNC_EVENT, 0, 0, 0, null);
        c.setFeature(NVME_FEAT_FID_ASYNC_EVENT, 0, now | SMART_CRITICAL_WARNINGS, false, null);
        return (int) c.getFeature(NVME_FEAT_FID_ASYNC_EVENT, 0, 0, 0, null);
    }

    /**
     * The follow-up an event needs: for SMART/health and error events, read the log page it names
     * (which also unmasks further events of that type) and log the health warnings. Returns the
     * health for a SMART event, else null.
     */
    public static NvmeHealth healthHandler(Event ev) {
        if (ev.type() != 0 && ev.type() != 1) {
            LOG.info("nvme events: {}", ev);
            return null;
        }
        Path ctrl = Path.of("/dev", ev.controller());
        try (NvmeController c = NvmeController.open(ctrl); Arena a = Arena.ofConfined()) {
            if (ev.logPage() == NVME_LOG_LID_SMART || ev.type() == 1) {
                NvmeHealth h = NvmeHealth.of(c.smartLog(a), c.identifyController(a));
                LOG.warn("{}: {}", ctrl, ev);
                h.log(ctrl.toString());
                return h;
            }
            int page = ev.logPage() != 0 ? ev.logPage() : NVME_LOG_LID_ERROR;
            c.logPage(a, page, 0xffffffff, 64, 0); // the newest error entry; reading it re-arms the event
            LOG.warn("{}: {}", ctrl, ev);
            return null;
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Libc.close(fd);
    }
}
