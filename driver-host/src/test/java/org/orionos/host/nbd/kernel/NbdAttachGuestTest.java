package org.orionos.host.nbd.kernel;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.orionos.host.guest.GuestTest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.orionos.host.nbd.kernel.NbdNetlinkGuestTest.awaitTrue;
import static org.orionos.host.nbd.kernel.NbdNetlinkGuestTest.run;

/**
 * Kernel NBD devices served by orion, end to end in the test guest (issue 6's tests): a filesystem
 * across detach and re-attach (fsck clean, checksums equal); fio verify on the raw device with 1
 * and 4 connections; {@code orion serve} killed with SIGKILL under fio load and started again,
 * taking the device back while fio waits, fio finishing without verify errors; SIGTERM leaving the
 * device to the next host (ext4 mounted with a writer running: no I/O error, fsck clean, checksums
 * equal), or detaching it ({@code --detach-on-exit}, {@code orion detach}); no host coming back
 * within dead_conn_timeout: I/O fails with EIO and the device can be detached.
 */
@GuestTest(spec = NbdNetlinkGuestTest.Spec.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NbdAttachGuestTest {
    static ServedStack stack;

    @BeforeAll
    static void start() throws Exception {
        if (!Files.exists(Path.of("/sys/module/nbd"))) {
            run("modprobe", "nbd", "nbds_max=16");
        }
        run("modprobe", "ext4");
        stack = new ServedStack("""
                [[bdev]]
                name = "fsmem"
                type = "memory"
                size = "256M"
                [[nbd.export]]
                name = "fs"
                bdev = "fsmem"
                [[bdev]]
                name = "fiomem"
                type = "memory"
                size = "128M"
                [[nbd.export]]
                name = "fio"
                bdev = "fiomem"
                """);
    }

    @AfterEach
    void disconnectLeftovers() throws Exception {
        for (String mnt : List.of("/tmp/orion-fs", "/tmp/orion-gr/mnt")) {
            if (Files.readString(Path.of("/proc/mounts")).contains(mnt)) {
                new ProcessBuilder("umount", "-l", mnt).inheritIO().start().waitFor(60, TimeUnit.SECONDS);
            }
        }
        NbdNetlinkGuestTest.disconnectAll();
    }

    @AfterAll
    static void stop() {
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    @Order(1)
    void filesystemSurvivesDetachAndReattach() throws Exception {
        Path mnt = Files.createDirectories(Path.of("/tmp/orion-fs"));
        String sums;
        try (KernelAttacher k = KernelAttacher.open(stack.endpoint())) {
            k.attach(KernelAttacher.Spec.of("fs", 8, 2));
            run("mkfs.ext4", "-q", "-F", "/dev/nbd8");
            run("mount", "/dev/nbd8", mnt.toString());
            for (int i = 0; i < 6; i++) {
                run("dd", "if=/dev/urandom", "of=" + mnt + "/f" + i, "bs=256k", "count=" + (1 + 3 * i), "status=none");
            }
            Files.createDirectories(mnt.resolve("dir/sub"));
            run("cp", mnt + "/f2", mnt + "/dir/sub/copy");
            sums = run("sh", "-c", "cd " + mnt + " && sha256sum f* dir/sub/copy");
            run("sync");
            run("umount", mnt.toString());
            k.detach(8);
        }
        try (KernelAttacher k = KernelAttacher.open(stack.endpoint())) {
            KernelAttacher.Attachment a = k.attach(KernelAttacher.Spec.of("fs", 8, 1));
            assertFalse(a.reattached(), "a fresh connect after a detach");
            run("fsck.ext4", "-n", "-f", "/dev/nbd8"); // exit 0: clean
            run("mount", "/dev/nbd8", mnt.toString());
            assertEquals(sums, run("sh", "-c", "cd " + mnt + " && sha256sum f* dir/sub/copy"));
            run("umount", mnt.toString());
            k.detach(8);
        }
    }

    @Test
    @Order(2)
    void fioVerifyWithOneAndFourConnections() throws Exception {
        for (int conns : new int[] {1, 4}) {
            try (KernelAttacher k = KernelAttacher.open(stack.endpoint())) {
                k.attach(KernelAttacher.Spec.of("fio", 9, conns));
                assertEquals(conns, stack.connections());
                String out = run("fio", "--name=verify" + conns, "--filename=/dev/nbd9", "--direct=1",
                        "--ioengine=libaio", "--rw=randwrite", "--bs=4k", "--iodepth=16", "--numjobs=1", "--size=32M",
                        "--verify=crc32c", "--do_verify=1", "--verify_fatal=1", "--verify_state_save=0");
                assertTrue(out.contains("verify" + conns), out);
                assertFalse(out.contains("verify: bad"), out);
                k.detach(9);
            }
        }
    }

    @Test
    @Order(3)
    void hostKilledUnderFioLoadIsTakenBackAndFioVerifies() throws Exception {
        Path dir = Files.createDirectories(Path.of("/tmp/orion-k9"));
        Path cfg = dir.resolve("orion.toml");
        // A file device: its data outlives the killed process, as a disk would.
        Files.writeString(cfg, """
                [[bdev]]
                name = "disk"
                type = "file"
                path = "%s"
                size = "256M"
                [[nbd.export]]
                name = "vol"
                bdev = "disk"
                [[nbd.attach]]
                export = "vol"
                device = "/dev/nbd10"
                connections = 2
                timeout = 5
                dead_conn_timeout = 120
                [[bdev]]
                name = "extra"
                type = "memory"
                size = "32M"
                [[nbd.export]]
                name = "extra"
                bdev = "extra"
                """.formatted(dir.resolve("disk.img")));
        Serve first = Serve.start(cfg);
        first.await("nbd: export vol is /dev/nbd10 (2 connection(s))");
        Process fio = new ProcessBuilder("fio", "--name=crash", "--filename=/dev/nbd10", "--direct=1",
                "--ioengine=libaio", "--rw=randwrite", "--bs=4k", "--iodepth=16", "--size=48M", "--verify=crc32c",
                "--do_verify=1", "--verify_fatal=1", "--verify_state_save=0").redirectErrorStream(true).start();
        CompletableFuture<String> fioOut = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(fio.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                return e.toString();
            }
        });
        try {
            // Under load: enough writes completed that some are surely in flight when the host dies.
            awaitTrue(() -> writesCompleted(10) > 2000, "fio under way on /dev/nbd10");
            first.kill();
            Thread.sleep(1500);
            assertTrue(fio.isAlive(), "fio waits for the host instead of failing: " + (fio.isAlive() ? "" : fioOut.join()));
            assertTrue(new NbdNetlinkGuestTest.NbdNetlinkProbe().connected(10), "the kernel keeps nbd10 while it waits");

            Serve second = Serve.start(cfg);
            try {
                second.await("nbd: export vol is /dev/nbd10 (2 connection(s), taken back from the previous run)");
                assertTrue(fio.waitFor(600, TimeUnit.SECONDS), "fio finished");
                String out = fioOut.join();
                assertEquals(0, fio.exitValue(), out);
                assertFalse(out.contains("verify: bad"), out);
                // `orion attach` asks the running host (its management socket) for one more device.
                String attached = Serve.cli("attach", "extra", "--device", "/dev/nbd11", "--connections", "2",
                        "--detach-on-exit");
                assertTrue(attached.contains("attached export extra as /dev/nbd11"), attached);
                assertEquals(String.valueOf((32L << 20) / 512), NbdNetlinkGuestTest.sysfs(11, "size"));
                assertTrue(Serve.cli("devices").contains("orion:extra"));
                // SIGTERM: nbd11 asked to be detached; nbd10 is left for the next host.
                assertEquals(0, second.stop(), second.log());
                assertTrue(second.log().contains("detached /dev/nbd11"), second.log());
                assertTrue(second.log().contains("left /dev/nbd10 attached (export vol); the next serve with this"
                        + " attachment re-attaches it within 120 s"), second.log());
                assertTrue(new NbdNetlinkGuestTest.NbdNetlinkProbe().connected(10), "SIGTERM left nbd10 attached");
                assertFalse(new NbdNetlinkGuestTest.NbdNetlinkProbe().connected(11), "SIGTERM detached nbd11");
                assertTrue(Serve.cli("detach", "/dev/nbd10").contains("detached /dev/nbd10"));
                assertFalse(new NbdNetlinkGuestTest.NbdNetlinkProbe().connected(10), "orion detach detached nbd10");
            } finally {
                second.kill();
            }
        } finally {
            fio.destroyForcibly();
            first.kill();
        }
    }

    /**
     * A graceful restart under a mounted filesystem: SIGTERM answers what the kernel sent, flushes
     * and closes, leaving /dev/nbd12 configured; the writer (files written with fsync, checksums of
     * their sources recorded) waits, the next serve takes the device back, the writer finishes
     * without an I/O error, fsck is clean and every file has its recorded checksum.
     */
    @Test
    @Order(4)
    void gracefulRestartKeepsAMountedFilesystem() throws Exception {
        Path dir = Files.createDirectories(Path.of("/tmp/orion-gr"));
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        Path sums = dir.resolve("sums");
        Path stop = dir.resolve("stop");
        Files.deleteIfExists(sums);
        Files.deleteIfExists(stop);
        Path cfg = dir.resolve("orion.toml");
        Files.writeString(cfg, """
                [[bdev]]
                name = "disk"
                type = "file"
                path = "%s"
                size = "256M"
                [[nbd.export]]
                name = "fs"
                bdev = "disk"
                [[nbd.attach]]
                export = "fs"
                device = "/dev/nbd12"
                connections = 2
                """.formatted(dir.resolve("disk.img")));
        String dmesgBefore = run("dmesg");
        Serve first = Serve.start(cfg);
        Process writer = null;
        try {
            first.await("nbd: export fs is /dev/nbd12 (2 connection(s))");
            run("mkfs.ext4", "-q", "-F", "/dev/nbd12");
            run("mount", "/dev/nbd12", mnt.toString());
            writer = new ProcessBuilder("sh", "-c", """
                    set -e
                    i=0
                    while [ ! -e %4$s ]; do
                      head -c 196608 /dev/urandom > %1$s/src
                      dd if=%1$s/src of=%2$s/f$i bs=64k conv=fsync status=none
                      echo "$(sha256sum < %1$s/src | cut -d' ' -f1)  f$i" >> %3$s
                      i=$((i+1))
                    done
                    """.formatted(dir, mnt, sums, stop)).redirectErrorStream(true).start();
            Process w = writer;
            awaitTrue(() -> lines(sums) >= 8 || !w.isAlive(), "the writer under way");
            assertTrue(writer.isAlive(), () -> "writer ended: " + output(w));
            long t0 = System.nanoTime();
            assertEquals(0, first.stop(), first.log());
            long stopMillis = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(first.log().contains("left /dev/nbd12 attached (export fs)"), first.log());
            assertTrue(new NbdNetlinkGuestTest.NbdNetlinkProbe().connected(12), "the kernel keeps nbd12 for the next host");
            long before = lines(sums);
            Thread.sleep(1000);
            assertTrue(writer.isAlive(), () -> "the writer should wait for the next host: " + output(w));
            assertTrue(lines(sums) <= before + 1, "no host, no progress");

            Serve second = Serve.start(cfg);
            try {
                second.await("nbd: export fs is /dev/nbd12 (2 connection(s), taken back from the previous run)");
                awaitTrue(() -> lines(sums) >= before + 8 || !w.isAlive(), "the writer goes on");
                Files.writeString(stop, "");
                assertTrue(writer.waitFor(600, TimeUnit.SECONDS), "the writer finished");
                assertEquals(0, writer.exitValue(), () -> "the writer saw an error: " + output(w));
                long files = lines(sums);
                assertTrue(files >= before + 8, "files written: " + files);
                run("umount", mnt.toString());
                run("fsck.ext4", "-n", "-f", "/dev/nbd12"); // exit 0: clean
                run("mount", "-o", "ro", "/dev/nbd12", mnt.toString());
                String check = run("sh", "-c", "cd " + mnt + " && sha256sum -c " + sums);
                assertEquals(files, check.lines().filter(l -> l.endsWith(": OK")).count(), check);
                run("umount", mnt.toString());
                String after = run("dmesg");
                String dmesg = after.length() > dmesgBefore.length() ? after.substring(dmesgBefore.length()) : after;
                assertFalse(dmesg.contains("I/O error, dev nbd12"), dmesg);
                System.out.println("graceful restart: stop took " + stopMillis + " ms; kernel said: "
                        + dmesg.lines().filter(l -> l.contains("nbd12")).toList());
                assertEquals(0, second.stop(), second.log());
            } finally {
                second.kill();
            }
        } finally {
            if (writer != null) {
                writer.destroyForcibly();
            }
            first.kill();
        }
    }

    /**
     * No host comes back: once dead_conn_timeout has passed, I/O to the device fails with EIO (it
     * does not hang), and {@code orion detach} removes it.
     */
    @Test
    @Order(5)
    void withoutAHostIoFailsAfterTheDeadConnTimeoutAndTheDeviceDetaches() throws Exception {
        Path dir = Files.createDirectories(Path.of("/tmp/orion-dead"));
        Path cfg = dir.resolve("orion.toml");
        Files.writeString(cfg, """
                [[bdev]]
                name = "m"
                type = "memory"
                size = "16M"
                [[nbd.export]]
                name = "gone"
                bdev = "m"
                [[nbd.attach]]
                export = "gone"
                device = "/dev/nbd13"
                dead_conn_timeout = 3
                """);
        Serve s = Serve.start(cfg);
        try {
            s.await("nbd: export gone is /dev/nbd13");
            assertEquals(0, s.stop(), s.log());
            assertTrue(s.log().contains("left /dev/nbd13 attached (export gone); the next serve with this attachment"
                    + " re-attaches it within 3 s"), s.log());
        } finally {
            s.kill();
        }
        long t0 = System.nanoTime();
        Process dd = new ProcessBuilder("dd", "if=/dev/nbd13", "of=/dev/null", "bs=4k", "count=1", "iflag=direct")
                .redirectErrorStream(true).start();
        assertTrue(dd.waitFor(120, TimeUnit.SECONDS), "the read does not hang");
        String out = new String(dd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(dd.exitValue() != 0 && out.contains("Input/output error"), out);
        System.out.println("no host: the read failed after " + (System.nanoTime() - t0) / 1_000_000 + " ms: " + out.strip());
        if (new NbdNetlinkGuestTest.NbdNetlinkProbe().connected(13)) {
            assertTrue(Serve.cli("detach", "/dev/nbd13").contains("detached /dev/nbd13"));
        }
        assertFalse(new NbdNetlinkGuestTest.NbdNetlinkProbe().connected(13), "nbd13 detached");
    }

    private static String output(Process p) {
        try {
            return p.isAlive() ? "(running)" : "exit " + p.exitValue() + ": "
                    + new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }

    private static long lines(Path p) {
        try {
            return Files.exists(p) ? Files.readAllLines(p).size() : 0;
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    /** Completed writes of /dev/nbdN (/sys/block/nbdN/stat field 5). */
    static long writesCompleted(int index) {
        try {
            String[] f = Files.readString(Path.of("/sys/block/nbd" + index + "/stat")).trim().split("\\s+");
            return Long.parseLong(f[4]);
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    /** {@code orion serve} as a child process (the jar the build made), its log collected. */
    static final class Serve {
        final Process p;
        private final List<String> lines = new ArrayList<>();
        private final Thread reader;

        private Serve(Process p) {
            this.p = p;
            reader = Thread.ofPlatform().daemon().start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    String l;
                    while ((l = r.readLine()) != null) {
                        synchronized (lines) {
                            lines.add(l);
                        }
                    }
                } catch (java.io.IOException ignored) {
                    // the process is gone
                }
            });
        }

        static Serve start(Path cfg) throws Exception {
            return new Serve(new ProcessBuilder(orion("serve", "--config", cfg.toString(), "--reactors", "2"))
                    .redirectErrorStream(true).start());
        }

        /** {@code java -jar orion.jar ARGS} with the guest's lean JVM flags. */
        static List<String> orion(String... args) {
            String jar = System.getProperty("orion.jar");
            assertTrue(jar != null && Files.isRegularFile(Path.of(jar)), "orion.jar not passed or missing: " + jar);
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m", "-XX:-UsePerfData",
                    "--enable-native-access=ALL-UNNAMED", "-jar", jar));
            cmd.addAll(List.of(args));
            return cmd;
        }

        /** A one-shot orion command; its output (exit status 0 asserted). */
        static String cli(String... args) throws Exception {
            return run(orion(args).toArray(String[]::new));
        }

        String log() {
            synchronized (lines) {
                return String.join("\n", lines);
            }
        }

        void await(String line) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!log().contains(line)) {
                assertTrue(p.isAlive(), "orion serve exited " + (p.isAlive() ? "" : p.exitValue()) + ":\n" + log());
                assertTrue(System.nanoTime() < deadline, "no \"" + line + "\" from orion serve:\n" + log());
                Thread.sleep(100);
            }
        }

        /** SIGKILL: no shutdown path runs. */
        void kill() throws InterruptedException {
            if (p.isAlive()) {
                p.destroyForcibly();
                p.waitFor(30, TimeUnit.SECONDS);
            }
        }

        /** SIGTERM, then the exit status. */
        int stop() throws InterruptedException {
            p.toHandle().destroy(); // SIGTERM; Process.destroy() would also close our end of its output
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "orion serve did not stop after SIGTERM:\n" + log());
            reader.join(10_000); // the log up to the process's end
            return p.exitValue();
        }
    }
}
