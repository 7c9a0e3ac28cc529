package sparkconv.bench;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

import sparkconv.data.ImageDecoder;
import sparkconv.data.IdxDataset;
import sparkconv.models.Hyper;
import sparkconv.models.ModelZoo;
import sparkconv.score.ScoreJob;
import sparkconv.shards.Manifest;
import sparkconv.shards.ShardWriter;
import sparkconv.spark.SparkSessions;
import sparkconv.store.ModelStore;

/**
 * Scoring throughput: `score` on Spark over a folder of 28x28 PNGs (made by MakeImages) against a single-JVM loop of
 * MultiLayerNetwork.output() over the same images and batch size, with LeNet-5 (fixed seed, untrained: speed does not
 * depend on the weights). The loop is timed twice: over pre-decoded, normalised batches (output() alone, the strict
 * baseline) and with decoding in the loop (the same work as the job, minus Spark and Parquet). Each is run once to warm
 * up and once measured. Run by bench/run score. Arguments: DATA_DIR [MASTER] [BATCH]
 */
public class ScoreBench {
    static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    static final Manifest.Normalisation NORM = new Manifest.Normalisation("standardise", 1 / 255.0, 0.286, 0.353);

    public static void main(String[] args) throws Exception {
        Path folder = Path.of(args[0]).resolve("folder");
        String master = args.length > 1 ? args[1] : "local[2]";
        int batch = args.length > 2 ? Integer.parseInt(args[2]) : 64;
        SparkSession spark = SparkSessions.getOrCreate(Map.of("spark.master", master, "spark.ui.enabled", "false",
                "spark.app.name", "score-bench"));
        Path work = Files.createTempDirectory("score-bench");
        try {
            List<String> classes = classes();
            String store = work.resolve("store").toString();
            MultiLayerNetwork net = publishModel(store);

            List<byte[]> files = new ArrayList<>();
            try (var walk = Files.walk(folder)) {
                for (Path p : (Iterable<Path>) walk.filter(Files::isRegularFile).sorted()::iterator) {
                    files.add(Files.readAllBytes(p));
                }
            }
            ImageDecoder decoder = new ImageDecoder(1, 28, 28, ImageDecoder.DEFAULT_MAX_PIXELS);
            List<INDArray> batches = new ArrayList<>();
            for (int from = 0; from < files.size(); from += batch) {
                batches.add(features(files.subList(from, Math.min(files.size(), from + batch)), decoder, classes.size()));
            }
            for (String pass : new String[]{"warm-up", "measured"}) {
                long[] t = start();
                for (INDArray f : batches) {
                    net.output(f, false);
                }
                report("single-JVM output() on decoded batches, " + pass, files.size(), t);
            }
            for (String pass : new String[]{"warm-up", "measured"}) {
                long[] t = start();
                for (int from = 0; from < files.size(); from += batch) {
                    net.output(features(files.subList(from, Math.min(files.size(), from + batch)), decoder, classes.size()), false);
                }
                report("single-JVM decode + output(), " + pass, files.size(), t);
            }
            for (String pass : new String[]{"warm-up", "measured"}) {
                StageCpu stages = StageCpu.register(spark);
                double gc0 = StageCpu.gcSeconds();
                double[] driver0 = StageCpu.driverAndJit();
                long[] t = start();
                ScoreJob.Result r = ScoreJob.run(spark, new ScoreJob.Request("bench", store, folder.toString(), null,
                        work.resolve("scores-" + pass).toString(), 5, batch, false, false));
                report("score on Spark " + master + " (Parquet out), " + pass, r.images(), t);
                System.out.print(stages.report("    "));
                double[] driver = StageCpu.driverAndJit();
                System.out.printf("    %6.2f s in garbage collection, %.2f CPU-s on the driver thread, %.2f s compiling (JIT)%n",
                        StageCpu.gcSeconds() - gc0, driver[0] - driver0[0], driver[1] - driver0[1]);
                spark.sparkContext().removeSparkListener(stages);
            }
        } finally {
            try (var files = Files.walk(work)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
            spark.stop();
        }
    }

    /** The Fashion-MNIST class names as MakeImages names its class directories. */
    static List<String> classes() {
        return IdxDataset.FASHION_CLASSES.stream().map(c -> c.replaceAll("[^A-Za-z0-9]+", "-")).toList();
    }

    /** Stores an untrained LeNet-5 (fixed seed) for 28x28 grey images as "bench" v1 in {@code store}; returns it. */
    static MultiLayerNetwork publishModel(String store) {
        MultiLayerNetwork net = new MultiLayerNetwork(ModelZoo.build("lenet5", new ModelZoo.Input(1, 28, 28), classes().size(),
                new Hyper("adam", 1e-3, 0.9, 0, 42)));
        net.init();
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("name", "bench");
        meta.put("version", "v1");
        meta.put("input", Map.of("channels", 1, "height", 28, "width", 28));
        meta.put("classes", classes());
        meta.put("normalisation", NORM);
        new ModelStore(store, new Configuration()).publish("bench", "v1", net, meta, Map.of());
        return net;
    }

    static INDArray features(List<byte[]> encoded, ImageDecoder decoder, int classes) {
        byte[] px = new byte[encoded.size() * decoder.imageBytes()];
        for (int i = 0; i < encoded.size(); i++) {
            System.arraycopy(decoder.decode(encoded.get(i)), 0, px, i * decoder.imageBytes(), decoder.imageBytes());
        }
        return ShardWriter.toDataSet(px, new int[encoded.size()], 1, 28, 28, classes, NORM).getFeatures();
    }

    static long[] start() {
        return new long[]{System.nanoTime(), OS.getProcessCpuTime()};
    }

    static void report(String what, long n, long[] t) {
        double s = (System.nanoTime() - t[0]) / 1e9;
        double cpu = (OS.getProcessCpuTime() - t[1]) / 1e9;
        System.out.printf("%-62s %,7d images in %6.2f s wall = %,7.0f images/s; %6.2f CPU-s = %,7.0f images per CPU-second (load %.1f)%n",
                what, n, s, n / s, cpu, n / cpu, OS.getSystemLoadAverage());
    }
}
