package org.orionos.host.nbd.server;

import org.orionos.host.guest.Commands;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.orionos.host.guest.GuestSpec;
import org.orionos.host.guest.GuestTest;

/**
 * The kernel's own NBD client against {@code orion serve} in the test guest: nbd-client attaches a
 * /dev/nbdN to the server over TCP loopback and over a Unix socket, fio (verify) and dd write
 * through the block device, and after nbd-client disconnected, libnbd's tools read the export back
 * over the other transport: fio's nbd engine re-verifies fio's blocks, nbdcopy copies the dd
 * range out, nbdinfo reports the export. The export is a memory device, so the server takes the
 * zero-copy path (payloads land in the device, replies leave from it).
 */
@GuestTest(spec = NbdClientGuestTest.Spec.class)
class NbdClientGuestTest {
    static final long SIZE = 64L << 20;
    /** nbd devices well above the ones other guest tests in the same boot use. */
    static final String TCP_DEV = "/dev/nbd10";
    static final String UNIX_DEV = "/dev/nbd11";
    static final Path WORK = Path.of("/tmp/nbd-client-guest");

    /** No disks: the nbd module and the host's nbd-client, fio and libnbd tools are all this needs. */
    public static final class Spec implements Supplier<GuestSpec> {
        @Override
        public GuestSpec get() {
            return GuestSpec.builder().memoryMiB(1024).build();
        }
    }

    private static Process server;
    private static int port;
    private static Path sock;

    @BeforeAll
    static void startServer() throws Exception {
        if (!Files.exists(Path.of("/sys/module/nbd"))) {
            run("modprobe", "nbd", "nbds_max=16");
        }
        // The guest boots with its loopback interface down: TCP to 127.0.0.1 needs it up.
        run("ip", "link", "set", "dev", "lo", "up");
        Files.createDirectories(WORK);
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        sock = WORK.resolve("orion.sock");
        Path config = WORK.resolve("orion.toml");
        Files.writeString(config, """
                [[bdev]]
                name = "mem0"
                type = "memory"
                size = "%d"
                [[nbd.listen]]
                address = "tcp:127.0.0.1:%d"
                [[nbd.listen]]
                address = "unix:%s"
                [[nbd.export]]
                name = "mem0"
                bdev = "mem0"
                """.formatted(SIZE, port, sock));
        String jar = System.getProperty("orion.jar");
        assertTrue(jar != null && Files.isRegularFile(Path.of(jar)), "orion.jar not passed or missing: " + jar);
        Path log = WORK.resolve("orion.log");
        server = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-XX:-UsePerfData", "-jar", jar, "serve", "--config", config.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.readString(log).contains("ready;")) {
            if (!server.isAlive() || System.nanoTime() > deadline) {
                fail("orion serve did not get ready (" + (server.isAlive() ? "timeout" : "exit " + server.exitValue())
                        + "):\n" + Files.readString(log));
            }
            Thread.sleep(100);
        }
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (server == null) {
            return;
        }
        server.destroy(); // SIGTERM: drains, flushes, exits 0
        boolean exited = server.waitFor(60, TimeUnit.SECONDS);
        String log = Files.readString(WORK.resolve("orion.log"));
        System.out.println(log);
        assertTrue(exited, "orion serve did not stop on SIGTERM");
        assertEquals(0, server.exitValue(), "orion serve exit status");
    }

    @Test
    void nbdClientOverTcpThenReadBackOverUnix() throws Exception {
        attachWriteDetachReadBack(List.of("127.0.0.1", String.valueOf(port)), TCP_DEV, 0,
                "nbd+unix:///mem0?socket=" + sock);
    }

    @Test
    void nbdClientOverUnixThenReadBackOverTcp() throws Exception {
        attachWriteDetachReadBack(List.of("-unix", sock.toString()), UNIX_DEV, 32L << 20,
                "nbd://127.0.0.1:" + port + "/mem0");
    }

    /**
     * Attaches {@code dev} with nbd-client (4 KiB blocks, the export's minimum), writes 16 MiB of
     * fio-verified random 4 KiB blocks and 8 MiB of a known pattern with dd, all in the 32 MiB at
     * {@code base}, disconnects, and reads both back through {@code readUri}.
     */
    private static void attachWriteDetachReadBack(List<String> where, String dev, long base, String readUri)
            throws Exception {
        List<String> attach = new ArrayList<>(List.of("nbd-client", "-N", "mem0"));
        attach.addAll(where);
        attach.addAll(List.of(dev, "-b", "4096"));
        run(attach.toArray(String[]::new));
        boolean attached = true;
        try {
            assertEquals(SIZE, Long.parseLong(run("blockdev", "--getsize64", dev).strip()), dev + " size");
            String fioJob = "--name=v --rw=randwrite --bs=4k --size=16m --offset=" + base
                    + " --randseed=1234 --verify=crc32c --verify_fatal=1 --verify_state_save=0 --output-format=json";
            JsonNode job = fioJob(run(("fio --filename=" + dev + " --ioengine=io_uring --direct=1 --iodepth=16"
                    + " --do_verify=1 " + fioJob).split(" ")));
            assertEquals(0, job.get("error").asInt(), job::toString);
            assertEquals(16L << 20, job.get("write").get("io_bytes").asLong(), "fio wrote through " + dev);
            assertEquals(16L << 20, job.get("read").get("io_bytes").asLong(), "fio verified through " + dev);

            byte[] pattern = new byte[8 << 20];
            new Random(base + 7).nextBytes(pattern);
            Path pat = WORK.resolve("pattern-" + base);
            Files.write(pat, pattern);
            run("dd", "if=" + pat, "of=" + dev, "bs=1M", "seek=" + ((base >> 20) + 16), "oflag=direct", "conv=fsync",
                    "status=none");
            run("nbd-client", "-d", dev);
            attached = false;

            // fio's nbd engine (libnbd) regenerates the same blocks from the seed and verifies them.
            JsonNode again = fioJob(run(("fio --ioengine=nbd --uri=" + readUri + " --iodepth=16 --verify_only=1 "
                    + fioJob).split(" ")));
            assertEquals(0, again.get("error").asInt(), again::toString);
            assertEquals(16L << 20, again.get("read").get("io_bytes").asLong(), "fio re-verified over " + readUri);

            Path back = WORK.resolve("back-" + base);
            run("nbdcopy", readUri, back.toString());
            byte[] got = new byte[pattern.length];
            try (RandomAccessFile f = new RandomAccessFile(back.toFile(), "r")) {
                assertEquals(SIZE, f.length(), "nbdcopy copied the whole export");
                f.seek(base + (16L << 20));
                f.readFully(got);
            }
            assertArrayEquals(pattern, got, "dd's bytes read back through nbdcopy");
            Files.delete(back);

            JsonNode info = new ObjectMapper().readTree(run("nbdinfo", "--json", readUri));
            assertEquals(SIZE, info.get("exports").get(0).get("export-size").asLong(), info::toString);
            assertFalse(info.get("exports").get(0).get("is_read_only").asBoolean(), info::toString);
        } finally {
            if (attached) {
                run("nbd-client", "-d", dev);
            }
        }
    }

    private static JsonNode fioJob(String out) throws IOException {
        return new ObjectMapper().readTree(out.substring(out.indexOf('{'))).get("jobs").get(0);
    }

    static String run(String... cmd) throws java.io.IOException, InterruptedException {
        return Commands.run(cmd);
    }
}
