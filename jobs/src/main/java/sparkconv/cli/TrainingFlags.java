package sparkconv.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import sparkconv.models.Hyper;
import sparkconv.models.TrainingDefaults;
import sparkconv.spark.WorkerThreads;
import sparkconv.train.AveragingPolicy;
import sparkconv.train.LrSchedule;
import sparkconv.train.TrainControl;
import sparkconv.train.TrainOptions;

/**
 * Training flags shared by {@code train}, {@code quickstart} and the training benchmark. Precedence for each setting:
 * the flag when given on the command line (a pipeline stage's args are flags too) &gt; the model's own
 * {@link TrainingDefaults} &gt; the command's default (the value picocli filled in from conf/).
 */
public final class TrainingFlags {
    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    @Option(names = "--model", description = "model from the zoo (see describe; default ${DEFAULT-VALUE})")
    String model;

    @Option(names = "--epochs", description = "training epochs (default: the model's, see describe; else ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--workers", description = "parameter-averaging workers; 0 = one per Spark task slot (default ${DEFAULT-VALUE})")
    int workers;

    @Option(names = "--averaging-frequency", description = "minibatches each worker fits between averaging rounds (default ${DEFAULT-VALUE})")
    int averagingFrequency;

    @Option(names = "--averaging-policy", description = "how the learning rate and averaging follow the workers W: local (as set), "
            + "linear[:E] (lr x W, warmed up over E epochs), sqrt[:E] (lr x sqrt W), post-local[:E] (linear, averaging every "
            + "minibatch during the warm-up), slowmo[:B] (an outer momentum step after each average, B default 1 - 1/sqrt W), "
            + "slowmo-reset[:B] (the same, the workers' momentum reset every round, B default 1 - 1/W), sync[:b] (each "
            + "minibatch cut among the workers, averaged after every one: one JVM's steps, down to b examples per worker, "
            + "default 8) (default ${DEFAULT-VALUE})")
    String averagingPolicy;

    @Option(names = "--threads-per-worker", paramLabel = "T", description = "cores and OpenMP threads per worker: sets "
            + "spark.task.cpus and the executors' OMP_NUM_THREADS to T (default: one, a worker per core; more only where memory "
            + "limits the workers: docs/scaling.md, \"Threads or workers\")")
    Integer threadsPerWorker;

    @Option(names = "--prefetch", description = "minibatches each worker prefetches (default ${DEFAULT-VALUE})")
    int prefetch;

    @Option(names = "--updater", description = "nesterovs, adam or sgd (default: the model's, see describe; else ${DEFAULT-VALUE})")
    String updater;

    @Option(names = "--lr", description = "learning rate (default: the model's, see describe; else ${DEFAULT-VALUE})")
    double learningRate;

    @Option(names = "--momentum", description = "momentum for nesterovs (default: the model's, see describe; else ${DEFAULT-VALUE})")
    double momentum;

    @Option(names = "--l2", description = "L2 weight decay (default: the model's, see describe; else ${DEFAULT-VALUE})")
    double l2;

    @Option(names = "--seed", description = "random seed for weights and data order (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--stats", description = "collect Spark training statistics (timings of fit, broadcast, aggregation; rounds then run on "
            + "dl4j-spark's own worker, which builds the network every round)")
    boolean stats;

    @Option(names = "--lr-schedule", description = "learning rate per epoch: constant, step:N:F (x F every N epochs), exp:G, cosine[:M] (default: the model's, see describe; else ${DEFAULT-VALUE})")
    String lrSchedule;

    @Option(names = "--patience", defaultValue = "0",
            description = "early stopping: stop after N epochs without a better validation figure (--stop-on) and keep the best epoch (0 = off; default: the model's, see describe)")
    int patience;

    @Option(names = "--stop-on", defaultValue = "accuracy",
            description = "what early stopping watches: accuracy or loss (validation; default: the model's, else ${DEFAULT-VALUE})")
    String stopOn;

    @Option(names = "--resume", description = "continue the run from its last complete checkpoint in <store>/checkpoints/<name>-<version>")
    boolean resume;

    public TrainOptions toTrainOptions() {
        TrainingDefaults d = TrainingDefaults.of(model);
        Hyper hyper = new Hyper(pick("--updater", updater, d.updater()), pick("--lr", learningRate, d.learningRate()),
                pick("--momentum", momentum, d.momentum()), pick("--l2", l2, d.l2()), seed);
        return TrainOptions.builder(model, hyper).epochs(pick("--epochs", epochs, d.epochs())).workers(workers)
                .averagingFrequency(averagingFrequency).prefetch(prefetch).collectStats(stats)
                .control(new TrainControl(LrSchedule.parse(pick("--lr-schedule", lrSchedule, d.lrSchedule())),
                        pick("--patience", patience, d.patience()), resume, pick("--stop-on", stopOn, d.stopOn())))
                .policy(AveragingPolicy.parse(averagingPolicy)).build();
    }

    /** The Spark settings of {@code --threads-per-worker}, when given (else the session's own). */
    public java.util.Map<String, String> sparkSettings() {
        return threadsPerWorker == null ? java.util.Map.of() : WorkerThreads.settings(threadsPerWorker);
    }

    /** The flag's value when it was given, else the model's default when it has one, else the command's default. */
    private <T> T pick(String option, T value, T modelDefault) {
        boolean given = command == null || command.commandLine() == null
                || command.commandLine().getParseResult() == null
                || command.commandLine().getParseResult().hasMatchedOption(option);
        return given || modelDefault == null ? value : modelDefault;
    }
}
