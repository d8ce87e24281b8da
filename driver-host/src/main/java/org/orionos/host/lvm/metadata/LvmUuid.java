package org.orionos.host.lvm.metadata;

import java.security.SecureRandom;

/**
 * An LVM2 identifier: 32 characters from LVM2's 64-character alphabet (digits, letters, '!' and
 * '#'; newly generated ids use only the 62 digits and letters, as lvm2 does). On disk the PV
 * header stores the 32 characters bare; the text metadata stores them dashed 6-4-4-4-4-4-6.
 */
public record LvmUuid(String chars) {

    /** Characters lvm2 accepts in an id. */
    public static final String ALPHABET =
            "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!#";
    /** Length of an id without dashes. */
    public static final int LENGTH = 32;
    private static final int[] GROUPS = {6, 4, 4, 4, 4, 4, 6};
    private static final SecureRandom RANDOM = new SecureRandom();

    public LvmUuid {
        if (chars.length() != LENGTH) {
            throw new IllegalArgumentException("LVM2 id must have " + LENGTH + " characters, got "
                    + chars.length() + ": \"" + chars + "\"");
        }
        for (int i = 0; i < LENGTH; i++) {
            if (ALPHABET.indexOf(chars.charAt(i)) < 0) {
                throw new IllegalArgumentException("LVM2 id \"" + chars + "\" has invalid character '"
                        + chars.charAt(i) + "' at " + i);
            }
        }
    }

    /** A fresh random id, drawn from letters and digits like lvm2's own. */
    public static LvmUuid random() {
        char[] c = new char[LENGTH];
        for (int i = 0; i < LENGTH; i++) {
            c[i] = ALPHABET.charAt(RANDOM.nextInt(62));
        }
        return new LvmUuid(new String(c));
    }

    /**
     * Parses an id written with or without dashes. Like lvm2, dashes anywhere are ignored; what
     * remains must be 32 characters of the alphabet.
     */
    public static LvmUuid parse(String text) {
        String bare = text.replace("-", "");
        if (bare.length() != LENGTH) {
            throw new IllegalArgumentException("not an LVM2 id (32 characters, usually dashed 6-4-4-4-4-4-6): \""
                    + text + "\"");
        }
        return new LvmUuid(bare);
    }

    /** The dashed form the text metadata and the reporting tools use. */
    public String dashed() {
        StringBuilder sb = new StringBuilder(LENGTH + GROUPS.length - 1);
        int pos = 0;
        for (int g = 0; g < GROUPS.length; g++) {
            if (g > 0) {
                sb.append('-');
            }
            sb.append(chars, pos, pos + GROUPS[g]);
            pos += GROUPS[g];
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return dashed();
    }
}
