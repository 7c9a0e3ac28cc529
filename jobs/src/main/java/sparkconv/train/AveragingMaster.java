package sparkconv.train;

import java.util.ArrayList;
import java.util.List;

import org.slf4j.LoggerFactory;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.WorkerConfiguration;
import org.deeplearning4j.spark.api.worker.NetBroadcastTuple;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingResult;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingWorker;

import sparkconv.shards.ShardFiles;

/**
 * dl4j-spark's parameter averaging, with what it lacks: each executor keeps its network between rounds
 * ({@link KeptNetworkWorker}) instead of building one per round; a chunk's rounds run in one Spark job where they can
 * (the workers averaging among themselves after each round) instead of one job per round; each job carries a
 * description for the UI ({@code train lenet5 epoch 3/10 rounds 7-12/43}); each broadcast (parameters and updater
 * state) is destroyed once its job is done (dl4j-spark leaves them to Spark's context cleaner, that is to the driver's
 * next garbage collection, and every executor keeps a copy of each until then); and no Spark job counts the paths the
 * driver already counted. With {@code --stats} the rounds run on dl4j-spark's own worker, whose events the statistics
 * are.
 */
public final class AveragingMaster extends ParameterAveragingTrainingMaster {
    private String epochLabel = "train";
    private int nextRound = 1;
    private int rounds;
    private Broadcast<NetBroadcastTuple> roundBroadcast;
    private Broadcast<OuterMomentum> outerBroadcast;
    private long knownCount = -1;
    private int stepsPerWorker;
    private RoundClock clock;
    private final long seed;
    /** The outer step after each average: its momentum (0: none) and rate, and the velocity it keeps across rounds. */
    private float outerBeta;
    private float outerRate;
    private boolean resetLocal;
    private float[] velocity;

    AveragingMaster(Builder builder, long seed) {
        super(builder);
        this.seed = seed;
    }

    /**
     * The next {@code fitPaths} call gives each worker at most {@code steps} minibatches (what its rounds in one barrier
     * stage are counted from).
     */
    void nextSteps(int steps) {
        this.stepsPerWorker = steps;
    }

    /** Where the rounds inside barrier stages spent their time so far (none ran: {@link RoundClock.Totals#NONE}). */
    RoundClock.Totals rounds() {
        return clock == null ? RoundClock.Totals.NONE : clock.totals();
    }

    /**
     * The next {@code fitPaths} call trains on {@code paths} shard paths (the driver made the RDD from its list, so
     * dl4j-spark need not count it with a Spark job of its own); its rounds are numbered from {@code firstRound} of
     * {@code rounds} in epoch {@code epoch}. dl4j-spark's split of the call into rounds ({@code --stats}) draws from an RNG
     * seeded by the seed, the epoch and the first round: the same in a resumed run as in an uninterrupted one.
     */
    void nextFit(int paths, String epochLabel, int epoch, int firstRound, int rounds) {
        rng.setSeed(KeptNetworkWorker.roundSeed(seed, (long) epoch << 32 | firstRound, 0));
        this.knownCount = paths;
        this.epochLabel = epochLabel;
        this.nextRound = firstRound;
        this.rounds = rounds;
    }

    /**
     * The next {@code fitPaths} call's rounds end with an outer momentum step of momentum {@code beta} (0: none) at rate
     * {@code rate} ({@link OuterMomentum}), the workers' own optimiser state reset to zero after it if
     * {@code resetLocal}; the velocity carries over from the previous call.
     */
    void nextOuterStep(double beta, double rate, boolean resetLocal) {
        this.outerBeta = (float) beta;
        this.outerRate = (float) rate;
        this.resetLocal = resetLocal;
    }

    /** The outer step's velocity so far (null: no outer step ran), for a checkpoint. */
    float[] velocity() {
        return velocity;
    }

    /** A resumed run continues from a checkpoint's velocity (null: none saved). */
    void resumeVelocity(float[] saved) {
        this.velocity = saved;
    }

    /** The outer step for this round, on the driver's velocity (zeros at first), or null without outer momentum. */
    private OuterMomentum outerStep(org.deeplearning4j.nn.api.Model net) {
        if (outerBeta == 0) {
            return null;
        }
        if (velocity == null) {
            velocity = new float[(int) net.params().length()];
        }
        return new OuterMomentum(outerBeta, outerRate, velocity, resetLocal);
    }

    /** {@code --stats}: dl4j-spark's own round and average, then the outer step. */
    @Override
    protected void processResults(SparkDl4jMultiLayer network, SparkComputationGraph graph,
                                  JavaRDD<ParameterAveragingTrainingResult> results, int splitNum, int totalSplits) {
        withOuterStep(network, graph, () -> super.processResults(network, graph, results, splitNum, totalSplits));
    }

    /**
     * A job per round on kept networks: the workers' results averaged on the driver in partition order, then the outer
     * step. dl4j-spark's {@code treeAggregate} adds them in the order the tasks end, and float addition is not
     * associative: with three or more workers two runs of the same seed ended a round with different last bits, and then
     * with different models (seen on deploy/cluster with 4 workers, where W²·B is too large for the barrier stage).
     */
    private void averageInOrder(SparkDl4jMultiLayer network, SparkComputationGraph graph,
                                JavaRDD<ParameterAveragingTrainingResult> results) {
        List<ParameterAveragingTrainingResult> all = results.collect(); // partition order, whatever order tasks end in
        if (all.isEmpty()) {
            return; // no worker had minibatches: nothing moved
        }
        withOuterStep(network, graph, () -> {
            INDArray params = all.get(0).getParameters().dup();
            INDArray state = all.get(0).getUpdaterState() == null ? null : all.get(0).getUpdaterState().dup();
            double score = all.get(0).getScore();
            for (ParameterAveragingTrainingResult r : all.subList(1, all.size())) {
                params.addi(r.getParameters());
                if (state != null) {
                    state.addi(r.getUpdaterState());
                }
                score += r.getScore();
            }
            params.divi(all.size());
            if (state != null) {
                state.divi(all.size());
            }
            setAverage(network, graph, params, state, score / all.size());
        });
    }

    /**
     * Runs {@code average} (which sets the driver's network to the round's average), then the policy's outer step from
     * the round's start (the parameters the round was broadcast with), if it has one.
     */
    private void withOuterStep(SparkDl4jMultiLayer network, SparkComputationGraph graph, Runnable average) {
        org.deeplearning4j.nn.api.Model net = network != null ? network.getNetwork() : graph.getNetwork();
        OuterMomentum step = outerStep(net);
        float[] start = step == null ? null : net.params().toFloatVector();
        average.run();
        if (step != null) {
            float[] averaged = net.params().toFloatVector();
            step.step(start, averaged);
            net.params().assign(Nd4j.createFromArray(averaged).reshape(net.params().shape()));
            INDArray state = network != null ? network.getNetwork().getUpdater().getStateViewArray()
                    : graph.getNetwork().getUpdater().getStateViewArray();
            if (step.resetLocal() && state != null) {
                state.assign(0);
            }
        }
    }

    /** The driver's network set to a round's average: parameters, updater state (or null) and score. */
    private static void setAverage(SparkDl4jMultiLayer network, SparkComputationGraph graph, INDArray params, INDArray state,
                                   double score) {
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

    /** A barrier stage's result (the first task's): its last average becomes the driver's, its velocity the next start. */
    private void adopt(SparkDl4jMultiLayer network, SparkComputationGraph graph, KeptNetworkWorker.Exchanged exchanged) {
        setAverage(network, graph, Nd4j.createFromArray(exchanged.params()),
                exchanged.updaterState() == null ? null : Nd4j.createFromArray(exchanged.updaterState()), exchanged.score());
        if (exchanged.velocity() != null) {
            velocity = exchanged.velocity();
        }
    }

    @Override
    protected <T, R extends org.apache.spark.api.java.JavaRDDLike<T, R>> long getTotalDataSetObjectCount(
            org.apache.spark.api.java.JavaRDDLike<T, R> trainingData) {
        long count = knownCount >= 0 ? knownCount : super.getTotalDataSetObjectCount(trainingData);
        knownCount = -1;
        return count;
    }

    /**
     * A {@code fitPaths} call's rounds on kept networks: round {@code r} of each worker (partition) is its minibatches
     * {@code r*F..(r+1)*F-1}. They run in one barrier stage (one Spark job, the tasks averaging among themselves after
     * each round, {@link KeptNetworkWorker#exchanging}) when they can, else as one Spark job per round; either way the
     * same seed trains the same model. Spark's job and task launch was ~15% of a LeNet-5 round on {@code local[2]}
     * (bench/RESULTS.md, "rounds"). With {@code --stats}, dl4j-spark's own worker and its split into rounds.
     */
    @Override
    protected void executeTrainingPathsHelper(SparkDl4jMultiLayer network, SparkComputationGraph graph, JavaRDD<String> paths,
                                              org.deeplearning4j.core.loader.DataSetLoader dsLoader,
                                              org.deeplearning4j.core.loader.MultiDataSetLoader mdsLoader, int examplesPerPath) {
        int perWorker = stepsPerWorker;
        stepsPerWorker = 0;
        if (collectTrainingStats || repartition != Repartition.Never || perWorker <= 0
                || !(dsLoader instanceof ShardFiles.Loader loader)) {
            super.executeTrainingPathsHelper(network, graph, paths, dsLoader, mdsLoader, examplesPerPath);
            return;
        }
        knownCount = -1;
        JavaSparkContext jsc = network != null ? network.getSparkContext() : graph.getSparkContext();
        int chunkRounds = (perWorker + averagingFrequency - 1) / averagingFrequency;
        int firstRound = nextRound;
        nextRound += chunkRounds;
        String before = jsc.getLocalProperty(SparkTrainer.JOB_DESCRIPTION);
        try {
            for (int attempt = 1; ; attempt++) {
                if (!inOneJob(jsc, network, graph, paths.getNumPartitions())) {
                    for (int r = 0; r < chunkRounds; r++) {
                        jsc.setJobDescription(String.format("%s round %d/%d", epochLabel, firstRound + r, rounds));
                        int round = r;
                        int frequency = averagingFrequency;
                        JavaRDD<String> mine = paths.mapPartitions(p -> {
                            List<String> partition = new ArrayList<>();
                            p.forEachRemaining(partition::add);
                            return RoundLayout.workerRound(partition, round, frequency).iterator();
                        }, true);
                        averageInOrder(network, graph, mine.mapPartitions(keptNetworkWorker(network, graph, jsc, loader)));
                        destroyBroadcast();
                    }
                    return;
                }
                jsc.setJobDescription(chunkRounds == 1 ? String.format("%s round %d/%d", epochLabel, firstRound, rounds)
                        : String.format("%s rounds %d-%d/%d", epochLabel, firstRound, firstRound + chunkRounds - 1, rounds));
                try {
                    if (clock == null) {
                        clock = new RoundClock(jsc.sc());
                    }
                    OuterMomentum step = outerStep(network != null ? network.getNetwork() : graph.getNetwork());
                    outerBroadcast = step == null ? null : jsc.broadcast(step);
                    KeptNetworkWorker worker = keptNetworkWorker(network, graph, jsc, loader).exchanging(chunkRounds,
                            averagingFrequency, clock, outerBroadcast);
                    var results = paths.rdd().barrier().mapPartitions(new InBarrierStage(worker), false,
                            scala.reflect.ClassTag$.MODULE$.apply(KeptNetworkWorker.Exchanged.class));
                    List<KeptNetworkWorker.Exchanged> first = JavaRDD.fromRDD(results, results.elementClassTag()).collect();
                    if (first.size() != 1) {
                        throw new IllegalStateException("a barrier stage returned " + first.size() + " results, not 1");
                    }
                    adopt(network, graph, first.get(0));
                    return;
                } catch (Exception e) {
                    // A failed task (a lost executor) fails a barrier stage that returns results: Spark re-runs barrier
                    // stages only before a shuffle. The driver's state is untouched until the job succeeds, so the
                    // rounds run again from it, as often as Spark would re-run a failed task.
                    if (!(e instanceof org.apache.spark.SparkException) || String.valueOf(e.getMessage()).startsWith("Job cancelled")
                            || attempt >= maxTaskFailures(jsc)) {
                        throw e;
                    }
                    LoggerFactory.getLogger(AveragingMaster.class).warn("{}: the job failed ({}); running its rounds again "
                            + "(attempt {} of {})", jsc.getLocalProperty(SparkTrainer.JOB_DESCRIPTION),
                            String.valueOf(e.getMessage()).lines().findFirst().orElse(""), attempt + 1, maxTaskFailures(jsc));
                } finally {
                    destroyBroadcast();
                }
            }
        } finally {
            jsc.setLocalProperty(SparkTrainer.JOB_DESCRIPTION, before);
        }
    }

    private void destroyBroadcast() {
        if (roundBroadcast != null) {
            roundBroadcast.destroy();
            roundBroadcast = null;
        }
        if (outerBroadcast != null) {
            outerBroadcast.destroy();
            outerBroadcast = null;
        }
    }

    /** Attempts per task before Spark fails a job: {@code local[N, F]}'s F (1 for {@code local[N]}), else the setting. */
    private static int maxTaskFailures(JavaSparkContext jsc) {
        java.util.regex.Matcher local = java.util.regex.Pattern.compile("local\\[[^,\\]]+(?:,\\s*(\\d+))?]").matcher(jsc.master());
        if (jsc.master().equals("local") || local.matches()) {
            return local.matches() && local.group(1) != null ? Integer.parseInt(local.group(1)) : 1;
        }
        return jsc.getConf().getInt("spark.task.maxFailures", 4);
    }

    /**
     * Whether a call's rounds can run in one barrier stage: float parameters, a message small enough for Spark's RPC
     * (the exchange goes through the driver, which replies to every task with all of them), a slot for every task at
     * once, and no dynamic allocation (barrier stages refuse it).
     */
    private boolean inOneJob(JavaSparkContext jsc, SparkDl4jMultiLayer network, SparkComputationGraph graph, int tasks) {
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
        long message = KeptNetworkWorker.exchangedBytes(net.params().length(), state == null ? 0 : state.length());
        long sent = (long) tasks * tasks * message;
        if (jsc.isLocal()) {
            return sent <= MAX_LOCAL_EXCHANGE_BYTES; // tasks and driver share the JVM: the messages are not copied
        }
        // Java serialisation writes a Latin-1 string's bytes above 0x7f as two: budget two per byte, all messages at once.
        boolean fitsRpc = 2L * tasks * message < conf.getSizeAsMb("spark.rpc.message.maxSize", "128") * 1024 * 1024 / 2;
        return fitsRpc && sent <= MAX_EXCHANGE_BYTES;
    }

    /**
     * The most bytes one exchange may send out of the driver on a cluster: it sends every task every task's message,
     * W²·B per round, where a job per round (tree aggregation and broadcast) moves about (2√W + 1)·B and costs ~25-40 ms
     * of Spark's scheduling; 4 MiB is about that much time on a 1 Gbit/s link (LeNet-5 with 2 workers: 2 MB; with 3,
     * 4.4 MB: a job per round). docs/scaling.md has the model.
     */
    static final long MAX_EXCHANGE_BYTES = 4L << 20;
    /** Local mode: every task decodes every message (W²·B of copies per round, spread over the W tasks). */
    static final long MAX_LOCAL_EXCHANGE_BYTES = 256L << 20;

    /** A barrier stage's function: Scala's, as {@code RDDBarrier.mapPartitions} takes no Java function. */
    private static final class InBarrierStage extends scala.runtime.AbstractFunction1<scala.collection.Iterator<String>,
            scala.collection.Iterator<KeptNetworkWorker.Exchanged>> implements java.io.Serializable {
        private final KeptNetworkWorker worker;

        InBarrierStage(KeptNetworkWorker worker) {
            this.worker = worker;
        }

        @Override
        public scala.collection.Iterator<KeptNetworkWorker.Exchanged> apply(scala.collection.Iterator<String> paths) {
            try {
                return scala.collection.JavaConverters.asScalaIterator(
                        worker.exchangedRounds(scala.collection.JavaConverters.asJavaIterator(paths)));
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** dl4j-spark's round ({@code --stats}: its per-event statistics are collected only on its own worker), named. */
    @Override
    protected void doIterationPaths(SparkDl4jMultiLayer network, SparkComputationGraph graph, JavaRDD<String> split,
                                    int splitNum, int numSplits, int dataSetObjectNumExamples,
                                    org.deeplearning4j.core.loader.DataSetLoader dsLoader,
                                    org.deeplearning4j.core.loader.MultiDataSetLoader mdsLoader) {
        JavaSparkContext jsc = network != null ? network.getSparkContext() : graph.getSparkContext();
        String before = jsc.getLocalProperty(SparkTrainer.JOB_DESCRIPTION);
        jsc.setJobDescription(String.format("%s round %d/%d", epochLabel, nextRound++, rounds));
        try {
            super.doIterationPaths(network, graph, split, splitNum, numSplits, dataSetObjectNumExamples, dsLoader, mdsLoader);
        } finally {
            jsc.setLocalProperty(SparkTrainer.JOB_DESCRIPTION, before);
            destroyBroadcast();
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
