package org.orionos.host.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;

/** The [nbd] section: what parses, and that every mistake names the file, table and key. */
class NbdConfigTest {
    private static final String MEM = """
            [[bdev]]
            name = "mem0"
            type = "memory"
            size = "64M"
            """;

    private static String failure(String toml) {
        ErrnoException e = assertThrows(ErrnoException.class, () -> ConfigLoader.parse(toml, "t.toml"));
        assertEquals(Errno.EINVAL, e.errno());
        return e.getMessage();
    }

    private static void assertMentions(String message, String... parts) {
        for (String p : parts) {
            assertTrue(message.contains(p), "expected \"" + p + "\" in: " + message);
        }
    }

    @Test
    void listenersAndExportsParse() {
        OrionConfig c = ConfigLoader.parse(MEM + """
                [nbd]
                max_connections = 64
                [[nbd.listen]]
                address = "tcp:127.0.0.1:10809"
                [[nbd.listen]]
                address = "tcp:[::1]:10810"
                [[nbd.listen]]
                address = "unix:/run/orion/nbd.sock"
                [[nbd.export]]
                name = "vol0"
                bdev = "mem0"
                read_only = true
                description = "a volume"
                """, "t.toml");
        NbdSpec n = c.nbd();
        assertTrue(n.enabled());
        assertEquals(64, n.maxConnections());
        assertEquals(List.of("tcp:127.0.0.1:10809", "tcp:[::1]:10810", "unix:/run/orion/nbd.sock"),
                n.listeners().stream().map(NbdSpec.Listen::address).toList());
        assertEquals(new NbdSpec.Export("vol0", "mem0", true, "a volume", "off"), n.exports().get(0));
        assertNull(n.tls());
        assertFalse(ConfigLoader.parse(MEM, "t.toml").nbd().enabled());
    }

    @Test
    void embeddedDefaultExportsDisk0OverTcpAndUnix() {
        NbdSpec n = ConfigLoader.embeddedDefault().nbd();
        assertEquals(List.of("tcp:127.0.0.1:10809", "unix:orion-data/nbd.sock"),
                n.listeners().stream().map(NbdSpec.Listen::address).toList());
        assertEquals("disk0", n.exports().get(0).bdev());
    }

    @Test
    void mistakesNameTheTableAndKey() {
        assertMentions(failure(MEM + "[[nbd.listen]]\naddress = \"127.0.0.1:10809\"\n[[nbd.export]]\nname = \"a\"\nbdev = \"mem0\"\n"),
                "t.toml", "nbd.listen[1]", "'address'", "tcp: or unix:");
        assertMentions(failure(MEM + "[[nbd.listen]]\naddress = \"tcp:[::1:10809\"\n"), "nbd.listen[1]", "IPv6");
        assertMentions(failure(MEM + "[[nbd.listen]]\naddress = \"tcp:127.0.0.1:70000\"\n"), "outside 0..65535");
        assertMentions(failure(MEM + "[[nbd.listen]]\naddress = \"tcp:127.0.0.1:1\"\n[[nbd.export]]\nname = \"a\"\nbdev = \"nope\"\n"),
                "nbd.export[1] \"a\"", "'bdev'", "\"nope\"", "mem0");
        assertMentions(failure(MEM + "[[nbd.listen]]\naddress = \"tcp:127.0.0.1:1\"\nport = 3\n"),
                "nbd.listen[1]", "unknown key 'port'");
        assertMentions(failure(MEM + "[[nbd.listen]]\naddress = \"tcp:127.0.0.1:1\"\ntls = \"required\"\n"),
                "'tls'", "[nbd.tls]");
        assertMentions(failure(MEM + "[[nbd.listen]]\naddress = \"tcp:127.0.0.1:1\"\n[[nbd.export]]\nname = \"a\"\nbdev = \"mem0\"\ntls = \"always\"\n"),
                "'tls'", "off, optional, required");
        assertMentions(failure(MEM + "[[nbd.listen]]\naddress = \"tcp:127.0.0.1:1\"\n[[nbd.export]]\nname = \"a\"\nbdev = \"mem0\"\ntls = \"required\"\n"),
                "no [[nbd.listen]] offers TLS");
        assertMentions(failure(MEM + "[[nbd.listen]]\naddress = \"tcp:127.0.0.1:1\"\n[[nbd.export]]\nname = \"a\"\n[[nbd.export]]\nname = \"a\"\n"),
                "'bdev'");
        assertMentions(failure(MEM + "[[nbd.listen]]\naddress = \"tcp:127.0.0.1:1\"\n[[nbd.export]]\nname = \"a\"\nbdev = \"mem0\"\n"
                + "[[nbd.export]]\nname = \"a\"\nbdev = \"mem0\"\n"), "duplicates");
        assertMentions(failure(MEM + "[[nbd.listen]]\naddress = \"tcp:127.0.0.1:1\"\n"), "no [[nbd.export]]");
        assertMentions(failure(MEM + "[nbd]\nlisten = 1\n"), "[[nbd.listen]]");
        assertMentions(failure(MEM + "[nbd.tls]\ncertificate = \"/nonexistent/cert.pem\"\nkey = \"/nonexistent/k.pem\"\n"),
                "nbd.tls", "'certificate'", "/nonexistent/cert.pem");
    }

    @Test
    void tlsNeedsCertificateAndKeyOrAKeystore(@TempDir Path dir) throws Exception {
        Path cert = Files.writeString(dir.resolve("c.pem"), "x");
        Path key = Files.writeString(dir.resolve("k.pem"), "x");
        assertMentions(failure(MEM + "[nbd.tls]\ncertificate = \"" + cert + "\"\n"), "needs certificate and key");
        assertMentions(failure(MEM + "[nbd.tls]\ncertificate = \"" + cert + "\"\nkey = \"" + key + "\"\nkeystore = \"" + key + "\"\n"),
                "not both");
        NbdSpec n = ConfigLoader.parse(MEM + "[nbd.tls]\ncertificate = \"" + cert + "\"\nkey = \"" + key + "\"\n"
                + "[[nbd.listen]]\naddress = \"unix:/tmp/x.sock\"\ntls = \"optional\"\n[[nbd.export]]\nname = \"mem0\"\n"
                + "tls = \"required\"\n", "t.toml").nbd();
        assertEquals(cert, n.tls().certificate());
        assertEquals("mem0", n.exports().get(0).bdev(), "bdev defaults to the export name");
    }
}
