package sparkconv.eval;

import java.util.ArrayList;
import java.util.List;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Mean loss (the network's score, regularisation included) over shard files, on the executors. The parameters are
 * broadcast as a private copy: in local mode executors receive the driver's very object, and dl4j-spark M2's own
 * {@code calculateScore} released the driver's parameter buffer that way ("You can't use DataBuffer once it was
 * released" in the next averaging round).
 */
public final class SparkLoss {
    private SparkLoss() {
    }

    public static double mean(JavaSparkContext jsc, Model net, List<String> paths) {
        boolean graph = net instanceof ComputationGraph;
        String json = graph ? ((ComputationGraph) net).getConfiguration().toJson()
                : ((MultiLayerNetwork) net).getLayerWiseConfigurations().toJson();
        Broadcast<INDArray> params = jsc.broadcast(net.params().dup());
        try {
            double[] sums = SparkEvaluator.shards(jsc, paths).mapPartitions(it -> {
                Model local = rebuild(graph, json, params.value());
                double loss = 0;
                double n = 0;
                while (it.hasNext()) {
                    DataSet ds = it.next();
                    double score = graph ? ((ComputationGraph) local).score(ds) : ((MultiLayerNetwork) local).score(ds);
                    loss += score * ds.numExamples();
                    n += ds.numExamples();
                }
                List<double[]> out = new ArrayList<>();
                out.add(new double[]{loss, n});
                return out.iterator();
            }).reduce((a, b) -> new double[]{a[0] + b[0], a[1] + b[1]});
            return sums[1] == 0 ? Double.NaN : sums[0] / sums[1];
        } finally {
            params.unpersist();
        }
    }

    /** A network from its configuration JSON on a copy of {@code params}: what an executor evaluates a broadcast with. */
    static Model rebuild(boolean graph, String json, INDArray params) {
        if (graph) {
            ComputationGraph g = new ComputationGraph(ComputationGraphConfiguration.fromJson(json));
            g.init(params, true);
            return g;
        }
        MultiLayerNetwork m = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(json));
        m.init(params, true);
        return m;
    }
}
