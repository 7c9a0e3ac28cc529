package sparkconv.train;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;

import sparkconv.SparkconvException;
import sparkconv.eval.SegmentationMetrics;
import sparkconv.eval.SparkSegmentationEvaluator;
import sparkconv.models.ModelZoo;
import sparkconv.shards.Manifest;
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
        if (!ModelZoo.isGraph(options.model())) {
            throw new SparkconvException("model '" + options.model() + "' is not a segmentation model (choose " + ModelZoo.GRAPHS + ")");
        }
        var done = TrainAndPublish.run(spark, shardDir, options, storeUri, name, version, progress, new Segmentation(options));
        return new Outcome(done.version(), done.test(), done.epochs(), done.seconds(), done.network().numParams());
    }

    /** A segmentation graph from the zoo on mask shards (background first): pixel accuracy and IoU on the test split. */
    private record Segmentation(TrainOptions options) implements TrainAndPublish.Task<ComputationGraph, SegmentationMetrics> {
        @Override
        public TrainAndPublish.Network<ComputationGraph> configure(String shardDir, Manifest manifest, ModelZoo.Input input) {
            if (manifest.classes().isEmpty() || !"background".equals(manifest.classes().get(0))) {
                throw new SparkconvException(shardDir + ": not segmentation shards (classes do not start with 'background'; run segment-preprocess)");
            }
            ComputationGraphConfiguration conf = ModelZoo.buildGraph(options.model(), input, manifest.classes().size(), options.hyper());
            return new TrainAndPublish.Network<>(ComputationGraph.class, () -> new ComputationGraph(conf), conf.toJson());
        }

        @Override
        public SparkModel wrap(JavaSparkContext jsc, ComputationGraph graph, AveragingMaster master, Manifest manifest,
                               boolean collectStats) {
            return SparkModel.segmenter(jsc, graph, master, manifest.classes(), collectStats);
        }

        @Override
        public SegmentationMetrics test(JavaSparkContext jsc, ComputationGraph graph, String shardDir, Manifest manifest) {
            return SparkSegmentationEvaluator.evaluate(jsc, graph, manifest.shardUris(shardDir, "test"), manifest.classes(), "test");
        }

        @Override
        public Map<String, Object> kind() {
            return Map.of("task", "segmentation");
        }
    }
}
