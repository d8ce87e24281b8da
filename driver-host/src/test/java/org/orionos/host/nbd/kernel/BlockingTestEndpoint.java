package org.orionos.host.nbd.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.bindings.Libc;
import org.orionos.bindings.uapi.NbdH;
import org.orionos.bindings.uapi.SocketH;

/**
 * TEST ONLY: a minimal blocking serving loop (a thread per connection, simple replies) over one
 * in-memory disk, so the netlink attach path can be exercised against the guest kernel on its own.
 * The product path serves kernel sockets with the io_uring NBD server; this stands in for it in
 * tests of the netlink layer only. {@link #killConnections()} shuts every socket as a dying host would.
 */
final class BlockingTestEndpoint implements ExportEndpoint {
    private static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong BE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final int REQUEST = 28;
    private static final int REPLY = 16;

    private final String name;
    private final MemorySegment disk;
    private final Set<Integer> live = ConcurrentHashMap.newKeySet();
    final AtomicLong served = new AtomicLong();
    final AtomicLong opened = new AtomicLong();
    final AtomicLong flushes = new AtomicLong();
    final AtomicLong trims = new AtomicLong();
    final AtomicLong disconnects = new AtomicLong();

    BlockingTestEndpoint(String name, long size) {
        this.name = name;
        this.disk = Arena.global().allocate(size, 4096);
    }

    MemorySegment disk() {
        return disk;
    }

    int liveConnections() {
        return live.size();
    }

    @Override
    public KernelExport describe(String export) {
        if (!export.equals(name)) {
            throw new ErrnoException(Errno.ENOENT, "nbd attach", export, "no export \"" + export + "\" (have: " + name + ")");
        }
        return new KernelExport(name, disk.byteSize(), 512, false, true, true, true);
    }

    @Override
    public void serveConnected(int fd, String export) {
        live.add(fd);
        opened.incrementAndGet();
        Thread.ofPlatform().daemon().name("test-nbd-" + fd).start(() -> serve(fd));
    }

    /** Shuts every connection (both directions), as the death of the serving process would. */
    void killConnections() {
        for (int fd : live) {
            Libc.shutdown(fd, SocketH.SHUT_RDWR);
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!live.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Kills one connection (the kernel should report it dead). */
    void killOne() {
        int fd = live.iterator().next();
        Libc.shutdown(fd, SocketH.SHUT_RDWR);
    }

    private void serve(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment req = a.allocate(REQUEST, 8);
            MemorySegment rep = a.allocate(REPLY, 8);
            while (readFully(fd, req, REQUEST)) {
                if (req.get(BE32, 0) != NbdH.NBD_REQUEST_MAGIC) {
                    break;
                }
                int type = req.get(BE32, 4) & 0xffff;
                long from = req.get(BE64, 16);
                int len = req.get(BE32, 24);
                rep.set(BE32, 0, NbdH.NBD_REPLY_MAGIC);
                rep.set(BE32, 4, 0);
                MemorySegment.copy(req, 8, rep, 8, 8); // the handle
                served.incrementAndGet();
                boolean ok = switch (type) {
                    case NbdH.NBD_CMD_READ -> writeFully(fd, rep, REPLY) && writeFully(fd, disk.asSlice(from, len), len);
                    case NbdH.NBD_CMD_WRITE -> readFully(fd, disk.asSlice(from, len), len) && writeFully(fd, rep, REPLY);
                    case NbdH.NBD_CMD_FLUSH -> {
                        flushes.incrementAndGet();
                        yield writeFully(fd, rep, REPLY);
                    }
                    case NbdH.NBD_CMD_TRIM -> {
                        trims.incrementAndGet();
                        disk.asSlice(from, len).fill((byte) 0);
                        yield writeFully(fd, rep, REPLY);
                    }
                    case NbdH.NBD_CMD_DISC -> {
                        disconnects.incrementAndGet();
                        yield false;
                    }
                    default -> {
                        rep.set(BE32, 4, Errno.EINVAL);
                        yield writeFully(fd, rep, REPLY);
                    }
                };
                if (!ok) {
                    break;
                }
            }
        } finally {
            live.remove(fd);
            Libc.close(fd);
        }
    }

    private static boolean readFully(int fd, MemorySegment buf, long n) {
        long done = 0;
        while (done < n) {
            long r = Libc.read(fd, buf.asSlice(done), n - done);
            if (r == -Errno.EINTR) {
                continue;
            }
            if (r <= 0) {
                return false;
            }
            done += r;
        }
        return true;
    }

    private static boolean writeFully(int fd, MemorySegment buf, long n) {
        long done = 0;
        while (done < n) {
            long r = Libc.write(fd, buf.asSlice(done), n - done);
            if (r == -Errno.EINTR) {
                continue;
            }
            if (r <= 0) {
                return false;
            }
            done += r;
        }
        return true;
    }
}
