package sparkconv.jobs;

import picocli.CommandLine.Option;

import sparkconv.models.Hyper;
import sparkconv.train.LrSchedule;
import sparkconv.train.TrainControl;
import sparkconv.train.TrainOptions;

/** Training flags shared by {@code train} and {@code quickstart}. */
final class TrainingOptions {
    @Option(names = "--model", description = "model from the zoo (see describe; default ${DEFAULT-VALUE})")
    String model;

    @Option(names = "--epochs", description = "training epochs (default ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--workers", description = "parameter-averaging workers; 0 = one per Spark task slot (default ${DEFAULT-VALUE})")
    int workers;

    @Option(names = "--averaging-frequency", description = "minibatches each worker fits between averaging rounds (default ${DEFAULT-VALUE})")
    int averagingFrequency;

    @Option(names = "--prefetch", description = "minibatches each worker prefetches (default ${DEFAULT-VALUE})")
    int prefetch;

    @Option(names = "--updater", description = "nesterovs, adam or sgd (default ${DEFAULT-VALUE})")
    String updater;

    @Option(names = "--lr", description = "learning rate (default ${DEFAULT-VALUE})")
    double learningRate;

    @Option(names = "--momentum", description = "momentum for nesterovs (default ${DEFAULT-VALUE})")
    double momentum;

    @Option(names = "--l2", description = "L2 weight decay (default ${DEFAULT-VALUE})")
    double l2;

    @Option(names = "--seed", description = "random seed for weights and data order (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--stats", description = "collect Spark training statistics (timings of fit, broadcast, aggregation)")
    boolean stats;

    @Option(names = "--lr-schedule", description = "learning rate per epoch: constant, step:N:F (x F every N epochs), exp:G, cosine[:M] (default ${DEFAULT-VALUE})")
    String lrSchedule;

    @Option(names = "--patience", defaultValue = "0",
            description = "early stopping: stop after N epochs without a validation-accuracy gain and keep the best epoch (0 = off)")
    int patience;

    @Option(names = "--resume", description = "continue the run from its last complete checkpoint in <store>/checkpoints/<name>-<version>")
    boolean resume;

    TrainOptions toTrainOptions() {
        return new TrainOptions(model, epochs, workers, averagingFrequency, prefetch,
                new Hyper(updater, learningRate, momentum, l2, seed), stats,
                new TrainControl(LrSchedule.parse(lrSchedule), patience, resume));
    }
}
