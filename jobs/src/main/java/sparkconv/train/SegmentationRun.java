package sparkconv.train;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;

import sparkconv.SparkconvException;
import sparkconv.eval.SegmentationMetrics;
import sparkconv.eval.SparkSegmentationEvaluator;
import sparkconv.models.ModelZoo;
import sparkconv.shards.Manifest;
import sparkconv.spark.Fs;
import sparkconv.spark.SparkSessions;
import sparkconv.spark.Versions;
import sparkconv.store.ModelStore;

/**
 * Trains a segmentation graph ({@code fcn}, {@code unet}) on mask shards with {@code SparkComputationGraph} and
 * parameter averaging (the same epoch loop, checkpoints, schedule and early stopping as classification, with pixel
 * accuracy as the validation accuracy), evaluates pixel accuracy / IoU / boundary IoU on the test split and
 * publishes the version with {@code task: segmentation} in its metadata.
 */
public final class SegmentationRun {
    private SegmentationRun() {
    }

    public record Outcome(ModelStore.Version version, SegmentationMetrics test, List<EpochStats> epochs, double seconds,
                          long params) {
    }

    public static Outcome run(SparkSession spark, String shardDir, TrainOptions options, String storeUri, String name,
                              String version, Consumer<String> progress) {
        ModelStore store = new ModelStore(storeUri, spark.sparkContext().hadoopConfiguration());
        try (ModelStore.VersionClaim claim = store.claimVersion(name, version, options.control().resume())) {
            return run(spark, shardDir, options, store, name, claim.version(), progress);
        }
    }

    private static Outcome run(SparkSession spark, String shardDir, TrainOptions options, ModelStore store, String name,
                               String v, Consumer<String> progress) {
        String storeUri = store.root();
        if (!ModelZoo.isGraph(options.model())) {
            throw new SparkconvException("model '" + options.model() + "' is not a segmentation model (choose " + ModelZoo.GRAPHS + ")");
        }
        var conf = spark.sparkContext().hadoopConfiguration();
        Manifest manifest = Manifest.read(shardDir, conf);
        if (manifest.classes().isEmpty() || !"background".equals(manifest.classes().get(0))) {
            throw new SparkconvException(shardDir + ": not segmentation shards (classes do not start with 'background'; run segment-preprocess)");
        }
        ModelZoo.Input input = new ModelZoo.Input(manifest.shape().channels(), manifest.shape().height(), manifest.shape().width());
        ComputationGraphConfiguration graphConf = ModelZoo.buildGraph(options.model(), input, manifest.classes().size(), options.hyper());
        Checkpoints checkpoints = new Checkpoints(storeUri, name + "-" + v, conf);
        Checkpoints.State resumeFrom = TrainingRun.resumePoint(checkpoints, options, name, v, progress);
        ComputationGraph graph;
        if (resumeFrom != null) {
            graph = checkpoints.load(resumeFrom.epoch(), ComputationGraph.class);
        } else {
            graph = new ComputationGraph(graphConf);
            graph.init();
        }

        JavaSparkContext jsc = SparkSessions.javaContext(spark);
        SparkTrainer trainer = new SparkTrainer(jsc, progress);
        long start = System.nanoTime();
        SparkModel model = SparkModel.segmenter(jsc, graph, trainer.master(options, manifest.batchSize(), resumeFrom),
                manifest.classes(), options.collectStats());
        SparkTrainer.Trained trained = trainer.loop(model, shardDir, manifest, options, checkpoints, resumeFrom);
        double seconds = (System.nanoTime() - start) / 1e9;
        ComputationGraph result = (ComputationGraph) trained.network();
        SegmentationMetrics test = SparkSegmentationEvaluator.evaluate(jsc, result, manifest.shardUris(shardDir, "test"),
                manifest.classes(), "test");

        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("name", name);
        metadata.put("version", v);
        metadata.put("created", Instant.now().toString());
        metadata.put("task", "segmentation");
        metadata.put("model", options.model());
        metadata.put("input", Map.of("channels", input.channels(), "height", input.height(), "width", input.width()));
        metadata.put("classes", manifest.classes());
        metadata.put("normalisation", manifest.normalisation());
        metadata.put("hyperParameters", options.hyper());
        metadata.put("training", TrainingRun.trainingMetadata(spark, options, manifest, trainer.workers(options), trained, seconds));
        metadata.put("data", Map.of("shards", Fs.uri(shardDir), "manifest", manifest));
        metadata.put("versions", Versions.all());
        try {
            metadata.put("modelConfig", new ObjectMapper().readValue(graphConf.toJson(), Map.class));
        } catch (Exception e) {
            metadata.put("modelConfig", graphConf.toJson());
        }
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("test", test);
        metrics.put("epochs", trained.epochs());
        if (trained.trainingStats() != null) {
            metrics.put("sparkTrainingStats", trained.trainingStats());
            metrics.put("timeSplit", trained.timeSplit());
        }
        ModelStore.Version published = store.publish(name, v, result, metadata, metrics);
        checkpoints.delete();
        return new Outcome(published, test, trained.epochs(), seconds, result.numParams());
    }
}
