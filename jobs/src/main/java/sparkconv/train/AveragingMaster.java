package sparkconv.train;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.WorkerConfiguration;
import org.deeplearning4j.spark.api.worker.NetBroadcastTuple;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingResult;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingWorker;
import org.nd4j.linalg.api.ndarray.INDArray;

import sparkconv.models.FloatVectors;
import sparkconv.shards.ShardFiles;

/**
 * dl4j-spark's parameter averaging, with what it lacks: each executor keeps its network between rounds
 * ({@link KeptNetworkWorker}) instead of building one per round; a chunk's rounds run in one Spark job where they can
 * instead of one job per round ({@link Rounds} has the ways a round runs); each job carries a description for the UI
 * ({@code train lenet5 epoch 3/10 rounds 7-12/43}); each broadcast (parameters and updater state) is destroyed once
 * its job is done (dl4j-spark leaves them to Spark's context cleaner, that is to the driver's next garbage collection,
 * and every executor keeps a copy of each until then); no Spark job counts the paths the driver already counted; and
 * the averaging policy's outer step after each average, with its velocity kept across rounds ({@link RoundPlan}).
 */
public final class AveragingMaster extends ParameterAveragingTrainingMaster {
    private String epochLabel = "train";
    private int nextRound = 1;
    private int rounds;
    private RoundStart roundStart;
    private Broadcast<OuterMomentum> outerBroadcast;
    private long knownCount = -1;
    private int stepsPerWorker;
    private RoundClock clock;
    private final long seed;
    /** The current half epoch's plan (its outer step), and the outer step's velocity kept across rounds. */
    private RoundPlan plan;
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

    /** The policy's plan for the next {@code fitPaths} calls' rounds; the velocity carries over from earlier rounds. */
    void nextPlan(RoundPlan plan) {
        this.plan = plan;
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
    private OuterMomentum outerStep(Model net) {
        if (plan == null || plan.outerMomentum() == 0) {
            return null;
        }
        if (velocity == null) {
            velocity = new float[(int) net.params().length()];
        }
        return plan.outerStep(velocity);
    }

    /** The outer step broadcast for a barrier stage's tasks (each takes it on its own copy), or null without one. */
    Broadcast<OuterMomentum> broadcastOuterStep(DriverNetwork driver) {
        OuterMomentum step = outerStep(driver.model());
        outerBroadcast = step == null ? null : driver.jsc().broadcast(step);
        return outerBroadcast;
    }

    /**
     * Runs {@code average} (which sets the driver's network to the round's average), then the plan's outer step from
     * the round's start (the parameters the round was broadcast with), if it has one.
     */
    void withOuterStep(DriverNetwork driver, Runnable average) {
        Model net = driver.model();
        OuterMomentum step = outerStep(net);
        float[] start = step == null ? null : FloatVectors.copy(net.params(), 0);
        average.run();
        if (step != null) {
            float[] averaged = FloatVectors.copy(net.params(), 0);
            step.step(start, averaged);
            FloatVectors.write(averaged, 0, net.params());
            INDArray state = driver.updaterState();
            if (step.resetLocal() && state != null) {
                state.assign(0);
            }
        }
    }

    /** A barrier stage's result (the first task's): its last average becomes the driver's, its velocity the next start. */
    void adopt(DriverNetwork driver, KeptNetworkWorker.Exchanged exchanged) {
        INDArray[] average = exchanged.take();
        driver.setAverage(average[0], average[1], exchanged.score());
        if (exchanged.velocity() != null) {
            velocity = exchanged.velocity();
        }
    }

    /** Names the Spark job of rounds {@code first..first+count-1} for the UI ({@code train lenet5 epoch 3/10 round 7/43}). */
    void describeJob(JavaSparkContext jsc, int first, int count) {
        jsc.setJobDescription(count == 1 ? String.format("%s round %d/%d", epochLabel, first, rounds)
                : String.format("%s rounds %d-%d/%d", epochLabel, first, first + count - 1, rounds));
    }

    /** The accumulators where barrier-stage rounds add their time. */
    RoundClock clock(JavaSparkContext jsc) {
        if (clock == null) {
            clock = new RoundClock(jsc.sc());
        }
        return clock;
    }

    @Override
    protected <T, R extends org.apache.spark.api.java.JavaRDDLike<T, R>> long getTotalDataSetObjectCount(
            org.apache.spark.api.java.JavaRDDLike<T, R> trainingData) {
        long count = knownCount >= 0 ? knownCount : super.getTotalDataSetObjectCount(trainingData);
        knownCount = -1;
        return count;
    }

    /**
     * A {@code fitPaths} call's rounds, run the way {@link Rounds#choose} picks: sparkconv's own on kept networks, or
     * dl4j-spark's with {@code --stats}.
     */
    @Override
    protected void executeTrainingPathsHelper(SparkDl4jMultiLayer network, SparkComputationGraph graph, JavaRDD<String> paths,
                                              org.deeplearning4j.core.loader.DataSetLoader dsLoader,
                                              org.deeplearning4j.core.loader.MultiDataSetLoader mdsLoader, int examplesPerPath) {
        int perWorker = stepsPerWorker;
        stepsPerWorker = 0;
        boolean ownRounds = !collectTrainingStats && repartition == Repartition.Never && perWorker > 0;
        Rounds way = Rounds.choose(this, ownRounds, dsLoader,
                () -> super.executeTrainingPathsHelper(network, graph, paths, dsLoader, mdsLoader, examplesPerPath));
        int firstRound = nextRound;
        int count = (perWorker + averagingFrequency - 1) / averagingFrequency;
        if (!(way instanceof Rounds.Dl4jWorkers)) {
            knownCount = -1; // dl4j-spark's split reads it
            nextRound += count; // dl4j-spark's rounds count themselves (doIterationPaths)
        }
        DriverNetwork driver = new DriverNetwork(network, graph);
        String before = driver.jsc().getLocalProperty(SparkTrainer.JOB_DESCRIPTION);
        try {
            way.run(driver, paths, firstRound, count);
        } finally {
            driver.jsc().setLocalProperty(SparkTrainer.JOB_DESCRIPTION, before);
        }
    }

    /** dl4j-spark's round ({@code --stats}), named. */
    @Override
    protected void doIterationPaths(SparkDl4jMultiLayer network, SparkComputationGraph graph, JavaRDD<String> split,
                                    int splitNum, int numSplits, int dataSetObjectNumExamples,
                                    org.deeplearning4j.core.loader.DataSetLoader dsLoader,
                                    org.deeplearning4j.core.loader.MultiDataSetLoader mdsLoader) {
        JavaSparkContext jsc = network != null ? network.getSparkContext() : graph.getSparkContext();
        String before = jsc.getLocalProperty(SparkTrainer.JOB_DESCRIPTION);
        describeJob(jsc, nextRound++, 1);
        try {
            super.doIterationPaths(network, graph, split, splitNum, numSplits, dataSetObjectNumExamples, dsLoader, mdsLoader);
        } finally {
            jsc.setLocalProperty(SparkTrainer.JOB_DESCRIPTION, before);
            destroyBroadcasts();
        }
    }

    /** dl4j-spark's average of its round ({@code --stats}), then the outer step. */
    @Override
    protected void processResults(SparkDl4jMultiLayer network, SparkComputationGraph graph,
                                  JavaRDD<ParameterAveragingTrainingResult> results, int splitNum, int totalSplits) {
        withOuterStep(new DriverNetwork(network, graph), () -> super.processResults(network, graph, results, splitNum, totalSplits));
    }

    @Override
    public ParameterAveragingTrainingWorker getWorkerInstance(SparkDl4jMultiLayer network) {
        return worker(new DriverNetwork(network, null));
    }

    @Override
    public ParameterAveragingTrainingWorker getWorkerInstance(SparkComputationGraph graph) {
        return worker(new DriverNetwork(null, graph));
    }

    /**
     * A round's worker of sparkconv's own (see {@link KeptNetworkWorker}), on this round's start: broadcast, or in local
     * mode the driver's own ({@link RoundStart}).
     */
    KeptNetworkWorker keptNetworkWorker(DriverNetwork driver, ShardFiles.Loader loader) {
        if (driver.jsc().isLocal()) {
            roundStart = RoundStart.Local.of(driver.roundStart());
        } else {
            broadcast(driver);
        }
        return new KeptNetworkWorker(roundStart, KeptNetworkWorker.configurationKey(driver.configurationJson()),
                driver.isGraph(), saveUpdater, loader, prefetchNumBatches);
    }

    /** What dl4j-spark's own getWorkerInstance builds, with the broadcast kept to destroy after the round. */
    private ParameterAveragingTrainingWorker worker(DriverNetwork driver) {
        Broadcast<NetBroadcastTuple> start = broadcast(driver);
        WorkerConfiguration configuration = new WorkerConfiguration(driver.isGraph(), rddDataSetNumExamples, batchSizePerWorker,
                averagingFrequency, prefetchNumBatches, collectTrainingStats);
        return new ParameterAveragingTrainingWorker(start, saveUpdater, configuration, trainingHookList, listeners,
                getRouterProvider());
    }

    /** The round's start, broadcast (and kept, to destroy once the round's job is done). */
    private Broadcast<NetBroadcastTuple> broadcast(DriverNetwork driver) {
        if (collectTrainingStats) {
            stats.logBroadcastStart();
        }
        Broadcast<NetBroadcastTuple> start = driver.jsc().broadcast(driver.roundStart());
        if (collectTrainingStats) {
            stats.logBroadcastEnd();
        }
        roundStart = new RoundStart.Broadcasted(start);
        return start;
    }

    /** Destroys the last round's broadcasts (their job is done). */
    void destroyBroadcasts() {
        if (roundStart != null) {
            roundStart.destroy();
            roundStart = null;
        }
        if (outerBroadcast != null) {
            outerBroadcast.destroy();
            outerBroadcast = null;
        }
    }
}
