package org.orionos.host.config;

import java.util.Locale;

/** Sizes as people write them: {@code 4096}, {@code "512K"}, {@code "10G"}, {@code "1T"} (binary units). */
public final class Sizes {
    private Sizes() {
    }

    /**
     * Parses a size. Units K, M, G, T, P (optionally followed by {@code iB} or {@code B}) are powers
     * of 1024; a bare number is bytes.
     *
     * @throws IllegalArgumentException naming the accepted forms
     */
    public static long parse(String text) {
        String s = text.trim();
        int end = 0;
        while (end < s.length() && Character.isDigit(s.charAt(end))) {
            end++;
        }
        if (end == 0) {
            throw new IllegalArgumentException(bad(text));
        }
        String unit = s.substring(end).trim().toUpperCase(Locale.ROOT);
        if (unit.endsWith("IB")) {
            unit = unit.substring(0, unit.length() - 2);
        } else if (unit.endsWith("B") && unit.length() == 2) {
            unit = unit.substring(0, 1);
        } else if (unit.equals("B")) {
            unit = "";
        }
        int shift = switch (unit) {
            case "" -> 0;
            case "K" -> 10;
            case "M" -> 20;
            case "G" -> 30;
            case "T" -> 40;
            case "P" -> 50;
            default -> throw new IllegalArgumentException(bad(text));
        };
        long value;
        try {
            value = Long.parseLong(s.substring(0, end));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(bad(text), e);
        }
        if (value > (Long.MAX_VALUE >> shift)) {
            throw new IllegalArgumentException("size \"" + text + "\" is too large");
        }
        return value << shift;
    }

    /** Formats bytes the way {@link #parse} reads them, exact: 1073741824 gives {@code 1G}, 1000 gives {@code 1000}. */
    public static String format(long bytes) {
        String[] units = {"", "K", "M", "G", "T", "P"};
        int i = 0;
        long v = bytes;
        while (i < units.length - 1 && v != 0 && (v & 1023) == 0) {
            v >>= 10;
            i++;
        }
        return v + units[i];
    }

    private static String bad(String text) {
        return "\"" + text + "\" is not a size; write bytes (4096) or a number with K, M, G, T or P (\"512K\", \"10G\")";
    }
}
