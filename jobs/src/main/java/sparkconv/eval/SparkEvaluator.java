package sparkconv.eval;

import java.util.List;


import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.dataset.DataSet;

import sparkconv.shards.Manifest;
import sparkconv.shards.ShardFiles;
import sparkconv.spark.JobDescriptions;

/** Evaluates a network on one split of a shard directory, on Spark executors (the model is broadcast once). */
public final class SparkEvaluator {
    private SparkEvaluator() {
    }

    public static ClassificationMetrics evaluate(JavaSparkContext jsc, MultiLayerNetwork net, String shardDir,
                                                 Manifest manifest, String split) {
        SparkDl4jMultiLayer sparkNet = new SparkDl4jMultiLayer(jsc, net,
                new ParameterAveragingTrainingMaster.Builder(manifest.batchSize()).build());
        return evaluate(jsc, sparkNet, shardDir, manifest, split);
    }

    public static ClassificationMetrics evaluate(JavaSparkContext jsc, SparkDl4jMultiLayer sparkNet, String shardDir,
                                                 Manifest manifest, String split) {
        return evaluate(jsc, sparkNet, manifest.shardUris(shardDir, split), manifest.classes(), manifest.batchSize(), split);
    }

    /** Evaluates on any list of shard files (e.g. a sample of the training split); {@code split} only names the result. */
    public static ClassificationMetrics evaluate(JavaSparkContext jsc, SparkDl4jMultiLayer sparkNet, List<String> paths,
                                                 List<String> classes, int batchSize, String split) {
        Evaluation eval = JobDescriptions.step(jsc.sc(), "evaluate on " + paths.size() + " " + split + " shards",
                () -> sparkNet.doEvaluation(shards(jsc, paths), new Evaluation(classes.size()), batchSize));
        return ClassificationMetrics.of(split, eval, classes);
    }

    /** The DataSets of shard files, loaded on the executors. */
    public static org.apache.spark.api.java.JavaRDD<DataSet> shards(JavaSparkContext jsc, List<String> paths) {
        int slices = Math.max(1, Math.min(paths.size(), jsc.defaultParallelism() * 2));
        return jsc.parallelize(paths, slices).map(ShardFiles::read);
    }
}
