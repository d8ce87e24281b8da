package org.orionos.host.lvm.metadata;

import java.util.List;

/**
 * A linear (one stripe) or striped segment. Each stripe holds {@code extentCount / stripes} extents
 * starting at its {@link StripeArea#startExtent()}; consecutive chunks of {@code stripeSize}
 * sectors rotate across the stripes.
 *
 * @param stripeSize sectors per chunk, 0 for a linear segment (lvm2 omits it with one stripe)
 * @param extra      settings this model does not interpret (e.g. tags), written back unchanged
 */
public record StripedSegment(long startExtent, long extentCount, long stripeSize, List<StripeArea> stripes,
                             List<ConfigNode> extra) implements LvSegment {

    public StripedSegment {
        stripes = List.copyOf(stripes);
        extra = List.copyOf(extra);
        if (stripes.isEmpty()) {
            throw new IllegalArgumentException("a striped segment needs at least one stripe");
        }
        if (extentCount % stripes.size() != 0) {
            throw new IllegalArgumentException("extent_count " + extentCount + " is not a multiple of stripe_count "
                    + stripes.size());
        }
        if (stripes.size() > 1 && (stripeSize <= 0 || Long.bitCount(stripeSize) != 1)) {
            throw new IllegalArgumentException("stripe_size must be a power of two number of sectors, got " + stripeSize);
        }
    }

    /** A one-stripe segment. */
    public static StripedSegment linear(long startExtent, long extentCount, String pvName, long pvStartExtent) {
        return new StripedSegment(startExtent, extentCount, 0, List.of(new StripeArea(pvName, pvStartExtent)), List.of());
    }

    @Override
    public String type() {
        return SegmentTypes.STRIPED;
    }

    public int stripeCount() {
        return stripes.size();
    }

    /** Extents each stripe occupies on its PV. */
    public long extentsPerStripe() {
        return extentCount / stripes.size();
    }
}
