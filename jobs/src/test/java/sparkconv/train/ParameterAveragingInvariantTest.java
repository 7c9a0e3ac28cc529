package sparkconv.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;

import sparkconv.LocalSpark;
import sparkconv.TestData;
import sparkconv.data.IdxDataset;
import sparkconv.models.Hyper;
import sparkconv.models.ModelZoo;
import sparkconv.shards.Manifest;
import sparkconv.preprocess.IdxPreprocess;
import sparkconv.shards.ShardFiles;
import sparkconv.spark.SparkSessions;

/**
 * Parameter averaging is plain minibatch training, averaged: everything a round hands on (parameters, updater state,
 * iteration and epoch counts, the learning-rate schedule) must reach the next round. One worker therefore reproduces
 * single-JVM {@code MultiLayerNetwork.fit} on the same minibatch sequence, through whole epochs, short rounds, the
 * schedule and a checkpoint + resume; two workers' round is the average of two single-JVM runs from the same state.
 * If a dl4j-spark or DL4J version drops any piece of that state, these comparisons fail.
 */
class ParameterAveragingInvariantTest {
    private static final double TOLERANCE = 1e-6;
    /**
     * Sums over the same examples in another order, 18 steps on: the largest is the first convolution's weight gradient
     * (12,544 products per weight at a 16-example minibatch, summed in an order oneDNN picks by the minibatch's size):
     * 2.3e-4 of the largest updater state value there, 1e-6 of it on average over all values.
     */
    private static final double SUMMATION_ORDER = 1e-3;
    private static final int EPOCHS = 2;
    private static final String SCHEDULE = "exp:0.5";

    @org.junit.jupiter.api.io.TempDir
    static Path dir;
    static String shards;
    static Manifest manifest;

    @BeforeAll
    static void shards() {
        SparkSession spark = LocalSpark.get();
        shards = dir.resolve("shards").toString();
        // 140 training images in 8 shards of 16 and one of 12: with averaging every 2, four full rounds and a short one
        // per epoch; wherever the short shard lands in a round, it must be one minibatch of its own, as in one JVM
        IdxPreprocess.idx(spark, TestData.fashionMnist().toString(), "fashion-mnist", IdxDataset.FASHION_CLASSES, shards,
                16, 48, 188, false);
        manifest = Manifest.read(shards, spark.sparkContext().hadoopConfiguration());
        assertEquals(9, manifest.shardUris(shards, "train").size());
        assertEquals(140, manifest.splits().get("train").examples());
    }

    private static Hyper hyper(String updater) {
        return new Hyper(updater, updater.equals("adam") ? 3e-3 : 0.05, 0.9, 1e-4, 11);
    }

    private static TrainOptions options(String updater, int workers) {
        return TrainOptions.builder("seed-trace", hyper(updater)).epochs(EPOCHS).workers(workers).averagingFrequency(2).prefetch(2)
                .control(new TrainControl(LrSchedule.parse(SCHEDULE), 0, false)).build();
    }

    private static MultiLayerNetwork newNetwork(String updater) {
        MultiLayerNetwork net = new MultiLayerNetwork(ModelZoo.build("seed-trace", new ModelZoo.Input(1, 28, 28),
                manifest.classes().size(), hyper(updater)));
        net.init();
        return net;
    }

    @ParameterizedTest
    @ValueSource(strings = {"nesterovs", "adam"})
    void oneWorkerTrainsWhatOneJvmTrainsAcrossRoundsEpochsTheScheduleAndAResume(String updater) throws InterruptedException {
        JavaSparkContext jsc = SparkSessions.javaContext(LocalSpark.get());
        TrainOptions options = options(updater, 1);
        MultiLayerNetwork start = newNetwork(updater);
        MultiLayerNetwork reference = singleJvm(start.clone(), options);

        MultiLayerNetwork spark = start.clone();
        JobDescriptions descriptions = new JobDescriptions();
        jsc.sc().addSparkListener(descriptions);
        int built = KeptNetworkWorker.BUILT.get();
        List<String> log = new java.util.concurrent.CopyOnWriteArrayList<>();
        try {
            new SparkTrainer(jsc, log::add).train(spark, shards, manifest, options);
        } finally {
            jsc.sc().removeSparkListener(descriptions);
        }
        assertSameState(reference, spark, "one worker, " + EPOCHS + " epochs");
        // Every epoch's rounds ran inside barrier stages, and its progress line says where their time went.
        assertEquals(EPOCHS, log.stream().filter(l -> l.contains(" done: ") && l.contains("; a round: fit ")
                && l.endsWith(" (5 worker-rounds)")).count(), "rounds run inside barrier stages, per epoch: " + log);
        // The worker kept its network between rounds and across the schedule's new rate each epoch: one network for
        // the whole training, its rates assigned with each round's parameters (the same model as one JVM says so).
        assertEquals(1, KeptNetworkWorker.BUILT.get() - built, "networks built by the worker");
        assertEquals(0, KeptNetworkWorker.kept(), "a finished training leaves no kept network in this (local) JVM");
        // Four full rounds and a short one per epoch (one per job at this size), each job named for the Spark UI.
        assertTrue(descriptions.await("train seed-trace epoch 2/2 round 5/5"), descriptions.seen.toString());
        assertTrue(descriptions.stages.stream().noneMatch(name -> name.startsWith("count at ParameterAveragingTrainingMaster")),
                "no Spark job counts the shard paths the driver already counted: " + descriptions.stages);

        // The same run stopped right after its epoch-1 checkpoint, then resumed from it as `train --resume` does.
        Checkpoints checkpoints = stoppedAfterEpochOne(jsc, start, options, "store-" + updater);
        assertSameState(reference, resumed(jsc, checkpoints, options), "one worker, resumed after epoch 1");
    }

    @ParameterizedTest
    @ValueSource(strings = {"nesterovs", "adam"})
    void twoWorkersRoundIsTheAverageOfTwoSingleJvmRunsFromTheSameStateAlsoOnKeptNetworks(String updater) {
        JavaSparkContext jsc = SparkSessions.javaContext(LocalSpark.get());
        TrainOptions options = options(updater, 2);
        List<String> paths = manifest.shardUris(shards, "train");
        // A start with non-zero updater state and iteration count: three single-JVM steps.
        MultiLayerNetwork start = newNetwork(updater);
        for (String p : paths.subList(6, 9)) {
            start.fit(ShardFiles.read(p));
        }
        MultiLayerNetwork a = fitted(start, paths.subList(0, 2));
        MultiLayerNetwork b = fitted(start, paths.subList(2, 4));

        MultiLayerNetwork spark = start.clone();
        SparkModel model = sparkModel(jsc, spark, options);
        // One round: worker 1 fits shards 0, 1 and worker 2 shards 2, 3 (one partition per worker, in order).
        model.fitPaths(jsc.parallelize(paths.subList(0, 4), 2), 2);
        assertEquals(2, model.rounds().workerRounds(), "both workers' rounds ran in one barrier stage");

        assertAverage(List.of(a, b), spark, "");
        assertEquals(start.getEpochCount(), spark.getEpochCount(), "epoch count (an epoch is not over)");

        // A second round runs on the networks the workers kept from the first: it must start from the averaged
        // parameters and state, not from what each worker ended its own first round with.
        int built = KeptNetworkWorker.BUILT.get();
        MultiLayerNetwork a2 = fitted(spark, paths.subList(4, 6));
        MultiLayerNetwork b2 = fitted(spark, paths.subList(6, 8));
        model.fitPaths(jsc.parallelize(paths.subList(4, 8), 2), 2);
        assertEquals(built, KeptNetworkWorker.BUILT.get(), "the second round reused the workers' networks");
        assertAverage(List.of(a2, b2), spark, " after a second round");
    }

    /**
     * Rounds of one Spark job (one barrier stage): after each, the workers continue from their average. One worker
     * there is one JVM; two workers' second round starts from the average of their first.
     */
    @ParameterizedTest
    @ValueSource(strings = {"nesterovs", "adam"})
    void roundsInOneJobAverageAfterEveryRound(String updater) {
        JavaSparkContext jsc = SparkSessions.javaContext(LocalSpark.get());
        List<String> paths = manifest.shardUris(shards, "train");
        MultiLayerNetwork start = newNetwork(updater);

        MultiLayerNetwork one = start.clone();
        SparkModel oneWorker = sparkModel(jsc, one, options(updater, 1));
        oneWorker.fitPaths(jsc.parallelize(paths.subList(0, 8), 1), 8);
        assertEquals(4, oneWorker.rounds().workerRounds(), "four rounds in the job");
        assertSameState(fitted(start, paths.subList(0, 8)), one, "one worker, four rounds in one job");

        // Worker 1's partition is shards 0-3 (rounds: 0, 1 then 2, 3), worker 2's shards 4-7 (4, 5 then 6, 7).
        MultiLayerNetwork firstAverage = average(List.of(fitted(start, paths.subList(0, 2)), fitted(start, paths.subList(4, 6))));
        List<MultiLayerNetwork> second = List.of(fitted(firstAverage, paths.subList(2, 4)), fitted(firstAverage, paths.subList(6, 8)));
        MultiLayerNetwork two = start.clone();
        SparkModel twoWorkers = sparkModel(jsc, two, options(updater, 2));
        twoWorkers.fitPaths(jsc.parallelize(paths.subList(0, 8), 2), 4);
        assertAverage(second, two, " of two workers' second round in one job");
    }

    /**
     * A barrier round's exchange in pieces ({@link Rounds#EXCHANGE_PIECE_BYTES}: AlexNet's 476 MiB moves in eight) is the
     * whole vector's exchange: the same model, bit for bit, with pieces that end anywhere in the parameters and in the
     * updater state, under plain averaging, an outer step, and an outer step that resets the workers' state.
     */
    @ParameterizedTest
    @ValueSource(strings = {"local", "slowmo", "slowmo-reset:0.7"})
    void aRoundExchangedInPiecesIsTheWholeVectorsExchange(String text) {
        JavaSparkContext jsc = SparkSessions.javaContext(LocalSpark.get());
        TrainOptions options = options("nesterovs", 2).withPolicy(AveragingPolicy.parse(text));
        MultiLayerNetwork start = newNetwork("nesterovs");
        int piece = 389; // floats: a prime, so the pieces' ends fall anywhere
        long floats = start.params().length() + start.getUpdater().getStateViewArray().length();
        assertTrue(floats > 20L * piece && start.params().length() % piece != 0, "many pieces, one across the boundary: " + floats);
        MultiLayerNetwork whole = start.clone();
        new SparkTrainer(jsc, line -> { }).train(whole, shards, manifest, options);
        MultiLayerNetwork pieces = start.clone();
        jsc.setLocalProperty(Rounds.EXCHANGE_PIECE_PROPERTY, String.valueOf(piece * Float.BYTES));
        try {
            new SparkTrainer(jsc, line -> { }).train(pieces, shards, manifest, options);
        } finally {
            jsc.setLocalProperty(Rounds.EXCHANGE_PIECE_PROPERTY, null);
        }
        assertTrue(whole.params().sub(start.params()).amaxNumber().doubleValue() > 1e-3, "the rounds trained");
        org.junit.jupiter.api.Assertions.assertArrayEquals(whole.params().toFloatVector(), pieces.params().toFloatVector(),
                text + ": parameters");
        org.junit.jupiter.api.Assertions.assertArrayEquals(whole.getUpdater().getStateViewArray().toFloatVector(),
                pieces.getUpdater().getStateViewArray().toFloatVector(), text + ": updater state");
    }

    /**
     * More workers than task slots ({@code local[2]}) cannot run as one barrier stage: each round is a Spark job of
     * its own, on the same kept networks, and averages the same way.
     */
    @ParameterizedTest
    @ValueSource(strings = {"nesterovs", "adam"})
    void threeWorkersOnTwoSlotsRunARoundPerJobWithTheSameAverage(String updater) {
        JavaSparkContext jsc = SparkSessions.javaContext(LocalSpark.get());
        TrainOptions options = options(updater, 3);
        List<String> paths = manifest.shardUris(shards, "train");
        MultiLayerNetwork start = newNetwork(updater);
        List<MultiLayerNetwork> expected = List.of(fitted(start, paths.subList(0, 2)), fitted(start, paths.subList(2, 4)),
                fitted(start, paths.subList(4, 6)));
        MultiLayerNetwork spark = start.clone();
        SparkModel model = sparkModel(jsc, spark, options);
        model.fitPaths(jsc.parallelize(paths.subList(0, 6), 3), 2);
        assertEquals(0, model.rounds().workerRounds(), "no barrier stage for 3 tasks on 2 slots");
        assertAverage(expected, spark, " of three workers");
        // The driver adds the three results in partition order, not in the order their tasks end (which varies with
        // two slots for three tasks): the same round from the same start gives the same bits every time.
        for (int run = 0; run < 4; run++) {
            MultiLayerNetwork again = start.clone();
            sparkModel(jsc, again, options).fitPaths(jsc.parallelize(paths.subList(0, 6), 3), 2);
            org.junit.jupiter.api.Assertions.assertArrayEquals(spark.params().toFloatVector(), again.params().toFloatVector(),
                    "the same average, bit for bit, run " + run);
        }
    }

    /**
     * An averaging policy changes the rate per half epoch and the frequency per epoch, and nothing else: with one worker
     * every policy trains what one JVM trains, and with two workers whole epochs (the warm-up, the frequency change of
     * post-local, the short last round) equal their simulation in one JVM: the rounds of {@link RoundLayout}, each
     * the average of its workers' single-JVM runs from the same state.
     */
    @ParameterizedTest
    @ValueSource(strings = {"linear:1", "sqrt:1", "post-local:1", "slowmo", "slowmo-reset:0.7"})
    void everyPolicyIsItsOneJvmSimulationWithOneAndTwoWorkers(String text) {
        JavaSparkContext jsc = SparkSessions.javaContext(LocalSpark.get());
        AveragingPolicy policy = AveragingPolicy.parse(text);
        MultiLayerNetwork start = newNetwork("nesterovs");
        for (int workers : new int[] {1, 2}) {
            TrainOptions options = options("nesterovs", workers).withPolicy(policy);
            MultiLayerNetwork spark = start.clone();
            new SparkTrainer(jsc, line -> { }).train(spark, shards, manifest, options);
            MultiLayerNetwork simulated = simulated(start.clone(), options);
            assertSameState(simulated, spark, text + ", " + workers + " worker(s), " + EPOCHS + " epochs");
            if (workers == 1) {
                assertSameState(singleJvm(start.clone(), options), spark, text + ", one worker against one JVM");
            }
        }
        // The policy did change the training: two workers under it end elsewhere than under plain averaging.
        MultiLayerNetwork local = start.clone();
        new SparkTrainer(jsc, line -> { }).train(local, shards, manifest, options("nesterovs", 2));
        MultiLayerNetwork underPolicy = simulated(start.clone(), options("nesterovs", 2).withPolicy(policy));
        assertTrue(local.params().sub(underPolicy.params()).amaxNumber().doubleValue() > 1e-3,
                text + " with two workers trains a different model than local averaging");
    }

    /**
     * {@code sync}: the workers fit the pieces of a shard and average after every one. The pieces' mean gradients
     * average to the shard's, and a Nesterov step is linear in the gradient, so W workers take one JVM's steps on whole
     * shards: the same model through whole epochs, the schedule and the short last shard, up to the rounding of sums
     * taken in another order (16-example shards: two workers in barrier stages, pieces of 8; four workers on two task
     * slots, a job per round, pieces of 4; the short 12-example shard in pieces of 6 and 3).
     */
    @ParameterizedTest
    @ValueSource(strings = {"2 sync", "4 sync:4"})
    void syncWorkersTrainWhatOneJvmTrainsOnWholeShards(String workersPolicy) {
        JavaSparkContext jsc = SparkSessions.javaContext(LocalSpark.get());
        int workers = Integer.parseInt(workersPolicy.split(" ")[0]);
        AveragingPolicy policy = AveragingPolicy.parse(workersPolicy.split(" ")[1]);
        assertEquals(workers, policy.pieces(workers, manifest.batchSize()), "each shard cut among all the workers");
        TrainOptions options = options("nesterovs", workers).withPolicy(policy);
        MultiLayerNetwork start = newNetwork("nesterovs");
        MultiLayerNetwork spark = start.clone();
        List<String> log = new java.util.concurrent.CopyOnWriteArrayList<>();
        new SparkTrainer(jsc, log::add).train(spark, shards, manifest, options);
        MultiLayerNetwork oneJvm = singleJvm(start.clone(), options);
        assertEquals(oneJvm.getIterationCount(), spark.getIterationCount(), "a step per shard, as one JVM");
        assertClose(oneJvm.params(), spark.params(), workersPolicy + ": parameters", SUMMATION_ORDER);
        assertClose(oneJvm.getUpdater().getStateViewArray(), spark.getUpdater().getStateViewArray(),
                workersPolicy + ": updater state", SUMMATION_ORDER);
        assertTrue(log.stream().anyMatch(l -> l.startsWith("epoch 2/2  100%  140 examples")),
                "progress counts examples, not pieces: " + log);
        // Whole shards averaged every minibatch (the same rounds without the cut) are another training.
        MultiLayerNetwork whole = start.clone();
        new SparkTrainer(jsc, line -> { }).train(whole, shards, manifest, TrainOptions.builder("seed-trace", hyper("nesterovs"))
                .epochs(EPOCHS).workers(workers).averagingFrequency(1).prefetch(2).control(options.control()).build());
        double apart = whole.params().sub(oneJvm.params()).amaxNumber().doubleValue() / oneJvm.params().amaxNumber().doubleValue();
        assertTrue(apart > 30 * SUMMATION_ORDER, "without the cut W workers are not one JVM: " + apart);
    }

    /**
     * The outer step of {@code slowmo} taken on the driver after each round's average (three workers on two task slots:
     * a job per round) is the step the barrier stage's tasks take, and both are the simulation's.
     */
    @org.junit.jupiter.api.Test
    void slowmoOnAJobPerRoundIsItsOneJvmSimulation() {
        JavaSparkContext jsc = SparkSessions.javaContext(LocalSpark.get());
        TrainOptions options = options("nesterovs", 3).withPolicy(AveragingPolicy.parse("slowmo"));
        MultiLayerNetwork start = newNetwork("nesterovs");
        MultiLayerNetwork spark = start.clone();
        SparkTrainer trainer = new SparkTrainer(jsc, line -> { });
        trainer.train(spark, shards, manifest, options);
        assertSameState(simulated(start.clone(), options), spark, "slowmo, 3 workers on 2 slots");
        MultiLayerNetwork local = start.clone();
        trainer.train(local, shards, manifest, options("nesterovs", 3));
        assertTrue(local.params().sub(spark.params()).amaxNumber().doubleValue() > 1e-3,
                "the outer step changed the training");
    }

    /**
     * A resumed {@code slowmo} run continues from the checkpoint's outer velocity as from its updater state: the same
     * model as the uninterrupted run (two workers, rounds in barrier stages).
     */
    @org.junit.jupiter.api.Test
    void slowmoResumesFromItsCheckpointedVelocity() throws InterruptedException {
        JavaSparkContext jsc = SparkSessions.javaContext(LocalSpark.get());
        TrainOptions options = options("nesterovs", 2).withPolicy(AveragingPolicy.parse("slowmo"));
        MultiLayerNetwork start = newNetwork("nesterovs");
        MultiLayerNetwork uninterrupted = start.clone();
        new SparkTrainer(jsc, line -> { }).train(uninterrupted, shards, manifest, options);
        Checkpoints checkpoints = stoppedAfterEpochOne(jsc, start, options, "store-slowmo");
        assertEquals(start.params().length(), checkpoints.velocity(1).length, "the checkpoint keeps the velocity");
        assertSameState(uninterrupted, resumed(jsc, checkpoints, options), "slowmo, two workers, resumed after epoch 1");
    }

    /** {@code start} trained under {@code options} and stopped right after its epoch-1 checkpoint in {@code store}. */
    private static Checkpoints stoppedAfterEpochOne(JavaSparkContext jsc, MultiLayerNetwork start, TrainOptions options,
                                                    String store) {
        Checkpoints checkpoints = new Checkpoints(dir.resolve(store).toString(), "run", LocalSpark.get()
                .sparkContext().hadoopConfiguration());
        assertThrows(Interrupted.class, () -> new SparkTrainer(jsc, line -> {
            if (line.startsWith("checkpoint epoch 1")) {
                throw new Interrupted();
            }
        }).train(start.clone(), shards, manifest, options, checkpoints, null));
        assertEquals(1, checkpoints.latest().orElseThrow().epoch());
        return checkpoints;
    }

    /** The stopped run resumed from its last checkpoint to the end, as {@code train --resume} does. */
    private static MultiLayerNetwork resumed(JavaSparkContext jsc, Checkpoints checkpoints, TrainOptions options) {
        Checkpoints.State state = checkpoints.latest().orElseThrow();
        MultiLayerNetwork resumed = checkpoints.load(state.epoch(), MultiLayerNetwork.class);
        new SparkTrainer(jsc, line -> { }).train(resumed, shards, manifest, options, checkpoints, state);
        return resumed;
    }

    /**
     * {@code options.workers()} workers' parameter averaging in one JVM, as {@link SparkTrainer} lays it out: each
     * epoch's shard order from the seed, the policy's frequency per epoch and rate per half epoch (it changes at
     * {@link RoundLayout#middle()}), round {@code r} from {@link RoundLayout}, the short last round split as Spark's
     * {@code parallelize} slices it; after each round the average of the workers' parameters and updater state, and
     * the iteration count advanced by the most minibatches a worker fitted, and the policy's outer step from the
     * round's start.
     */
    private static MultiLayerNetwork simulated(MultiLayerNetwork net, TrainOptions options) {
        List<String> paths = manifest.shardUris(shards, "train");
        Random shuffle = new Random(options.hyper().seed());
        int workers = options.workers();
        double beta = options.policy().outerMomentum(workers);
        float[] velocity = new float[(int) net.params().length()];
        for (int epoch = 1; epoch <= options.epochs(); epoch++) {
            double scheduled = options.control().schedule().rate(options.hyper().learningRate(), epoch, options.epochs());
            RoundLayout layout = new RoundLayout(workers, options.policy().frequency(options.averagingFrequency(), epoch),
                    paths.size());
            List<String> order = new ArrayList<>(paths);
            Collections.shuffle(order, shuffle);
            for (int r = 0; r < layout.rounds(); r++) {
                int half = r >= layout.middle() && r > 0 ? 1 : 0;
                double rate = scheduled * options.policy().rateFactor(workers, manifest.batchSize(), epoch, half);
                net.setLearningRate(rate);
                float[] start = net.params().toFloatVector();
                List<String> round = order.subList(r * layout.roundShards(), Math.min(order.size(), (r + 1) * layout.roundShards()));
                int n = Math.min(workers, round.size());
                List<MultiLayerNetwork> fitted = new ArrayList<>();
                int steps = 0;
                for (int w = 0; w < n; w++) {
                    List<String> mine = r < layout.fullRounds()
                            ? round.subList(w * layout.frequency(), (w + 1) * layout.frequency())
                            : round.subList(w * round.size() / n, (w + 1) * round.size() / n);
                    fitted.add(fitted(net, mine));
                    steps = Math.max(steps, mine.size());
                }
                int iteration = net.getIterationCount();
                net = average(fitted);
                net.setIterationCount(iteration + steps);
                if (beta > 0) {
                    float[] next = net.params().toFloatVector();
                    new OuterMomentum((float) beta, (float) rate, velocity, false).step(start, next);
                    net.params().assign(org.nd4j.linalg.factory.Nd4j.createFromArray(next).reshape(net.params().shape()));
                    if (options.policy().resetsLocalState()) {
                        net.getUpdater().getStateViewArray().assign(0);
                    }
                }
            }
            net.incrementEpochCount();
        }
        return net;
    }

    /** {@code net} wrapped for parameter averaging as SparkTrainer wraps it. */
    private static SparkModel sparkModel(JavaSparkContext jsc, MultiLayerNetwork net, TrainOptions options) {
        return SparkModel.classifier(jsc, net, new SparkTrainer(jsc, line -> { }).master(options, manifest.batchSize()),
                manifest.classes(), false);
    }

    /** A copy of {@code from} fitted in one JVM on these shards, in order. */
    private static MultiLayerNetwork fitted(MultiLayerNetwork from, List<String> paths) {
        MultiLayerNetwork net = from.clone();
        for (String p : paths) {
            net.fit(ShardFiles.read(p));
        }
        return net;
    }

    /** A copy of the first network holding the average of their parameters and updater state. */
    private static MultiLayerNetwork average(List<MultiLayerNetwork> workers) {
        MultiLayerNetwork avg = workers.get(0).clone();
        for (MultiLayerNetwork w : workers.subList(1, workers.size())) {
            avg.params().addi(w.params());
            avg.getUpdater().getStateViewArray().addi(w.getUpdater().getStateViewArray());
        }
        avg.params().divi(workers.size());
        avg.getUpdater().getStateViewArray().divi(workers.size());
        return avg;
    }

    /** {@code spark} holds the average of the workers' parameters and updater state, and their iteration count. */
    private static void assertAverage(List<MultiLayerNetwork> workers, MultiLayerNetwork spark, String when) {
        MultiLayerNetwork expected = average(workers);
        assertClose(expected.params(), spark.params(), "parameters" + when);
        assertClose(expected.getUpdater().getStateViewArray(), spark.getUpdater().getStateViewArray(), "updater state" + when);
        assertEquals(workers.get(0).getIterationCount(), spark.getIterationCount(), "iteration count" + when);
    }

    /**
     * What {@link SparkTrainer}'s loop feeds one worker, fitted in one JVM: each epoch's shard order from the seed
     * (one round per chunk at this size, so no further split), DL4J's own {@code setLearningRate} before each epoch,
     * and the epoch count advanced after it as {@code fit(iterator)} does.
     */
    private static MultiLayerNetwork singleJvm(MultiLayerNetwork net, TrainOptions options) {
        List<String> paths = manifest.shardUris(shards, "train");
        Random shuffle = new Random(options.hyper().seed());
        for (int epoch = 1; epoch <= options.epochs(); epoch++) {
            net.setLearningRate(options.control().schedule().rate(options.hyper().learningRate(), epoch, options.epochs()));
            List<String> order = new ArrayList<>(paths);
            Collections.shuffle(order, shuffle);
            for (String p : order) {
                net.fit(ShardFiles.read(p));
            }
            net.incrementEpochCount();
        }
        return net;
    }

    private static void assertSameState(MultiLayerNetwork expected, MultiLayerNetwork actual, String what) {
        assertEquals(expected.getIterationCount(), actual.getIterationCount(), what + ": iteration count");
        assertEquals(expected.getEpochCount(), actual.getEpochCount(), what + ": epoch count");
        assertClose(expected.params(), actual.params(), what + ": parameters");
        INDArray state = expected.getUpdater().getStateViewArray();
        if (state.amaxNumber().doubleValue() == 0) { // slowmo-reset: every round ends with the workers' state reset
            assertEquals(0.0, actual.getUpdater().getStateViewArray().amaxNumber().doubleValue(), what + ": updater state");
        } else {
            assertClose(state, actual.getUpdater().getStateViewArray(), what + ": updater state");
        }
    }

    /** Relative difference: the largest absolute difference over the largest absolute expected value. */
    private static void assertClose(INDArray expected, INDArray actual, String what) {
        assertClose(expected, actual, what, TOLERANCE);
    }

    private static void assertClose(INDArray expected, INDArray actual, String what, double tolerance) {
        assertEquals(expected.length(), actual.length(), what + ": length");
        double scale = expected.amaxNumber().doubleValue();
        assertTrue(scale > 0, what + ": all zero (nothing was trained)");
        double diff = expected.sub(actual).amaxNumber().doubleValue() / scale;
        assertTrue(diff <= tolerance, what + ": relative difference " + diff + " > " + tolerance);
    }

    private static final class Interrupted extends RuntimeException {
    }

    /** The descriptions and stage names of the Spark jobs started while it listens. */
    private static final class JobDescriptions extends org.apache.spark.scheduler.SparkListener {
        final java.util.Set<String> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
        final java.util.Set<String> stages = java.util.concurrent.ConcurrentHashMap.newKeySet();

        /** Listener events arrive asynchronously: waits up to 30 s for this description. */
        boolean await(String description) throws InterruptedException {
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (!seen.contains(description) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            return seen.contains(description);
        }

        @Override
        public void onJobStart(org.apache.spark.scheduler.SparkListenerJobStart jobStart) {
            String d = jobStart.properties() == null ? null : jobStart.properties().getProperty("spark.job.description");
            if (d != null) {
                seen.add(d);
            }
        }

        @Override
        public void onStageSubmitted(org.apache.spark.scheduler.SparkListenerStageSubmitted stage) {
            stages.add(stage.stageInfo().name());
        }
    }
}
