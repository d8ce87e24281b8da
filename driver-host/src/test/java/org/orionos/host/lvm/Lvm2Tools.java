package org.orionos.host.lvm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Runs lvm2's tools against a fixed set of loop devices only: every command gets a
 * {@code --config} whose filters accept just those devices, with no devices file, no udev device
 * list, no backup/archive files in /etc/lvm, and {@code --driverloaded n} because this host's
 * kernel has no device-mapper (lvm2 then edits metadata without trying to activate anything).
 */
final class Lvm2Tools {

    /** The result of one command. */
    record Result(int exit, String out, String err) {
    }

    private final List<String> devices;

    Lvm2Tools(List<String> devices) {
        this.devices = List.copyOf(devices);
    }

    static boolean available() {
        return Files.isExecutable(Path.of("/sbin/lvm")) || Files.isExecutable(Path.of("/usr/sbin/lvm"));
    }

    String config() {
        StringBuilder f = new StringBuilder("[");
        for (String d : devices) {
            f.append("\"a|^").append(d).append("$|\",");
        }
        f.append("\"r|.*|\"]");
        return "devices { filter=" + f + " global_filter=" + f + " use_devicesfile=0 obtain_device_list_from_udev=0"
                + " external_device_info_source=\"none\" } backup { backup=0 archive=0 }";
    }

    /** Runs {@code lvm <command> --driverloaded n --config ... args}. */
    Result run(String command, String... args) {
        List<String> cmd = new ArrayList<>(List.of("lvm", command, "--driverloaded", "n", "--config", config()));
        cmd.addAll(List.of(args));
        return exec(cmd);
    }

    /** Runs and requires exit status 0. */
    Result ok(String command, String... args) {
        Result r = run(command, args);
        if (r.exit() != 0) {
            throw new AssertionError("lvm " + command + " " + String.join(" ", args) + " exited " + r.exit()
                    + "\nstdout: " + r.out() + "\nstderr: " + r.err());
        }
        return r;
    }

    /**
     * What lvm2 printed on stderr besides the notice that activation is off: the warnings and
     * errors it found in the metadata.
     */
    static List<String> complaints(Result r) {
        List<String> out = new ArrayList<>();
        for (String line : r.err().split("\n")) {
            String l = line.trim();
            if (!l.isEmpty() && !l.contains("Activation disabled. No device-mapper interaction will be attempted")) {
                out.add(l);
            }
        }
        return out;
    }

    /**
     * Runs a reporting command with JSON output and returns the rows of its one report section;
     * fails when lvm2 complains about anything on stderr.
     */
    List<JsonNode> report(String command, String section, String... args) {
        return report(false, command, section, args);
    }

    /** As {@link #report(String, String, String...)}, for states where lvm2 is expected to warn. */
    List<JsonNode> reportAllowingWarnings(String command, String section, String... args) {
        return report(true, command, section, args);
    }

    private List<JsonNode> report(boolean warningsExpected, String command, String section, String... args) {
        List<String> a = new ArrayList<>(List.of("--reportformat", "json", "--units", "b", "--nosuffix"));
        a.addAll(List.of(args));
        Result r = ok(command, a.toArray(String[]::new));
        if (!warningsExpected && !complaints(r).isEmpty()) {
            throw new AssertionError("lvm " + command + " complained: " + complaints(r));
        }
        try {
            JsonNode rows = new ObjectMapper().readTree(r.out()).path("report").path(0).path(section);
            List<JsonNode> out = new ArrayList<>();
            rows.forEach(out::add);
            return out;
        } catch (IOException e) {
            throw new AssertionError("lvm " + command + " printed no JSON: " + r.out(), e);
        }
    }

    static Result exec(List<String> cmd) {
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.environment().put("LVM_SUPPRESS_FD_WARNINGS", "1");
            pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            Path out = Files.createTempFile("orion-lvm-out", ".txt");
            Path err = Files.createTempFile("orion-lvm-err", ".txt");
            try {
                pb.redirectOutput(out.toFile()).redirectError(err.toFile());
                Process p = pb.start();
                if (!p.waitFor(120, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new AssertionError("timed out: " + cmd);
                }
                return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                        Files.readString(err, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new AssertionError("cannot run " + cmd, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
