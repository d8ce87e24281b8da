package org.orionos.bindings.check;

import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.orionos.bindings.CHeader;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every {@link CHeader} holder of this module agrees with the installed C headers, item by item:
 * found by scanning the module's compiled classes, so a new holder is checked without being listed.
 */
class LayoutCheckTest {
    @TestFactory
    Stream<DynamicTest> everyHolderMatchesItsHeaders() {
        List<Class<?>> holders = LayoutChecker.holdersBeside(CHeader.class);
        assertTrue(holders.size() >= 15, "holder scan found too few classes: " + holders);
        return LayoutChecker.dynamicTests(holders);
    }
}
