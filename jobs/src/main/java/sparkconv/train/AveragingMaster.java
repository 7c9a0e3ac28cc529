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
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingResult;
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
    private int stepsPerWorker;

    AveragingMaster(Builder builder) {
        super(builder);
    }

    /**
     * The next {@code fitPaths} call gives each worker at most {@code steps} minibatches (what its rounds in one barrier
     * stage are counted from).
     */
    void nextSteps(int steps) {
        this.stepsPerWorker = steps;
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

    /**
     * A {@code fitPaths} call's rounds: all in one barrier stage (one Spark job, the tasks averaging among themselves
     * after each round, {@link KeptNetworkWorker#exchanging}) when it can run that way, else dl4j-spark's one job per
     * round. Spark job and task launch was ~15% of a LeNet-5 round on {@code local[2]} (bench/RESULTS.md, "rounds").
     */
    @Override
    protected void executeTrainingPathsHelper(SparkDl4jMultiLayer network, SparkComputationGraph graph, JavaRDD<String> paths,
                                              org.deeplearning4j.core.loader.DataSetLoader dsLoader,
                                              org.deeplearning4j.core.loader.MultiDataSetLoader mdsLoader, int examplesPerPath) {
        JavaSparkContext jsc = network != null ? network.getSparkContext() : graph.getSparkContext();
        int perWorker = stepsPerWorker;
        stepsPerWorker = 0;
        if (perWorker <= 0 || !(dsLoader instanceof ShardFiles.Loader loader) || !inOneJob(jsc, network, graph, paths.getNumPartitions())) {
            super.executeTrainingPathsHelper(network, graph, paths, dsLoader, mdsLoader, examplesPerPath);
            return;
        }
        knownCount = -1;
        int chunkRounds = (perWorker + averagingFrequency - 1) / averagingFrequency;
        String before = jsc.getLocalProperty(SparkTrainer.JOB_DESCRIPTION);
        jsc.setJobDescription(chunkRounds == 1 ? String.format("%s round %d/%d", epochLabel, nextRound, rounds)
                : String.format("%s rounds %d-%d/%d", epochLabel, nextRound, nextRound + chunkRounds - 1, rounds));
        nextRound += chunkRounds;
        try {
            KeptNetworkWorker worker = keptNetworkWorker(network, graph, jsc, loader).exchanging(chunkRounds, averagingFrequency);
            var results = paths.rdd().barrier().mapPartitions(new InBarrierStage(worker), false,
                    scala.reflect.ClassTag$.MODULE$.apply(ParameterAveragingTrainingResult.class));
            processResults(network, graph, JavaRDD.fromRDD(results, results.elementClassTag()), 1, 1);
        } finally {
            jsc.setLocalProperty(SparkTrainer.JOB_DESCRIPTION, before);
            if (roundBroadcast != null) {
                roundBroadcast.destroy();
                roundBroadcast = null;
            }
        }
    }

    /**
     * Whether a call's rounds can run in one barrier stage: sparkconv's own worker (not {@code --stats}), float
     * parameters, a message small enough for Spark's RPC (allGather goes through the driver, which replies to every
     * task with all of them), a slot for every task at once, and no dynamic allocation (barrier stages refuse it).
     */
    private boolean inOneJob(JavaSparkContext jsc, SparkDl4jMultiLayer network, SparkComputationGraph graph, int tasks) {
        if (collectTrainingStats || repartition != Repartition.Never) {
            return false;
        }
        var conf = jsc.getConf();
        if (conf.getBoolean("spark.dynamicAllocation.enabled", false) || tasks > jsc.defaultParallelism()) {
            return false;
        }
        org.deeplearning4j.nn.api.Model net = network != null ? network.getNetwork() : graph.getNetwork();
        var state = network != null ? network.getNetwork().getUpdater().getStateViewArray()
                : graph.getNetwork().getUpdater().getStateViewArray();
        if (net.params().dataType() != org.nd4j.linalg.api.buffer.DataType.FLOAT
                || (state != null && state.dataType() != org.nd4j.linalg.api.buffer.DataType.FLOAT)) {
            return false;
        }
        // Java serialisation writes a Latin-1 string's bytes above 0x7f as two: budget two per byte, all messages at once.
        long reply = 2L * tasks * KeptNetworkWorker.exchangedBytes(net.params().length(), state == null ? 0 : state.length());
        return reply < conf.getSizeAsMb("spark.rpc.message.maxSize", "128") * 1024 * 1024 / 2;
    }

    /** A barrier stage's function: Scala's, as {@code RDDBarrier.mapPartitions} takes no Java function. */
    private static final class InBarrierStage extends scala.runtime.AbstractFunction1<scala.collection.Iterator<String>,
            scala.collection.Iterator<ParameterAveragingTrainingResult>> implements java.io.Serializable {
        private final KeptNetworkWorker worker;

        InBarrierStage(KeptNetworkWorker worker) {
            this.worker = worker;
        }

        @Override
        public scala.collection.Iterator<ParameterAveragingTrainingResult> apply(scala.collection.Iterator<String> paths) {
            try {
                return scala.collection.JavaConverters.asScalaIterator(worker.call(scala.collection.JavaConverters.asJavaIterator(paths)));
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
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
