package sparkconv.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "nifty", mixinStandardHelpOptions = true,
        description = "Daily OHLC prices (NIFTY-50 and others) into chart-window shards: ingest CSV, render windows, evaluate, walk-forward.",
        subcommands = {NiftyIngestCommand.class, NiftyRenderCommand.class, NiftyEvaluateCommand.class, NiftyWalkForwardCommand.class})
final class NiftyCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "a subcommand is required (ingest, render, evaluate, walk-forward)");
    }
}
