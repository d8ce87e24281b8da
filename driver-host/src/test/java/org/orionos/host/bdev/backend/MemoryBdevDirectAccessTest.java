package org.orionos.host.bdev.backend;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.lang.foreign.MemorySegment;

import org.junit.jupiter.api.Test;
import org.orionos.host.bdev.BdevOp;

/** Zero-copy access to a memory device: the core's checks apply, and direct writes count as allocated. */
class MemoryBdevDirectAccessTest {
    @Test
    void directAccessIsCheckedLikeASubmission() {
        MemoryBdev d = new MemoryBdev("m", 1 << 20, 4096);
        try {
            assertNotNull(d.directAccess(BdevOp.READ, 0, 4096));
            assertNotNull(d.directAccess(BdevOp.READ, (1 << 20) - 4096, 4096));
            assertNull(d.directAccess(BdevOp.READ, 1 << 20, 4096), "past the end");
            assertNull(d.directAccess(BdevOp.READ, (1 << 20) - 4096, 8192), "crosses the end");
            assertNull(d.directAccess(BdevOp.READ, 512, 4096), "misaligned offset");
            assertNull(d.directAccess(BdevOp.WRITE, 0, 100), "misaligned length");
            assertNull(d.directAccess(BdevOp.READ, 0, 0), "empty");
            assertNull(d.directAccess(BdevOp.FLUSH, 0, 4096), "only reads and writes");
            assertEquals(0, d.allocatedBytes(), "reads allocate nothing");
        } finally {
            d.close();
        }
    }

    @Test
    void directWriteIsAllocatedAndVisible() {
        MemoryBdev d = new MemoryBdev("m", 1 << 20, 4096);
        try {
            MemorySegment m = d.directAccess(BdevOp.WRITE, 3 * MemoryBdev.CHUNK, 4096);
            assertNotNull(m);
            assertEquals(MemoryBdev.CHUNK, d.allocatedBytes(), "recorded before the data lands");
            m.set(JAVA_BYTE, 3 * MemoryBdev.CHUNK + 7, (byte) 0x5a);
            assertEquals((byte) 0x5a, d.directAccess(BdevOp.READ, 3 * MemoryBdev.CHUNK, 4096)
                    .get(JAVA_BYTE, 3 * MemoryBdev.CHUNK + 7));
        } finally {
            d.close();
        }
    }

    @Test
    void aRemovedDeviceOffersNoDirectAccess() {
        MemoryBdev d = new MemoryBdev("m", 1 << 20, 4096);
        try {
            d.announceRemoval();
            assertNull(d.directAccess(BdevOp.READ, 0, 4096));
        } finally {
            d.close();
        }
    }

    @Test
    void layersOfferNoneOfTheirOwn() {
        MemoryBdev base = new MemoryBdev("m", 1 << 20, 4096);
        try {
            assertNull(new ErrorBdev("e", base).directAccess(BdevOp.READ, 0, 4096),
                    "a layer must see every request, so it is not bypassed");
        } finally {
            base.close();
        }
    }
}
