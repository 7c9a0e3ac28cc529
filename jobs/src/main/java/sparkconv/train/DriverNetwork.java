package sparkconv.train;

import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.worker.NetBroadcastTuple;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The driver's network as dl4j-spark hands it to a training master: a classifier ({@code network}) or a segmentation
 * graph ({@code graph}), the other null. Every round starts from it ({@link #roundStart}) and ends in it
 * ({@link #setAverage}).
 */
record DriverNetwork(SparkDl4jMultiLayer network, SparkComputationGraph graph) {
    Model model() {
        return network != null ? network.getNetwork() : graph.getNetwork();
    }

    boolean isGraph() {
        return network == null;
    }

    JavaSparkContext jsc() {
        return network != null ? network.getSparkContext() : graph.getSparkContext();
    }

    /** The updater state (momentum, Adam's moments) as one view array, or null for an updater without state. */
    INDArray updaterState() {
        return network != null ? network.getNetwork().getUpdater().getStateViewArray()
                : graph.getNetwork().getUpdater().getStateViewArray();
    }

    /**
     * What crosses into a round: the configuration (iteration and epoch counts and learning rates included), the
     * parameters and the updater state.
     */
    NetBroadcastTuple roundStart() {
        return network != null
                ? new NetBroadcastTuple(network.getNetwork().getLayerWiseConfigurations(), model().params(), updaterState())
                : new NetBroadcastTuple(graph.getNetwork().getConfiguration(), model().params(), updaterState());
    }

    /** The configuration as JSON (which kept networks can run a round: {@link KeptNetworkWorker#configurationKey}). */
    String configurationJson() {
        return network != null ? network.getNetwork().getLayerWiseConfigurations().toJson()
                : graph.getNetwork().getConfiguration().toJson();
    }

    /** What crosses out of a round: the workers' average parameters, updater state (or null) and score. */
    void setAverage(INDArray params, INDArray state, double score) {
        if (network != null) {
            MultiLayerNetwork net = network.getNetwork();
            net.setParameters(params.reshape(net.params().shape()));
            if (state != null) {
                net.getUpdater().setStateViewArray(null, state.reshape(net.getUpdater().getStateViewArray().shape()), false);
            }
            network.setScore(score);
        } else {
            ComputationGraph net = graph.getNetwork();
            net.setParams(params.reshape(net.params().shape()));
            if (state != null) {
                net.getUpdater().setStateViewArray(state.reshape(net.getUpdater().getStateViewArray().shape()));
            }
            graph.setScore(score);
        }
    }
}
