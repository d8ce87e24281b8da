package org.orionos.host.nvme;

import java.lang.foreign.MemorySegment;
import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.orionos.bindings.nvme.NvmeTypesH.NvmeIdCtrl;
import org.orionos.bindings.nvme.NvmeTypesH.NvmeSmartLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The health numbers an operator watches, from the SMART log and Identify Controller: composite
 * temperature (kelvin) against the warning/critical thresholds, available spare against its
 * threshold, percentage used, media errors and unsafe shutdowns, and the critical-warning bits.
 * {@link #warnings()} says in words which thresholds are crossed; {@link #log} logs them.
 */
public record NvmeHealth(int criticalWarning, int temperatureK, int warningTempK, int criticalTempK, int availSpare,
                         int spareThreshold, int percentUsed, BigInteger mediaErrors, BigInteger unsafeShutdowns) {
    private static final Logger LOG = LoggerFactory.getLogger(NvmeHealth.class);
    /** Percentage used at which a drive is reported as nearing its rated endurance. */
    public static final int WEAR_WARNING_PERCENT = 90;
    /** SMART Critical Warning bits 0..5 in words. */
    private static final String[] CRITICAL_WARNING_BITS = {"available spare below threshold",
        "temperature threshold crossed", "reliability degraded", "media read-only", "volatile memory backup failed",
        "persistent memory region read-only"};

    /** From a SMART log page and the controller's Identify data (for wctemp/cctemp). */
    public static NvmeHealth of(MemorySegment smart, MemorySegment idCtrl) {
        return new NvmeHealth(NvmeJson.u8(smart, NvmeSmartLog.CRITICAL_WARNING),
                NvmeJson.u16(smart, NvmeSmartLog.TEMPERATURE), NvmeJson.u16(idCtrl, NvmeIdCtrl.WCTEMP),
                NvmeJson.u16(idCtrl, NvmeIdCtrl.CCTEMP), NvmeJson.u8(smart, NvmeSmartLog.AVAIL_SPARE),
                NvmeJson.u8(smart, NvmeSmartLog.SPARE_THRESH), NvmeJson.u8(smart, NvmeSmartLog.PERCENT_USED),
                NvmeJson.u128(smart, NvmeSmartLog.MEDIA_ERRORS), NvmeJson.u128(smart, NvmeSmartLog.UNSAFE_SHUTDOWNS));
    }

    public int temperatureCelsius() {
        return temperatureK - 273;
    }

    /** Each crossed threshold, in words; empty when healthy. */
    public List<String> warnings() {
        return List.copyOf(conditions().values());
    }

    /**
     * Each crossed threshold by a stable key (e.g. {@code temperature}, {@code critical_warning.1})
     * with its words; the key stays the same while the numbers in the words change, so a watcher
     * can tell a new condition from one still present.
     */
    public Map<String, String> conditions() {
        Map<String, String> w = new LinkedHashMap<>();
        if (criticalTempK > 0 && temperatureK >= criticalTempK) {
            w.put("temperature", "temperature " + temperatureCelsius() + " C at or above the critical threshold "
                    + (criticalTempK - 273) + " C");
        } else if (warningTempK > 0 && temperatureK >= warningTempK) {
            w.put("temperature", "temperature " + temperatureCelsius() + " C at or above the warning threshold "
                    + (warningTempK - 273) + " C");
        }
        if (availSpare < spareThreshold) {
            w.put("avail_spare", "available spare " + availSpare + "% below the threshold " + spareThreshold + "%");
        }
        if (percentUsed >= WEAR_WARNING_PERCENT) {
            w.put("percent_used", "percentage used " + percentUsed + "% (rated endurance nearly or fully consumed)");
        }
        if (mediaErrors.signum() > 0) {
            w.put("media_errors", mediaErrors + " media/data integrity errors");
        }
        for (int i = 0; i < CRITICAL_WARNING_BITS.length; i++) {
            if ((criticalWarning & 1 << i) != 0) {
                w.put("critical_warning." + i, "critical warning: " + CRITICAL_WARNING_BITS[i]);
            }
        }
        return w;
    }

    /** Logs each warning for {@code device}; returns how many there were. */
    public int log(String device) {
        List<String> w = warnings();
        for (String s : w) {
            LOG.warn("{}: health: {}", device, s);
        }
        return w.size();
    }
}
