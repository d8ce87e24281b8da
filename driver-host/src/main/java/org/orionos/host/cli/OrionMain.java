package org.orionos.host.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code orion} command line. */
@Command(name = "orion", mixinStandardHelpOptions = true, versionProvider = OrionMain.Version.class,
        description = "User-space storage host: io_uring, NVMe passthrough, VFIO and NBD from the JVM.",
        subcommands = {CommandLine.HelpCommand.class, ProbeCommand.class, ServeCommand.class, BenchCommand.class,
            LvmCommand.class, NvmeCommand.class, DevicesCommand.class, DetachCommand.class, StatusCommand.class})
public final class OrionMain implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured picocli command line; tests drive it directly. */
    public static CommandLine commandLine() {
        return new CommandLine(new OrionMain());
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** The build's version ("unknown" when the jar carries none). */
    static String version() {
        Properties p = new Properties();
        try (InputStream in = OrionMain.class.getResourceAsStream("/org/orionos/host/version.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            return "unknown";
        }
        return p.getProperty("version", "unknown");
    }

    /** Version from the build, plus the running JVM. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {
                "orion " + version(),
                "JVM " + Runtime.version() + " (" + System.getProperty("java.vm.vendor") + ")",
            };
        }
    }
}
