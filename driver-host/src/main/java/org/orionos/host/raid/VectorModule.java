package org.orionos.host.raid;

/**
 * Whether the JVM resolved {@code jdk.incubator.vector} ({@code --add-modules jdk.incubator.vector}),
 * decided without touching {@link VectorParity}, which cannot even load without it.
 */
final class VectorModule {
    private VectorModule() {
    }

    static final boolean PRESENT = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
}
