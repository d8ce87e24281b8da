package org.orionos.host.nbd.protocol;

import static org.orionos.host.nbd.protocol.NbdWire.*;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * TEST ONLY: serves the protocol core over plain blocking sockets, one thread per connection,
 * backed by {@link InMemoryDisk}s, so real clients (nbdinfo, nbdsh, nbdcopy, qemu) talk to
 * {@link NbdHandshake}, {@link RequestDecoder} and {@link ReplyEncoder}. The production server runs
 * on the io_uring reactors instead; nothing here is meant for it.
 *
 * <p>Export "slowzero" answers every FAST_ZERO request with ENOTSUP, to exercise that path.
 */
final class BlockingNbdBridge implements AutoCloseable {
    private static final MemorySegment NOT_FAST = MemorySegment.ofArray(
            "zeroing is not faster than writing on this export".getBytes(StandardCharsets.UTF_8));

    private final ExportCatalog catalog;
    private final Map<String, InMemoryDisk> disks = new HashMap<>();
    private final ServerSocket listener;
    private final Thread acceptor;
    private final List<Socket> connections = new CopyOnWriteArrayList<>();
    /** Failures inside connection threads (a test asserts none happened). */
    final List<Throwable> failures = new CopyOnWriteArrayList<>();
    final AtomicInteger transmissions = new AtomicInteger();

    BlockingNbdBridge(ExportCatalog catalog) throws IOException {
        this.catalog = catalog;
        for (NbdExport e : catalog.list()) {
            disks.put(e.name(), new InMemoryDisk((int) e.size()));
        }
        listener = new ServerSocket(0, 64, InetAddress.getLoopbackAddress());
        acceptor = Thread.ofPlatform().name("nbd-bridge-accept").daemon().start(this::acceptLoop);
    }

    int port() {
        return listener.getLocalPort();
    }

    String uri(String export) {
        return "nbd://127.0.0.1:" + port() + "/" + export;
    }

    InMemoryDisk disk(String export) {
        return disks.get(export);
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket s = listener.accept();
                s.setTcpNoDelay(true);
                connections.add(s);
                Thread.ofPlatform().name("nbd-bridge-conn").daemon().start(() -> serve(s));
            } catch (IOException e) {
                return; // listener closed
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            InputStream in = new BufferedInputStream(s.getInputStream(), 1 << 16);
            OutputStream out = new BufferedOutputStream(s.getOutputStream(), 1 << 16);
            NbdHandshake hs = new NbdHandshake(catalog);
            byte[] buf = new byte[1 << 16];
            flush(hs, out);
            int n = 0;
            int pos = 0;
            while (hs.state() == NbdHandshake.State.NEGOTIATING) {
                if (pos == n) {
                    n = in.read(buf);
                    pos = 0;
                    if (n < 0) {
                        return;
                    }
                }
                MemorySegment chunk = MemorySegment.ofArray(buf).asSlice(pos, n - pos);
                pos += (int) hs.onInput(chunk, n - pos);
                flush(hs, out);
            }
            flush(hs, out);
            if (hs.state() != NbdHandshake.State.TRANSMISSION) {
                return; // CLOSED, or START_TLS which this bridge has no engine for
            }
            InputStream rest = pos < n
                    ? new SequenceInputStream(new ByteArrayInputStream(Arrays.copyOfRange(buf, pos, n)), in)
                    : in;
            transmissions.incrementAndGet();
            transmit(hs.transmission(), rest, out);
        } catch (EOFException | java.net.SocketException e) {
            // client went away
        } catch (Throwable t) {
            failures.add(t);
        }
    }

    private static void flush(NbdHandshake hs, OutputStream out) throws IOException {
        if (hs.hasOutput()) {
            MemorySegment o = hs.output();
            out.write(o.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            hs.consumeOutput(o.byteSize());
        }
        out.flush();
    }

    private void transmit(TransmissionParams p, InputStream in, OutputStream out) throws IOException {
        InMemoryDisk disk = disks.get(p.export().name());
        boolean slowZero = p.export().name().equals("slowzero");
        RequestDecoder dec = new RequestDecoder(p);
        ReplyEncoder enc = new ReplyEncoder(p);
        NbdRequest r = new NbdRequest();
        byte[] hdr = new byte[dec.headerSize()];
        MemorySegment hseg = MemorySegment.ofArray(hdr);
        byte[] rep = new byte[ReplyEncoder.MAX_FIXED_REPLY + MAX_STRING + 16 * 1024];
        MemorySegment rseg = MemorySegment.ofArray(rep);
        ExtentList extents = new ExtentList(512);
        while (true) {
            if (in.readNBytes(hdr, 0, hdr.length) != hdr.length) {
                return;
            }
            int verdict = dec.decode(hseg, 0, r);
            if (verdict == RequestDecoder.DISCONNECT || verdict == RequestDecoder.SOFT_DISCONNECT) {
                return;
            }
            if (verdict == RequestDecoder.REJECT) {
                in.skipNBytes(r.payloadLength);
                out.write(rep, 0, enc.error(rseg, 0, r.cookie, r.offset, r.error, null));
                out.flush();
                continue;
            }
            int off = (int) r.offset;
            int len = (int) r.length;
            switch (r.type) {
                case CMD_READ -> read(enc, disk, r, rseg, rep, out);
                case CMD_WRITE -> {
                    in.readNBytes(disk.data, off, len);
                    disk.markWritten(off, len);
                    out.write(rep, 0, enc.ok(rseg, 0, r.cookie, r.offset));
                }
                case CMD_WRITE_ZEROES -> {
                    if (slowZero && (r.flags & CMD_FLAG_FAST_ZERO) != 0) {
                        out.write(rep, 0, enc.error(rseg, 0, r.cookie, r.offset, NbdError.ENOTSUP, NOT_FAST));
                    } else {
                        disk.zero(off, len, (r.flags & CMD_FLAG_NO_HOLE) != 0);
                        out.write(rep, 0, enc.ok(rseg, 0, r.cookie, r.offset));
                    }
                }
                case CMD_TRIM -> {
                    disk.zero(off, len, false);
                    out.write(rep, 0, enc.ok(rseg, 0, r.cookie, r.offset));
                }
                case CMD_FLUSH, CMD_CACHE -> out.write(rep, 0, enc.ok(rseg, 0, r.cookie, r.offset));
                case CMD_BLOCK_STATUS -> {
                    extents.clear();
                    long end = r.offset + r.length;
                    long at = r.offset;
                    if (r.length == 0) {
                        // The wire forbids empty descriptors: describe the chunk the offset is in.
                        end = Math.min(disk.size(), r.offset + InMemoryDisk.CHUNK);
                    }
                    do {
                        long runEnd = disk.runEnd(at, end);
                        int flags = disk.allocatedAt(at) ? 0 : (STATE_HOLE | STATE_ZERO);
                        if (!extents.add(runEnd - at, flags)) {
                            break;
                        }
                        at = runEnd;
                    } while (at < end && (r.flags & CMD_FLAG_REQ_ONE) == 0);
                    out.write(rep, 0, enc.blockStatus(rseg, 0, r.cookie, r.offset, p.allocationContextId(),
                            extents, true));
                }
                default -> throw new AssertionError("decoder passed unsupported command " + r);
            }
            out.flush();
        }
    }

    /** Simple: header + data. Structured: DF gives one data chunk, else data/hole chunks per run, then NONE. */
    private static void read(ReplyEncoder enc, InMemoryDisk disk, NbdRequest r, MemorySegment rseg, byte[] rep,
                             OutputStream out) throws IOException {
        int off = (int) r.offset;
        int len = (int) r.length;
        if (!enc.structured()) {
            out.write(rep, 0, ReplyEncoder.simple(rseg, 0, r.cookie, 0));
            out.write(disk.data, off, len);
            return;
        }
        if (len == 0) {
            out.write(rep, 0, enc.none(rseg, 0, r.cookie, r.offset));
            return;
        }
        if ((r.flags & CMD_FLAG_DF) != 0) {
            out.write(rep, 0, enc.readData(rseg, 0, r.cookie, r.offset, off, len, true));
            out.write(disk.data, off, len);
            return;
        }
        long at = off;
        long end = off + (long) len;
        while (at < end) {
            long runEnd = disk.runEnd(at, end);
            boolean last = runEnd == end;
            if (disk.allocatedAt(at)) {
                out.write(rep, 0, enc.readData(rseg, 0, r.cookie, r.offset, at, runEnd - at, last));
                out.write(disk.data, (int) at, (int) (runEnd - at));
            } else {
                out.write(rep, 0, enc.readHole(rseg, 0, r.cookie, r.offset, at, (int) (runEnd - at), last));
            }
            at = runEnd;
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket s : connections) {
            s.close();
        }
        try {
            acceptor.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
