package sparkconv.train;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.WorkerConfiguration;
import org.deeplearning4j.spark.api.worker.NetBroadcastTuple;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingWorker;

import sparkconv.shards.ShardFiles;

/**
 * dl4j-spark's parameter averaging, with what it lacks per round: each round's Spark jobs carry a description for the
 * UI ({@code train lenet5 epoch 3/10 round 12/47}); each round's broadcast (parameters and updater state) is destroyed
 * once the round is aggregated (dl4j-spark leaves them to Spark's context cleaner, that is to the driver's next garbage
 * collection, and every executor keeps a copy of each until then); no Spark job counts the paths the driver
 * already counted; and each executor keeps its network between rounds ({@link KeptNetworkWorker}) instead of building
 * one per round. With {@code --stats} the rounds run on dl4j-spark's own worker, whose events the statistics are.
 */
public final class AveragingMaster extends ParameterAveragingTrainingMaster {
    private String epochLabel = "train";
    private int nextRound = 1;
    private int rounds;
    private Broadcast<NetBroadcastTuple> roundBroadcast;
    private long knownCount = -1;

    AveragingMaster(Builder builder) {
        super(builder);
    }

    /**
     * The next {@code fitPaths} call trains on {@code paths} shard paths (the driver made the RDD from its list, so
     * dl4j-spark need not count it with a Spark job of its own); its rounds are numbered from {@code firstRound} of
     * {@code rounds} in the epoch.
     */
    void nextFit(int paths, String epochLabel, int firstRound, int rounds) {
        this.knownCount = paths;
        this.epochLabel = epochLabel;
        this.nextRound = firstRound;
        this.rounds = rounds;
    }

    @Override
    protected <T, R extends org.apache.spark.api.java.JavaRDDLike<T, R>> long getTotalDataSetObjectCount(
            org.apache.spark.api.java.JavaRDDLike<T, R> trainingData) {
        long count = knownCount >= 0 ? knownCount : super.getTotalDataSetObjectCount(trainingData);
        knownCount = -1;
        return count;
    }

    @Override
    protected void doIterationPaths(SparkDl4jMultiLayer network, SparkComputationGraph graph, JavaRDD<String> split,
                                    int splitNum, int numSplits, int dataSetObjectNumExamples,
                                    org.deeplearning4j.core.loader.DataSetLoader dsLoader,
                                    org.deeplearning4j.core.loader.MultiDataSetLoader mdsLoader) {
        JavaSparkContext jsc = network != null ? network.getSparkContext() : graph.getSparkContext();
        String before = jsc.getLocalProperty(SparkTrainer.JOB_DESCRIPTION);
        jsc.setJobDescription(String.format("%s round %d/%d", epochLabel, nextRound++, rounds));
        try {
            if (collectTrainingStats || repartition != Repartition.Never || !(dsLoader instanceof ShardFiles.Loader loader)) {
                // dl4j-spark's own worker: its per-event training statistics (--stats) are collected only there
                super.doIterationPaths(network, graph, split, splitNum, numSplits, dataSetObjectNumExamples, dsLoader, mdsLoader);
            } else {
                processResults(network, graph, split.mapPartitions(keptNetworkWorker(network, graph, jsc, loader)),
                        splitNum, numSplits);
            }
        } finally {
            jsc.setLocalProperty(SparkTrainer.JOB_DESCRIPTION, before);
            if (roundBroadcast != null) {
                roundBroadcast.destroy();
                roundBroadcast = null;
            }
        }
    }

    @Override
    public ParameterAveragingTrainingWorker getWorkerInstance(SparkDl4jMultiLayer network) {
        var net = network.getNetwork();
        return worker(network.getSparkContext(), new NetBroadcastTuple(net.getLayerWiseConfigurations(), net.params(),
                net.getUpdater().getStateViewArray()), false);
    }

    @Override
    public ParameterAveragingTrainingWorker getWorkerInstance(SparkComputationGraph graph) {
        var net = graph.getNetwork();
        return worker(graph.getSparkContext(), new NetBroadcastTuple(net.getConfiguration(), net.params(),
                net.getUpdater().getStateViewArray()), true);
    }

    /** The round's worker of sparkconv's own (see {@link KeptNetworkWorker}), on this round's broadcast. */
    private KeptNetworkWorker keptNetworkWorker(SparkDl4jMultiLayer network, SparkComputationGraph graph, JavaSparkContext jsc,
                                                ShardFiles.Loader loader) {
        NetBroadcastTuple tuple;
        String configuration;
        if (network != null) {
            var net = network.getNetwork();
            tuple = new NetBroadcastTuple(net.getLayerWiseConfigurations(), net.params(), net.getUpdater().getStateViewArray());
            configuration = net.getLayerWiseConfigurations().toJson();
        } else {
            var net = graph.getNetwork();
            tuple = new NetBroadcastTuple(net.getConfiguration(), net.params(), net.getUpdater().getStateViewArray());
            configuration = net.getConfiguration().toJson();
        }
        return new KeptNetworkWorker(broadcast(jsc, tuple), KeptNetworkWorker.configurationKey(configuration), network == null,
                saveUpdater, loader, prefetchNumBatches);
    }

    private Broadcast<NetBroadcastTuple> broadcast(JavaSparkContext jsc, NetBroadcastTuple tuple) {
        if (collectTrainingStats) {
            stats.logBroadcastStart();
        }
        roundBroadcast = jsc.broadcast(tuple);
        if (collectTrainingStats) {
            stats.logBroadcastEnd();
        }
        return roundBroadcast;
    }

    /** What dl4j-spark's own getWorkerInstance builds, with the broadcast kept to destroy after the round. */
    private ParameterAveragingTrainingWorker worker(JavaSparkContext jsc, NetBroadcastTuple tuple, boolean graph) {
        broadcast(jsc, tuple);
        WorkerConfiguration configuration = new WorkerConfiguration(graph, rddDataSetNumExamples, batchSizePerWorker,
                averagingFrequency, prefetchNumBatches, collectTrainingStats);
        return new ParameterAveragingTrainingWorker(roundBroadcast, saveUpdater, configuration, trainingHookList,
                listeners, getRouterProvider());
    }
}
