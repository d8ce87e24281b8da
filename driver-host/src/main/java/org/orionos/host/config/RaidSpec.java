package org.orionos.host.config;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@code [[raid]]} table: an md array over block devices of the config, registered as a block
 * device named {@code name}. On start, members that carry md superblocks are assembled from them
 * (the superblocks are the truth; the table must agree with them); members that carry none, all of
 * them, make a new array. Spares without a superblock are added as hot spares.
 *
 * <pre>
 * [[raid]]
 * name = "md0"
 * level = 5                       # 0, 1, 5, 6 or 10
 * members = ["f0", "f1", "f2", "f3"]
 * chunk = "512K"                  # default 512K (ignored by RAID1)
 * spares = ["f4"]                 # optional
 * layout = "left-symmetric"       # optional: mdadm's layout names; n2, n3 for RAID10
 * sync_speed = "200M"             # optional: rebuild/resync limit per second
 * </pre>
 *
 * @param chunkSectors    chunk in 512-byte sectors
 * @param layout          mdadm layout name, or null for md's default
 * @param syncBytesPerSec rebuild and resync rate limit
 */
public record RaidSpec(String name, int level, List<String> members, int chunkSectors, List<String> spares,
                       String layout, long syncBytesPerSec) implements BdevSpec {
    public RaidSpec {
        members = List.copyOf(members);
        spares = List.copyOf(spares);
    }

    @Override
    public List<String> bases() {
        List<String> all = new ArrayList<>(members);
        all.addAll(spares);
        return all;
    }
}
