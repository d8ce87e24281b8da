package org.orionos.bindings;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a holder class that mirrors C headers, jextract-style. The layout checker includes these
 * headers in a C probe and compares, against gcc, every {@code public static final} primitive or
 * String constant of the class (Java name = C name) and every nested struct's {@code LAYOUT} (layout
 * name = C struct/union tag, or typedef name with {@link CTypedef}; member names = C field names;
 * unnamed groups are C anonymous members; padding is skipped).
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface CHeader {
    /** Headers as written in {@code #include <...>}, e.g. {@code linux/io_uring.h}. */
    String[] value();
}
