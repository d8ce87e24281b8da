package org.orionos.host.cli;

import org.orionos.host.guest.Commands;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.orionos.host.control.ControlClient;

import com.fasterxml.jackson.databind.JsonNode;

import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code orion lvm} against a real {@code orion serve} process that has the VG active and
 * exports one of its LVs over NBD: lvresize grows the LV through the host and a new NBD
 * connection sees the new size with the data kept; lvcreate (linear, thin pool, thin, snapshot),
 * lvs and lvremove go through the host; an offline change to the VG is refused while the host
 * has it active; after the host stops, the offline path works again and sees what the host wrote.
 */
class LvmLiveTest {
    private static final long MIB = 1 << 20;

    private record Run(int exit, String out, String err) {}

    private static Run lvm(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new OrionMain());
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        List<String> a = new ArrayList<>(List.of("lvm"));
        a.addAll(Arrays.asList(args));
        int exit = cl.execute(a.toArray(String[]::new));
        return new Run(exit, out.toString(), err.toString());
    }

    private static Run ok(String... args) {
        Run r = lvm(args);
        assertEquals(0, r.exit(), "orion lvm " + String.join(" ", args) + ":\n" + r.out() + r.err());
        return r;
    }

    static String run(String... cmd) throws java.io.IOException, InterruptedException {
        return Commands.runMerged(cmd).trim();
    }

    @Test
    void lvresizeThroughTheRunningHostIsSeenByNewNbdConnections(@TempDir Path dir) throws Exception {
        Path img = dir.resolve("pv0.img");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(512 * MIB);
        }
        Path sock = dir.resolve("control.sock");
        String devs = "--devices=" + img;
        String cs = "--control-socket=" + sock;
        ok("pvcreate", devs, cs, img.toString());
        ok("vgcreate", devs, cs, "vglive", img.toString());
        Run created = ok("lvcreate", devs, cs, "-L", "64M", "-n", "data", "vglive");
        assertTrue(created.err().contains("Offline"), created.err());

        Path nbdSock = dir.resolve("nbd.sock");
        Path cfg = dir.resolve("orion.toml");
        Files.writeString(cfg, """
                [[bdev]]
                name = "pv0"
                type = "file"
                path = "%s"
                [[lvm]]
                vg = "vglive"
                pvs = ["pv0"]
                [[nbd.listen]]
                address = "unix:%s"
                [[nbd.export]]
                name = "data"
                bdev = "vglive/data"
                """.formatted(img, nbdSock));
        String uri = "nbd+unix:///data?socket=" + nbdSock;
        byte[] payload = new byte[(int) (4 * MIB)];
        new Random(9).nextBytes(payload);
        Path src = dir.resolve("payload.bin");
        Files.write(src, payload);

        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process host = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), OrionMain.class.getName(), "serve", "--config", cfg.toString(),
                "--reactors", "2", "--control-socket", sock.toString())
                .directory(dir.toFile()).redirectErrorStream(true).start();
        List<String> lines = new ArrayList<>();
        Thread reader = Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(host.getInputStream(), StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) {
                    synchronized (lines) {
                        lines.add(l);
                        lines.notifyAll();
                    }
                }
            } catch (java.io.IOException ignored) {
                // the host exited
            }
        });
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            synchronized (lines) {
                while (lines.stream().noneMatch(l -> l.contains("ready;")) && System.nanoTime() < deadline
                        && host.isAlive()) {
                    lines.wait(200);
                }
            }
            assertTrue(host.isAlive() && lines.stream().anyMatch(l -> l.contains("ready;")), String.join("\n", lines));
            assertEquals(String.valueOf(64 * MIB), run("nbdinfo", "--size", uri));
            run("nbdcopy", src.toString(), uri);

            // An offline change while the host has the VG active is refused, naming the host.
            Run refused = lvm("lvcreate", devs, "--control-socket=" + dir.resolve("nobody.sock"), "-L", "8M", "-n",
                    "x", "vglive");
            assertEquals(5, refused.exit(), refused.out() + refused.err());
            assertTrue(refused.err().contains("in use by the orion host with pid " + host.pid()), refused.err());

            Run grown = ok("lvresize", cs, "-L", "+64M", "vglive/data");
            assertTrue(grown.err().contains("Using the running orion host on " + sock), grown.err());
            assertTrue(grown.out().contains("changed from 16 extents to 32 extents"), grown.out());
            assertEquals(String.valueOf(128 * MIB), run("nbdinfo", "--size", uri), "a new connection sees the new size");
            Path back = dir.resolve("back.bin");
            run("nbdcopy", uri, back.toString());
            byte[] got = Files.readAllBytes(back);
            assertEquals(128 * MIB, got.length);
            assertArrayEquals(payload, Arrays.copyOf(got, payload.length), "data kept across the grow");

            // lvcreate / lvs / lvremove through the host, thin volumes and snapshots included.
            ok("lvcreate", cs, "-L", "16M", "-n", "extra", "vglive");
            ok("lvcreate", cs, "--type", "thin-pool", "-L", "32M", "-n", "pool", "vglive");
            ok("lvcreate", cs, "--type", "thin", "-V", "1G", "--thinpool", "pool", "-n", "thin1", "vglive");
            ok("lvcreate", cs, "-s", "-n", "snap1", "vglive/thin1");
            ok("lvresize", cs, "-L", "+1G", "vglive/thin1");
            Run offlineOnly = lvm("vgreduce", cs, "vglive", img.toString());
            assertEquals(5, offlineOnly.exit(), offlineOnly.out() + offlineOnly.err());
            assertTrue(offlineOnly.err().contains("runs offline only"), offlineOnly.err());
            JsonNode status = ControlClient.call(sock, "status", null);
            List<String> bdevs = new ArrayList<>();
            status.path("bdevs").forEach(b -> bdevs.add(b.path("name").asText()));
            assertTrue(bdevs.containsAll(List.of("vglive/data", "vglive/extra", "vglive/thin1", "vglive/snap1")),
                    bdevs.toString());
            status.path("bdevs").forEach(b -> {
                if (b.path("name").asText().equals("vglive/thin1")) {
                    assertEquals(2L << 30, b.path("size_bytes").asLong(), "thin1 grown online through the host");
                }
            });
            Run lvs = ok("lvs", cs, devs);
            assertTrue(lvs.out().matches("(?s).*data +vglive +-wi-ao---- +128.00m.*"), "active, open (exported):\n"
                    + lvs.out());
            assertTrue(lvs.out().matches("(?s).*extra +vglive +-wi-a----- +16.00m.*"), lvs.out());
            assertTrue(lvs.out().matches("(?s).*thin1 +vglive +Vwi-a-t--- +2.00g pool.*")
                    && lvs.out().matches("(?s).*snap1 +vglive +Vwi-a-t--- +1.00g pool thin1.*"), lvs.out());
            Run inUse = lvm("lvremove", cs, "vglive/data");
            assertEquals(5, inUse.exit());
            assertTrue(inUse.err().contains("in use by"), inUse.err());
            ok("lvremove", cs, "vglive/snap1");
            ok("lvremove", cs, "vglive/thin1");
            ok("lvremove", cs, "vglive/extra");
        } finally {
            host.toHandle().destroy();
            assertTrue(host.waitFor(60, TimeUnit.SECONDS), "serve did not exit");
            reader.join(10_000);
        }
        assertEquals(0, host.exitValue(), String.join("\n", lines));

        // The host is gone: its changes are on disk and the offline path is free again.
        Run lvs = ok("lvs", devs, cs);
        assertTrue(lvs.err().contains("Offline"), lvs.err());
        assertTrue(lvs.out().contains("128.00m") && lvs.out().contains("pool") && !lvs.out().contains("thin1")
                && !lvs.out().contains("extra"), lvs.out());
        ok("lvcreate", devs, cs, "-L", "8M", "-n", "after", "vglive");
    }
}
