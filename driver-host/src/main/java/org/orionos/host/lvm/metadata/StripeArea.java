package org.orionos.host.lvm.metadata;

/** One stripe of a striped segment: the PV (by its key in the VG, e.g. {@code pv0}) and its first physical extent. */
public record StripeArea(String pvName, long startExtent) {
}
