package org.orionos.host.raid;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.config.ConfigLoader;
import org.orionos.host.config.OrionConfig;
import org.orionos.host.config.RaidSpec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code [[raid]]} tables: parsed with per-key errors; on file members, the first start creates the
 * array and later starts assemble it from the superblocks, with the same content; a table that
 * disagrees with the superblocks is refused.
 */
class RaidConfigTest {
    @TempDir
    Path dir;

    private String files(int n) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            b.append("[[bdev]]\nname = \"f").append(i).append("\"\ntype = \"file\"\npath = \"")
                    .append(dir.resolve("f" + i + ".img")).append("\"\nsize = \"5M\"\n");
        }
        return b.toString();
    }

    private static String raid(String level, String members, String extra) {
        return "[[raid]]\nname = \"md0\"\nlevel = " + level + "\nmembers = [" + members + "]\n" + extra;
    }

    private static ErrnoException refused(String toml) {
        return assertThrows(ErrnoException.class, () -> ConfigLoader.parse(toml, "t.toml"));
    }

    @Test
    void tablesAreReadAndBadOnesRefusedNamingTheKey() {
        String four = "\"f0\", \"f1\", \"f2\", \"f3\"";
        OrionConfig c = ConfigLoader.parse(files(5) + raid("5", four, "chunk = \"64K\"\nspares = [\"f4\"]\n"), "t.toml");
        RaidSpec r = (RaidSpec) c.bdev("md0").orElseThrow();
        assertEquals(5, r.level());
        assertEquals(128, r.chunkSectors());
        assertEquals(java.util.List.of("f4"), r.spares());
        assertTrue(c.bdevs().indexOf(r) > c.bdevs().indexOf(c.bdev("f4").orElseThrow()), "members and spares are built first");
        assertEquals(1024, ((RaidSpec) ConfigLoader.parse(files(4) + raid("6", four, ""), "t").bdev("md0").orElseThrow())
                .chunkSectors(), "default chunk 512K");

        assertTrue(refused(files(4) + raid("4", four, "")).getMessage().contains("key 'level'"));
        assertTrue(refused(files(4) + raid("6", "\"f0\", \"f1\", \"f2\"", "")).getMessage()
                .contains("raid6 needs at least 4 members, 3 given"));
        assertTrue(refused(files(4) + raid("5", "\"f0\", \"f1\", \"f1\"", "")).getMessage().contains("lists \"f1\" twice"));
        assertTrue(refused(files(4) + raid("5", four, "chunk = \"48K\"\n")).getMessage().contains("power of two"));
        assertTrue(refused(files(4) + raid("5", four, "layout = \"ddf-N-continue\"\n")).getMessage().contains("key 'layout'"));
        assertTrue(refused(files(4) + raid("5", "\"f0\", \"f1\", \"nope\"", "")).getMessage().contains("nope"));
        assertTrue(refused(files(4) + raid("5", four, "colour = 1\n")).getMessage().contains("colour"));
        String two = files(6) + raid("1", "\"f0\", \"f1\"", "") + "[[raid]]\nname = \"md1\"\nlevel = 1\nmembers = [\"f1\", \"f2\"]\n";
        assertTrue(refused(two).getMessage().contains("\"f1\" is already a member of [[raid]] \"md0\""));
    }

    /** RAID50 as md nests it: a level-0 [[raid]] whose members are two level-5 [[raid]] arrays. */
    @Test
    void raid50IsARaid0TableOverRaid5Tables() throws Exception {
        StringBuilder t = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            t.append("[[bdev]]\nname = \"m").append(i).append("\"\ntype = \"memory\"\nsize = \"4M\"\n");
        }
        t.append("[[raid]]\nname = \"g0\"\nlevel = 5\nmembers = [\"m0\", \"m1\", \"m2\"]\nchunk = \"64K\"\n");
        t.append("[[raid]]\nname = \"g1\"\nlevel = 5\nmembers = [\"m3\", \"m4\", \"m5\"]\nchunk = \"64K\"\n");
        t.append("[[raid]]\nname = \"md50\"\nlevel = 0\nmembers = [\"g0\", \"g1\"]\nchunk = \"64K\"\n");
        try (BdevHost host = BdevHost.start(2, 16 << 20)) {
            host.build(ConfigLoader.parse(t.toString(), "t.toml"));
            BlockDevice md50 = host.registry().get("md50");
            // Each group: 3 x (4 MiB - 1 MiB) with one for parity = 6 MiB; the outer array gives up 1 MiB of each.
            assertEquals(2L * (6 - 1) << 20, md50.sizeBytes());
            RaidBdevTest.runModel(host, md50, 1500, 8, 77);
            MdSuperblock1 outer = MdArray.readSuperblock(host.client(), host.registry().get("g1"));
            assertEquals(0, outer.level);
            assertEquals(1, outer.role());
        }
    }

    @Test
    void firstStartCreatesLaterStartsAssembleFromTheSuperblocks() throws Exception {
        String four = "\"f0\", \"f1\", \"f2\", \"f3\"";
        String toml = files(5) + raid("5", four, "chunk = \"64K\"\nspares = [\"f4\"]\n");
        MemorySegment w;
        try (Arena arena = Arena.ofShared()) {
            try (BdevHost host = BdevHost.start(2, 16 << 20)) {
                host.build(ConfigLoader.parse(toml, "t.toml"));
                BlockDevice md = host.registry().get("md0");
                assertEquals(3L * (5 - 1) * (1 << 20), md.sizeBytes(), "4 x (5 MiB - 1 MiB metadata), one for parity");
                w = arena.allocate(md.sizeBytes(), 4096);
                SplittableRandom rnd = new SplittableRandom(4);
                for (long i = 0; i < w.byteSize(); i += 8) {
                    w.set(ValueLayout.JAVA_LONG, i, rnd.nextLong());
                }
                host.client().write(md, 0, w, 0).get(30, TimeUnit.SECONDS);
            }
            try (BdevHost host = BdevHost.start(1, 16 << 20)) {
                host.build(ConfigLoader.parse(toml, "t.toml"));
                BlockDevice md = host.registry().get("md0");
                MemorySegment back = arena.allocate(md.sizeBytes(), 4096);
                host.client().read(md, 0, back).get(30, TimeUnit.SECONDS);
                assertEquals(-1L, w.mismatch(back));
                MdSuperblock1 sb = MdArray.readSuperblock(host.client(), host.registry().get("f4"));
                assertNotNull(sb);
                assertEquals(MdSuperblock1.MD_DISK_ROLE_SPARE, sb.role());
            }
            for (String wrong : new String[] {raid("6", four, "chunk = \"64K\"\n"), raid("5", four, "chunk = \"128K\"\n"),
                    raid("5", "\"f0\", \"f1\", \"f2\", \"f3\", \"f4\"", "chunk = \"64K\"\n")}) {
                try (BdevHost host = BdevHost.start(1, 16 << 20)) {
                    ErrnoException e = assertThrows(ErrnoException.class,
                            () -> host.build(ConfigLoader.parse(files(5) + wrong, "t.toml")));
                    assertTrue(e.getMessage().contains("fix the config"), e.getMessage());
                }
            }
        }
    }
}
