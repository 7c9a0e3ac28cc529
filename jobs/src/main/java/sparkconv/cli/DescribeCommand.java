package sparkconv.cli;

import java.util.concurrent.Callable;

import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import sparkconv.models.ModelSummary;
import sparkconv.models.ModelZoo;

@Command(name = "describe", description = "Print a model's layers (kind, kernel / stride / padding, input and output shape, parameters) "
                + "from the real DL4J configuration, or a single convolution layer.",
        footer = {"", "Examples:", "  sparkconv describe --model seed-trace",
                "  sparkconv describe --model candle-cnn-60 --batch 128 --workers 2",
                "  sparkconv describe --layer --input 64x64x3 --kernel 5 --filters 32 --padding same"})
final class DescribeCommand implements Callable<Integer> {
    @picocli.CommandLine.Mixin
    HelpOption helpOption;

    @ArgGroup(exclusive = true, multiplicity = "1")
    What what;

    static final class What {
        @Option(names = "--model", description = "a zoo model: ${COMPLETION-CANDIDATES}", completionCandidates = Names.class)
        String model;

        @Option(names = "--layer", description = "describe one convolution layer (with --kernel, --filters, --input)")
        boolean layer;
    }

    @Option(names = "--input", description = "input shape HxWxC (default: the model's own, e.g. 32x32x1)")
    String input;

    @Option(names = "--classes", description = "output classes (default: the model's own, e.g. 1000 for alexnet, 10 for lenet5)")
    Integer classes;

    @Option(names = "--kernel", defaultValue = "3", description = "layer kernel size k (default ${DEFAULT-VALUE})")
    int kernel;

    @Option(names = "--filters", defaultValue = "32", description = "layer filters F (default ${DEFAULT-VALUE})")
    int filters;

    @Option(names = "--stride", defaultValue = "1", description = "layer stride s (default ${DEFAULT-VALUE})")
    int stride;

    @Option(names = "--padding", defaultValue = "valid", description = "layer padding: valid, same or a number p (default ${DEFAULT-VALUE})")
    String padding;

    @Option(names = "--batch", description = "also print the memory a training worker needs at this minibatch size, and the Spark "
            + "settings that hold it")
    Integer batch;

    @Option(names = "--workers", defaultValue = "1", description = "with --batch: workers per executor (task slots; local[W]: the JVM's) "
            + "(default ${DEFAULT-VALUE})")
    int workers;

    @Option(names = "--updater", description = "with --batch: nesterovs, adam or sgd (default: the model's, else train's)")
    String updater;

    @Option(names = "--prefetch", description = "with --batch: minibatches each worker reads ahead (default: train's)")
    Integer prefetch;

    @Option(names = "--averaging-policy", description = "with --batch: train's policy (sync cuts each minibatch among the "
            + "workers, and a worker's step holds its piece) (default: train's)")
    String averagingPolicy;

    @Override
    public Integer call() {
        // the memory options are checked (and the table made) first: bad input is one line with nothing before it
        String memory = batch == null ? "" : memoryTable();
        ModelSummary summary;
        if (what.layer) {
            summary = ModelSummary.singleConv(ModelZoo.Input.parse(input == null ? "32x32x3" : input), kernel, filters, stride, padding);
        } else {
            ModelZoo.Input in = input == null ? ModelZoo.defaultInput(what.model) : ModelZoo.Input.parse(input);
            summary = ModelZoo.describe(what.model, in, classes != null ? classes : ModelZoo.defaultClasses(what.model));
        }
        System.out.print(summary.table());
        if (!what.layer) {
            System.out.print(sparkconv.models.TrainingDefaults.of(what.model).table());
        }
        System.out.print(memory);
        return 0;
    }

    /** What {@code --batch} adds: the memory a training JVM needs and the settings that hold it. */
    private String memoryTable() {
        if (what.layer) {
            throw new sparkconv.SparkconvException("--batch needs --model (the memory of a whole network)");
        }
        if (batch < 1 || workers < 1) {
            throw new sparkconv.SparkconvException("--batch and --workers must be at least 1, got " + batch + " and " + workers);
        }
        var defaults = sparkconv.spark.SparkSessions.defaultsFile();
        String u = updater != null ? updater : java.util.Objects.requireNonNullElse(
                sparkconv.models.TrainingDefaults.of(what.model).updater(), defaults.getProperty("train.updater").trim());
        int ahead = prefetch != null ? prefetch : Integer.parseInt(defaults.getProperty("train.prefetch").trim());
        var policy = sparkconv.train.AveragingPolicy.parse(averagingPolicy != null ? averagingPolicy
                : defaults.getProperty("train.averaging-policy").trim());
        ModelZoo.Input in = input == null ? ModelZoo.defaultInput(what.model) : ModelZoo.Input.parse(input);
        var shape = MemorySizing.shape(what.model, in, classes != null ? classes : ModelZoo.defaultClasses(what.model), u);
        return MemorySizing.table(what.model, shape, u, batch, policy, workers, ahead);
    }

    static final class Names implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return ModelZoo.NAMES.iterator();
        }
    }
}
