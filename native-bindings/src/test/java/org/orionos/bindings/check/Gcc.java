package org.orionos.bindings.check;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/** Finds gcc for the layout probes: missing gcc fails under {@code CI=true} and skips elsewhere. */
public final class Gcc {
    private Gcc() {
    }

    static final String INSTALL = "apt-get install gcc linux-libc-dev libnvme-dev";

    /** Absolute path of gcc on PATH; otherwise fails (CI) or aborts the test with what to install. */
    public static String require() {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        Optional<String> gcc = find(path);
        if (gcc.isPresent()) {
            return gcc.get();
        }
        String why = missing(path);
        if ("true".equals(System.getenv("CI"))) {
            Assertions.fail(why);
        }
        Assumptions.abort(why);
        throw new AssertionError(why);
    }

    /** gcc in one of the directories of a PATH-style list. */
    static Optional<String> find(String path) {
        for (String dir : path.split(File.pathSeparator)) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, "gcc");
            if (Files.isExecutable(p)) {
                return Optional.of(p.toString());
            }
        }
        return Optional.empty();
    }

    /** The skip/failure reason when gcc is missing. */
    static String missing(String path) {
        return "gcc not found on PATH (" + path + "): the layout check compiles a C probe against the "
                + "installed kernel headers; install it: " + INSTALL;
    }
}
