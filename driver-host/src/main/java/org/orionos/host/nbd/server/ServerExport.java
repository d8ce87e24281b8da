package org.orionos.host.nbd.server;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.Claim;
import org.orionos.host.nbd.protocol.NbdExport;

/**
 * An export being served: what clients are told ({@link NbdExport}), the device behind it, the
 * claim on it, and the export's counters (finished connections plus the live ones).
 */
public final class ServerExport {
    private final NbdExport export;
    private final BlockDevice device;
    private final Claim claim;
    private final NbdStats finished = new NbdStats();
    private final Set<NbdConnection> live = ConcurrentHashMap.newKeySet();

    ServerExport(NbdExport export, BlockDevice device, Claim claim) {
        this.export = export;
        this.device = device;
        this.claim = claim;
    }

    /** What a new connection is told: the device's size now (an LV may have grown since the start). */
    public NbdExport export() {
        NbdExport e = export;
        long size = device.sizeBytes();
        return e.size() == size ? e : new NbdExport(e.name(), e.description(), size, e.readOnly(), e.blockSize(),
                e.requireBlockSize(), e.features(), e.tls());
    }

    public String name() {
        return export.name();
    }

    public BlockDevice device() {
        return device;
    }

    void attach(NbdConnection c) {
        live.add(c);
    }

    void detach(NbdConnection c) {
        live.remove(c);
        finished.add(c.stats());
    }

    /** Connections currently in transmission on this export. */
    public int liveConnections() {
        return live.size();
    }

    /** Counters over every connection this export has served, live ones included (slightly stale). */
    public NbdStats stats() {
        NbdStats s = finished.snapshot();
        for (NbdConnection c : live) {
            s.add(c.stats());
        }
        return s;
    }

    void release() {
        claim.close();
    }
}
