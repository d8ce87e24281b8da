package org.orionos.host.lvm.metadata;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;

/**
 * Writes a new VG version to every metadata area of its PVs in lvm2's three ordered steps, each
 * made durable (fsync) before the next starts:
 * <ol>
 * <li>{@link Step#TEXT_WRITTEN}: the new text goes into each circular buffer past the committed
 *     copy; headers untouched, so readers still see the old VG;</li>
 * <li>{@link Step#PRECOMMITTED}: each header gets slot 1 pointing at the new text, slot 0 still at
 *     the old (readers still see the old VG);</li>
 * <li>{@link Step#COMMITTED}: each header gets slot 0 pointing at the new text; slot 1 cleared.</li>
 * </ol>
 * A crash before step 3 reaches the first area leaves the old VG everywhere; a crash during step 3
 * leaves some areas at the new seqno, which readers pick as the highest valid one. Each header is
 * one 512-byte sector write, which the device writes whole.
 */
public final class MetadataCommit {

    /** How far a commit has got. */
    public enum Step { PREPARED, TEXT_WRITTEN, PRECOMMITTED, COMMITTED }

    private record Pending(MetadataArea area, MdaHeader old, RawLocation fresh) {
    }

    private final List<MetadataArea> areas;
    private final String text;
    private final List<Pending> pending = new ArrayList<>();
    private Step step = Step.PREPARED;

    private MetadataCommit(List<MetadataArea> areas, String text) {
        this.areas = areas;
        this.text = text;
    }

    /**
     * Prepares writing {@code text} (the whole copy, see {@link MetadataText#format()}) to every
     * metadata area of {@code pvs} that is not marked ignored, after {@link VolumeGroupChecks}
     * found the VG consistent and {@code pvs} turned out to be exactly the VG's PVs. Nothing is
     * written yet.
     */
    public static MetadataCommit prepare(List<PhysicalVolumeDevice> pvs, MetadataText text) {
        VolumeGroupChecks.require(text.vg());
        VolumeGroupMetadata vg = text.vg();
        List<MetadataArea> areas = new ArrayList<>();
        Set<String> present = new HashSet<>();
        for (PhysicalVolumeDevice pv : pvs) {
            LvmUuid id = pv.label().pvId();
            if (vg.physicalVolumes().stream().noneMatch(p -> p.id().equals(id))) {
                throw new ErrnoException(Errno.EINVAL, "commit VG " + vg.name(), pv.io().name(),
                        "the device is PV " + id + ", which the VG does not list; it would receive foreign metadata");
            }
            present.add(id.chars());
            areas.addAll(pv.areas());
        }
        for (PhysicalVolumeMetadata p : vg.physicalVolumes()) {
            if (!present.contains(p.id().chars())) {
                throw new ErrnoException(Errno.ENODEV, "commit VG " + vg.name(), p.device(), "PV " + p.name() + " ("
                        + p.id() + ") is missing; its metadata would go stale, so no change is written (lvm2 refuses too)");
            }
        }
        if (areas.isEmpty()) {
            throw new ErrnoException(Errno.EINVAL, "commit VG " + vg.name(), null,
                    "none of its PVs has a metadata area; at least one PV needs --pvmetadatacopies 1 or 2");
        }
        return new MetadataCommit(areas, text.format());
    }

    public Step step() {
        return step;
    }

    /** Step 1: writes the text into every area's buffer, then fsyncs each device. */
    public void writeText() {
        expect(Step.PREPARED);
        for (MetadataArea area : areas) {
            MdaHeader h = area.readHeader();
            if ((h.committed().flags() & RawLocation.IGNORED) != 0) {
                continue;
            }
            pending.add(new Pending(area, h, area.writeText(h, text)));
        }
        flushAll();
        step = Step.TEXT_WRITTEN;
    }

    /** Step 2: points slot 1 of every header at the new text, then fsyncs. */
    public void precommit() {
        expect(Step.TEXT_WRITTEN);
        for (Pending p : pending) {
            p.area().writeHeader(p.old().withCommitted(p.old().committed(), p.fresh()));
        }
        flushAll();
        step = Step.PRECOMMITTED;
    }

    /** Step 3: points slot 0 of every header at the new text, then fsyncs: the new VG is live. */
    public void commit() {
        expect(Step.PRECOMMITTED);
        for (Pending p : pending) {
            p.area().writeHeader(p.old().withCommitted(p.fresh(), RawLocation.NONE));
            p.area().io().flush();
        }
        step = Step.COMMITTED;
    }

    /** All three steps. */
    public void run() {
        writeText();
        precommit();
        commit();
    }

    private void flushAll() {
        List<MetadataIo> done = new ArrayList<>();
        for (MetadataArea a : areas) {
            if (!done.contains(a.io())) {
                a.io().flush();
                done.add(a.io());
            }
        }
    }

    private void expect(Step s) {
        if (step != s) {
            throw new IllegalStateException("commit step order: expected to be at " + s + " but at " + step);
        }
    }
}
