package org.orionos.host.config;

import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import org.junit.jupiter.api.Test;
import org.orionos.bindings.ErrnoException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code [[nbd.attach]]}: values, defaults, and every error naming the file, table and key. */
class NbdAttachConfigTest {
    private static final Set<String> EXPORTS = Set.of("vol0", "vol1");

    private static List<NbdAttachSpec> read(String toml) throws Exception {
        JsonNode root = new TomlMapper().readTree(toml);
        return NbdAttachConfigReader.read(root.path("nbd").get("attach"), "t.toml", EXPORTS);
    }

    private static String error(String toml) {
        return assertThrows(ErrnoException.class, () -> read(toml)).getMessage();
    }

    @Test
    void readsEntriesWithDefaults() throws Exception {
        List<NbdAttachSpec> a = read("""
                [[nbd.attach]]
                export = "vol0"
                device = "/dev/nbd0"
                connections = 2
                [[nbd.attach]]
                export = "vol1"
                timeout = 10
                dead_conn_timeout = 600
                detach_on_exit = true
                """);
        assertEquals(List.of(new NbdAttachSpec("vol0", "/dev/nbd0", 2, 30, 120, false),
                new NbdAttachSpec("vol1", null, 1, 10, 600, true)), a);
        String notBool = error("[[nbd.attach]]\nexport = \"vol0\"\ndetach_on_exit = \"yes\"\n");
        assertTrue(notBool.contains("detach_on_exit") && notBool.contains("true or false"), notBool);
    }

    private static final String STACK = """
            [[bdev]]
            name = "m"
            type = "memory"
            size = "16M"
            [[nbd.export]]
            name = "vol0"
            bdev = "m"
            """;

    @Test
    void configLoaderReadsAttachmentsWithoutListeners() {
        OrionConfig c = ConfigLoader.parse(STACK + "[[nbd.attach]]\nexport = \"vol0\"\ndevice = \"/dev/nbd3\"\n", "t.toml");
        assertEquals(List.of(new NbdAttachSpec("vol0", "/dev/nbd3", 1, 30, 120)), c.nbd().attach());
        assertTrue(c.nbd().enabled(), "attachments alone run the server");
        assertTrue(c.nbd().listeners().isEmpty());
        // Exports without listeners wait for `orion attach` (the management socket).
        OrionConfig exportsOnly = ConfigLoader.parse(STACK, "t.toml");
        assertTrue(exportsOnly.nbd().enabled() && exportsOnly.nbd().attach().isEmpty());
        String unknown = assertThrows(ErrnoException.class, () -> ConfigLoader.parse(
                STACK + "[[nbd.attach]]\nexport = \"vol9\"\n", "t.toml")).getMessage();
        assertTrue(unknown.contains("nbd.attach[1]") && unknown.contains("vol0"), unknown);
    }

    @Test
    void theAttachCommandAddsOneAttachment() {
        OrionConfig c = ConfigLoader.parse(STACK + "[[nbd.attach]]\nexport = \"vol0\"\ndevice = \"/dev/nbd3\"\n", "t.toml");
        OrionConfig more = ConfigLoader.withNbdAttach(c, new NbdAttachSpec("vol0", "/dev/nbd4", 2, 30, 120));
        assertEquals(2, more.nbd().attach().size());
        String busy = assertThrows(ErrnoException.class,
                () -> ConfigLoader.withNbdAttach(c, new NbdAttachSpec("vol0", "/dev/nbd3", 1, 30, 120))).getMessage();
        assertTrue(busy.contains("/dev/nbd3") && busy.contains("already attaches"), busy);
        String unknown = assertThrows(ErrnoException.class,
                () -> ConfigLoader.withNbdAttach(c, new NbdAttachSpec("nope", null, 1, 30, 120))).getMessage();
        assertTrue(unknown.contains("\"nope\"") && unknown.contains("vol0"), unknown);
    }

    @Test
    void errorsNameTheKey() {
        String unknown = error("[[nbd.attach]]\nexport = \"nope\"\n");
        assertTrue(unknown.contains("t.toml: nbd.attach[1]: key 'export'") && unknown.contains("vol0, vol1"), unknown);
        String dev = error("[[nbd.attach]]\nexport = \"vol0\"\ndevice = \"/dev/sda\"\n");
        assertTrue(dev.contains("key 'device'") && dev.contains("/dev/nbdN"), dev);
        String dup = error("[[nbd.attach]]\nexport = \"vol0\"\ndevice = \"/dev/nbd1\"\n"
                + "[[nbd.attach]]\nexport = \"vol1\"\ndevice = \"/dev/nbd1\"\n");
        assertTrue(dup.contains("nbd.attach[2]") && dup.contains("duplicates nbd.attach[1]"), dup);
        String conns = error("[[nbd.attach]]\nexport = \"vol0\"\nconnections = 0\n");
        assertTrue(conns.contains("key 'connections'"), conns);
        String typo = error("[[nbd.attach]]\nexport = \"vol0\"\nconnection = 2\n");
        assertTrue(typo.contains("did you mean 'connections'"), typo);
        String table = error("[nbd.attach]\nexport = \"vol0\"\n");
        assertTrue(table.contains("[[nbd.attach]]"), table);
    }
}
