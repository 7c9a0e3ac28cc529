package sparkconv.train;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

import sparkconv.eval.ClassificationMetrics;
import sparkconv.eval.SparkEvaluator;
import sparkconv.models.ModelZoo;
import sparkconv.shards.Manifest;
import sparkconv.store.ModelStore;

/**
 * Train on a shard directory, evaluate on its test split, and publish the version to a model store with
 * its metadata (model config, data manifest, hyper-parameters, versions) and metrics.
 */
public final class TrainingRun {
    private TrainingRun() {
    }

    /** {@code test} is null when the shards have no test split (shards written from a DataFrame by sparkconv.ml). */
    public record Outcome(ModelStore.Version version, MultiLayerNetwork network, ClassificationMetrics test,
                          List<EpochStats> epochs, double seconds) {
    }

    public static Outcome run(SparkSession spark, String shardDir, TrainOptions options, String storeUri, String name,
                              String version, Consumer<String> progress) {
        var done = TrainAndPublish.run(spark, shardDir, options, storeUri, name, version, progress, new Classification(options));
        return new Outcome(done.version(), done.network(), done.test(), done.epochs(), done.seconds());
    }

    /**
     * The same for a caller that claimed the version itself ({@code claim}: sparkconv.ml's fit names its work directory
     * after the version it trains, so it claims before writing its shards).
     */
    public static Outcome run(SparkSession spark, String shardDir, TrainOptions options, ModelStore store, String name,
                              ModelStore.VersionClaim claim, Consumer<String> progress) {
        var done = TrainAndPublish.run(spark, shardDir, options, store, name, claim.version(), progress, new Classification(options));
        return new Outcome(done.version(), done.network(), done.test(), done.epochs(), done.seconds());
    }

    /** A classifier from the zoo: accuracy, per-class figures and the confusion matrix on the test split. */
    private record Classification(TrainOptions options) implements TrainAndPublish.Task<MultiLayerNetwork, ClassificationMetrics> {
        @Override
        public TrainAndPublish.Network<MultiLayerNetwork> configure(String shardDir, Manifest manifest, ModelZoo.Input input) {
            MultiLayerConfiguration conf = ModelZoo.build(options.model(), input, manifest.classes().size(), options.hyper());
            return new TrainAndPublish.Network<>(MultiLayerNetwork.class, () -> new MultiLayerNetwork(conf), conf.toJson());
        }

        @Override
        public SparkModel wrap(JavaSparkContext jsc, MultiLayerNetwork net, AveragingMaster master, Manifest manifest,
                               boolean collectStats) {
            return SparkModel.classifier(jsc, net, master, manifest.classes(), collectStats);
        }

        @Override
        public ClassificationMetrics test(JavaSparkContext jsc, MultiLayerNetwork net, String shardDir, Manifest manifest) {
            return SparkEvaluator.evaluate(jsc, net, shardDir, manifest, "test");
        }

        @Override
        public Map<String, Object> kind() {
            return Map.of();
        }
    }
}
