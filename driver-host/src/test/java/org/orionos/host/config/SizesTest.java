package org.orionos.host.config;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SizesTest {
    @Test
    void parsesBinaryUnits() {
        assertEquals(4096, Sizes.parse("4096"));
        assertEquals(512L << 10, Sizes.parse("512K"));
        assertEquals(10L << 30, Sizes.parse("10G"));
        assertEquals(10L << 30, Sizes.parse("10GiB"));
        assertEquals(1L << 40, Sizes.parse("1t"));
        assertEquals(3L << 20, Sizes.parse("3 MB"));
    }

    @Test
    void refusesGarbageAndOverflow() {
        assertThrows(IllegalArgumentException.class, () -> Sizes.parse(""));
        assertThrows(IllegalArgumentException.class, () -> Sizes.parse("G"));
        assertThrows(IllegalArgumentException.class, () -> Sizes.parse("1.5G"));
        assertThrows(IllegalArgumentException.class, () -> Sizes.parse("12X"));
        assertThrows(IllegalArgumentException.class, () -> Sizes.parse("99999999P"));
    }

    @Test
    void formatRoundTrips() {
        for (long v : new long[] {1, 1000, 4096, 1L << 30, 10L << 40, 3 * 512L}) {
            assertEquals(v, Sizes.parse(Sizes.format(v)));
        }
        assertEquals("1G", Sizes.format(1L << 30));
        assertEquals("1536", Sizes.format(1536));
    }
}
