package org.orionos.host.nbd.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real NBD clients from Debian (libnbd's nbdinfo/nbdsh/nbdcopy, qemu-img, qemu-io) against the
 * protocol core, served by the test-only {@link BlockingNbdBridge}. Each assertion checks what
 * the client saw, so a protocol bug shows up as a client error or wrong data.
 */
class NbdClientInteropTest {
    private static BlockingNbdBridge bridge;
    private static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void start() throws IOException {
        bridge = new BlockingNbdBridge(TestCatalog.standard(TlsMode.OPTIONAL));
    }

    @AfterAll
    static void stop() throws IOException {
        bridge.close();
    }

    @AfterEach
    void noBridgeFailures() {
        assertTrue(bridge.failures.isEmpty(), () -> "bridge threads failed: " + bridge.failures);
    }

    record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\nstdout:\n" + out + "\nstderr:\n" + err;
        }
    }

    private static boolean have(String tool) {
        return Files.isExecutable(Path.of("/usr/bin", tool));
    }

    private static Result run(String... cmd) throws IOException, InterruptedException {
        assumeTrue(have(cmd[0]), cmd[0] + " is not installed (scripts/install-deps installs it)");
        ProcessBuilder pb = new ProcessBuilder(cmd);
        // nbdsh runs /usr/bin's python3 module; a user-level python3 earlier on PATH lacks it.
        pb.environment().put("PATH", "/usr/bin:/bin:" + System.getenv("PATH"));
        pb.environment().put("LIBNBD_DEBUG", "0");
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

    private static Result ok(String... cmd) throws IOException, InterruptedException {
        Result r = run(cmd);
        assertEquals(0, r.exit, () -> String.join(" ", cmd) + " failed: " + r);
        return r;
    }

    private static Result nbdsh(String export, String script) throws IOException, InterruptedException {
        Result r = ok("nbdsh", "--base-allocation", "-u", bridge.uri(export), "-c", script);
        assertTrue(r.out.contains("SCRIPT-OK"), () -> "nbdsh script did not finish: " + r);
        return r;
    }

    @Test
    void nbdinfoListsExportsButHidesTlsOnlyOnes() throws Exception {
        Result r = ok("nbdinfo", "--list", "--json", "nbd://127.0.0.1:" + bridge.port());
        JsonNode root = JSON.readTree(r.out);
        List<String> names = new ArrayList<>();
        root.get("exports").forEach(e -> names.add(e.get("export-name").asText()));
        assertEquals(List.of("disk", "copy", "ro", "aligned", "slowzero"), names);
        JsonNode disk = root.get("exports").get(0);
        assertEquals("in-memory test disk", disk.get("description").asText());
        assertEquals(64L << 20, disk.get("export-size").asLong());
        assertEquals("newstyle-fixed", root.get("protocol").asText());
    }

    @Test
    void nbdinfoJsonReportsFlagsBlockSizesAndContexts() throws Exception {
        JsonNode e = JSON.readTree(ok("nbdinfo", "--json", bridge.uri("disk")).out).get("exports").get(0);
        assertEquals(64L << 20, e.get("export-size").asLong());
        assertFalse(e.get("is_read_only").asBoolean());
        assertFalse(e.get("is_rotational").asBoolean());
        for (String can : List.of("can_cache", "can_df", "can_fast_zero", "can_flush", "can_fua",
                "can_multi_conn", "can_trim", "can_zero")) {
            assertTrue(e.get(can).asBoolean(), can + " in " + e);
        }
        assertEquals(1, e.get("block_size_minimum").asInt());
        assertEquals(4096, e.get("block_size_preferred").asInt());
        assertEquals(32 << 20, e.get("block_size_maximum").asInt());
        assertEquals("base:allocation", e.get("contexts").get(0).asText());

        JsonNode a = JSON.readTree(ok("nbdinfo", "--json", bridge.uri("aligned")).out).get("exports").get(0);
        assertEquals(4096, a.get("block_size_minimum").asInt());
        assertEquals(1 << 20, a.get("block_size_maximum").asInt());
        assertFalse(a.get("can_trim").asBoolean());
    }

    @Test
    void nbdinfoCanAndIs() throws Exception {
        for (String can : List.of("read", "write", "flush", "fua", "trim", "zero", "fast-zero", "df",
                "multi-conn", "cache", "structured-reply")) {
            assertEquals(0, run("nbdinfo", "--can", can, bridge.uri("disk")).exit, "--can " + can);
        }
        assertEquals(2, run("nbdinfo", "--can", "write", bridge.uri("ro")).exit);
        assertEquals(0, run("nbdinfo", "--is", "read-only", bridge.uri("ro")).exit);
        assertEquals(2, run("nbdinfo", "--can", "trim", bridge.uri("aligned")).exit);
        assertEquals(2, run("nbdinfo", "--can", "fua", bridge.uri("slowzero")).exit);
        // The TLS-only export refuses a clear-text GO; nbdinfo reports failure to connect.
        assertTrue(run("nbdinfo", "--can", "connect", bridge.uri("secret")).exit != 0);
        assertTrue(run("nbdinfo", "--can", "connect", bridge.uri("no-such-export")).exit != 0);
    }

    @Test
    void nbdinfoMapShowsBaseAllocation() throws Exception {
        nbdsh("disk", """
                h.pwrite(b'\\x5a' * 65536, 8 * 1048576 + 65536)
                print('SCRIPT-OK')
                """);
        Result r = ok("nbdinfo", "--map", "--json", bridge.uri("disk"));
        JsonNode map = JSON.readTree(r.out);
        List<String> entries = new ArrayList<>();
        map.forEach(m -> entries.add(m.get("offset").asLong() + "+" + m.get("length").asLong() + ":" + m.get("type").asInt()));
        int i = entries.indexOf((8L * 1048576 + 65536) + "+65536:0");
        assertTrue(i > 0, () -> "data extent missing from " + entries);
        assertTrue(entries.get(i - 1).endsWith(":3") && entries.get(i + 1).endsWith(":3"), entries::toString);
    }

    @Test
    void nbdshStructuredReadsDfAndBlockStatus() throws Exception {
        nbdsh("disk", """
                import errno
                assert h.get_structured_replies_negotiated()
                base = 2 * 1048576
                h.pwrite(b'\\xab' * 65536, base + 65536)
                expect = bytes(65536) + b'\\xab' * 65536 + bytes(65536)
                chunks = []
                def chunk(buf, off, status, err):
                    chunks.append((off, status, len(buf)))
                    return 0
                assert h.pread_structured(3 * 65536, base, chunk) == expect
                assert chunks == [(base, nbd.READ_HOLE, 65536), (base + 65536, nbd.READ_DATA, 65536),
                                  (base + 131072, nbd.READ_HOLE, 65536)], chunks
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
                h.flush()
                h.cache(4096, base)
                h.zero(4096, base, nbd.CMD_FLAG_NO_HOLE)
                assert h.pread(4096, base) == bytes(4096)
                h.zero(65536, base + 65536, nbd.CMD_FLAG_FAST_ZERO)
                print('SCRIPT-OK')
                """);
    }

    @Test
    void nbdshServerSideValidationErrors() throws Exception {
        nbdsh("disk", """
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
                expect(errno.EINVAL, h.block_status, 512, size, lambda *a: 0)
                assert h.pread(512, 0) is not None
                print('SCRIPT-OK')
                """);
        nbdsh("ro", """
                import errno
                h.set_strict_mode(0)
                for fn, args in ((h.pwrite, (b'x' * 512, 0)), (h.trim, (512, 0)), (h.zero, (512, 0))):
                    try:
                        fn(*args)
                        raise AssertionError('write on read-only export succeeded')
                    except nbd.Error as e:
                        assert e.errnum == errno.EPERM, e
                print('SCRIPT-OK')
                """);
        nbdsh("aligned", """
                import errno
                h.set_strict_mode(0)
                assert h.get_block_size(nbd.SIZE_MINIMUM) == 4096
                for args in ((512, 0), (4096, 512), ((1 << 20) + 4096, 0)):
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
    void nbdshFastZeroRefusedWithEnotsup() throws Exception {
        nbdsh("slowzero", """
                import errno
                assert h.can_fast_zero()
                try:
                    h.zero(65536, 0, nbd.CMD_FLAG_FAST_ZERO)
                    raise AssertionError('fast zero succeeded')
                except nbd.Error as e:
                    assert e.errnum == errno.ENOTSUP, e
                h.zero(65536, 0)
                print('SCRIPT-OK')
                """);
    }

    @Test
    void nbdshSimpleRepliesAndOptionMode() throws Exception {
        ok("nbdsh", "-c", """
                h.set_request_structured_replies(False)
                h.connect_uri('%s')
                assert not h.get_structured_replies_negotiated()
                assert not h.can_df()
                h.pwrite(b'\\x77' * 8192, 4 * 1048576)
                assert h.pread(8192, 4 * 1048576) == b'\\x77' * 8192
                h.shutdown()
                print('SCRIPT-OK')
                """.formatted(bridge.uri("disk")));
        Result r = ok("nbdsh", "-c", """
                h.set_opt_mode(True)
                h.connect_uri('%s')
                names = []
                h.opt_list(lambda name, desc: names.append(name) or 0)
                assert names == ['disk', 'copy', 'ro', 'aligned', 'slowzero'], names
                ctx = []
                h.opt_list_meta_context(lambda name: ctx.append(name) or 0)
                assert ctx == ['base:allocation'], ctx
                h.set_export_name('secret')
                try:
                    h.opt_info()
                    raise AssertionError('TLS-only export answered INFO in clear text')
                except nbd.Error:
                    pass
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
                """.formatted("nbd://127.0.0.1:" + bridge.port() + "/disk"));
        assertTrue(r.out.contains("SCRIPT-OK"), r::toString);
    }

    @Test
    void nbdcopyInAndOutWithMultiConnMatchesChecksum(@TempDir Path dir) throws Exception {
        byte[] image = new byte[16 << 20];
        Random rnd = new Random(42);
        // Data with zero runs, so copies see both data and holes.
        for (int off = 0; off < image.length; off += 1 << 20) {
            if ((off >> 20) % 3 != 1) {
                byte[] block = new byte[1 << 20];
                rnd.nextBytes(block);
                System.arraycopy(block, 0, image, off, block.length);
            }
        }
        Path src = dir.resolve("src.img");
        Path back = dir.resolve("back.img");
        Files.write(src, image);
        String uri = bridge.uri("copy");
        int before = bridge.transmissions.get();
        ok("nbdcopy", "--connections=4", "--flush", src.toString(), uri);
        assertTrue(bridge.transmissions.get() - before >= 2, "nbdcopy should use several connections");
        ok("nbdcopy", "--connections=4", uri, back.toString());
        assertEquals(sha256(image), sha256(Files.readAllBytes(back)));
        assertArrayEquals(image, bridge.disk("copy").data);

        Result cmp = ok("qemu-img", "compare", "-f", "raw", "-F", "raw", src.toString(), uri);
        assertTrue(cmp.out.contains("Images are identical"), cmp::toString);
        JsonNode info = JSON.readTree(ok("qemu-img", "info", "--output=json", uri).out);
        assertEquals(16L << 20, info.get("virtual-size").asLong());

        Path viaQemu = dir.resolve("qemu.img");
        ok("qemu-img", "convert", "-f", "raw", "-O", "raw", uri, viaQemu.toString());
        assertEquals(sha256(image), sha256(Files.readAllBytes(viaQemu)));
    }

    @Test
    void qemuIoWritesAndVerifiesPatterns() throws Exception {
        String uri = bridge.uri("disk");
        Result w = ok("qemu-io", "-f", "raw", "-c", "write -P 0xcd 12288 8192", "-c", "aio_write -P 0xce 1048576 65536",
                "-c", "aio_flush", "-c", "write -z 20480 4096", uri);
        assertFalse(w.out.contains("error") || w.err.contains("error"), w::toString);
        assertTrue(w.out.contains("wrote 8192/8192 bytes at offset 12288")
                && w.out.contains("wrote 65536/65536 bytes at offset 1048576"), w::toString);
        Result r = ok("qemu-io", "-f", "raw", "-c", "read -P 0xcd 12288 8192", "-c", "read -P 0xce 1048576 65536",
                "-c", "read -P 0 20480 4096", uri);
        assertFalse(r.out.contains("Pattern verification failed"), r::toString);
        assertTrue(r.out.contains("read 8192/8192 bytes") && r.out.contains("read 65536/65536 bytes"), r::toString);
        JsonNode map = JSON.readTree(ok("qemu-img", "map", "--output=json", "-f", "raw", uri).out);
        assertTrue(map.size() > 1, () -> "qemu-img map saw no allocation detail: " + map);
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
