package org.orionos.host.lvm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;

/**
 * The one writer of a VG's metadata: a running host holds this lock on every VG it has active,
 * an offline {@code orion lvm} command holds it while it runs. An fcntl lock on
 * {@code /run/orion/lvm/VG.lock}, so it goes away with the process that held it; the file names
 * the holder for the refusal message.
 */
public final class VgLock implements AutoCloseable {
    /** Where the lock files live. */
    public static final Path DIR = Path.of("/run/orion/lvm");

    private final FileChannel channel;
    private final FileLock lock;

    private VgLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes VG {@code vg}'s lock for {@code holder} (e.g. "orion serve pid 42, control socket S").
     *
     * @throws ErrnoException EBUSY naming the holder when someone else has the VG
     */
    public static VgLock acquire(String vg, String holder) {
        Path file = DIR.resolve(vg + ".lock");
        FileChannel ch = null;
        try {
            Files.createDirectories(DIR);
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock l;
            try {
                l = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                l = null; // this process holds it already (a host and a command in one JVM)
            }
            if (l == null) {
                String who = Files.readString(file, StandardCharsets.UTF_8).strip();
                ch.close();
                throw ErrnoException.withMessage(Errno.EBUSY, "lock VG " + vg, file.toString(), "VG " + vg
                        + " is in use by " + (who.isEmpty() ? "another process" : who)
                        + "; run the command against that host (--control-socket) or stop it first");
            }
            ch.truncate(0);
            ch.write(ByteBuffer.wrap((holder + "\n").getBytes(StandardCharsets.UTF_8)), 0);
            return new VgLock(ch, l);
        } catch (IOException e) {
            closeQuietly(ch);
            throw new ErrnoException(Errno.EIO, "lock VG " + vg, file.toString(), e.toString());
        }
    }

    private static void closeQuietly(FileChannel ch) {
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // nothing held
            }
        }
    }

    @Override
    public void close() {
        try {
            channel.truncate(0);
            lock.release();
        } catch (IOException ignored) {
            // the lock dies with the channel below
        }
        closeQuietly(channel);
    }
}
