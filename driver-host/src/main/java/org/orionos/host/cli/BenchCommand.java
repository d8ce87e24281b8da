package org.orionos.host.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code orion bench}: engine benchmarks; each prints progress and a final {@code key=value} line. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks of Orion's engines.",
        subcommands = {BenchUringCommand.class, BenchBdevCommand.class})
public final class BenchCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
