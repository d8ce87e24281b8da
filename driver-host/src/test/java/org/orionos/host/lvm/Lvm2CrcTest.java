package org.orionos.host.lvm;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Random;
import java.util.zip.CRC32;

import org.junit.jupiter.api.Test;
import org.orionos.host.lvm.metadata.Lvm2Crc;

import static org.junit.jupiter.api.Assertions.assertEquals;

class Lvm2CrcTest {

    /** Label sector written by lvm2 2.03.16's pvcreate on this host (trailing zeros trimmed). */
    static final String LVM2_LABEL = "4c4142454c4f4e450100000000000000b03f4ee4200000004c564d3220303031734c63736664574644764c54467669715a53"
            + "6a474632584b787768523548526a000000040000000000001000000000000000000000000000000000000000000000000000"
            + "00000000001000000000000000f00f0000000000000000000000000000000000000000000200000001";
    /** Metadata area header written by lvm2's vgcreate (slot 0: offset 512, 842 bytes). */
    static final String LVM2_MDA_HEADER = "eeeff84a204c564d3220785b35412572304e2a3e01000000001000000000000000f00f0000"
            + "00000000020000000000004a03000000000000722f2897";

    static byte[] sector(String hexPrefix) {
        byte[] s = new byte[512];
        byte[] p = HexFormat.of().parseHex(hexPrefix);
        System.arraycopy(p, 0, s, 0, p.length);
        return s;
    }

    @Test
    void emptyInputLeavesTheSeed() {
        assertEquals(Lvm2Crc.INITIAL, Lvm2Crc.of(new byte[0], 0, 0));
    }

    @Test
    void matchesZlibWhenSeededWithAllOnesAndInverted() {
        Random r = new Random(42);
        for (int len : new int[] {1, 7, 512, 4093}) {
            byte[] d = new byte[len];
            r.nextBytes(d);
            CRC32 z = new CRC32();
            z.update(d);
            assertEquals(z.getValue(), ~Lvm2Crc.update(0xFFFFFFFF, d, 0, len) & 0xFFFFFFFFL, "length " + len);
        }
    }

    @Test
    void reproducesTheChecksumsLvm2WroteOnThisHost() throws IOException {
        byte[] label = sector(LVM2_LABEL);
        assertEquals(0xe44e3fb0, Lvm2Crc.of(label, 20, 512 - 20), "label crc_xl as stored by pvcreate");
        byte[] mda = sector(LVM2_MDA_HEADER);
        assertEquals(0x4af8efee, Lvm2Crc.of(mda, 4, 512 - 4), "mda_header checksum_xl as stored by vgcreate");

        byte[] text;
        try (InputStream in = Lvm2CrcTest.class.getResourceAsStream("lvm2-vgx-seqno3.vg")) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_8);
        }
        byte[] withNul = new byte[text.length + 1];
        System.arraycopy(text, 0, withNul, 0, text.length);
        assertEquals(0xd582db33, Lvm2Crc.of(withNul, 0, withNul.length), "raw_locn checksum of lvm2's text + NUL");
        // Split in two like a wrapped copy: the checksum continues across the parts.
        int c = Lvm2Crc.update(Lvm2Crc.INITIAL, withNul, 0, 1000);
        assertEquals(0xd582db33, Lvm2Crc.update(c, withNul, 1000, withNul.length - 1000));
    }
}
