package org.orionos.host.nvme;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SequenceLayout;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.orionos.bindings.nvme.NvmeTypesH;
import org.orionos.bindings.nvme.NvmeTypesH.NvmeIdCtrl;
import org.orionos.bindings.nvme.NvmeTypesH.NvmeIdNs;
import org.orionos.bindings.nvme.NvmeTypesH.NvmeSmartLog;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * NVMe data structures as JSON with nvme-cli's field names, so {@code orion nvme ... --json} and
 * {@code nvme ... -o json} can be compared key by key. The walk is driven by the holder layouts
 * (whose member names are libnvme's, which nvme-cli mostly reuses); where nvme-cli renames a field
 * (SMART counters) or shapes it differently (strings, 128-bit counters, the IEEE OUI, the
 * power-state and LBA-format arrays) this class says so in one place.
 */
public final class NvmeJson {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    /** Some fields sit at odd offsets (SMART temperature at byte 1). */
    private static final ValueLayout.OfShort LE16_UNALIGNED = NvmeTypesH.LE16.withByteAlignment(1);
    private static final ValueLayout.OfInt LE32_UNALIGNED = NvmeTypesH.LE32.withByteAlignment(1);
    private static final ValueLayout.OfLong LE64_UNALIGNED = NvmeTypesH.LE64.withByteAlignment(1);
    /** ASCII fields, printed without their padding. */
    private static final Set<String> STRINGS = Set.of("sn", "mn", "fr", "subnqn");
    /** Byte strings nvme-cli prints as hex (no separators). */
    private static final Set<String> HEX = Set.of("nguid", "eui64");
    /** nvme-cli's names for SMART log fields whose libnvme names differ. */
    private static final Map<String, String> SMART_NAMES = Map.of(
            "endu_grp_crit_warn_sumry", "endurance_grp_critical_warning_summary",
            "host_reads", "host_read_commands",
            "host_writes", "host_write_commands",
            "ctrl_busy_time", "controller_busy_time");

    private NvmeJson() {
    }

    /** Identify Controller data (4 KiB), as {@code nvme id-ctrl -o json}. */
    public static ObjectNode idCtrl(MemorySegment id) {
        ObjectNode o = walk(id, NvmeIdCtrl.LAYOUT, Map.of());
        int npss = Byte.toUnsignedInt(id.get(JAVA_BYTE, NvmeIdCtrl.NPSS));
        ArrayNode psds = F.arrayNode();
        long psdOff = NvmeIdCtrl.LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement("psd"));
        long psdSize = NvmeTypesH.NvmeIdPsd.LAYOUT.byteSize();
        for (int i = 0; i <= npss; i++) {
            psds.add(psd(id, psdOff + i * psdSize));
        }
        o.set("psds", psds);
        return o;
    }

    /** One power-state descriptor with nvme-cli's keys. */
    private static ObjectNode psd(MemorySegment id, long off) {
        ObjectNode p = F.objectNode();
        p.put("max_power", u16(id, off));
        p.put("flags", u8(id, off + 3));
        p.put("entry_lat", u32(id, off + 4));
        p.put("exit_lat", u32(id, off + 8));
        p.put("read_tput", u8(id, off + 12));
        p.put("read_lat", u8(id, off + 13));
        p.put("write_tput", u8(id, off + 14));
        p.put("write_lat", u8(id, off + 15));
        p.put("idle_power", u16(id, off + 16));
        p.put("idle_scale", u8(id, off + 18) >> 6);
        p.put("active_power", u16(id, off + 20));
        p.put("active_power_work", u8(id, off + 22) & 7);
        p.put("active_scale", u8(id, off + 22) >> 6);
        return p;
    }

    /** Identify Namespace data (4 KiB), as {@code nvme id-ns -o json}. */
    public static ObjectNode idNs(MemorySegment ns) {
        ObjectNode o = walk(ns, NvmeIdNs.LAYOUT, Map.of());
        int nlbaf = u8(ns, NvmeIdNs.NLBAF);
        ArrayNode lbafs = F.arrayNode();
        for (int i = 0; i <= nlbaf; i++) {
            long off = NvmeIdNs.LBAF + 4L * i;
            ObjectNode l = F.objectNode();
            l.put("ms", u16(ns, off));
            l.put("ds", u8(ns, off + 2));
            l.put("rp", u8(ns, off + 3) & 3);
            lbafs.add(l);
        }
        o.set("lbafs", lbafs);
        return o;
    }

    /** SMART / health log (512 bytes), as {@code nvme smart-log -o json}. */
    public static ObjectNode smartLog(MemorySegment log) {
        ObjectNode o = walk(log, NvmeSmartLog.LAYOUT, SMART_NAMES);
        o.remove("temp_sensor");
        o.put("temperature", u16(log, NvmeSmartLog.TEMPERATURE));
        long sensors = NvmeSmartLog.LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement("temp_sensor"));
        for (int i = 0; i < 8; i++) {
            int t = u16(log, sensors + 2L * i);
            if (t != 0) { // nvme-cli lists only the sensors that report
                o.put("temperature_sensor_" + (i + 1), t);
            }
        }
        return o;
    }

    /** Walks a struct's named scalar members; reserved areas and nested arrays are left to callers. */
    static ObjectNode walk(MemorySegment seg, GroupLayout layout, Map<String, String> rename) {
        ObjectNode o = F.objectNode();
        long off = 0;
        for (MemoryLayout m : layout.memberLayouts()) {
            long at = off;
            off += m.byteSize();
            String name = m.name().orElse(null);
            if (name == null || name.startsWith("rsvd") || name.equals("vs")) {
                continue;
            }
            String key = rename.getOrDefault(name, name);
            if (m instanceof ValueLayout v) {
                o.put(key, switch ((int) v.byteSize()) {
                    case 1 -> u8(seg, at);
                    case 2 -> u16(seg, at);
                    case 4 -> u32(seg, at);
                    default -> seg.get(LE64_UNALIGNED, at);
                });
            } else if (m instanceof SequenceLayout s && s.elementLayout() instanceof ValueLayout e && e.byteSize() == 1) {
                long n = s.elementCount();
                if (STRINGS.contains(name)) {
                    o.put(key, NvmeTypesH.text(seg, at, n));
                } else if (name.equals("fguid")) {
                    o.put(key, uuid(seg, at));
                } else if (HEX.contains(name)) {
                    o.put(key, HexFormat.of().formatHex(seg.asSlice(at, n).toArray(JAVA_BYTE)));
                } else if (n == 16) {
                    o.put(key, NvmeTypesH.u128(seg, at));
                } else if (n == 2) {
                    o.put(key, u16(seg, at));
                } else if (n == 3) {
                    o.put(key, u8(seg, at) | u8(seg, at + 1) << 8 | u8(seg, at + 2) << 16); // IEEE OUI, LE
                }
            }
        }
        return o;
    }

    /** 16 bytes in the 8-4-4-4-12 hex form nvme-cli uses for the FRU GUID. */
    private static String uuid(MemorySegment s, long off) {
        String h = HexFormat.of().formatHex(s.asSlice(off, 16).toArray(JAVA_BYTE));
        return h.substring(0, 8) + "-" + h.substring(8, 12) + "-" + h.substring(12, 16) + "-" + h.substring(16, 20) + "-"
                + h.substring(20);
    }

    static int u8(MemorySegment s, long off) {
        return Byte.toUnsignedInt(s.get(JAVA_BYTE, off));
    }

    static int u16(MemorySegment s, long off) {
        return Short.toUnsignedInt(s.get(LE16_UNALIGNED, off));
    }

    static long u32(MemorySegment s, long off) {
        return Integer.toUnsignedLong(s.get(LE32_UNALIGNED, off));
    }

    /** 128-bit counter as an exact integer. */
    static BigInteger u128(MemorySegment s, long off) {
        return NvmeTypesH.u128(s, off);
    }
}
