package org.orionos.bindings.check;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.orionos.bindings.CHeader;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every {@link CHeader} holder of this module agrees with the installed C headers, item by item. */
class LayoutCheckTest {
    @Test
    void everyHolderMatchesItsHeaders() {
        List<Class<?>> holders = LayoutChecker.holdersBeside(CHeader.class);
        assertTrue(holders.size() >= 6, "holder scan found too few classes: " + holders);
        LayoutChecker.assertMatchHeaders(holders);
    }
}
