package sparkconv.eval;

import java.util.List;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

import sparkconv.shards.Manifest;
import sparkconv.shards.ShardFiles;
import sparkconv.spark.JobDescriptions;

/** Evaluates a network on one split of a shard directory, on Spark executors (the parameters are broadcast once). */
public final class SparkEvaluator {
    private SparkEvaluator() {
    }

    public static ClassificationMetrics evaluate(JavaSparkContext jsc, MultiLayerNetwork net, String shardDir,
                                                 Manifest manifest, String split) {
        return evaluate(jsc, net, manifest.shardUris(shardDir, split), manifest.classes(), split);
    }

    /**
     * Evaluates on any list of shard files (e.g. a sample of the training split); {@code split} only names the result.
     * Each partition rebuilds the network from its configuration and a broadcast private copy of the parameters (as
     * {@link SparkLoss} does) and evaluates its shards in inference mode; the partitions' counts are merged. dl4j-spark's
     * {@code doEvaluation} broadcast the parameters through {@code Nd4j.write}, one float at a time into a growing byte
     * array, and every task read them back the same way: for AlexNet ~17 CPU-seconds per evaluation on local[2].
     */
    public static ClassificationMetrics evaluate(JavaSparkContext jsc, MultiLayerNetwork net, List<String> paths,
                                                 List<String> classes, String split) {
        String json = net.getLayerWiseConfigurations().toJson();
        int k = classes.size();
        Evaluation eval = JobDescriptions.step(jsc.sc(), "evaluate on " + paths.size() + " " + split + " shards", () -> {
            Broadcast<INDArray> params = jsc.broadcast(net.params().dup());
            try {
                return shards(jsc, paths).mapPartitions(it -> {
                    Evaluation local = new Evaluation(k);
                    if (it.hasNext()) {
                        MultiLayerNetwork m = (MultiLayerNetwork) SparkLoss.rebuild(false, json, params.value());
                        while (it.hasNext()) {
                            DataSet ds = it.next();
                            local.eval(ds.getLabels(), m.output(ds.getFeatures(), false, ds.getFeaturesMaskArray(),
                                    ds.getLabelsMaskArray()), ds.getLabelsMaskArray());
                        }
                    }
                    return List.of(local).iterator();
                }).reduce((a, b) -> {
                    a.merge(b);
                    return a;
                });
            } finally {
                params.unpersist();
            }
        });
        return ClassificationMetrics.of(split, eval, classes);
    }

    /** The DataSets of shard files, loaded on the executors. */
    public static org.apache.spark.api.java.JavaRDD<DataSet> shards(JavaSparkContext jsc, List<String> paths) {
        int slices = Math.max(1, Math.min(paths.size(), jsc.defaultParallelism() * 2));
        return jsc.parallelize(paths, slices).map(ShardFiles::read);
    }
}
