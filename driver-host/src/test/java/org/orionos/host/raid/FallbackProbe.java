package org.orionos.host.raid;

/** Run in a child JVM by {@link IsalFallbackTest}: prints which engine {@link ParityEngine#best()} chose. */
public final class FallbackProbe {
    private FallbackProbe() {
    }

    public static void main(String[] args) {
        System.out.println("engine=" + ParityEngine.best().name());
    }
}
