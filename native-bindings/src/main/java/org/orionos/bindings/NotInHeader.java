package org.orionos.bindings;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A constant or struct the layout checker must not look for in the installed headers, with the
 * reason (usually: newer than the linux-libc-dev this machine ships, or defined by a spec, not a header).
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.FIELD, ElementType.TYPE})
public @interface NotInHeader {
    String value();
}
