package org.orionos.host.nbd.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.orionos.bindings.Errno;
import org.orionos.host.bdev.BdevOp;
import org.orionos.host.bdev.backend.ErrorBdev;

/**
 * Real NBD clients from Debian (libnbd's nbdinfo/nbdsh/nbdcopy, qemu-img, qemu-io, fio's nbd
 * engine) against the real server on the io_uring reactors, backed by memory devices through the
 * block-device layer. Every check is on what the client saw, or on the device afterwards.
 */
class NbdServerInteropTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path dir;
    private static LiveServer srv;

    @BeforeAll
    static void start() throws Exception {
        srv = new LiveServer("""
                [[bdev]]
                name = "disk"
                type = "memory"
                size = "64M"
                block_size = 512
                [[bdev]]
                name = "copy"
                type = "memory"
                size = "16M"
                block_size = 512
                [[bdev]]
                name = "rom"
                type = "memory"
                size = "1M"
                [[bdev]]
                name = "aligned"
                type = "memory"
                size = "4M"
                [[bdev]]
                name = "zmem"
                type = "memory"
                size = "1M"
                block_size = 512
                [[bdev]]
                name = "slowzero"
                type = "error"
                base = "zmem"
                [[bdev]]
                name = "bmem"
                type = "memory"
                size = "64M"
                [[bdev]]
                name = "buffered"
                type = "error"
                base = "bmem"
                [[nbd.export]]
                name = "disk"
                description = "memory test disk"
                [[nbd.export]]
                name = "copy"
                [[nbd.export]]
                name = "ro"
                bdev = "rom"
                read_only = true
                description = "read-only disk"
                [[nbd.export]]
                name = "aligned"
                [[nbd.export]]
                name = "slowzero"
                [[nbd.export]]
                name = "buffered"
                """, dir);
    }

    @AfterAll
    static void stop() {
        if (srv != null) {
            srv.close();
        }
    }

    record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\nstdout:\n" + out + "\nstderr:\n" + err;
        }
    }

    static Result run(String... cmd) throws IOException, InterruptedException {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin", cmd[0])), cmd[0] + " is not installed (scripts/install-deps)");
        ProcessBuilder pb = new ProcessBuilder(cmd);
        // nbdsh needs /usr/bin's python3 (with the nbd module), not a user-level one earlier on PATH.
        pb.environment().put("PATH", "/usr/bin:/bin:" + System.getenv("PATH"));
        Path out = Files.createTempFile("nbd-out", ".txt");
        Path err = Files.createTempFile("nbd-err", ".txt");
        try {
            Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", cmd) + " timed out\n" + Files.readString(err));
            }
            return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    static Result ok(String... cmd) throws IOException, InterruptedException {
        Result r = run(cmd);
        assertEquals(0, r.exit, () -> String.join(" ", cmd) + " failed: " + r);
        return r;
    }

    private static Result nbdsh(String uri, String script) throws IOException, InterruptedException {
        Result r = ok("nbdsh", "--base-allocation", "-u", uri, "-c", script);
        assertTrue(r.out.contains("SCRIPT-OK"), () -> "nbdsh script did not finish: " + r);
        return r;
    }

    @Test
    void nbdinfoListsExportsOverTcpAndUnix() throws Exception {
        for (String uri : List.of("nbd://127.0.0.1:" + srv.port(), "nbd+unix://?socket=" + srv.unix().address().unixPath())) {
            JsonNode root = JSON.readTree(ok("nbdinfo", "--list", "--json", uri).out);
            List<String> names = new ArrayList<>();
            root.get("exports").forEach(e -> names.add(e.get("export-name").asText()));
            assertEquals(List.of("disk", "copy", "ro", "aligned", "slowzero", "buffered"), names, uri);
            assertEquals("memory test disk", root.get("exports").get(0).get("description").asText());
            assertEquals(64L << 20, root.get("exports").get(0).get("export-size").asLong());
        }
    }

    @Test
    void nbdinfoJsonReportsFlagsBlockSizesAndContexts() throws Exception {
        JsonNode e = JSON.readTree(ok("nbdinfo", "--json", srv.uri("disk")).out).get("exports").get(0);
        assertEquals(64L << 20, e.get("export-size").asLong());
        assertFalse(e.get("is_read_only").asBoolean());
        for (String can : List.of("can_cache", "can_df", "can_fast_zero", "can_flush", "can_fua", "can_multi_conn",
                "can_trim", "can_zero")) {
            assertTrue(e.get(can).asBoolean(), can + " in " + e);
        }
        assertEquals(512, e.get("block_size_minimum").asInt());
        assertEquals(4096, e.get("block_size_preferred").asInt());
        assertEquals(32 << 20, e.get("block_size_maximum").asInt());
        assertEquals("base:allocation", e.get("contexts").get(0).asText());
        JsonNode a = JSON.readTree(ok("nbdinfo", "--json", srv.uri("aligned")).out).get("exports").get(0);
        assertEquals(4096, a.get("block_size_minimum").asInt());
        // The empty name is the default export (the first one).
        JsonNode d = JSON.readTree(ok("nbdinfo", "--json", "nbd://127.0.0.1:" + srv.port()).out).get("exports").get(0);
        assertEquals(64L << 20, d.get("export-size").asLong());
    }

    @Test
    void nbdinfoCanAndIs() throws Exception {
        for (String can : List.of("read", "write", "flush", "fua", "trim", "zero", "fast-zero", "df", "multi-conn",
                "cache", "structured-reply")) {
            assertEquals(0, run("nbdinfo", "--can", can, srv.uri("disk")).exit, "--can " + can);
        }
        assertEquals(2, run("nbdinfo", "--can", "write", srv.uri("ro")).exit);
        assertEquals(2, run("nbdinfo", "--can", "trim", srv.uri("ro")).exit);
        assertEquals(0, run("nbdinfo", "--is", "read-only", srv.uri("ro")).exit);
        assertTrue(run("nbdinfo", "--can", "connect", srv.uri("no-such-export")).exit != 0);
    }

    @Test
    void nbdinfoMapShowsBaseAllocationFromTheDevice() throws Exception {
        nbdsh(srv.uri("disk"), """
                h.pwrite(b'\\x5a' * 65536, 8 * 1048576 + 65536)
                print('SCRIPT-OK')
                """);
        JsonNode map = JSON.readTree(ok("nbdinfo", "--map", "--json", srv.uri("disk")).out);
        List<String> entries = new ArrayList<>();
        map.forEach(m -> entries.add(m.get("offset").asLong() + "+" + m.get("length").asLong() + ":" + m.get("type").asInt()));
        int i = entries.indexOf((8L * 1048576 + 65536) + "+65536:0");
        assertTrue(i > 0, () -> "data extent missing from " + entries);
        assertTrue(entries.get(i - 1).endsWith(":3") && entries.get(i + 1).endsWith(":3"), entries::toString);
    }

    @Test
    void nbdshStructuredReadsDfBlockStatusTrimZeroFlushCache() throws Exception {
        nbdsh(srv.uri("disk"), """
                assert h.get_structured_replies_negotiated()
                base = 2 * 1048576
                h.pwrite(b'\\xab' * 65536, base + 65536)
                expect = bytes(65536) + b'\\xab' * 65536 + bytes(65536)
                chunks = []
                def chunk(buf, off, status, err):
                    chunks.append((off, status, len(buf)))
                    return 0
                assert h.pread_structured(3 * 65536, base, chunk) == expect
                assert chunks == [(base, nbd.READ_DATA, 3 * 65536)], chunks
                chunks.clear()
                assert h.pread_structured(3 * 65536, base, chunk, nbd.CMD_FLAG_DF) == expect
                assert chunks == [(base, nbd.READ_DATA, 3 * 65536)], chunks
                seen = []
                def extent(meta, off, entries, err):
                    seen.append((meta, off, list(entries)))
                    return 0
                h.block_status(3 * 65536, base, extent)
                assert seen == [('base:allocation', base, [65536, 3, 65536, 0, 65536, 3])], seen
                seen.clear()
                h.block_status(3 * 65536, base, extent, nbd.CMD_FLAG_REQ_ONE)
                assert seen == [('base:allocation', base, [65536, 3])], seen
                h.trim(65536, base + 65536)
                seen.clear()
                h.block_status(65536, base + 65536, extent)
                assert seen[0][2][1] == 3, seen
                assert h.pread(512, base + 65536) == bytes(512)
                h.pwrite(b'\\x11' * 4096, base, nbd.CMD_FLAG_FUA)
                assert h.pread(4096, base) == b'\\x11' * 4096
                h.flush()
                h.cache(3 * 1048576, base)
                h.zero(4096, base, nbd.CMD_FLAG_NO_HOLE)
                assert h.pread(4096, base) == bytes(4096)
                h.pwrite(b'\\x22' * 65536, base + 65536)
                h.zero(65536, base + 65536, nbd.CMD_FLAG_FAST_ZERO)
                assert h.pread(65536, base + 65536) == bytes(65536)
                # Out-of-order completion: many requests in flight at once, all answered.
                cookies = [h.aio_pwrite(bytes([i]) * 4096, 16 * 1048576 + i * 4096) for i in range(64)]
                while h.aio_in_flight() > 0:
                    h.poll(-1)
                for c in cookies:
                    assert h.aio_command_completed(c)
                assert h.pread(4096, 16 * 1048576 + 63 * 4096) == bytes([63]) * 4096
                print('SCRIPT-OK')
                """);
    }

    @Test
    void nbdshServerSideValidationErrors() throws Exception {
        nbdsh(srv.uri("disk"), """
                import errno
                h.set_strict_mode(0)
                def expect(code, fn, *args):
                    try:
                        fn(*args)
                    except nbd.Error as e:
                        assert e.errnum == code, (fn.__name__, e.errnum, e)
                        return
                    raise AssertionError(fn.__name__ + ' succeeded')
                size = h.get_size()
                expect(errno.ENOSPC, h.pwrite, b'x' * 512, size)
                expect(errno.ENOSPC, h.zero, 1024, size - 512)
                expect(errno.EINVAL, h.pread, 512, size)
                expect(errno.EINVAL, h.trim, 1024, size - 512)
                expect(errno.EINVAL, h.pread, 512, 0, nbd.CMD_FLAG_REQ_ONE)
                expect(errno.EINVAL, h.pread, (32 << 20) + 512, 0)
                expect(errno.EINVAL, h.pread, 100, 0)
                expect(errno.EINVAL, h.block_status, 512, size, lambda *a: 0)
                assert h.pread(512, 0) is not None
                print('SCRIPT-OK')
                """);
        nbdsh(srv.uri("ro"), """
                import errno
                h.set_strict_mode(0)
                for fn, args in ((h.pwrite, (b'x' * 4096, 0)), (h.trim, (4096, 0)), (h.zero, (4096, 0))):
                    try:
                        fn(*args)
                        raise AssertionError('write on read-only export succeeded')
                    except nbd.Error as e:
                        assert e.errnum == errno.EPERM, e
                assert h.pread(4096, 0) == bytes(4096)
                print('SCRIPT-OK')
                """);
        nbdsh(srv.uri("aligned"), """
                import errno
                h.set_strict_mode(0)
                assert h.get_block_size(nbd.SIZE_MINIMUM) == 4096
                for args in ((512, 0), (4096, 512)):
                    try:
                        h.pread(*args)
                        raise AssertionError('request %r succeeded' % (args,))
                    except nbd.Error as e:
                        assert e.errnum == errno.EINVAL, e
                assert h.pread(4096, 4096) == bytes(4096)
                print('SCRIPT-OK')
                """);
    }

    @Test
    void deviceErrorsReachTheClientAndFastZeroMapsToNoFallback() throws Exception {
        ErrorBdev err = (ErrorBdev) srv.device("slowzero");
        err.inject(ErrorBdev.Rule.fail(1 << BdevOp.WRITE_ZEROES, Errno.EOPNOTSUPP, 1));
        err.inject(ErrorBdev.Rule.fail(1 << BdevOp.READ, Errno.EIO, 1));
        long flushesBefore = err.count(BdevOp.FLUSH);
        nbdsh(srv.uri("slowzero"), """
                import errno
                assert h.can_fast_zero()
                try:
                    h.zero(65536, 0, nbd.CMD_FLAG_FAST_ZERO)
                    raise AssertionError('fast zero succeeded')
                except nbd.Error as e:
                    assert e.errnum == errno.ENOTSUP, e
                h.zero(65536, 0)
                try:
                    h.pread(4096, 0)
                    raise AssertionError('read succeeded despite the injected EIO')
                except nbd.Error as e:
                    assert e.errnum == errno.EIO, e
                assert h.pread(4096, 0) == bytes(4096)
                h.flush()
                print('SCRIPT-OK')
                """);
        assertEquals(flushesBefore + 1, err.count(BdevOp.FLUSH), "NBD_CMD_FLUSH reached the device");
        err.clear();
    }

    @Test
    void simpleRepliesAndOptionMode() throws Exception {
        ok("nbdsh", "-c", """
                h.set_request_structured_replies(False)
                h.connect_uri('%s')
                assert not h.get_structured_replies_negotiated()
                h.pwrite(b'\\x77' * 8192, 4 * 1048576)
                assert h.pread(8192, 4 * 1048576) == b'\\x77' * 8192
                h.shutdown()
                print('SCRIPT-OK')
                """.formatted(srv.uri("disk")));
        Result r = ok("nbdsh", "-c", """
                h.set_opt_mode(True)
                h.connect_uri('%s')
                names = []
                h.opt_list(lambda name, desc: names.append(name) or 0)
                assert names == ['disk', 'copy', 'ro', 'aligned', 'slowzero', 'buffered'], names
                ctx = []
                h.opt_list_meta_context(lambda name: ctx.append(name) or 0)
                assert ctx == ['base:allocation'], ctx
                h.set_export_name('ro')
                h.opt_info()
                assert h.get_size() == 1048576 and h.is_read_only()
                h.set_export_name('nope')
                try:
                    h.opt_go()
                    raise AssertionError('GO to an unknown export succeeded')
                except nbd.Error:
                    pass
                h.opt_abort()
                print('SCRIPT-OK')
                """.formatted("nbd://127.0.0.1:" + srv.port() + "/disk"));
        assertTrue(r.out.contains("SCRIPT-OK"), r::toString);
    }

    @Test
    void nbdcopyMultiConnAndQemuImgAgreeByChecksum(@TempDir Path tmp) throws Exception {
        byte[] image = new byte[16 << 20];
        Random rnd = new Random(42);
        for (int off = 0; off < image.length; off += 1 << 20) {
            if ((off >> 20) % 3 != 1) {
                byte[] block = new byte[1 << 20];
                rnd.nextBytes(block);
                System.arraycopy(block, 0, image, off, block.length);
            }
        }
        Path src = tmp.resolve("src.img");
        Path back = tmp.resolve("back.img");
        Files.write(src, image);
        long before = srv.server.acceptedConnections();
        ok("nbdcopy", "--connections=4", "--flush", src.toString(), srv.unixUri("copy"));
        assertTrue(srv.server.acceptedConnections() - before >= 2, "nbdcopy should use several connections (multi-conn)");
        ok("nbdcopy", "--connections=4", srv.uri("copy"), back.toString());
        assertEquals(sha256(image), sha256(Files.readAllBytes(back)));
        assertArrayEquals(image, srv.contents("copy"), "the device holds exactly what was copied in");

        Result cmp = ok("qemu-img", "compare", "-f", "raw", "-F", "raw", src.toString(), srv.uri("copy"));
        assertTrue(cmp.out.contains("Images are identical"), cmp::toString);
        JsonNode info = JSON.readTree(ok("qemu-img", "info", "--output=json", srv.uri("copy")).out);
        assertEquals(16L << 20, info.get("virtual-size").asLong());
        Path viaQemu = tmp.resolve("qemu.img");
        ok("qemu-img", "convert", "-f", "raw", "-O", "raw", srv.uri("copy"), viaQemu.toString());
        assertEquals(sha256(image), sha256(Files.readAllBytes(viaQemu)));
        // And back in through qemu-img, over the unix socket.
        ok("qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", src.toString(), srv.unixUri("copy"));
        assertArrayEquals(image, srv.contents("copy"));
    }

    @Test
    void qemuIoWritesAndVerifiesPatterns() throws Exception {
        String uri = srv.uri("disk");
        Result w = ok("qemu-io", "-f", "raw", "-c", "write -P 0xcd 12288 8192", "-c", "aio_write -P 0xce 1048576 65536",
                "-c", "aio_flush", "-c", "write -z 20480 4096", uri);
        assertTrue(w.out.contains("wrote 8192/8192 bytes at offset 12288")
                && w.out.contains("wrote 65536/65536 bytes at offset 1048576"), w::toString);
        Result r = ok("qemu-io", "-f", "raw", "-c", "read -P 0xcd 12288 8192", "-c", "read -P 0xce 1048576 65536",
                "-c", "read -P 0 20480 4096", uri);
        assertFalse(r.out.contains("Pattern verification failed"), r::toString);
        assertTrue(r.out.contains("read 8192/8192 bytes") && r.out.contains("read 65536/65536 bytes"), r::toString);
        JsonNode map = JSON.readTree(ok("qemu-img", "map", "--output=json", "-f", "raw", uri).out);
        assertTrue(map.size() > 1, () -> "qemu-img map saw no allocation detail: " + map);
    }

    /** "disk" is served in place from the memory device; "buffered" (a layer over memory) through pool buffers. */
    @Test
    void fioNbdEngineWithVerify() throws Exception {
        for (String uri : List.of(srv.unixUri("disk"), srv.uri("disk"), srv.unixUri("buffered"), srv.uri("buffered"))) {
            Result r = ok("fio", "--name=verify", "--ioengine=nbd", "--uri=" + uri, "--rw=randwrite", "--bs=4k",
                    "--iodepth=32", "--offset=32m", "--size=16m", "--verify=crc32c", "--do_verify=1",
                    "--verify_fatal=1", "--verify_state_save=0", "--output-format=json");
            String json = r.out.substring(r.out.indexOf('{'));
            JsonNode job = JSON.readTree(json).get("jobs").get(0);
            assertEquals(0, job.get("error").asInt(), r::toString);
            assertEquals(16L << 20, job.get("write").get("io_bytes").asLong(), r::toString);
            assertEquals(16L << 20, job.get("read").get("io_bytes").asLong(), "verify pass read everything back");
            Result big = ok("fio", "--name=big", "--ioengine=nbd", "--uri=" + uri, "--rw=write", "--bs=1m",
                    "--iodepth=8", "--offset=32m", "--size=16m", "--verify=md5", "--do_verify=1", "--verify_fatal=1",
                    "--verify_state_save=0");
            assertFalse(big.out.contains("verify: bad"), big::toString);
        }
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
