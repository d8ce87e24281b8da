package org.orionos.bindings;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * On a nested struct class of a {@link CHeader} holder: its {@code LAYOUT} name is a C typedef name
 * ({@code foo_t}), not a struct tag, so the layout checker writes {@code foo_t} instead of
 * {@code struct foo_t}.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface CTypedef {
}
