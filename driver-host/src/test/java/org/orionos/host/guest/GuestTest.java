package org.orionos.host.guest;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.function.Supplier;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a JUnit test class that runs inside the test guest, not on the host. The host's normal test
 * run excludes it (tag {@value #TAG}); {@link GuestSuiteIT} boots one guest per distinct
 * {@link #spec()} and runs all classes that share it in that one boot, reporting each test case back
 * into the host's report.
 *
 * <p>Guest tests run as root in a fresh guest: they may load modules, rebind PCI functions and write
 * the spec's disks. The host's / is read-only inside; write only under /tmp (tmpfs) or /tmp/out.
 */
@Documented
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag(GuestTest.TAG)
@ExtendWith(InsideGuestCondition.class)
public @interface GuestTest {

    String TAG = "guest";

    /** The guest this class needs; a class with a public no-argument constructor. Equal specs share a boot. */
    Class<? extends Supplier<GuestSpec>> spec();
}
