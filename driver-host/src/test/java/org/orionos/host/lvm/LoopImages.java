package org.orionos.host.lvm;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Sparse image files attached to loop devices for one test, detached and deleted by
 * {@link #close()}. Image names carry {@link #MARKER}, so {@link #detachLeftovers()} can detach
 * loops a killed earlier run left behind without touching anyone else's.
 */
final class LoopImages implements AutoCloseable {

    static final String MARKER = "orion-lvmtest-";

    private final List<Path> files = new ArrayList<>();
    private final List<String> loops = new ArrayList<>();

    static boolean available() {
        return "root".equals(System.getProperty("user.name")) && Files.exists(Path.of("/dev/loop-control"))
                && Lvm2Tools.exec(List.of("losetup", "--version")).exit() == 0;
    }

    /** Detaches loop devices backed by images of earlier runs of these tests. */
    static void detachLeftovers() {
        Lvm2Tools.Result r = Lvm2Tools.exec(List.of("losetup", "-a", "-n", "-O", "NAME,BACK-FILE"));
        for (String line : r.out().split("\n")) {
            String[] f = line.trim().split("\\s+", 2);
            if (f.length == 2 && f[1].contains(MARKER)) {
                Lvm2Tools.exec(List.of("losetup", "-d", f[0]));
            }
        }
    }

    /** Creates a sparse image of {@code bytes} in {@code dir} and attaches it; returns the loop device. */
    String attach(Path dir, long bytes) throws IOException {
        Path f = Files.createTempFile(dir, MARKER, ".img");
        files.add(f);
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(bytes);
        }
        Lvm2Tools.Result r = Lvm2Tools.exec(List.of("losetup", "-f", "--show", f.toString()));
        if (r.exit() != 0) {
            throw new IOException("losetup -f --show " + f + " failed: " + r.err());
        }
        String loop = r.out().trim();
        loops.add(loop);
        return loop;
    }

    List<String> loops() {
        return List.copyOf(loops);
    }

    @Override
    public void close() {
        for (String l : loops) {
            Lvm2Tools.exec(List.of("losetup", "-d", l));
        }
        loops.clear();
        for (Path f : files) {
            try {
                Files.deleteIfExists(f);
            } catch (IOException e) {
                // The temp directory is removed by JUnit anyway; nothing else to do here.
            }
        }
        files.clear();
    }
}
