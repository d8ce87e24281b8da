package org.orionos.host.guest;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

/**
 * Runs every {@link GuestTest} class inside a test guest and reports each of its test cases as a
 * host test, so guest results land in the host's failsafe report and a failing guest test fails the
 * build. Classes are grouped by spec: one boot per distinct {@link GuestSpec}.
 *
 * <p>Inside the guest, the JUnit Platform console launcher runs the selected classes on the host's
 * test classpath (the guest sees the host's / read-only at the same paths) and writes JUnit XML into
 * the boot's out folder, which this class reads back after power-off.
 *
 * <p>Needs the paths failsafe passes as system properties (see driver-host/pom.xml). Without QEMU,
 * kernel or static busybox the tests skip naming what to install, except under {@code CI=true}
 * where that is a failure.
 */
class GuestSuiteIT {

    /** Test classes sharing one boot; heavy classes (attach, reshape) take minutes each under TCG. */
    static final int CLASSES_PER_BOOT = 2;

    /** Lean JVM for short tests under TCG: C1 only, serial GC, small heap, CDS on, no perf-data file. */
    static final List<String> GUEST_JVM = List.of("-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
            "-Xmx384m", "-XX:-UsePerfData", "--enable-native-access=ALL-UNNAMED");

    @TestFactory
    Stream<DynamicNode> guestTests() throws IOException {
        GuestHost host = GuestHost.requireOrSkip();
        Path testClasses = pathProperty("orion.guest.testClasses");
        Path classes = pathProperty("orion.guest.classes");
        Path launcher = pathProperty("orion.guest.launcher");
        Path classpathFile = pathProperty("orion.guest.classpathFile");
        Path work = Path.of(property("orion.guest.work"));
        List<String> classpath = new ArrayList<>(List.of(testClasses.toString(), classes.toString()));
        String deps = Files.readString(classpathFile).strip();
        if (!deps.isEmpty()) {
            classpath.addAll(List.of(deps.split(":")));
        }
        Map<GuestSpec, List<Class<?>>> groups = groupBySpec(findGuestClasses(testClasses));
        assertTrue(!groups.isEmpty(), "no @GuestTest classes under " + testClasses);
        List<DynamicNode> nodes = new ArrayList<>();
        int n = 0;
        for (Map.Entry<GuestSpec, List<Class<?>>> g : groups.entrySet()) {
            for (List<Class<?>> group : perBoot(g.getValue())) {
                GuestSpec spec = g.getKey();
                String script = launcherScript(launcher, classpath, group);
                String name = "guest " + (++n) + " [" + group.stream().map(Class::getSimpleName).collect(Collectors.joining(", ")) + "]";
                Supplier<Stream<DynamicNode>> boot = () -> runGroup(host, spec, script, group, work);
                nodes.add(DynamicContainer.dynamicContainer(name, Stream.of(boot).flatMap(Supplier::get)));
            }
        }
        return nodes.stream();
    }

    /**
     * Classes of one spec split into boots of at most {@link #CLASSES_PER_BOOT}: each boot's timeout
     * (the spec's) then bounds a few classes, not all of them, so a slow host does not time out a
     * boot that is merely long, while a hang is still caught within one timeout.
     */
    static List<List<Class<?>>> perBoot(List<Class<?>> classes) {
        List<List<Class<?>>> boots = new ArrayList<>();
        for (int i = 0; i < classes.size(); i += CLASSES_PER_BOOT) {
            boots.add(classes.subList(i, Math.min(classes.size(), i + CLASSES_PER_BOOT)));
        }
        return boots;
    }

    /** Boots once for the group; the first node is the boot itself, then one container per class. */
    private static Stream<DynamicNode> runGroup(GuestHost host, GuestSpec spec, String script, List<Class<?>> group, Path work) {
        GuestResult r;
        List<GuestReport.Case> cases;
        try {
            r = Guest.run(host, spec, script, work);
            cases = GuestReport.read(r.outDir().resolve("reports"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the guest ran", e);
        }
        System.out.println("guest boot: " + r.elapsed().toMillis() + " ms, exit status " + r.exitStatus() + ", files in "
                + r.outDir().getParent() + "\n" + r.output());
        List<DynamicNode> nodes = new ArrayList<>();
        GuestResult result = r;
        // Launcher exit status: 0 all passed, 1 some failed (reported per case below); anything else is a broken run.
        nodes.add(DynamicTest.dynamicTest("boot and run", () -> {
            if (result.timedOut() || (result.exitStatus() != 0 && result.exitStatus() != 1) || cases.isEmpty()) {
                fail("the guest run produced no usable results: " + result.describe());
            }
            boolean anyFailed = cases.stream().anyMatch(k -> k.outcome() == GuestReport.Outcome.FAILED);
            if (result.exitStatus() == 1 && !anyFailed) {
                fail("the guest's launcher reported a failure that no test case carries (a class-level failure?): "
                        + result.describe());
            }
        }));
        for (Class<?> c : group) {
            List<GuestReport.Case> mine = cases.stream().filter(k -> k.className().equals(c.getName())).toList();
            List<DynamicNode> tests = new ArrayList<>();
            if (mine.isEmpty() && !cases.isEmpty()) {
                tests.add(DynamicTest.dynamicTest("results", () -> fail("the guest reported nothing for " + c.getName()
                        + " (class did not load or had no tests): " + result.describe())));
            }
            for (GuestReport.Case k : mine) {
                tests.add(DynamicTest.dynamicTest(k.name(), () -> replay(k, result)));
            }
            nodes.add(DynamicContainer.dynamicContainer(c.getSimpleName(), tests));
        }
        return nodes.stream();
    }

    /** Turns one guest case into this host test's outcome, with the guest's output on the host's stdout. */
    private static void replay(GuestReport.Case k, GuestResult r) {
        if (!k.output().isBlank()) {
            System.out.println(k.output());
        }
        switch (k.outcome()) {
            case PASSED -> { }
            case SKIPPED -> throw new TestAbortedException("skipped in the guest: " + k.message());
            case FAILED -> {
                String simple = k.className().substring(k.className().lastIndexOf('.') + 1);
                AssertionFailedError e = new AssertionFailedError("in the guest, " + simple + "." + k.name() + ": " + k.message()
                        + "\n--- guest stack trace ---\n" + k.detail()
                        + (k.output().isBlank() ? "" : "\n--- guest test output ---\n" + k.output())
                        + "\n--- guest files: " + r.outDir().getParent());
                e.setStackTrace(new StackTraceElement[0]); // the host's frames say nothing; the guest's are above
                throw e;
            }
        }
    }

    static String launcherScript(Path launcher, List<String> classpath, List<Class<?>> group) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(GUEST_JVM);
        cmd.add("-D" + InsideGuestCondition.PROPERTY + "=true");
        for (String p : List.of("orion.jar", "orion.guest.launcher")) {
            if (System.getProperty(p) != null) {
                cmd.add("-D" + p + "=" + System.getProperty(p));
            }
        }
        cmd.addAll(List.of("-jar", launcher.toString(), "execute", "--disable-banner", "--details=tree",
                "--details-theme=ascii", "--disable-ansi-colors", "--fail-if-no-tests",
                "--include-engine=junit-jupiter", "--include-tag=" + GuestTest.TAG,
                "--config=junit.platform.output.capture.stdout=true",
                "--config=junit.platform.output.capture.stderr=true",
                "--reports-dir=/tmp/out/reports", "--class-path=" + String.join(":", classpath)));
        for (Class<?> c : group) {
            cmd.add("--select-class=" + c.getName());
        }
        return "exec " + cmd.stream().map(GuestSuiteIT::shellQuote).collect(Collectors.joining(" ")) + "\n";
    }

    static String shellQuote(String s) {
        return s.matches("[A-Za-z0-9_./=:,+-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
    }

    static List<Class<?>> findGuestClasses(Path testClasses) throws IOException {
        List<Class<?>> found = new ArrayList<>();
        try (Stream<Path> s = Files.walk(testClasses)) {
            for (Path p : s.filter(f -> f.toString().endsWith(".class") && !f.getFileName().toString().contains("$")).sorted().toList()) {
                String rel = testClasses.relativize(p).toString();
                String name = rel.substring(0, rel.length() - ".class".length()).replace('/', '.');
                Class<?> c;
                try {
                    c = Class.forName(name, false, GuestSuiteIT.class.getClassLoader());
                } catch (ClassNotFoundException | LinkageError e) {
                    continue; // not loadable here, so not ours to run
                }
                // -Dorion.guest.only=REGEX runs just the matching classes (and so boots only their specs).
                String only = System.getProperty("orion.guest.only");
                if (c.isAnnotationPresent(GuestTest.class) && !Modifier.isAbstract(c.getModifiers())
                        && (only == null || only.isBlank() || c.getName().matches(".*(" + only + ").*"))) {
                    found.add(c);
                }
            }
        }
        return found;
    }

    static Map<GuestSpec, List<Class<?>>> groupBySpec(List<Class<?>> classes) {
        Map<GuestSpec, List<Class<?>>> groups = new LinkedHashMap<>();
        for (Class<?> c : classes) {
            Class<? extends Supplier<GuestSpec>> sc = c.getAnnotation(GuestTest.class).spec();
            GuestSpec spec;
            try {
                var ctor = sc.getDeclaredConstructor();
                ctor.setAccessible(true);
                spec = ctor.newInstance().get();
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(c.getName() + ": cannot build its guest spec with new " + sc.getName() + "()", e);
            }
            groups.computeIfAbsent(spec, k -> new ArrayList<>()).add(c);
        }
        return groups;
    }

    private static String property(String name) {
        String v = System.getProperty(name);
        if (v == null || v.isBlank()) {
            fail("system property " + name + " is not set: run guest tests through Maven (mvn verify in driver-host), "
                    + "whose failsafe configuration passes it");
        }
        return v;
    }

    private static Path pathProperty(String name) {
        Path p = Path.of(property(name));
        if (!Files.exists(p)) {
            fail(name + "=" + p + " does not exist: build with mvn verify (it is made in the package/test phases)");
        }
        return p;
    }
}
