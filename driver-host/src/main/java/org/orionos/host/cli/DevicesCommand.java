package org.orionos.host.cli;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import org.orionos.bindings.ErrnoException;
import org.orionos.host.nbd.kernel.NbdNetlink;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code orion devices}: the kernel's NBD devices (NBD_CMD_STATUS) with whether each is connected,
 * its backend identifier ({@code orion:EXPORT} for devices this host attached) and its size.
 */
@Command(name = "devices", mixinStandardHelpOptions = true,
        description = "List the kernel's /dev/nbdN devices: connected or not, backend, size.")
public final class DevicesCommand implements Callable<Integer> {

    @Option(names = "--all", description = "Also list devices that are not connected.")
    boolean all;

    @Override
    public Integer call() {
        List<NbdNetlink.DeviceStatus> list;
        try (NbdNetlink nl = NbdNetlink.open()) {
            list = nl.status(-1);
        } catch (ErrnoException e) {
            System.err.println("orion devices: " + e.getMessage());
            return 1;
        }
        print(list, all, System.out);
        return 0;
    }

    static void print(List<NbdNetlink.DeviceStatus> list, boolean all, PrintStream out) {
        out.printf("%-12s %-10s %-24s %s%n", "DEVICE", "CONNECTED", "BACKEND", "SIZE");
        int shown = 0;
        for (NbdNetlink.DeviceStatus d : list) {
            if (!all && !d.connected()) {
                continue;
            }
            shown++;
            out.printf("%-12s %-10s %-24s %s%n", d.path(), d.connected() ? "yes" : "no",
                    sysfs(d.index(), "backend", "-"), size(d.index()));
        }
        if (shown == 0) {
            out.println(all ? "(no nbd devices)" : "(no connected nbd devices; --all lists the free ones)");
        }
    }

    private static String size(int index) {
        String sectors = sysfs(index, "size", null);
        if (sectors == null) {
            return "-";
        }
        long bytes = Long.parseLong(sectors) * 512;
        return bytes == 0 ? "0" : bytes + " (" + human(bytes) + ")";
    }

    static String human(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? bytes + " B" : String.format("%.1f %s", v, units[u]);
    }

    private static String sysfs(int index, String attr, String fallback) {
        try {
            String s = Files.readString(Path.of("/sys/block/nbd" + index, attr)).strip();
            return s.isEmpty() ? fallback : s;
        } catch (java.io.IOException | RuntimeException e) {
            return fallback;
        }
    }
}
