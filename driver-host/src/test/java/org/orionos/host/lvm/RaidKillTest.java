package org.orionos.host.lvm;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.orionos.host.bdev.BdevHost;
import org.orionos.host.bdev.BlockDevice;
import org.orionos.host.bdev.backend.FileBdev;
import org.orionos.host.raid.RaidBdev;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.orionos.host.lvm.LvmRaidLiveTest.Serve;
import static org.orionos.host.lvm.LvmRaidLiveTest.config;
import static org.orionos.host.lvm.LvmRaidLiveTest.image;
import static org.orionos.host.lvm.LvmRaidLiveTest.nbdRead;
import static org.orionos.host.lvm.LvmRaidLiveTest.ok;
import static org.orionos.host.lvm.LvmRaidLiveTest.run;

/**
 * kill -9 of an {@code orion serve} exporting a raid5 volume: the next start finds the volume
 * dirty and resyncs it before serving (with a row torn on disk as the crash would leave it, the
 * resync is what makes a later degraded read right); after a clean stop the next start does not.
 */
class RaidKillTest {
    private static final long MIB = 1 << 20;
    private static final int CHUNK = 64 << 10;

    @Test
    void aKilledServeLeavesItsRaid5DirtyAndTheNextStartResyncsIt(@TempDir Path dir) throws Exception {
        List<Path> pvs = List.of(dir.resolve("pv0.img"), dir.resolve("pv1.img"), dir.resolve("pv2.img"));
        for (Path p : pvs) {
            image(p, 64 * MIB);
        }
        String devs = "--devices=" + String.join(",", pvs.stream().map(Path::toString).toList());
        Path sock = dir.resolve("control.sock");
        String cs = "--control-socket=" + sock;
        for (Path p : pvs) {
            ok("pvcreate", devs, cs, p.toString());
        }
        ok("vgcreate", devs, cs, "vgr", pvs.get(0).toString(), pvs.get(1).toString(), pvs.get(2).toString());
        ok("lvcreate", devs, cs, "--type", "raid5", "-i", "2", "-L", "16M", "-n", "r5", "vgr");
        Path nbdSock = dir.resolve("nbd.sock");
        Path cfg = dir.resolve("orion.toml");
        Files.writeString(cfg, config(pvs, "", nbdSock, List.of("r5")));
        byte[] data = new byte[(int) (16 * MIB)];
        new Random(9).nextBytes(data);
        Path src = dir.resolve("data.bin");
        Files.write(src, data);
        String uri = "nbd+unix:///r5?socket=" + nbdSock;

        Serve killed = new Serve(dir, cfg, sock);
        assertTrue(killed.awaitReady(), killed.log());
        run("nbdcopy", src.toString(), uri);
        killed.process.destroyForcibly(); // SIGKILL: no close, no clean mark
        assertTrue(killed.process.waitFor(60, TimeUnit.SECONDS));
        Files.deleteIfExists(sock);
        Files.deleteIfExists(nbdSock);

        // Tear row 0 as a crash between member writes does: image 0's data chunk new, P old.
        byte[] torn = new byte[CHUNK];
        new Random(10).nextBytes(torn);
        long[] at;
        try (BdevHost host = BdevHost.start(1, 8 << 20)) {
            List<BlockDevice> d = open(pvs);
            try (VolumeGroup vg = VolumeGroup.open(host, d)) {
                at = RaidVolumeTest.whereIs(vg, "r5_rimage_0");
            } finally {
                d.forEach(BlockDevice::close);
            }
        }
        try (RandomAccessFile f = new RandomAccessFile(pvs.get((int) at[0]).toFile(), "rw")) {
            f.seek(at[1]);
            f.write(torn);
        }
        byte[] expect = data.clone();
        System.arraycopy(torn, 0, expect, 0, CHUNK);

        try (Serve s = new Serve(dir, cfg, sock)) {
            assertTrue(s.awaitReady(), s.log());
            assertTrue(s.has("vgr/r5: orion's dirty mark") && s.has("resync done"), s.log());
            assertArrayEquals(expect, nbdRead(dir, uri));
        }
        // Clean stop (SIGTERM): clean mark, so no resync at the next start.
        try (Serve s = new Serve(dir, cfg, sock)) {
            assertTrue(s.awaitReady(), s.log());
            assertFalse(s.has("resync"), s.log());
        }
        // The resync made P agree with the torn data: without image 1, chunk 1 is still what it was.
        try (BdevHost host = BdevHost.start(1, 8 << 20)) {
            List<BlockDevice> d = open(pvs);
            try (VolumeGroup vg = VolumeGroup.open(host, d)) {
                RaidBdev r5 = vg.activateRaid("r5", "vgr/r5");
                r5.markFailed(1, "test: lose the image holding chunk 1");
                assertEquals(-1, Arrays.mismatch(Arrays.copyOfRange(expect, 0, 4 * CHUNK),
                        RaidVolumeTest.read(host.client(), r5, 0, 4 * CHUNK)));
            } finally {
                d.forEach(BlockDevice::close);
            }
        }
    }

    private static List<BlockDevice> open(List<Path> pvs) {
        List<BlockDevice> out = new ArrayList<>();
        for (int i = 0; i < pvs.size(); i++) {
            out.add(FileBdev.open("k" + i, pvs.get(i), 0, 512, "auto"));
        }
        return out;
    }
}
