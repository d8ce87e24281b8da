package org.orionos.host.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Host-side pieces of the guest harness that need no guest: archive format, module order, specs, reports. */
class GuestHarnessTest {

    @TempDir
    Path tmp;

    @Test
    void newcArchiveIsReadByCpio() throws Exception {
        Path cpio = Path.of("/usr/bin/cpio");
        assumeTrue(Files.isExecutable(cpio), "cpio not installed (scripts/install-deps installs it)");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        GuestInitramfs.NewcWriter w = new GuestInitramfs.NewcWriter(bytes);
        w.directory("bin");
        w.charDevice("console", 5, 1);
        w.file("bin/hello", 0755, "abc".getBytes(StandardCharsets.US_ASCII)); // 3 bytes: exercises the data padding
        w.file("odd-name-length", 0644, new byte[0]);
        w.trailer();
        Path archive = tmp.resolve("a.cpio");
        Files.write(archive, bytes.toByteArray());
        Process p = new ProcessBuilder(cpio.toString(), "-itv", "--quiet", "-F", archive.toString()).redirectErrorStream(true).start();
        String listing = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), listing);
        List<String> lines = listing.lines().toList();
        assertEquals(4, lines.size(), listing);
        assertTrue(lines.get(0).startsWith("drwxr-xr-x") && lines.get(0).endsWith(" bin"), listing);
        assertTrue(lines.get(1).startsWith("crw-------") && lines.get(1).contains("5,") && lines.get(1).endsWith(" console"), listing);
        assertTrue(lines.get(2).startsWith("-rwxr-xr-x") && lines.get(2).contains(" 3 ") && lines.get(2).endsWith(" bin/hello"), listing);
        assertTrue(lines.get(3).startsWith("-rw-r--r--") && lines.get(3).endsWith(" odd-name-length"), listing);
    }

    @Test
    void modulesLoadAfterTheirDependencies() throws Exception {
        Files.writeString(tmp.resolve("modules.dep"), """
                kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/netfs/netfs.ko
                kernel/net/9p/9pnet_virtio.ko: kernel/net/9p/9pnet.ko kernel/drivers/virtio/virtio.ko
                kernel/net/9p/9pnet.ko:
                kernel/fs/netfs/netfs.ko:
                kernel/drivers/virtio/virtio.ko:
                kernel/drivers/vfio/pci/vfio-pci.ko: kernel/drivers/virtio/virtio.ko
                """);
        List<String> order = GuestInitramfs.moduleLoadOrder(tmp, List.of("9pnet_virtio", "9p", "vfio_pci")).stream()
                .map(p -> tmp.relativize(p).toString()).toList();
        assertEquals(List.of("kernel/net/9p/9pnet.ko", "kernel/drivers/virtio/virtio.ko", "kernel/net/9p/9pnet_virtio.ko",
                "kernel/fs/netfs/netfs.ko", "kernel/fs/9p/9p.ko", "kernel/drivers/vfio/pci/vfio-pci.ko"), order);
        assertThrows(java.io.IOException.class, () -> GuestInitramfs.moduleLoadOrder(tmp, List.of("nbd")));
    }

    @Test
    void specsWithTheSameContentShareABoot() {
        GuestSpec a = GuestSpec.builder().nvme("orion0", 1L << 30).append("nvme_core.multipath=N").build();
        GuestSpec b = GuestSpec.builder().nvme("orion0", 1L << 30).append("nvme_core.multipath=N").build();
        GuestSpec c = GuestSpec.builder().nvme("orion0", 1L << 30).build();
        assertEquals(a, b);
        assertNotEquals(a, c);
        assertEquals(List.of("nvme,serial=orion0,drive=nvm-orion0"), a.devices());
        assertEquals(List.of(new GuestSpec.Image("nvm-orion0", 1L << 30)), a.images());
        assertThrows(IllegalArgumentException.class, () -> GuestSpec.builder().image("bad,id", 4096));
        assertThrows(IllegalArgumentException.class, () -> GuestSpec.builder().image("x", 1000));
        assertThrows(IllegalArgumentException.class, () -> GuestSpec.builder().nvme("a", 4096).nvme("a", 4096).build());
    }

    @Test
    void kernelVersionsCompareNumerically() {
        assertTrue(GuestHost.compareVersions("6.1.0-56-amd64", "6.10.0-1-amd64") < 0);
        assertTrue(GuestHost.compareVersions("6.1.0-9-amd64", "6.1.0-56-amd64") < 0);
        assertEquals(0, GuestHost.compareVersions("6.1.0-56-amd64", "6.1.0-56-amd64"));
    }

    @Test
    void onlyAnExecutableWithoutAnInterpreterCountsAsStatic() {
        assertFalse(GuestHost.isStaticExecutable(Path.of("/bin/sh")), "/bin/sh is dynamically linked");
        assertFalse(GuestHost.isStaticExecutable(Path.of("/etc/hostname")));
        assumeTrue(Files.isExecutable(Path.of("/bin/busybox")), "busybox-static not installed");
        assertTrue(GuestHost.isStaticExecutable(Path.of("/bin/busybox")));
    }

    @Test
    void junitXmlCasesAreReadWithOutcomeMessageAndOutput() throws Exception {
        Path reports = Files.createDirectory(tmp.resolve("reports"));
        Files.writeString(reports.resolve("TEST-junit-jupiter.xml"), """
                <?xml version="1.0" encoding="UTF-8"?>
                <testsuite name="JUnit Jupiter" tests="3">
                  <testcase name="ok()" classname="a.B" time="0.5"><system-out>said hi</system-out></testcase>
                  <testcase name="bad()" classname="a.B" time="1,234.0">
                    <failure message="expected: &lt;1&gt;" type="AssertionFailedError">trace line</failure>
                  </testcase>
                  <testcase name="later()" classname="a.C" time="0"><skipped message="not here"/></testcase>
                </testsuite>
                """);
        List<GuestReport.Case> cases = GuestReport.read(reports);
        assertEquals(3, cases.size());
        assertEquals(new GuestReport.Case("a.B", "ok()", GuestReport.Outcome.PASSED, "", "", "said hi", 0.5), cases.get(0));
        assertEquals(GuestReport.Outcome.FAILED, cases.get(1).outcome());
        assertEquals("expected: <1>", cases.get(1).message());
        assertEquals("trace line", cases.get(1).detail());
        assertEquals(1234.0, cases.get(1).seconds());
        assertEquals(GuestReport.Outcome.SKIPPED, cases.get(2).outcome());
        assertEquals("not here", cases.get(2).message());
    }

    @Test
    void guestClassesAreFoundByAnnotationAndGroupedBySpec() throws Exception {
        Path testClasses = Path.of(GuestHarnessTest.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<Class<?>> found = GuestSuiteIT.findGuestClasses(testClasses);
        assertTrue(found.contains(GuestSmokeTest.class), found::toString);
        assertFalse(found.contains(GuestHarnessTest.class), found::toString);
        assertEquals(List.of(GuestSmokeTest.class), GuestSuiteIT.groupBySpec(List.of(GuestSmokeTest.class))
                .get(new GuestSmokeTest.Spec().get()));
    }

    @Test
    void shellQuotingSurvivesSpacesAndQuotes() {
        assertEquals("/usr/bin/java", GuestSuiteIT.shellQuote("/usr/bin/java"));
        assertEquals("'a b'", GuestSuiteIT.shellQuote("a b"));
        assertEquals("'it'\\''s'", GuestSuiteIT.shellQuote("it's"));
    }
}
