package sparkconv.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.dataset.DataSet;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import sparkconv.data.IdxDataset;
import sparkconv.cli.ConfDefaults;
import sparkconv.cli.TrainingFlags;
import sparkconv.models.Hyper;
import sparkconv.models.ModelZoo;
import sparkconv.shards.Manifest;
import sparkconv.preprocess.IdxPreprocess;
import sparkconv.shards.ShardFiles;
import sparkconv.spark.Fs;
import sparkconv.spark.SparkSessions;
import sparkconv.train.EpochStats;
import sparkconv.train.LrSchedule;
import sparkconv.train.TrainControl;
import sparkconv.train.SparkTrainer;
import sparkconv.train.TrainOptions;

/**
 * One training measurement, printed as one JSON line: the same model, shards, batch, optimiser and epochs either
 * single-JVM ({@code MultiLayerNetwork.fit}, threads from OMP_NUM_THREADS) or Spark parameter averaging.
 * bench/run starts one JVM per configuration so thread settings and JIT state never leak between them.
 */
@Command(name = "train-bench", mixinStandardHelpOptions = true)
public final class TrainBench implements Callable<Integer> {
    @Option(names = "--mode", required = true, description = "single or spark")
    String mode;
    @Option(names = "--master", defaultValue = "local[2]", description = "Spark master for --mode spark")
    String master;
    /**
     * The training settings are train's own flags: when not given, the model's training defaults, else the product's
     * train.* defaults from conf/defaults.properties (the same precedence as train).
     */
    @Mixin
    TrainingFlags training;
    @Option(names = "--limit", defaultValue = "0", description = "training images of --data (0 = all 60,000)")
    int limit;
    @Option(names = "--repeat", defaultValue = "1", description = "copies of the training split per epoch (scaling runs)")
    int repeat;
    @Option(names = "--batch")
    int batch;
    @Option(names = "--target", defaultValue = "0",
            description = "time to accuracy: evaluate test accuracy twice per epoch (clocks paused) and record when it first "
                    + "reaches this; training goes on to --epochs, or stops at the target once --min-epochs are done")
    double target;
    @Option(names = "--min-epochs", defaultValue = "5")
    int minEpochs;
    @Option(names = "--target-metric", defaultValue = "test-accuracy",
            description = "what --target measures: test-accuracy (reached at or above it) or train-loss, the mean loss in "
                    + "inference mode over a fixed training sample, every fourth training shard (reached at or below it; "
                    + "with --target 0 the curve is recorded and training runs all its epochs)")
    String targetMetric;
    @Option(names = "--data", defaultValue = IdxDataset.DEBIAN_FASHION_MNIST, description = "a directory of the four IDX files")
    String data;
    @Option(names = "--classes", split = ",", description = "class names of --data's labels (default: Fashion-MNIST's ten)")
    List<String> classes;
    @Option(names = "--shards", description = "train on these shards as they are (their batch, classes and splits, e.g. "
            + "nifty render's time split with its embargo) instead of preprocessing --data")
    String shardsDir;
    @Option(names = "--work", defaultValue = "bench/work")
    String work;
    @Option(names = "--label", defaultValue = "")
    String label;

    public static void main(String[] args) {
        ConfDefaults product = new ConfDefaults();
        // train's settings, and the minibatch size that preprocess writes into the shards (train cannot change it)
        System.exit(new CommandLine(new TrainBench()).setDefaultValueProvider(arg ->
                arg instanceof CommandLine.Model.OptionSpec o && o.defaultValue() == null
                        ? productDefault(product, o.longestName()) : null)
                .execute(args));
    }

    private static String productDefault(ConfDefaults product, String option) {
        String v = product.value("train", option);
        return v != null ? v : product.value("preprocess", option);
    }

    private final RoundTimes rounds = new RoundTimes();

    @Override
    public Integer call() throws Exception {
        Map<String, String> conf = new java.util.LinkedHashMap<>(mode.equals("spark") ? training.sparkSettings() : Map.of());
        conf.putAll(Map.of("spark.master", mode.equals("spark") ? master : "local[1]",
                "spark.ui.enabled", "false", "spark.app.name", "sparkconv train-bench"));
        sparkconv.spark.WorkerThreads.check(SparkSessions.conf(conf), System.getenv("OMP_NUM_THREADS"));
        SparkSession spark = SparkSessions.getOrCreate(conf);
        String shards;
        Manifest manifest;
        if (shardsDir != null) {
            if (limit > 0) {
                throw new CommandLine.ParameterException(new CommandLine(this), "--limit applies to --data, not to --shards");
            }
            shards = Fs.uri(shardsDir);
            manifest = Manifest.read(shards, spark.sparkContext().hadoopConfiguration());
            batch = manifest.batchSize();
        } else {
            boolean fashion = data.equals(IdxDataset.DEBIAN_FASHION_MNIST);
            String dataset = fashion ? "fashion-mnist" : Path.of(data).getFileName().toString();
            shards = Fs.uri(work) + "/shards-" + dataset + "-" + (limit == 0 ? "all" : limit) + (batch == 64 ? "" : "-b" + batch);
            manifest = IdxPreprocess.idx(spark, data, dataset, classes != null ? classes : IdxDataset.FASHION_CLASSES, shards,
                    batch, limit == 0 ? 5000 : limit / 10, limit, false).manifest();
        }
        List<String> classNames = manifest.classes();
        String dataset = manifest.dataset();
        TrainOptions trained = training.toTrainOptions();
        String model = trained.model();
        int epochs = trained.epochs();
        Hyper hyper = trained.hyper();
        double lr = hyper.learningRate();
        LrSchedule schedule = trained.control().schedule();
        Manifest.Shape shape = manifest.shape();
        ModelZoo.Input input = new ModelZoo.Input(shape.channels(), shape.height(), shape.width());
        MultiLayerNetwork net = new MultiLayerNetwork(ModelZoo.build(model, input, classNames.size(), hyper));
        net.init();

        List<Map<String, Object>> perEpoch = new ArrayList<>();
        List<DataSet> test = load(manifest.shardUris(shards, "test"));
        Metric metric = Metric.of(targetMetric);
        TimeToAccuracy tta = new TimeToAccuracy(net, metric, test,
                metric == Metric.TRAIN_LOSS ? trainingSample(manifest, shards) : List.of(), target, minEpochs);
        double testAccuracy;
        if (mode.equals("single")) {
            List<DataSet> train = load(manifest.shardUris(shards, "train"));
            List<DataSet> validation = load(manifest.shardUris(shards, "validation"));
            Random rng = new Random(hyper.seed());
            try {
                tta.start();
                for (int epoch = 1; epoch <= epochs; epoch++) {
                    net.setLearningRate(schedule.rate(lr, epoch, epochs));
                    List<DataSet> order = new ArrayList<>();
                    for (int r = 0; r < repeat; r++) {
                        order.addAll(train);
                    }
                    Collections.shuffle(order, rng);
                    long examples = 0;
                    long start = System.nanoTime();
                    double cpuStart = cpuSeconds();
                    double paused = tta.pausedSeconds();
                    double pausedCpu = tta.pausedCpuSeconds();
                    for (int i = 0; i < order.size(); i++) {
                        net.fit(order.get(i));
                        examples += order.get(i).numExamples();
                        if (i + 1 == order.size() / 2) {
                            tta.evaluate(epoch - 0.5);
                        }
                    }
                    double secs = (System.nanoTime() - start) / 1e9 - (tta.pausedSeconds() - paused);
                    double cpu = cpuSeconds() - cpuStart - (tta.pausedCpuSeconds() - pausedCpu);
                    tta.evaluate(epoch);
                    tta.pause();
                    perEpoch.add(epochRow(epoch, examples, secs, cpu, accuracy(net, validation)));
                    tta.resume();
                }
            } catch (TimeToAccuracy.Reached done) {
                // the target was reached after --min-epochs
            }
            testAccuracy = accuracy(net, test);
        } else {
            if (repeat > 1) {
                manifest = withTrainPaths(manifest, repeat);
            }
            // No early stopping and no resume: every configuration trains its epochs (or until --target).
            TrainOptions options = trained.withControl(new TrainControl(schedule, 0, false));
            // CPU seconds of an epoch's training: from the previous epoch's "done" line (after its validation) to this
            // epoch's 100% progress line (before its validation). In local mode the executors are this JVM.
            // With --target, the test accuracy is taken on the driver's network (updated in place after every round)
            // at the progress line that passes half the epoch and at the epoch's end; the clocks stop meanwhile and
            // while the trainer validates (from the epoch's 100% line to its "done" line).
            List<Double> epochCpu = new ArrayList<>();
            double[] lastDone = {cpuSeconds()};
            boolean[] halfDone = {false};
            // The epoch's end is the progress line with all its examples (a line just before it can round to 100%).
            java.util.regex.Pattern progress = java.util.regex.Pattern.compile("^epoch (\\d+)/\\d+\\s+(\\d+)%\\s+([\\d,]+) examples");
            long epochExamples = manifest.splits().get("train").examples();
            spark.sparkContext().addSparkListener(rounds);
            SparkTrainer trainer = new SparkTrainer(SparkSessions.javaContext(spark), line -> {
                java.util.regex.Matcher m = progress.matcher(line);
                if (m.find()) {
                    int epoch = Integer.parseInt(m.group(1));
                    if (Long.parseLong(m.group(3).replace(",", "")) >= epochExamples) {
                        epochCpu.add(cpuSeconds() - lastDone[0]);
                        tta.evaluate(epoch);
                        tta.pause();
                        halfDone[0] = false;
                    } else if (Integer.parseInt(m.group(2)) >= 45 && !halfDone[0]) {
                        // The chunk that ends at the epoch's middle round (45-51% of the epoch for W = 1..16 at
                        // averaging every 5; a chunk of ~10 s may end a little before it): its exact fraction.
                        halfDone[0] = true;
                        tta.evaluate(epoch - 1 + Math.round(1000.0 * Long.parseLong(m.group(3).replace(",", "")) / epochExamples) / 1000.0);
                    }
                } else if (line.contains(" done: ")) {
                    tta.resume();
                    lastDone[0] = cpuSeconds();
                }
            });
            try {
                tta.start();
                SparkTrainer.Result result = trainer.train(net, shards, manifest, options);
                result.timeSplit().values().forEach(e -> System.err.printf("time split %-45s %6d events %8d ms%n",
                        e.name(), e.events(), e.totalMs()));
                for (EpochStats e : result.epochs()) {
                    perEpoch.add(epochRow(e.epoch(), e.examples(), e.seconds(), epochCpu.get(e.epoch() - 1), e.validationAccuracy()));
                }
            } catch (TimeToAccuracy.Reached done) {
                // the target was reached after --min-epochs: the per-epoch rows are the evaluations below
            }
            testAccuracy = accuracy(net, test);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("bench", "train");
        out.put("label", label);
        out.put("model", model);
        out.put("data", dataset);
        out.put("mode", mode);
        out.put("master", mode.equals("spark") ? master : "single-jvm");
        out.put("threads", System.getenv().getOrDefault("OMP_NUM_THREADS", "?"));
        out.put("updater", hyper.updater());
        out.put("averagingFrequency", trained.averagingFrequency());
        out.put("averagingPolicy", trained.policy().toString());
        out.put("repeat", repeat);
        out.put("workers", mode.equals("spark") ? (trained.workers() > 0 ? trained.workers() : spark.sparkContext().defaultParallelism()) : 1);
        out.put("examplesPerEpoch", manifest.splits().get("train").examples() * repeat);
        // the arithmetic of one training step per example, from the layer shapes (describe's count): FLOP/s in the table
        Manifest.Shape in = manifest.shape();
        out.put("trainingFlopsPerExample", ModelZoo.describe(model, new ModelZoo.Input(in.channels(), in.height(), in.width()),
                manifest.classes().size()).trainingFlops());
        out.put("lr", lr);
        out.put("batch", batch);
        // each worker's minibatch (sync cuts shards among the workers; bench/project.py prices a round at its size)
        out.put("workerBatch", mode.equals("spark") ? batch / trained.policy().pieces((Integer) out.get("workers"), batch) : batch);
        out.put("seed", hyper.seed());
        out.put("lrSchedule", trained.control().schedule().toString());
        out.put("epochs", perEpoch);
        out.put("testAccuracy", testAccuracy);
        if (target > 0 || metric == Metric.TRAIN_LOSS) {
            out.put("tta", tta.summary());
        }
        Map<String, Object> roundSplit = rounds.summary(tta::pausedMillisBetween);
        if (!roundSplit.isEmpty()) {
            out.put("rounds", roundSplit);
        }
        System.out.println("BENCH " + new ObjectMapper().writeValueAsString(out));
        spark.stop();
        return 0;
    }

    /** What a run's target measures, and its key in the evaluations. */
    enum Metric {
        /** Test accuracy, reached at or above the target. */
        TEST_ACCURACY("testAccuracy"),
        /**
         * Mean loss over a fixed training sample in inference mode, reached at or below the target: an optimisation
         * target for data whose accuracy stays at chance by design (NIFTY direction), where it measures no progress.
         */
        TRAIN_LOSS("trainLoss");

        final String key;

        Metric(String key) {
            this.key = key;
        }

        static Metric of(String name) {
            return switch (name) {
                case "test-accuracy" -> TEST_ACCURACY;
                case "train-loss" -> TRAIN_LOSS;
                default -> throw new IllegalArgumentException("--target-metric must be test-accuracy or train-loss, got " + name);
            };
        }
    }

    /**
     * Time to a target (test accuracy or training loss): training wall and process CPU seconds with the clocks stopped
     * while evaluating, the metric at every evaluation, and when it first reached the target.
     */
    static final class TimeToAccuracy {
        static final class Reached extends RuntimeException {
            Reached() {
                super(null, null, false, false);
            }
        }

        private final MultiLayerNetwork net;
        private final Metric metric;
        private final List<DataSet> test;
        private final List<DataSet> trainingSample;
        private final double target;
        private final int minEpochs;
        private final List<Map<String, Object>> evaluations = new ArrayList<>();
        private long start;
        private double cpuStart;
        private double paused;
        private double pausedCpu;
        private long pauseStart = -1;
        private double pauseCpuStart;
        /** Wall-clock intervals (epoch ms, as Spark's events carry) the clocks were stopped. */
        private final List<long[]> pausedMillis = new java.util.concurrent.CopyOnWriteArrayList<>();
        private long pauseMillisStart;
        private Map<String, Object> reached;
        /**
         * The first of two evaluations in a row after the first epoch at chance level (accuracy) or not finite (loss):
         * the run diverged; or null.
         */
        private Map<String, Object> diverged;
        private Map<String, Object> atChance;

        TimeToAccuracy(MultiLayerNetwork net, Metric metric, List<DataSet> test, List<DataSet> trainingSample, double target,
                       int minEpochs) {
            this.net = net;
            this.metric = metric;
            this.test = test;
            this.trainingSample = trainingSample;
            this.target = target;
            this.minEpochs = minEpochs;
        }

        /** Starts the clocks; a training loss curve starts at the initialisation (the descent is what it measures). */
        void start() {
            start = System.nanoTime();
            cpuStart = cpuSeconds();
            if (metric == Metric.TRAIN_LOSS) {
                evaluate(0);
            }
        }

        void pause() {
            pauseStart = System.nanoTime();
            pauseMillisStart = System.currentTimeMillis();
            pauseCpuStart = cpuSeconds();
        }

        void resume() {
            if (pauseStart >= 0) {
                paused += (System.nanoTime() - pauseStart) / 1e9;
                pausedCpu += cpuSeconds() - pauseCpuStart;
                pausedMillis.add(new long[] {pauseMillisStart, System.currentTimeMillis()});
                pauseStart = -1;
            }
        }

        /** Milliseconds between {@code from} and {@code to} (epoch ms) with the clocks stopped. */
        long pausedMillisBetween(long from, long to) {
            return pausedMillis.stream().mapToLong(p -> Math.max(0, Math.min(to, p[1]) - Math.max(from, p[0]))).sum();
        }

        double pausedSeconds() {
            return paused;
        }

        double pausedCpuSeconds() {
            return pausedCpu;
        }

        /**
         * Evaluates at {@code epoch} (fractional: 2.5 is half-way through the third); throws Reached to stop. Without a
         * target only a training loss curve is worth its evaluations (it defines other runs' target).
         */
        void evaluate(double epoch) {
            if (target <= 0 && metric != Metric.TRAIN_LOSS) {
                return;
            }
            double seconds = (System.nanoTime() - start) / 1e9 - paused;
            double cpu = cpuSeconds() - cpuStart - pausedCpu;
            pause();
            double value = metric == Metric.TRAIN_LOSS ? loss(net, trainingSample) : accuracy(net, test);
            resume();
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("epoch", epoch);
            row.put("seconds", seconds);
            row.put("cpuSeconds", cpu);
            row.put(metric.key, value);
            evaluations.add(row);
            System.err.printf("tta epoch %.3f  %.1f s  %.1f CPU-s  %s %.4f%n", epoch, seconds, cpu, metric.key, value);
            boolean hit = metric == Metric.TRAIN_LOSS ? value <= target : value >= target;
            if (reached == null && target > 0 && hit) {
                reached = row;
            }
            if (reached != null && epoch >= minEpochs) {
                throw new Reached();
            }
            // Chance level (NaN weights predict one class) or a loss that is not finite, twice in a row after an epoch:
            // a diverged run never recovers, so it stops here instead of running on to --epochs.
            boolean lostNow = epoch >= 1 && (metric == Metric.TRAIN_LOSS ? !Double.isFinite(value)
                    : value <= 1.5 / test.get(0).getLabels().columns());
            if (lostNow && atChance != null) {
                diverged = atChance;
                System.err.printf("tta: diverged (%s at chance or not finite since epoch %.3f): stopping%n", metric.key,
                        atChance.get("epoch"));
                throw new Reached();
            }
            atChance = lostNow ? row : null;
        }

        Map<String, Object> summary() {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("metric", metric.key);
            out.put("target", target);
            out.put("reached", reached);
            if (diverged != null) {
                out.put("diverged", diverged.get("epoch"));
            }
            out.put("evaluations", evaluations);
            return out;
        }
    }

    /** The same shards listed {@code repeat} times: data 2x, 4x for the scaling benchmark without new files. */
    private static Manifest withTrainPaths(Manifest m, int repeat) {
        Manifest.Split train = m.splits().get("train");
        List<Manifest.Shard> shards = new ArrayList<>();
        for (int r = 0; r < repeat; r++) {
            shards.addAll(train.shards());
        }
        Map<String, Manifest.Split> splits = new LinkedHashMap<>(m.splits());
        splits.put("train", new Manifest.Split(train.examples() * repeat, train.classCounts(), shards));
        return new Manifest(m.format(), m.version(), m.dataset(), m.shape(), m.classes(), m.batchSize(), m.normalisation(),
                splits, m.sources(), m.lineage());
    }

    private static Map<String, Object> epochRow(int epoch, long examples, double secs, double cpuSecs, double validationAccuracy) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("epoch", epoch);
        row.put("examplesPerSecond", examples / secs);
        row.put("seconds", secs);
        row.put("examplesPerCpuSecond", examples / cpuSecs);
        row.put("validationAccuracy", validationAccuracy);
        return row;
    }

    /** CPU time of this whole JVM (all threads, native ones included), in seconds. */
    private static double cpuSeconds() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime() / 1e9;
    }

    private static double accuracy(MultiLayerNetwork net, List<DataSet> data) {
        Evaluation eval = new Evaluation(10);
        for (DataSet ds : data) {
            eval.eval(ds.getLabels(), net.output(ds.getFeatures()));
        }
        return eval.accuracy();
    }

    /**
     * Mean loss per example in inference mode (no dropout, batch norm's running statistics), regularisation included as
     * DL4J's score adds it.
     */
    private static double loss(MultiLayerNetwork net, List<DataSet> data) {
        double sum = 0;
        long examples = 0;
        for (DataSet ds : data) {
            sum += net.score(ds, false) * ds.numExamples();
            examples += ds.numExamples();
        }
        return sum / examples;
    }

    /** Every fourth training shard: a fixed sample spread over the whole split (in date order for time-split data). */
    private static List<DataSet> trainingSample(Manifest manifest, String shards) throws IOException {
        List<String> uris = manifest.shardUris(shards, "train");
        List<String> sample = new ArrayList<>();
        for (int i = 0; i < uris.size(); i += 4) {
            sample.add(uris.get(i));
        }
        return load(sample);
    }

    private static List<DataSet> load(List<String> uris) throws IOException {
        List<DataSet> out = new ArrayList<>();
        for (String uri : uris) {
            out.add(ShardFiles.read(uri));
        }
        return out;
    }
}
