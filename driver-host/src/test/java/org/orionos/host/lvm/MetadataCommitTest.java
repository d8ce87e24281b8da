package org.orionos.host.lvm;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.lvm.metadata.DiskLocation;
import org.orionos.host.lvm.metadata.LogicalVolumeMetadata;
import org.orionos.host.lvm.metadata.LvmUuid;
import org.orionos.host.lvm.metadata.MdaHeader;
import org.orionos.host.lvm.metadata.MetadataArea;
import org.orionos.host.lvm.metadata.MetadataCommit;
import org.orionos.host.lvm.metadata.MetadataIo;
import org.orionos.host.lvm.metadata.OfflineVolumeGroup;
import org.orionos.host.lvm.metadata.PhysicalVolumeDevice;
import org.orionos.host.lvm.metadata.PhysicalVolumeFormatter;
import org.orionos.host.lvm.metadata.RawLocation;
import org.orionos.host.lvm.metadata.StripedSegment;
import org.orionos.host.lvm.metadata.VolumeGroupMetadata;
import org.orionos.host.lvm.metadata.VolumeGroupRead;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MetadataCommitTest {

    private static final int DEV_SIZE = 16 << 20;

    private static List<MemoryMetadataIo> devices(int n) {
        List<MemoryMetadataIo> d = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            d.add(new MemoryMetadataIo("/dev/mem" + i, DEV_SIZE));
        }
        return d;
    }

    private static List<MetadataIo> io(List<MemoryMetadataIo> d) {
        return new ArrayList<>(d);
    }

    private static OfflineVolumeGroup create(List<MemoryMetadataIo> d, int copies) {
        return OfflineVolumeGroup.create("vg0", io(d), false, 2048,
                PhysicalVolumeFormatter.Options.defaults().withMetadataCopies(copies));
    }

    @Test
    void placementFollowsLvm2() {
        long size = 1044480;
        assertEquals(512, MetadataArea.nextOffset(RawLocation.NONE, size));
        assertEquals(1536, MetadataArea.nextOffset(new RawLocation(512, 842, 0, 0), size));
        // From an aligned end lvm2 still moves to the following boundary.
        assertEquals(1536, MetadataArea.nextOffset(new RawLocation(512, 512, 0, 0), size));
        // A copy ending within 512 bytes of the end: the next starts over after the header.
        assertEquals(512, MetadataArea.nextOffset(new RawLocation(size - 1000, 900, 0, 0), size));
        // A wrapped copy: the next follows its tail at the start of the buffer.
        assertEquals(1024, MetadataArea.nextOffset(new RawLocation(size - 100, 300, 0, 0), size));
    }

    @Test
    void textWrapsAroundTheBufferAndReadsBackWithItsChecksum() {
        MemoryMetadataIo dev = new MemoryMetadataIo("/dev/mem", 1 << 16);
        DiskLocation loc = new DiskLocation(4096, 8192);
        MetadataArea area = new MetadataArea(dev, loc, 1);
        area.writeHeader(MdaHeader.empty(4096, 8192));
        MdaHeader h = area.readHeader();
        boolean wrapped = false;
        for (int i = 0; i < 40; i++) {
            String text = ("copy " + i + " ").repeat(120 + i * 3);
            RawLocation r = area.writeText(h, text);
            h = h.withCommitted(r, RawLocation.NONE);
            area.writeHeader(h);
            h = area.readHeader();
            assertEquals(r, h.committed());
            assertEquals(text, area.readText(h.committed()));
            wrapped |= r.offset() + r.size() > loc.size();
        }
        assertTrue(wrapped, "some copy should have wrapped past the end of the area");

        String tooBig = "x".repeat((int) area.maxTextSize());
        ErrnoException e = assertThrows(ErrnoException.class, () -> area.writeText(area.readHeader(), tooBig));
        assertEquals(Errno.ENOSPC, e.errno());
    }

    @Test
    void writesAndReadsAVgWithLinearAndStripedVolumesOnBothMetadataAreas() {
        List<MemoryMetadataIo> d = devices(2);
        try (OfflineVolumeGroup vg = create(d, 2)) {
            vg.createLinear("lin", 3);
            vg.createStriped("str", 5, 2, 128);
        }
        try (OfflineVolumeGroup vg = OfflineVolumeGroup.open(io(d), false)) {
            VolumeGroupRead read = vg.lastRead();
            assertEquals(4, read.copies().size(), "two PVs with two areas each");
            assertEquals(List.of(), read.problems());
            VolumeGroupMetadata m = vg.metadata();
            assertEquals(3, m.seqno());
            // 16 MiB - 1 MiB label/mda1 - 1 MiB mda2 = 14 MiB = 14 extents of 1 MiB.
            assertEquals(14, m.physicalVolume("pv0").peCount());
            assertEquals(List.of(StripedSegment.linear(0, 3, "pv0", 0)), m.logicalVolume("lin").segments());
            StripedSegment st = assertInstanceOf(StripedSegment.class, m.logicalVolume("str").segments().get(0));
            assertEquals(6, st.extentCount(), "rounded up to whole extents per stripe");
            assertEquals("pv0", st.stripes().get(0).pvName());
            assertEquals(3, st.stripes().get(0).startExtent());
            assertEquals("pv1", st.stripes().get(1).pvName());
            assertEquals(0, st.stripes().get(1).startExtent());
        }
    }

    @Test
    void refusesBeforeWritingWhenExtentsRunOut() {
        List<MemoryMetadataIo> d = devices(1);
        try (OfflineVolumeGroup vg = create(d, 1)) {
            int writes = d.get(0).writes();
            ErrnoException e = assertThrows(ErrnoException.class, () -> vg.createLinear("big", 100));
            assertEquals(Errno.ENOSPC, e.errno());
            assertTrue(e.getMessage().contains("the VG has 15 free extents"), e.getMessage());
            assertEquals(writes, d.get(0).writes(), "nothing written");
            assertThrows(ErrnoException.class, () -> vg.createStriped("s", 2, 2, 128));
        }
    }

    @Test
    void inconsistentMetadataIsRefusedBeforeAnythingIsWritten() {
        List<MemoryMetadataIo> d = devices(2);
        try (OfflineVolumeGroup vg = create(d, 1)) {
            vg.createLinear("a", 4);
            VolumeGroupMetadata m = vg.metadata();
            int writes = d.get(0).writes() + d.get(1).writes();
            List<LogicalVolumeMetadata> lvs = new ArrayList<>(m.logicalVolumes());
            lvs.add(new LogicalVolumeMetadata("b", LvmUuid.random(), LogicalVolumeMetadata.READ_WRITE_VISIBLE,
                    List.of(), 1, "h", List.of(StripedSegment.linear(0, 2, "pv0", 3)), List.of()));
            lvs.add(new LogicalVolumeMetadata("c", LvmUuid.random(), LogicalVolumeMetadata.READ_WRITE_VISIBLE,
                    List.of(), 1, "h", List.of(StripedSegment.linear(0, 2, "pv9", 0)), List.of()));
            VolumeGroupMetadata bad = m.withLogicalVolumes(lvs).withSeqno(m.seqno() + 1);
            ErrnoException e = assertThrows(ErrnoException.class, () -> vg.commit(bad, "bad"));
            assertEquals(Errno.EINVAL, e.errno());
            assertTrue(e.getMessage().contains("LV c: segment refers to unknown PV pv9"), e.getMessage());
            lvs.remove(2);
            VolumeGroupMetadata overlap = m.withLogicalVolumes(lvs).withSeqno(m.seqno() + 1);
            e = assertThrows(ErrnoException.class, () -> vg.commit(overlap, "overlap"));
            assertTrue(e.getMessage().contains("extent 3 is mapped twice"), e.getMessage());
            assertEquals(writes, d.get(0).writes() + d.get(1).writes(), "nothing written");
        }
    }

    @Test
    void aCommitNeedsExactlyTheVgsPvs() {
        List<MemoryMetadataIo> d = devices(2);
        MemoryMetadataIo stranger = new MemoryMetadataIo("/dev/stranger", DEV_SIZE);
        PhysicalVolumeFormatter.format(stranger, PhysicalVolumeFormatter.Options.defaults());
        try (OfflineVolumeGroup vg = create(d, 1)) {
            vg.createLinear("a", 1);
        }
        List<MetadataIo> withStranger = io(d);
        withStranger.add(stranger);
        try (OfflineVolumeGroup vg = OfflineVolumeGroup.open(withStranger, false)) {
            ErrnoException e = assertThrows(ErrnoException.class, () -> vg.createLinear("b", 1));
            assertEquals(Errno.EINVAL, e.errno());
            assertTrue(e.getMessage().contains("/dev/stranger"), e.getMessage());
        }
        try (OfflineVolumeGroup vg = OfflineVolumeGroup.open(List.of(d.get(0)), false)) {
            assertTrue(vg.lastRead().problems().get(0).contains("PV pv1"), vg.lastRead().problems().toString());
            int writes = d.get(0).writes();
            ErrnoException e = assertThrows(ErrnoException.class, () -> vg.createLinear("b", 1));
            assertEquals(Errno.ENODEV, e.errno());
            assertTrue(e.getMessage().contains("PV pv1") && e.getMessage().contains("missing"), e.getMessage());
            assertEquals(writes, d.get(0).writes(), "nothing written");
        }
    }

    @Test
    void eachCommitStepLeavesTheOldVgUntilSlotZeroIsWritten() {
        List<MemoryMetadataIo> d = devices(2);
        try (OfflineVolumeGroup vg = create(d, 2)) {
            VolumeGroupMetadata old = vg.metadata();
            VolumeGroupMetadata next = withLv(old, "lv0");
            MetadataCommit c = vg.prepareCommit(next, "step test");
            c.writeText();
            assertEquals(old, reread(d).vg(), "after the text is written");
            c.precommit();
            assertEquals(old, reread(d).vg(), "after precommit");
            c.commit();
            VolumeGroupRead read = reread(d);
            assertEquals(next, read.vg(), "after commit");
            assertEquals(List.of(), read.problems());
        }
    }

    @Test
    void aCrashAtAnyWriteOfACommitLeavesTheOldOrTheNewVgNeverABrokenOne() {
        List<MemoryMetadataIo> d = devices(2);
        VolumeGroupMetadata old;
        VolumeGroupMetadata next;
        List<byte[]> before = new ArrayList<>();
        int total;
        try (OfflineVolumeGroup vg = create(d, 2)) {
            vg.createLinear("base", 2);
            old = vg.metadata();
            for (MemoryMetadataIo m : d) {
                before.add(m.bytes().clone());
            }
            int w0 = d.get(0).writes() + d.get(1).writes();
            next = withLv(old, "lv0");
            vg.prepareCommit(next, "full").run();
            total = d.get(0).writes() + d.get(1).writes() - w0;
        }
        assertEquals(4 * 3, total, "4 areas x (text, precommit header, commit header)");
        int sawOld = 0;
        int sawNew = 0;
        for (int budget = 0; budget < total; budget++) {
            for (int i = 0; i < d.size(); i++) {
                System.arraycopy(before.get(i), 0, d.get(i).bytes(), 0, DEV_SIZE);
            }
            try (OfflineVolumeGroup vg = OfflineVolumeGroup.open(io(d), false)) {
                MetadataCommit c = vg.prepareCommit(next, "crash at " + budget);
                long[] shared = {budget};
                for (MemoryMetadataIo m : d) {
                    m.shareBudget(shared);
                }
                assertThrows(MemoryMetadataIo.Crash.class, c::run);
            }
            for (MemoryMetadataIo m : d) {
                m.noCrash();
            }
            VolumeGroupRead read = reread(d);
            if (read.vg().equals(old)) {
                sawOld++;
                assertTrue(budget < 8 + 1, "old VG after " + budget + " writes");
            } else {
                assertEquals(next, read.vg(), "crash after " + budget + " writes");
                sawNew++;
            }
        }
        assertEquals(9, sawOld, "crashes up to and including the first slot-0 header write keep the old VG");
        assertEquals(3, sawNew);
    }

    @Test
    void readingPicksTheHighestValidSeqnoAndSaysWhichCopyAndWhatIsDamaged() {
        List<MemoryMetadataIo> d = devices(2);
        try (OfflineVolumeGroup vg = create(d, 1)) {
            vg.createLinear("a", 1);
        }
        // Damage the text of pv0's copy: one flipped byte inside the committed text.
        MetadataArea area0 = new MetadataArea(d.get(0), new DiskLocation(4096, (1 << 20) - 4096), 1);
        RawLocation slot = area0.readHeader().committed();
        d.get(0).bytes()[(int) (4096 + slot.offset() + 10)] ^= 0x20;
        VolumeGroupRead read = reread(d);
        assertEquals(2, read.vg().seqno());
        assertEquals("/dev/mem1", read.used().area().io().name());
        assertTrue(read.used().describe().startsWith("/dev/mem1 metadata area 1 (offset 4096) seqno 2"),
                read.used().describe());
        assertEquals(1, read.problems().size(), read.problems().toString());
        String p = read.problems().get(0);
        assertTrue(p.contains("/dev/mem0 metadata area 1 (offset 4096)") && p.contains("checksum"), p);

        // Damage pv1's header too: no valid copy left, and the error lists both.
        d.get(1).bytes()[4096 + 50] ^= 1;
        ErrnoException e = assertThrows(ErrnoException.class, () -> reread(d));
        assertEquals(Errno.ENOENT, e.errno());
        assertTrue(e.getMessage().contains("/dev/mem0 metadata area 1") && e.getMessage().contains(
                "/dev/mem1 metadata area 1") && e.getMessage().contains("header checksum"), e.getMessage());
    }

    @Test
    void anOlderCopyIsReportedAsStale() {
        List<MemoryMetadataIo> d = devices(1);
        byte[] v1;
        try (OfflineVolumeGroup vg = create(d, 2)) {
            v1 = d.get(0).bytes().clone();
            vg.createLinear("a", 1);
        }
        // Put back area 2 (at the end) as it was at seqno 1: as if the commit died between areas.
        int mda2 = DEV_SIZE - (1 << 20);
        System.arraycopy(v1, mda2, d.get(0).bytes(), mda2, 1 << 20);
        VolumeGroupRead read = reread(d);
        assertEquals(2, read.vg().seqno());
        assertEquals(1, read.used().area().index());
        assertEquals(List.of("/dev/mem0 metadata area 2 (offset " + mda2 + ") holds stale seqno 1 (using 2)"),
                read.problems());
    }

    @Test
    void aDeviceWithoutALabelIsRefusedByName() {
        MemoryMetadataIo blank = new MemoryMetadataIo("/dev/blank", 1 << 20);
        ErrnoException e = assertThrows(ErrnoException.class, () -> OfflineVolumeGroup.open(List.of(blank), false));
        assertEquals(Errno.ENODEV, e.errno());
        assertTrue(e.getMessage().contains("/dev/blank"), e.getMessage());
        assertNull(PhysicalVolumeDevice.readLabel(blank));
        MemoryMetadataIo pv = new MemoryMetadataIo("/dev/pv", 4 << 20);
        LvmUuid id = LvmUuid.random();
        PhysicalVolumeFormatter.format(pv, new PhysicalVolumeFormatter.Options(1, 1 << 20, id));
        assertNotNull(PhysicalVolumeDevice.readLabel(pv));
        assertEquals(id, PhysicalVolumeDevice.readLabel(pv).pvId());
        // pvcreate's layout: sectors 0, 2 and 3 zeroed, the label alone in sector 1.
        byte[] head = new byte[2048];
        pv.read(0, ByteBuffer.wrap(head));
        for (int i = 0; i < head.length; i++) {
            if (i < 512 || i >= 1024) {
                assertEquals(0, head[i], "byte " + i);
            }
        }
        assertEquals("LABELONE", new String(head, 512, 8, java.nio.charset.StandardCharsets.US_ASCII));
    }

    private static VolumeGroupRead reread(List<MemoryMetadataIo> d) {
        try (OfflineVolumeGroup vg = OfflineVolumeGroup.open(io(d), false)) {
            return vg.lastRead();
        }
    }

    private static VolumeGroupMetadata withLv(VolumeGroupMetadata vg, String name) {
        List<LogicalVolumeMetadata> lvs = new ArrayList<>(vg.logicalVolumes());
        lvs.add(new LogicalVolumeMetadata(name, LvmUuid.random(), LogicalVolumeMetadata.READ_WRITE_VISIBLE, List.of(),
                1, "h", List.of(StripedSegment.linear(0, 1, "pv1", 0)), List.of()));
        return vg.withLogicalVolumes(lvs).withSeqno(vg.seqno() + 1);
    }
}
