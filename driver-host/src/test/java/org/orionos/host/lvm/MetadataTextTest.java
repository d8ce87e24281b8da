package org.orionos.host.lvm;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.lvm.metadata.ConfigParser;
import org.orionos.host.lvm.metadata.ConfigSection;
import org.orionos.host.lvm.metadata.ConfigSetting;
import org.orionos.host.lvm.metadata.ConfigValue;
import org.orionos.host.lvm.metadata.ConfigWriter;
import org.orionos.host.lvm.metadata.LogicalVolumeMetadata;
import org.orionos.host.lvm.metadata.MetadataText;
import org.orionos.host.lvm.metadata.OtherSegment;
import org.orionos.host.lvm.metadata.PhysicalVolumeMetadata;
import org.orionos.host.lvm.metadata.StripeArea;
import org.orionos.host.lvm.metadata.StripedSegment;
import org.orionos.host.lvm.metadata.VolumeGroupMetadata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MetadataTextTest {

    static String lvm2Text() throws IOException {
        try (InputStream in = MetadataTextTest.class.getResourceAsStream("lvm2-vgx-seqno3.vg")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void readsTheMetadataLvm2WroteWithLinearAndStripedVolumes() throws IOException {
        MetadataText t = MetadataText.parse(lvm2Text(), "lvm2 copy");
        VolumeGroupMetadata vg = t.vg();
        assertEquals("vgx", vg.name());
        assertEquals("zOxLuN-3iDX-wffC-G67e-0iOT-kBWj-6QJkLG", vg.id().dashed());
        assertEquals(3, vg.seqno());
        assertEquals(8192, vg.extentSize());
        assertEquals(List.of("RESIZEABLE", "READ", "WRITE"), vg.status());
        assertEquals(2, vg.physicalVolumes().size());
        PhysicalVolumeMetadata pv1 = vg.physicalVolume("pv1");
        assertEquals("gavUcn-I8fX-945z-AArk-P1dp-06YE-t9n2iv", pv1.id().dashed());
        assertEquals("/dev/loop1", pv1.device());
        assertEquals(131072, pv1.devSize());
        assertEquals(2048, pv1.peStart());
        assertEquals(15, pv1.peCount());
        LogicalVolumeMetadata lin = vg.logicalVolume("lin");
        assertEquals(List.of(StripedSegment.linear(0, 2, "pv0", 0)), lin.segments());
        assertEquals("vm", lin.creationHost());
        StripedSegment str = assertInstanceOf(StripedSegment.class, vg.logicalVolume("str").segments().get(0));
        assertEquals(128, str.stripeSize());
        assertEquals(List.of(new StripeArea("pv0", 2), new StripeArea("pv1", 0)), str.stripes());
        assertEquals(4, str.extentCount());
        assertEquals("vm", t.creationHost());
        assertTrue(t.description().startsWith("Write from lvcreate"), t.description());
    }

    @Test
    void writtenTextReadsBackAsTheSameModel() throws IOException {
        MetadataText t = MetadataText.parse(lvm2Text(), "lvm2 copy");
        String out = t.format();
        MetadataText back = MetadataText.parse(out, "orion copy");
        assertEquals(t, back);
        assertEquals(out, back.format());
    }

    @Test
    void keepsSegmentTypesAndSettingsItDoesNotInterpret() {
        String text = """
                vg1 {
                id = "zOxLuN-3iDX-wffC-G67e-0iOT-kBWj-6QJkLG"
                seqno = 7
                format = "lvm2"
                status = ["RESIZEABLE", "READ", "WRITE"]
                flags = []
                system_id = "box"
                extent_size = 8192
                max_lv = 0
                max_pv = 0
                metadata_copies = 0
                physical_volumes {
                pv0 {
                id = "sLcsfd-WFDv-LTFv-iqZS-jGF2-XKxw-hR5HRj"
                device = "/dev/sda"
                status = ["ALLOCATABLE"]
                flags = []
                tags = ["fast"]
                dev_size = 131072
                pe_start = 2048
                pe_count = 15
                }
                }
                logical_volumes {
                pool {
                id = "ljerin-f4m2-6Cfs-Za5b-rk4h-hReq-SfeLb1"
                status = ["READ", "WRITE", "VISIBLE"]
                flags = []
                segment_count = 1
                segment1 {
                start_extent = 0
                extent_count = 1
                type = "thin-pool"
                metadata = "pool_tmeta"
                pool = "pool_tdata"
                transaction_id = 0
                chunk_size = 128
                discards = "passdown"
                zero_new_blocks = 1
                }
                }
                }
                }
                contents = "Text Format Volume Group"
                version = 1
                description = "say \\"hi\\" \\\\ there"
                creation_host = "h"
                creation_time = 5
                """;
        MetadataText t = MetadataText.parse(text, "test");
        assertEquals("say \"hi\" \\ there", t.description());
        OtherSegment pool = assertInstanceOf(OtherSegment.class, t.vg().logicalVolume("pool").segments().get(0));
        assertEquals("thin-pool", pool.type());
        assertEquals(new ConfigSetting("discards", new ConfigValue.Str("passdown")), pool.body().get(4));
        assertEquals(38, pool.body().get(4).line());
        String out = t.format();
        assertTrue(out.contains("system_id = \"box\"\n"), out);
        assertTrue(out.contains("tags = [\"fast\"]\n"), out);
        assertTrue(out.contains("type = \"thin-pool\"\nmetadata = \"pool_tmeta\"\n"), out);
        assertTrue(out.contains("description = \"say \\\"hi\\\" \\\\ there\"\n"), out);
        MetadataText back = MetadataText.parse(out, "again");
        assertEquals(t.vg().logicalVolumes().get(0).segments().size(), back.vg().logicalVolumes().get(0).segments().size());
        assertEquals(t.format(), back.format());
    }

    @Test
    void parserHandlesCommentsListsNumbersAndQuotes() {
        ConfigSection root = ConfigParser.parse("""
                # comment
                a = -12 # trailing
                b = [ "x", 3, 'y' , ]
                c = 1.5
                s { t { u = "" } }
                """, "test");
        assertEquals(-12, root.integer("a"));
        assertEquals(new ConfigValue.Array(List.of(new ConfigValue.Str("x"), new ConfigValue.Int(3),
                new ConfigValue.Str("y"))), root.value("b"));
        assertEquals(new ConfigValue.Real("1.5"), root.value("c"));
        assertEquals("", root.section("s").section("t").string("u"));
        ConfigSection esc = ConfigParser.parse("a = \"q\\\"b\\\\c\\nd\"\nb = 'x\\\"y'\n", "test");
        assertEquals("q\"b\\c\\nd", esc.string("a"), "only \\\" and \\\\ are escapes, like lvm2");
        assertEquals("x\\\"y", esc.string("b"), "no escapes in single quotes");
        assertEquals("s/t", root.section("s").section("t").path());
        StringBuilder sb = new StringBuilder();
        ConfigWriter.writeBody(sb, root);
        assertEquals("a = -12\nb = [\"x\", 3, \"y\"]\nc = 1.5\n\ns {\n\nt {\nu = \"\"\n}\n}\n", sb.toString());
    }

    @Test
    void syntaxErrorsNameTheLineAndWhatWasExpected() {
        ErrnoException e = assertThrows(ErrnoException.class,
                () -> ConfigParser.parse("a = 1\nb {\nc = [1, 2\n}\n", "/dev/loop3 metadata area 1"));
        assertEquals(Errno.EBADMSG, e.errno());
        assertTrue(e.getMessage().contains("/dev/loop3 metadata area 1"), e.getMessage());
        assertTrue(e.getMessage().contains("line 4: expected ',' or ']' in the list for 'c', found '}'"), e.getMessage());

        e = assertThrows(ErrnoException.class, () -> ConfigParser.parse("a = 1\nb {\nc = 2\n", "src"));
        assertTrue(e.getMessage().contains("expected '}' closing section 'b' (opened on line 2)"), e.getMessage());

        e = assertThrows(ErrnoException.class, () -> ConfigParser.parse("a\n\n  b = 2", "src"));
        assertTrue(e.getMessage().contains("line 3: expected '=' or '{' after 'a', found 'b'"), e.getMessage());

        e = assertThrows(ErrnoException.class, () -> ConfigParser.parse("a = \"open\n", "src"));
        assertTrue(e.getMessage().contains("line 1: expected a closing \" for the string starting on line 1"),
                e.getMessage());
    }

    @Test
    void modelErrorsNameTheLineSectionAndField() throws IOException {
        String bad = lvm2Text().replace("pe_count = 15\n}\n\npv1", "pe_count = \"many\"\n}\n\npv1");
        ErrnoException e = assertThrows(ErrnoException.class, () -> MetadataText.parse(bad, "copy"));
        assertTrue(e.getMessage().contains("line 22, section 'vgx/physical_volumes/pv0': expected an integer for "
                + "'pe_count', found string"), e.getMessage());

        String gap = lvm2Text().replace("segment1 {\nstart_extent = 0\nextent_count = 4", "segment1 {\n"
                + "start_extent = 1\nextent_count = 4");
        e = assertThrows(ErrnoException.class, () -> MetadataText.parse(gap, "copy"));
        assertTrue(e.getMessage().contains("expected start_extent = 0 (segments must be contiguous), found 1"),
                e.getMessage());
    }
}
