package org.orionos.host.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigLoaderTest {

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
    void fullStackParsesInBuildOrder() {
        OrionConfig c = ConfigLoader.parse("""
                [[bdev]]
                name = "err0"
                type = "error"
                base = "slow0"

                [[bdev]]
                name = "slow0"
                type = "delay"
                base = "mem0"
                read_latency_us = 100

                [[bdev]]
                name = "mem0"
                type = "memory"
                size = "1G"
                block_size = 512

                [[bdev]]
                name = "f0"
                type = "file"
                path = "/var/lib/orion/f0.img"
                size = "10G"
                direct = "off"

                [[bdev]]
                name = "nul"
                type = "null"
                size = 1048576
                """, "t.toml");
        assertEquals(List.of("mem0", "slow0", "err0", "f0", "nul"), c.bdevs().stream().map(BdevSpec::name).toList());
        assertEquals(new BdevSpec.Memory("mem0", 1L << 30, 512), c.bdev("mem0").orElseThrow());
        assertEquals(new BdevSpec.File("f0", Path.of("/var/lib/orion/f0.img"), 10L << 30, 4096, "off"),
                c.bdev("f0").orElseThrow());
        assertEquals(new BdevSpec.Delay("slow0", "mem0", 100, 0, 0), c.bdev("slow0").orElseThrow());
    }

    @Test
    void embeddedDefaultIsAValidFileDevice() {
        OrionConfig c = ConfigLoader.embeddedDefault();
        BdevSpec.File f = (BdevSpec.File) c.bdev("disk0").orElseThrow();
        assertEquals(1L << 30, f.size());
        assertEquals(Path.of("orion-data/disk0.img"), f.path());
    }

    @Test
    void unknownKeyIsRefusedWithTheAcceptedOnes() {
        assertMentions(failure("""
                [[bdev]]
                name = "m"
                type = "memory"
                sise = "1G"
                """), "t.toml", "bdev[1] \"m\"", "unknown key 'sise'", "did you mean 'size'?");
    }

    @Test
    void unknownTopLevelTableIsRefused() {
        assertMentions(failure("[bdevs]\nx = 1\n"), "unknown table 'bdevs'", "bdev");
    }

    @Test
    void wrongTypeNamesKeyAndWhatWasExpected() {
        assertMentions(failure("""
                [[bdev]]
                name = "m"
                type = "memory"
                size = true
                """), "key 'size'", "must be a size", "boolean true");
        assertMentions(failure("""
                [[bdev]]
                name = 7
                type = "memory"
                size = "1G"
                """), "bdev[1]", "key 'name'", "must be a string", "integer 7");
    }

    @Test
    void sizeSyntaxErrorsSayWhatIsAccepted() {
        assertMentions(failure("""
                [[bdev]]
                name = "m"
                type = "memory"
                size = "ten gigs"
                """), "key 'size'", "\"ten gigs\" is not a size", "\"10G\"");
        assertMentions(failure("""
                [[bdev]]
                name = "m"
                type = "memory"
                size = "1000"
                """), "multiple of the block size 4096");
        assertMentions(failure("""
                [[bdev]]
                name = "m"
                type = "memory"
                size = "1G"
                block_size = 1024
                """), "key 'block_size'", "512 or 4096");
    }

    @Test
    void missingRequiredKey() {
        assertMentions(failure("""
                [[bdev]]
                name = "m"
                type = "memory"
                """), "key 'size' is required");
        assertMentions(failure("""
                [[bdev]]
                name = "m"
                type = "tape"
                """), "key 'type'", "memory, file, null, error, delay", "\"tape\"");
    }

    @Test
    void missingBaseDeviceIsNamed() {
        assertMentions(failure("""
                [[bdev]]
                name = "e"
                type = "error"
                base = "ghost"
                """), "bdev \"e\"", "\"ghost\"", "no [[bdev]] defines");
    }

    @Test
    void duplicateNamesAreRefused() {
        assertMentions(failure("""
                [[bdev]]
                name = "m"
                type = "memory"
                size = "1M"
                [[bdev]]
                name = "m"
                type = "null"
                size = "1M"
                """), "bdev[2] \"m\"", "duplicates bdev[1]");
    }

    @Test
    void cyclesAreRefusedWithThePath() {
        assertMentions(failure("""
                [[bdev]]
                name = "a"
                type = "error"
                base = "b"
                [[bdev]]
                name = "b"
                type = "delay"
                base = "a"
                """), "cycle", "a -> b -> a");
    }

    @Test
    void syntaxErrorsCarryLineAndColumn() {
        assertMentions(failure("[[bdev]]\nname = \"m\nsize = 1\n"), "t.toml:2:", "TOML syntax error");
        String dup = failure("[[bdev]]\nname = \"m\"\nname = \"n\"\n");
        assertTrue(dup.matches("t\\.toml:\\d+:\\d+: TOML syntax error: Duplicate key.*"), dup);
    }

    @Test
    void bracketsMatter() {
        assertMentions(failure("[bdev]\nname = \"m\"\n"), "write [[bdev]]");
    }

    @Test
    void missingFileSaysWhatToDo(@TempDir Path dir) {
        Path missing = dir.resolve("nope.toml");
        ErrnoException e = assertThrows(ErrnoException.class, () -> ConfigLoader.load(missing));
        assertEquals(Errno.ENOENT, e.errno());
        assertMentions(e.getMessage(), missing.toString(), "--config");
    }

    @Test
    void loadsFromDisk(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("o.toml");
        Files.writeString(f, "[[bdev]]\nname = \"n\"\ntype = \"null\"\nsize = \"4K\"\n");
        assertEquals(4096, ((BdevSpec.Null) ConfigLoader.load(f).bdev("n").orElseThrow()).size());
    }
}
