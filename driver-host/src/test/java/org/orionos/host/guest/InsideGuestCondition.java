package org.orionos.host.guest;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Keeps {@link GuestTest} classes from running on the host JVM (e.g. when selected by name with
 * {@code -Dtest=}): they need the guest's kernel and devices, and would fail for the wrong reason.
 * {@link GuestSuiteIT} sets {@value #PROPERTY} on the JVM it starts inside the guest.
 */
public final class InsideGuestCondition implements ExecutionCondition {

    static final String PROPERTY = "orion.guest.inside";

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        return Boolean.getBoolean(PROPERTY)
                ? ConditionEvaluationResult.enabled("inside the test guest")
                : ConditionEvaluationResult.disabled("a guest-kernel test: it runs inside the QEMU test guest, "
                        + "through GuestSuiteIT (mvn -pl driver-host -am verify)");
    }
}
