package sparkconv.bench;

import java.io.IOException;
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
import picocli.CommandLine.Option;

import sparkconv.data.IdxDataset;
import sparkconv.eval.SparkEvaluator;
import sparkconv.jobs.ConfDefaults;
import sparkconv.models.Hyper;
import sparkconv.models.ModelZoo;
import sparkconv.shards.Manifest;
import sparkconv.shards.Preprocess;
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
    // Options without a defaultValue here take the product's train.* default from conf/defaults.properties (main).
    @Option(names = "--model")
    String model;
    @Option(names = "--epochs", defaultValue = "4")
    int epochs;
    @Option(names = "--limit", defaultValue = "0", description = "training images (0 = all 60,000)")
    int limit;
    @Option(names = "--repeat", defaultValue = "1", description = "copies of the training split per epoch (scaling runs)")
    int repeat;
    @Option(names = "--workers")
    int workers;
    @Option(names = "--averaging-frequency")
    int averagingFrequency;
    @Option(names = "--updater")
    String updater;
    @Option(names = "--lr")
    double lr;
    @Option(names = "--lr-schedule")
    String lrSchedule;
    @Option(names = "--data", defaultValue = IdxDataset.DEBIAN_FASHION_MNIST)
    String data;
    @Option(names = "--work", defaultValue = "bench/work")
    String work;
    @Option(names = "--label", defaultValue = "")
    String label;
    @Option(names = "--momentum")
    double momentum;
    @Option(names = "--l2")
    double l2;
    @Option(names = "--seed")
    long seed;
    @Option(names = "--prefetch")
    int prefetch;
    @Option(names = "--stats", description = "collect Spark training statistics and print where the time went (stderr)")
    boolean stats;

    public static void main(String[] args) {
        ConfDefaults train = new ConfDefaults();
        System.exit(new CommandLine(new TrainBench()).setDefaultValueProvider(arg ->
                arg instanceof CommandLine.Model.OptionSpec o && o.defaultValue() == null ? train.value("train", o.longestName()) : null)
                .execute(args));
    }

    @Override
    public Integer call() throws Exception {
        SparkSession spark = SparkSessions.getOrCreate(Map.of("spark.master", mode.equals("spark") ? master : "local[1]",
                "spark.ui.enabled", "false", "spark.app.name", "sparkconv train-bench"));
        String shards = Fs.uri(work) + "/shards-fashion-mnist-" + (limit == 0 ? "all" : limit);
        Manifest manifest = Preprocess.idx(spark, data, "fashion-mnist", IdxDataset.FASHION_CLASSES, shards, 64,
                limit == 0 ? 5000 : limit / 10, limit, false).manifest();
        Hyper hyper = new Hyper(updater, lr, momentum, l2, seed);
        LrSchedule schedule = LrSchedule.parse(lrSchedule);
        ModelZoo.Input input = new ModelZoo.Input(1, 28, 28);
        MultiLayerNetwork net = new MultiLayerNetwork(ModelZoo.build(model, input, 10, hyper));
        net.init();

        List<Map<String, Object>> perEpoch = new ArrayList<>();
        double testAccuracy;
        if (mode.equals("single")) {
            List<DataSet> train = load(manifest.shardUris(shards, "train"));
            List<DataSet> validation = load(manifest.shardUris(shards, "validation"));
            Random rng = new Random(42);
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
                for (DataSet ds : order) {
                    net.fit(ds);
                    examples += ds.numExamples();
                }
                double secs = (System.nanoTime() - start) / 1e9;
                perEpoch.add(epochRow(epoch, examples, secs, cpuSeconds() - cpuStart, accuracy(net, validation)));
            }
            testAccuracy = accuracy(net, load(manifest.shardUris(shards, "test")));
        } else {
            if (repeat > 1) {
                manifest = withTrainPaths(manifest, repeat);
            }
            TrainOptions options = new TrainOptions(model, epochs, workers, averagingFrequency, prefetch, hyper, stats,
                    new TrainControl(schedule, 0, false));
            // CPU seconds of an epoch's training: from the previous epoch's "done" line (after its validation) to this
            // epoch's 100% progress line (before its validation). In local mode the executors are this JVM.
            List<Double> epochCpu = new ArrayList<>();
            double[] lastDone = {cpuSeconds()};
            SparkTrainer.Result result = new SparkTrainer(SparkSessions.javaContext(spark), line -> {
                if (line.contains("100%")) {
                    epochCpu.add(cpuSeconds() - lastDone[0]);
                } else if (line.contains(" done: ")) {
                    lastDone[0] = cpuSeconds();
                }
            }).train(net, shards, manifest, options);
            result.timeSplit().values().forEach(e -> System.err.printf("time split %-45s %6d events %8d ms%n",
                    e.name(), e.events(), e.totalMs()));
            for (EpochStats e : result.epochs()) {
                perEpoch.add(epochRow(e.epoch(), e.examples(), e.seconds(), epochCpu.get(e.epoch() - 1), e.validationAccuracy()));
            }
            testAccuracy = SparkEvaluator.evaluate(SparkSessions.javaContext(spark), result.network(), shards, manifest, "test").accuracy();
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("bench", "train");
        out.put("label", label);
        out.put("model", model);
        out.put("mode", mode);
        out.put("master", mode.equals("spark") ? master : "single-jvm");
        out.put("threads", System.getenv().getOrDefault("OMP_NUM_THREADS", "?"));
        out.put("updater", updater);
        out.put("averagingFrequency", averagingFrequency);
        out.put("repeat", repeat);
        out.put("epochs", perEpoch);
        out.put("testAccuracy", testAccuracy);
        System.out.println("BENCH " + new ObjectMapper().writeValueAsString(out));
        spark.stop();
        return 0;
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

    private static List<DataSet> load(List<String> uris) throws IOException {
        List<DataSet> out = new ArrayList<>();
        for (String uri : uris) {
            out.add(ShardFiles.read(uri));
        }
        return out;
    }
}
