package sparkconv.train;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.stats.SparkTrainingStats;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;

import sparkconv.SparkconvException;
import sparkconv.shards.Manifest;
import sparkconv.shards.ShardFiles;
import sparkconv.spark.WorkerThreads;

/**
 * Data-parallel training with dl4j-spark's {@link ParameterAveragingTrainingMaster}, straight from shard paths
 * ({@code fitPaths}: executors read the minibatch files themselves; nothing is cached on the driver).
 * Each epoch is fed in chunks of whole averaging rounds (one Spark job each where the rounds can run in a barrier
 * stage) so the driver can report progress (examples/s, loss, ETA) while it runs: a chunk lasts about
 * {@link #PROGRESS_SECONDS}, and chunks end at the middle and the end of each epoch. Which minibatches a worker fits in
 * which round depends only on the epoch's shard order, not on how the epoch was cut into chunks, so the timing-driven
 * chunking trains the same model from the same seed ({@link RoundLayout} holds that rule). Per epoch: the schedule's
 * rate, the {@link AveragingPolicy}'s plan for each half epoch given the number of workers ({@link RoundPlan}: rate,
 * averaging frequency, outer step), the rounds ({@link #trainEpoch}; how a round runs is {@link Rounds}'), validation,
 * a checkpoint and early stopping.
 */
public final class SparkTrainer {
    /**
     * About how often progress is reported, in seconds (the chunk's length). A chunk is one Spark job: ~50-100 ms of
     * scheduling and broadcast, ~5% of a LeNet-5 epoch on {@code local[2]} at 8 chunks per epoch.
     */
    static final double PROGRESS_SECONDS = 10;
    /** The local property {@code setJobDescription} sets (the Spark UI's job description). */
    static final String JOB_DESCRIPTION = "spark.job.description";

    private final JavaSparkContext jsc;
    private final Consumer<String> progress;
    private final double progressSeconds;
    /** The last chunk's pace (NaN until a chunk of full rounds ran at the current frequency: an eighth of an epoch). */
    private double secondsPerRound = Double.NaN;

    public SparkTrainer(JavaSparkContext jsc, Consumer<String> progress) {
        this(jsc, progress, PROGRESS_SECONDS);
    }

    /** Progress about every {@code progressSeconds} (0: after every averaging round). */
    SparkTrainer(JavaSparkContext jsc, Consumer<String> progress, double progressSeconds) {
        this.jsc = jsc;
        this.progress = progress;
        this.progressSeconds = progressSeconds;
    }

    /**
     * {@code network} is the best epoch's model when early stopping chose one ({@code bestEpoch}), else the last;
     * {@code startEpoch} is 1 unless the run resumed from a checkpoint.
     */
    public record Result(MultiLayerNetwork network, List<EpochStats> epochs, int workers, String trainingStats,
                         Map<String, TrainingTimes.Entry> timeSplit, int startEpoch, int bestEpoch, boolean stoppedEarly) {
    }

    /** What the generic loop produced; {@link #train} narrows it to a MultiLayerNetwork. */
    public record Trained(Model network, List<EpochStats> epochs, String trainingStats, Map<String, TrainingTimes.Entry> timeSplit,
                          int startEpoch, int bestEpoch, boolean stoppedEarly) {
    }

    public Result train(MultiLayerNetwork net, String shardDir, Manifest manifest, TrainOptions options) {
        return train(net, shardDir, manifest, options, null, null);
    }

    /** With checkpoints after every epoch; {@code resumeFrom} (with its network in {@code net}) continues a run. */
    public Result train(MultiLayerNetwork net, String shardDir, Manifest manifest, TrainOptions options,
                        Checkpoints checkpoints, Checkpoints.State resumeFrom) {
        int workers = workers(options);
        SparkModel model = SparkModel.classifier(jsc, net, master(options, manifest.batchSize()),
                manifest.classes(), options.collectStats());
        Trained t = loop(model, shardDir, manifest, options, checkpoints, resumeFrom);
        return new Result((MultiLayerNetwork) t.network(), t.epochs(), workers, t.trainingStats(), t.timeSplit(), t.startEpoch(),
                t.bestEpoch(), t.stoppedEarly());
    }

    public int workers(TrainOptions options) {
        return options.workers() > 0 ? options.workers() : WorkerThreads.slots(jsc);
    }

    /**
     * The averaging master. Its RNG (dl4j-spark's random split of a fit into rounds, used with {@code --stats} only) is
     * seeded afresh for every fit from the seed, the epoch and the fit's first round, so a resumed run draws what the
     * uninterrupted one drew.
     */
    public AveragingMaster master(TrainOptions options, int batchSize) {
        return new AveragingMaster(new ParameterAveragingTrainingMaster.Builder(workers(options), batchSize)
                .batchSizePerWorker(batchSize)
                .averagingFrequency(options.averagingFrequency())
                .workerPrefetchNumBatches(options.prefetch())
                // The paths RDD already has one equal partition per worker (see loop), and dl4j-spark's balanced split
                // keeps each round's share per partition equal to within one shard. Its default (Always) costs a
                // counting job and a shuffle in every averaging round, and on a cluster that shuffle's read order
                // depends on which executor's blocks arrive first: the same seed trained different models
                // (TrainingDeterminismTest checks that training runs no shuffle).
                .repartionData(Repartition.Never)
                // The updater state (momentum, Adam's moments) must cross every round: the builder leaves this false
                // (no initialiser, whatever its javadoc says), and then every round restarted from zero state.
                .saveUpdater(true)
                .collectTrainingStats(options.collectStats()), options.hyper().seed());
    }

    /**
     * The epoch loop shared by classification and segmentation: per epoch, the schedule's rate and the epoch's shard
     * order, the epoch's rounds ({@link #trainEpoch}), validation, a progress line, a checkpoint and early stopping.
     */
    public Trained loop(SparkModel model, String shardDir, Manifest manifest, TrainOptions options,
                        Checkpoints checkpoints, Checkpoints.State resumeFrom) {
        TrainControl control = options.control();
        Splits splits = Splits.of(shardDir, manifest, options);
        long epochExamples = manifest.splits().get("train").examples();
        secondsPerRound = Double.NaN;
        Random shuffle = new Random(options.hyper().seed());
        History history = new History(control, splits.hasValidation());
        int workers = workers(options);
        int threads = WorkerThreads.perWorker(jsc.getConf());
        int pieces = options.policy().pieces(workers, manifest.batchSize());
        progress.accept(String.format("parameter averaging: %d %s x %d OpenMP %s, policy %s, %s", workers,
                workers == 1 ? "worker" : "workers", threads, threads == 1 ? "thread" : "threads", options.policy(),
                pieces > 1 ? String.format("every minibatch of %d, cut into %d pieces of %d", manifest.batchSize(), pieces,
                        manifest.batchSize() / pieces)
                        : options.policy().frequency(options.averagingFrequency(), Integer.MAX_VALUE) == 1 ? "every minibatch"
                        : "every " + options.averagingFrequency() + " minibatches"));
        if (pieces > 1 && options.collectStats()) {
            progress.accept("--stats: dl4j-spark's own rounds split each epoch at random, so a shard's pieces fall in "
                    + "different rounds (not one JVM's steps, as without --stats)");
        }
        int startEpoch = 1;
        if (resumeFrom != null) {
            startEpoch = resume(model, resumeFrom, checkpoints, history, splits, shuffle, options);
        }
        boolean stoppedEarly = false;
        for (int epoch = startEpoch; epoch <= options.epochs(); epoch++) {
            double scheduled = control.schedule().rate(options.hyper().learningRate(), epoch, options.epochs());
            List<String> order = new ArrayList<>(splits.train());
            Collections.shuffle(order, shuffle);
            RoundClock.Totals roundsBefore = model.rounds();
            long start = System.nanoTime();
            double rate = trainEpoch(model, options, epoch, scheduled, order, splits.examples(), manifest.batchSize(),
                    epochExamples);
            model.endEpoch();
            double secs = (System.nanoTime() - start) / 1e9;
            double valAcc = splits.hasValidation() ? model.accuracy(splits.validation()) : Double.NaN;
            double valLoss = splits.hasValidation() ? model.loss(splits.validation()) : Double.NaN;
            double trainAcc = model.accuracy(splits.trainSample());
            EpochStats stats = new EpochStats(epoch, epochExamples, secs, epochExamples / secs, model.score(), valAcc,
                    trainAcc, valLoss, rate);
            history.add(stats, model);
            RoundClock.Totals rounds = model.rounds().since(roundsBefore);
            progress.accept(String.format("epoch %d/%d done: loss %.4f, lr %.3g, %,.0f ex/s, %.1f s, train accuracy %.4f%s%s",
                    epoch, options.epochs(), stats.loss(), rate, stats.examplesPerSecond(), secs, trainAcc,
                    splits.hasValidation() ? String.format(", validation accuracy %.4f, loss %.4f", valAcc, valLoss) : "",
                    rounds.workerRounds() > 0 ? "; a round: " + rounds.perRound() : ""));
            if (checkpoints != null) {
                checkpoints.save(new Checkpoints.State(checkpoints.runDir().getName(), options.model(),
                        options.hyper().seed(), epoch, history.epochs(), history.bestEpoch(), history.bestValidationAccuracy()),
                        model.network(), model.master().velocity());
                progress.accept("checkpoint epoch " + epoch + " -> " + checkpoints.runDir());
            }
            if (history.patienceRanOut(epoch) && epoch < options.epochs()) {
                EpochStats kept = history.epochs().get(history.bestEpoch() - 1);
                progress.accept(String.format("early stopping after epoch %d: no better validation %s for %d epochs; "
                        + "keeping epoch %d (validation accuracy %.4f, loss %.4f)", epoch, control.stopOn(), control.patience(),
                        history.bestEpoch(), kept.validationAccuracy(), kept.validationLoss()));
                stoppedEarly = true;
                break;
            }
        }
        // Executors in this JVM (local mode) need their kept networks no more; a cluster's drop theirs when idle.
        KeptNetworkWorker.release();
        SparkTrainingStats stats = model.stats();
        return new Trained(history.result(model), history.epochs(), stats == null ? null : stats.statsAsString(),
                stats == null ? Map.of() : TrainingTimes.of(stats), startEpoch,
                control.patience() > 0 ? history.bestEpoch() : 0, stoppedEarly);
    }

    /**
     * The shard paths an epoch uses: the training split and its shards' examples; the validation split (possibly
     * empty); and a fixed sample of training shards as large as the validation split, for a training accuracy that is
     * cheap and comparable across epochs.
     */
    private record Splits(List<String> train, Map<String, Integer> examples, List<String> validation,
                          List<String> trainSample) {
        static Splits of(String shardDir, Manifest manifest, TrainOptions options) {
            List<String> train = manifest.shardUris(shardDir, "train");
            Map<String, Integer> examples = new java.util.HashMap<>();
            for (int i = 0; i < train.size(); i++) {
                examples.put(train.get(i), manifest.splits().get("train").shards().get(i).examples());
            }
            boolean hasValidation = manifest.splits().containsKey("validation")
                    && !manifest.splits().get("validation").shards().isEmpty();
            if (options.control().patience() > 0 && !hasValidation) {
                throw new SparkconvException(shardDir + ": early stopping (--patience) needs a validation split (preprocess --validation N, or nifty render --validation F), or --patience 0");
            }
            List<String> validation = hasValidation ? manifest.shardUris(shardDir, "validation") : List.of();
            List<String> sample = new ArrayList<>(train);
            Collections.shuffle(sample, new Random(options.hyper().seed() ^ 0x5eed));
            return new Splits(train, examples, validation, sample.subList(0, Math.min(sample.size(), Math.max(1, validation.size()))));
        }

        boolean hasValidation() {
            return !validation.isEmpty();
        }
    }

    /**
     * The epochs so far and the best by the control's validation figure; with early stopping on, a copy of the best
     * epoch's network (the run's result).
     */
    private static final class History {
        private final TrainControl control;
        private final boolean validated;
        private final List<EpochStats> epochs = new ArrayList<>();
        private int bestEpoch;
        private double bestMerit = Double.NEGATIVE_INFINITY;
        private Model best;

        History(TrainControl control, boolean validated) {
            this.control = control;
            this.validated = validated;
        }

        void add(EpochStats stats, SparkModel model) {
            epochs.add(stats);
            // A loss "gain" below float noise is no gain (else an unchanged model never stops).
            if (validated && control.merit(stats) > bestMerit + 1e-6) {
                bestMerit = control.merit(stats);
                bestEpoch = stats.epoch();
                if (control.patience() > 0) {
                    best = model.copy();
                }
            }
        }

        /** A checkpoint's history, and its best epoch's network: {@code best}, or the resumed network if that is it. */
        void resume(Checkpoints.State state, Model bestNetwork) {
            epochs.addAll(state.history());
            bestEpoch = state.bestEpoch();
            bestMerit = bestEpoch > 0 ? control.merit(epochs.get(bestEpoch - 1)) : Double.NEGATIVE_INFINITY;
            best = bestNetwork;
        }

        List<EpochStats> epochs() {
            return epochs;
        }

        int bestEpoch() {
            return bestEpoch;
        }

        double bestValidationAccuracy() {
            return bestEpoch > 0 ? epochs.get(bestEpoch - 1).validationAccuracy() : Double.NaN;
        }

        boolean patienceRanOut(int epoch) {
            return control.patience() > 0 && bestEpoch > 0 && epoch - bestEpoch >= control.patience();
        }

        /** The best epoch's network with early stopping on, else the last. */
        Model result(SparkModel model) {
            return control.patience() > 0 && best != null ? best : model.network();
        }
    }

    /**
     * Continues a run from its checkpoint {@code from} (whose network {@code model} holds): its history, best epoch and
     * outer-step velocity, and the completed epochs' shard orders drawn again so the data order continues where it
     * stopped. Returns the first epoch to train.
     */
    private int resume(SparkModel model, Checkpoints.State from, Checkpoints checkpoints, History history, Splits splits,
                       Random shuffle, TrainOptions options) {
        int bestEpoch = from.bestEpoch();
        Model best = null;
        if (bestEpoch > 0 && bestEpoch != from.epoch() && checkpoints != null) {
            best = checkpoints.load(bestEpoch, model.network().getClass());
        } else if (bestEpoch > 0) {
            best = model.copy();
        }
        history.resume(from, best);
        if (checkpoints != null) {
            model.master().resumeVelocity(checkpoints.velocity(from.epoch()));
        }
        for (int e = 1; e <= from.epoch(); e++) {
            Collections.shuffle(new ArrayList<>(splits.train()), shuffle);
        }
        progress.accept(String.format("resuming at epoch %d/%d from %s", from.epoch() + 1, options.epochs(),
                checkpoints == null ? "a checkpoint" : checkpoints.runDir()));
        return from.epoch() + 1;
    }

    /**
     * One epoch's averaging rounds over {@code order} (the epoch's shard order), in chunks of whole rounds: the
     * averaging policy's plan for each half epoch ({@link RoundPlan}: chunks always end at the middle round), the
     * rounds laid out by {@link RoundLayout} and run by {@link Rounds}, a progress line after each chunk. Returns the
     * rate in force at the epoch's end.
     */
    private double trainEpoch(SparkModel model, TrainOptions options, int epoch, double scheduled, List<String> order,
                              Map<String, Integer> shardExamples, int batchSize, long epochExamples) {
        int workers = workers(options);
        RoundPlan plan = options.policy().plan(workers, batchSize, epoch, 0, scheduled, options.averagingFrequency());
        follow(model, plan);
        order = pieces(order, shardExamples, plan.pieces());
        RoundLayout layout = new RoundLayout(workers, plan.frequency(), order.size());
        if (layout.frequency() != model.averagingFrequency()) {
            model.setAveragingFrequency(layout.frequency());
            secondsPerRound = Double.NaN; // rounds of another length
        }
        int fullRounds = layout.fullRounds() * layout.roundShards();
        String epochLabel = String.format("train %s epoch %d/%d", options.model(), epoch, options.epochs());
        long start = System.nanoTime();
        for (int from = 0; from < order.size(); ) {
            int firstRound = from / layout.roundShards();
            if (firstRound == layout.middle() && firstRound > 0) {
                plan = options.policy().plan(workers, batchSize, epoch, 1, scheduled, options.averagingFrequency());
                follow(model, plan);
            }
            boolean full = from < fullRounds; // else the epoch's short last round
            int chunkRounds = full ? chunkRounds(firstRound, layout, secondsPerRound) : layout.rounds() - firstRound;
            int to = Math.min(order.size(), from + chunkRounds * layout.roundShards());
            List<String> chunk = full ? layout.byWorker(order.subList(from, to)) : order.subList(from, to);
            int partitions = Math.min(workers, chunk.size());
            long chunkStart = System.nanoTime();
            // The description of the command's jobs (if any) comes back after the chunk.
            String before = jsc.getLocalProperty(JOB_DESCRIPTION);
            jsc.setJobDescription(String.format("%s rounds %d-%d/%d", epochLabel, firstRound + 1,
                    firstRound + chunkRounds, layout.rounds()));
            model.nextFit(chunk.size(), epochLabel, epoch, firstRound + 1, layout.rounds());
            try {
                model.fitPaths(jsc.parallelize(chunk, partitions),
                        full ? chunk.size() / workers : (chunk.size() + partitions - 1) / partitions);
            } finally {
                jsc.setLocalProperty(JOB_DESCRIPTION, before);
            }
            if (full) {
                secondsPerRound = (System.nanoTime() - chunkStart) / 1e9 / chunkRounds;
            }
            from = to;
            // Every shard is a full minibatch except possibly one; the epoch's end is exact.
            long done = to >= order.size() ? epochExamples : Math.min(epochExamples, (long) to * batchSize / plan.pieces());
            double exPerSec = done / ((System.nanoTime() - start) / 1e9);
            progress.accept(String.format("epoch %d/%d  %3.0f%%  %,d examples  %,.0f ex/s  loss %.4f  ETA %s",
                    epoch, options.epochs(), 100.0 * done / epochExamples, done, exPerSec, model.score(),
                    eta((epochExamples - done) / exPerSec + (options.epochs() - epoch) * epochExamples / exPerSec)));
        }
        return plan.rate();
    }

    /**
     * The epoch's minibatches: its shards in order, each cut into {@code pieces} in turn ({@link ShardFiles#piece}), so
     * that a round of {@code W} pieces ({@code F = 1}) is {@code W / pieces} consecutive shards, one piece per worker.
     * A piece of a short shard that would hold no example is left out (the rounds after it then straddle two shards).
     */
    static List<String> pieces(List<String> shards, Map<String, Integer> examples, int pieces) {
        if (pieces == 1) {
            return shards;
        }
        List<String> cut = new ArrayList<>(shards.size() * pieces);
        for (String shard : shards) {
            for (int k = 0; k < pieces; k++) {
                if (ShardFiles.pieceHoldsExamples(k, pieces, examples.get(shard))) {
                    cut.add(ShardFiles.piece(shard, k, pieces));
                }
            }
        }
        return cut;
    }

    /** The workers' rate and the rounds' outer step from now on, from {@code plan}. */
    private static void follow(SparkModel model, RoundPlan plan) {
        model.setLearningRate(plan.rate());
        model.master().nextPlan(plan);
    }

    /**
     * The next chunk's full rounds from {@code firstRound}: about {@code progressSeconds} at {@code secondsPerRound}
     * (unknown: an eighth of the epoch), ending at the epoch's middle (a progress line at half an epoch, where the
     * averaging policy may change the rate) or its last full round.
     */
    int chunkRounds(int firstRound, RoundLayout layout, double secondsPerRound) {
        int end = firstRound < layout.middle() ? layout.middle() : layout.fullRounds();
        int rounds = Double.isNaN(secondsPerRound) ? (layout.fullRounds() + 7) / 8 : (int) (progressSeconds / secondsPerRound);
        return Math.max(1, Math.min(end - firstRound, rounds));
    }

    private static String eta(double seconds) {
        long s = Math.round(seconds);
        return s >= 60 ? String.format("%dm%02ds", s / 60, s % 60) : s + "s";
    }
}
