package sparkconv.eval;

import java.util.List;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Evaluates a segmentation graph on shard files on the executors: each partition rebuilds the graph from the
 * broadcast configuration and a private copy of the parameters (see {@link SparkLoss} for why a copy), predicts
 * the arg-max class per pixel and accumulates {@link SegmentationMetrics.Counts}, which are merged on the driver.
 */
public final class SparkSegmentationEvaluator {
    private SparkSegmentationEvaluator() {
    }

    public static SegmentationMetrics evaluate(JavaSparkContext jsc, ComputationGraph graph, List<String> paths,
                                               List<String> classes, String split) {
        String json = graph.getConfiguration().toJson();
        int k = classes.size();
        Broadcast<INDArray> params = jsc.broadcast(graph.params().dup());
        try {
            SegmentationMetrics.Counts counts = SparkEvaluator.shards(jsc, paths).mapPartitions(it -> {
                SegmentationMetrics.Counts local = new SegmentationMetrics.Counts(k);
                if (!it.hasNext()) {
                    return List.of(local).iterator();
                }
                ComputationGraph g = (ComputationGraph) SparkLoss.rebuild(true, json, params.value());
                while (it.hasNext()) {
                    DataSet ds = it.next();
                    add(local, ds.getLabels(), g.outputSingle(false, ds.getFeatures()));
                }
                return List.of(local).iterator();
            }).reduce(SegmentationMetrics.Counts::merge);
            return SegmentationMetrics.of(split, counts, classes);
        } finally {
            params.unpersist();
        }
    }

    /** Adds a minibatch: labels and predictions N x classes x H x W. */
    static void add(SegmentationMetrics.Counts counts, INDArray labels, INDArray predictions) {
        int n = (int) labels.size(0);
        int h = (int) labels.size(2);
        int w = (int) labels.size(3);
        int[] truth = labels.argMax(1).reshape(n * h * w).toIntVector();
        int[] predicted = predictions.argMax(1).reshape(n * h * w).toIntVector();
        int plane = h * w;
        for (int i = 0; i < n; i++) {
            counts.add(java.util.Arrays.copyOfRange(truth, i * plane, (i + 1) * plane),
                    java.util.Arrays.copyOfRange(predicted, i * plane, (i + 1) * plane), h, w);
        }
    }
}
