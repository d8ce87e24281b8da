package org.orionos.host.nbd.protocol;

import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** TEST ONLY: a fixed set of exports; the empty name selects the first one. */
final class TestCatalog implements ExportCatalog {
    private final Map<String, NbdExport> exports = new LinkedHashMap<>();
    private final TlsMode tlsMode;

    TestCatalog(TlsMode tlsMode, NbdExport... list) {
        this.tlsMode = tlsMode;
        for (NbdExport e : list) {
            exports.put(e.name(), e);
        }
    }

    @Override
    public NbdExport find(String name) {
        if (name.isEmpty()) {
            return exports.isEmpty() ? null : exports.values().iterator().next();
        }
        return exports.get(name);
    }

    @Override
    public List<NbdExport> list() {
        return List.copyOf(exports.values());
    }

    @Override
    public TlsMode tlsMode() {
        return tlsMode;
    }

    static final EnumSet<NbdExport.Feature> ALL = EnumSet.allOf(NbdExport.Feature.class);

    /** The exports the interop and unit tests use. */
    static TestCatalog standard(TlsMode mode) {
        return new TestCatalog(mode,
                new NbdExport("disk", "in-memory test disk", 64 << 20, false, BlockSizeConstraints.DEFAULT, false,
                        EnumSet.complementOf(EnumSet.of(NbdExport.Feature.ROTATIONAL)), TlsMode.OFF),
                new NbdExport("copy", "", 16 << 20, false, BlockSizeConstraints.DEFAULT, false,
                        EnumSet.complementOf(EnumSet.of(NbdExport.Feature.ROTATIONAL)), TlsMode.OFF),
                new NbdExport("ro", "read-only disk", 1 << 20, true, BlockSizeConstraints.DEFAULT, false,
                        ALL, TlsMode.OFF),
                new NbdExport("aligned", "4K-aligned disk", 4 << 20, false, new BlockSizeConstraints(4096, 4096, 1 << 20),
                        true, EnumSet.of(NbdExport.Feature.FLUSH, NbdExport.Feature.ALLOCATION_STATUS), TlsMode.OFF),
                new NbdExport("slowzero", "", 1 << 20, false, BlockSizeConstraints.DEFAULT, false,
                        EnumSet.of(NbdExport.Feature.WRITE_ZEROES, NbdExport.Feature.FAST_ZERO), TlsMode.OFF),
                new NbdExport("secret", "TLS only", 1 << 20, false, BlockSizeConstraints.DEFAULT, false,
                        EnumSet.noneOf(NbdExport.Feature.class), TlsMode.REQUIRED));
    }
}
