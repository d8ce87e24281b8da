package org.orionos.host.raid;

import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Holder for Intel ISA-L's RAID functions ({@code isa-l/raid.h}), loaded by soname
 * {@code libisal.so.2} (Debian package libisal2). When the library is missing, or the system
 * property {@code orion.raid.isal=false} is set, {@link #AVAILABLE} is false, the handles are null,
 * and one log line says the pure-Java engine is used instead.
 *
 * <p>{@code int xor_gen(int vects, int len, void **array)}: array[vects-1] is the destination.
 * {@code int pq_gen(int vects, int len, void **array)}: array[vects-2] is P, array[vects-1] is Q.
 * Both return 0 on success. They are linked {@code critical}: pure computation on caller memory,
 * no blocking, bounded by one stripe, so the thread-state transition is not worth paying.
 */
@SuppressWarnings("restricted") // binding a native library is this class's purpose; the JVM runs with --enable-native-access
public final class IsalLibrary {
    private IsalLibrary() {
    }

    /** The soname loaded. */
    public static final String SONAME = "libisal.so.2";

    /** True when ISA-L loaded and its RAID symbols resolved. */
    public static final boolean AVAILABLE;
    /** {@code xor_gen}, or null. */
    static final MethodHandle XOR_GEN;
    /** {@code pq_gen}, or null. */
    static final MethodHandle PQ_GEN;

    static {
        MethodHandle x = null;
        MethodHandle pq = null;
        String why = null;
        if (!Boolean.parseBoolean(System.getProperty("orion.raid.isal", "true"))) {
            why = "disabled by -Dorion.raid.isal=false";
        } else {
            try {
                SymbolLookup lib = SymbolLookup.libraryLookup(SONAME, Arena.global());
                Linker linker = Linker.nativeLinker();
                FunctionDescriptor fd = FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS);
                Linker.Option critical = Linker.Option.critical(false);
                x = linker.downcallHandle(lib.find("xor_gen").orElseThrow(
                        () -> new IllegalArgumentException(SONAME + " has no xor_gen")), fd, critical);
                pq = linker.downcallHandle(lib.find("pq_gen").orElseThrow(
                        () -> new IllegalArgumentException(SONAME + " has no pq_gen")), fd, critical);
            } catch (IllegalArgumentException e) {
                why = e.getMessage() + "; install libisal2 for faster parity";
                x = null;
                pq = null;
            }
        }
        XOR_GEN = x;
        PQ_GEN = pq;
        AVAILABLE = why == null;
        if (why == null) {
            LoggerFactory.getLogger(IsalLibrary.class).debug("RAID parity uses ISA-L ({})", SONAME);
        } else {
            LoggerFactory.getLogger(IsalLibrary.class).info("RAID parity uses the pure-Java engine ({}): ISA-L unavailable ({})",
                    VectorModule.PRESENT ? "Vector API"
                            : "64-bit SWAR; --add-modules jdk.incubator.vector selects the faster Vector API engine", why);
        }
    }
}
