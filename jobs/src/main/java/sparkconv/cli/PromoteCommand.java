package sparkconv.cli;

import java.util.concurrent.Callable;

import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import sparkconv.store.ModelStore;
import sparkconv.store.Promotion;

@Command(name = "promote", description = "Make a stored version the model's 'best' (an atomically replaced pointer, models/<name>/best.json).",
        footer = {"", "Exit codes: 0 promoted; " + PromoteCommand.NOT_BETTER + " not promoted because --if-better found it no better "
                + "than the current best; 2 bad input (unknown model, version or metric).",
                "", "Example:", "  sparkconv models promote --store out/store --name fashion-mnist-lenet5 --version v3 --if-better accuracy"})
final class PromoteCommand implements Callable<Integer> {
    @picocli.CommandLine.Mixin
    HelpOption helpOption;

    /** Distinct from failures (1) and input errors (2), so scripts can tell "kept the old best" apart. */
    static final int NOT_BETTER = 3;

    @Option(names = "--store", required = true, description = "model store root (any Hadoop URI)")
    String store;

    @Option(names = "--name", required = true, description = "model name")
    String name;

    @Option(names = "--version", defaultValue = "latest", description = "version to promote (default ${DEFAULT-VALUE})")
    String version;

    @Option(names = "--if-better", paramLabel = "METRIC",
            description = "promote only if this metric beats the current best: a test metric (accuracy, macroF1) "
                    + "or a dotted path in metrics.json; higher wins unless the name contains 'loss'")
    String metric;

    @Override
    public Integer call() {
        Configuration conf = new Configuration();
        Promotion.Decision d = new Promotion(new ModelStore(store, conf), conf).promote(name, version, metric);
        System.out.println(d.describe());
        return d.promoted() ? 0 : NOT_BETTER;
    }
}
