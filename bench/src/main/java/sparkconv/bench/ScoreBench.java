package sparkconv.bench;

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
 * baseline) and with decoding in the loop (the same work as the job, minus Spark and Parquet). Each configuration runs as
 * {@link Runs}: warm-up runs, then the median of measured runs. Run by bench/run score. Arguments: DATA_DIR [MASTER] [BATCH]
 */
public class ScoreBench {
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
            Runs output = Runs.of("single-JVM output() on decoded batches", pass -> {
                for (INDArray f : batches) {
                    net.output(f, false);
                }
                return files.size();
            });
            Runs decodeOutput = Runs.of("single-JVM decode + output()", pass -> {
                for (int from = 0; from < files.size(); from += batch) {
                    net.output(features(files.subList(from, Math.min(files.size(), from + batch)), decoder, classes.size()), false);
                }
                return files.size();
            });
            Runs score = StageCpu.runs(spark, "score on Spark " + master + " (Parquet out)", pass -> ScoreJob.run(spark,
                    new ScoreJob.Request("bench", store, folder.toString(), null, work.resolve("scores-" + pass.replace(' ', '-')).toString(),
                            5, batch, false, false)).images());
            System.out.printf("Spark score / single-JVM decode + output(): %s; / output() alone on decoded batches: %.2fx%n",
                    Runs.ratio(score.median() / decodeOutput.median(), 0.9), score.median() / output.median());
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
}
