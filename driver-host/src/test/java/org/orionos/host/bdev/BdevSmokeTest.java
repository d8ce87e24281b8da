package org.orionos.host.bdev;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.orionos.host.config.ConfigLoader;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BdevSmokeTest {
    @Test
    void writeThenReadBackOnMemoryAndFile(@TempDir Path dir) throws Exception {
        try (BdevHost host = BdevHost.start(2, 8 << 20); Arena a = Arena.ofShared()) {
            host.build(ConfigLoader.parse("""
                    [[bdev]]
                    name = "m"
                    type = "memory"
                    size = "64M"
                    [[bdev]]
                    name = "f"
                    type = "file"
                    path = "%s"
                    size = "64M"
                    """.formatted(dir.resolve("f.img")), "t"));
            BdevClient c = host.client();
            for (String name : new String[] {"m", "f"}) {
                BlockDevice d = host.registry().get(name);
                MemorySegment w = a.allocate(1 << 20, 4096);
                for (int i = 0; i < w.byteSize(); i++) {
                    w.set(JAVA_BYTE, i, (byte) (i * 31 + name.hashCode()));
                }
                c.write(d, 1 << 20, w, 0).get(10, TimeUnit.SECONDS);
                MemorySegment rd = a.allocate(1 << 20, 4096);
                c.read(d, 1 << 20, rd).get(10, TimeUnit.SECONDS);
                assertEquals(-1L, w.mismatch(rd), name);
                BdevClient.Extent e = c.blockStatus(d, 0, d.sizeBytes()).get(10, TimeUnit.SECONDS);
                assertTrue(e.hole() && e.zero(), name + " starts with a hole: " + e);
                assertEquals(1 << 20, e.length(), name + ": the hole ends where the data starts");
                BdevClient.Extent data = c.blockStatus(d, 1 << 20, d.sizeBytes() - (1 << 20)).get(10, TimeUnit.SECONDS);
                assertTrue(!data.hole() && data.length() >= (1 << 20), name + ": data extent " + data);
                c.flush(d).get(10, TimeUnit.SECONDS);
            }
        }
    }
}
