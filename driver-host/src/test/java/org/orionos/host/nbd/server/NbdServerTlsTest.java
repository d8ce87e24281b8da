package org.orionos.host.nbd.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.orionos.host.nbd.server.NbdServerInteropTest.Result;

/**
 * STARTTLS with JSSE against libnbd (GnuTLS) through {@code nbds://} URIs. A throw-away CA and a
 * server certificate for 127.0.0.1 are made with openssl in the test; the client trusts the CA
 * through libnbd's {@code tls-certificates} directory ({@code ca-cert.pem}).
 */
class NbdServerTlsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path dir;
    private static LiveServer srv;
    private static Path clientDir;

    private static void sh(Path cwd, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", cmd) + ":\n" + out);
    }

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/openssl")), "openssl is not installed (scripts/install-deps)");
        Path pki = Files.createDirectories(dir.resolve("pki"));
        sh(pki, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca-key.pem", "-out",
                "ca-cert.pem", "-days", "2", "-subj", "/CN=orion test CA");
        sh(pki, "openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server-key.pem", "-out", "server.csr",
                "-subj", "/CN=localhost");
        Files.writeString(pki.resolve("ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                + "extendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n");
        sh(pki, "openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca-cert.pem", "-CAkey", "ca-key.pem",
                "-CAcreateserial", "-out", "server-cert.pem", "-days", "2", "-extfile", "ext.cnf");
        clientDir = Files.createDirectories(dir.resolve("client"));
        Files.copy(pki.resolve("ca-cert.pem"), clientDir.resolve("ca-cert.pem"));
        srv = new LiveServer("""
                [[bdev]]
                name = "secret"
                type = "memory"
                size = "16M"
                [[bdev]]
                name = "open"
                type = "memory"
                size = "1M"
                [nbd.tls]
                certificate = "%s"
                key = "%s"
                [[nbd.export]]
                name = "secret"
                tls = "required"
                description = "TLS only"
                [[nbd.export]]
                name = "open"
                """.formatted(pki.resolve("server-cert.pem"), pki.resolve("server-key.pem")), dir,
                """
                [[nbd.listen]]
                address = "tcp:127.0.0.1:0"
                tls = "optional"
                [[nbd.listen]]
                address = "tcp:127.0.0.1:0"
                tls = "required"
                """);
    }

    @AfterAll
    static void stop() {
        if (srv != null) {
            srv.close();
        }
    }

    private static String nbds(int listener, String export) {
        return "nbds://127.0.0.1:" + srv.addresses().get(listener).port() + "/" + export + "?tls-certificates=" + clientDir;
    }

    @Test
    void nbdinfoOverTlsSeesTheTlsOnlyExport() throws Exception {
        Result r = NbdServerInteropTest.ok("nbdinfo", "--json", nbds(2, "secret"));
        JsonNode root = JSON.readTree(r.out());
        assertTrue(root.get("TLS").asBoolean(), r::toString);
        assertEquals(16L << 20, root.get("exports").get(0).get("export-size").asLong());
        assertEquals("TLS only", root.get("exports").get(0).get("description").asText());
        // The required-TLS listener serves only after STARTTLS; the clear-text listener cannot reach "secret".
        assertTrue(NbdServerInteropTest.run("nbdinfo", "nbd://127.0.0.1:" + srv.addresses().get(3).port() + "/open").exit() != 0);
        NbdServerInteropTest.ok("nbdinfo", nbds(3, "open"));
        assertTrue(NbdServerInteropTest.run("nbdinfo", "nbd://127.0.0.1:" + srv.port() + "/secret").exit() != 0);
        assertTrue(NbdServerInteropTest.run("nbdinfo", "nbd://127.0.0.1:" + srv.addresses().get(2).port() + "/secret").exit() != 0);
    }

    @Test
    void dataOverTlsMatchesByteForByte(@TempDir Path tmp) throws Exception {
        byte[] image = new byte[8 << 20];
        new Random(5).nextBytes(image);
        Path src = tmp.resolve("src.img");
        Path back = tmp.resolve("back.img");
        Files.write(src, image);
        NbdServerInteropTest.ok("nbdcopy", "--connections=2", src.toString(), nbds(2, "secret"));
        NbdServerInteropTest.ok("nbdcopy", nbds(3, "secret"), back.toString());
        byte[] got = Files.readAllBytes(back);
        assertArrayEquals(java.util.Arrays.copyOf(image, image.length), java.util.Arrays.copyOf(got, image.length));
        byte[] dev = srv.contents("secret");
        assertArrayEquals(image, java.util.Arrays.copyOf(dev, image.length));
        Result r = NbdServerInteropTest.ok("nbdsh", "-c", """
                h.set_uri_allow_local_file(True)
                h.connect_uri('%s')
                assert h.get_tls_negotiated()
                h.pwrite(b'\\x42' * 65536, 12 * 1048576)
                assert h.pread(65536, 12 * 1048576) == b'\\x42' * 65536
                h.flush()
                print('SCRIPT-OK')
                """.formatted(nbds(2, "secret")));
        assertTrue(r.out().contains("SCRIPT-OK"), r::toString);
    }
}
