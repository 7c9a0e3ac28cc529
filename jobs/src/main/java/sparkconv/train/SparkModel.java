package sparkconv.train;

import java.util.List;
import java.util.function.IntConsumer;
import java.util.function.IntSupplier;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.stats.SparkTrainingStats;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;

import sparkconv.eval.SparkEvaluator;
import sparkconv.shards.ShardFiles;
import sparkconv.eval.SparkLoss;
import sparkconv.eval.SparkSegmentationEvaluator;

/**
 * What the epoch loop of {@link SparkTrainer} needs from a network wrapped for Spark, so that classifiers
 * ({@code SparkDl4jMultiLayer}) and segmentation graphs ({@code SparkComputationGraph}) share one loop with its
 * progress, checkpoints, learning-rate schedule and early stopping.
 */
public interface SparkModel {
    /**
     * Trains on these shard paths, one partition per worker, in whole averaging rounds or one short last round;
     * {@code stepsPerWorker}: the most minibatches any worker fits, which the network's iteration count advances by
     * (Adam's bias correction and iteration schedules read it). dl4j-spark advances it by the averaging frequency per
     * round, also for a short round, and advances the epoch count on every call: both are set right here, and the
     * epoch count moves only in {@link #endEpoch}, as {@code MultiLayerNetwork.fit(iterator)} moves it.
     */
    void fitPaths(JavaRDD<String> paths, int stepsPerWorker);

    /** One epoch is done: the epoch count advances by one, as single-JVM {@code fit(iterator)} does. */
    void endEpoch();

    /**
     * Announces the next {@link #fitPaths} call: its number of shard paths, and the names of its rounds' Spark jobs
     * (Spark UI), numbered from {@code firstRound} of the epoch's {@code rounds}.
     */
    default void nextFit(int paths, String epochLabel, int epoch, int firstRound, int rounds) {
        master().nextFit(paths, epochLabel, epoch, firstRound, rounds);
    }

    /** The last averaged minibatch score. */
    double score();

    /** The driver's network (updated in place after every averaging round). */
    Model network();

    /** A deep copy of the current network (the best epoch kept by early stopping). */
    Model copy();

    void setLearningRate(double rate);

    /** Minibatches each worker fits between averaging rounds (the averaging policy may change it per epoch). */
    default int averagingFrequency() {
        return master().getAveragingFrequency();
    }

    default void setAveragingFrequency(int frequency) {
        master().setAveragingFrequency(frequency);
    }

    /** Accuracy on these shard files (classification accuracy, or pixel accuracy for segmentation). */
    double accuracy(List<String> paths);

    /** Mean loss on these shard files. */
    double loss(List<String> paths);

    /** Spark training statistics, or null when not collected. */
    SparkTrainingStats stats();

    /** The averaging master that runs this model's rounds. */
    AveragingMaster master();

    /** Where the averaging rounds run inside barrier stages spent their time so far. */
    default RoundClock.Totals rounds() {
        return master().rounds();
    }

    /**
     * Sets the rate in the layers' updater configurations only. The workers build their updaters from the
     * configuration broadcast each averaging round, so this is all they need; DL4J's own
     * {@code setLearningRate} also rebuilds the driver's updater state array, which crashed the next round's
     * broadcast (SIGSEGV in the worker's {@code unsafeDuplication}) under dl4j-spark M2.
     */
    static void setRate(java.util.Collection<org.deeplearning4j.nn.conf.NeuralNetConfiguration> layers, double rate) {
        for (var layerConf : layers) {
            if (layerConf.getLayer() instanceof org.deeplearning4j.nn.conf.layers.BaseLayer layer) {
                for (var updater : java.util.Arrays.asList(layer.getIUpdater(), layer.getBiasUpdater())) {
                    if (updater != null && updater.hasLearningRate()) {
                        updater.setLrAndSchedule(rate, null);
                    }
                }
            }
        }
    }

    /**
     * One dl4j-spark fitPaths, after which the iteration count is {@code stepsPerWorker} further and the epoch count
     * where it was (see {@link #fitPaths}). {@code MultiLayerConfiguration} and {@code ComputationGraphConfiguration}
     * keep the same pair of counters with no common type: their getters and setters are passed.
     */
    private static void fitCounting(Runnable fitPaths, int stepsPerWorker, IntSupplier iterationCount, IntConsumer setIterationCount,
                                    IntSupplier epochCount, IntConsumer setEpochCount) {
        int iteration = iterationCount.getAsInt();
        int epoch = epochCount.getAsInt();
        fitPaths.run();
        setIterationCount.accept(iteration + stepsPerWorker);
        setEpochCount.accept(epoch);
    }

    static SparkModel segmenter(JavaSparkContext jsc, ComputationGraph graph, AveragingMaster master,
                                List<String> classes, boolean collectStats) {
        SparkComputationGraph sparkNet = new SparkComputationGraph(jsc, graph, master);
        sparkNet.setCollectTrainingStats(collectStats);
        return new SparkModel() {
            @Override
            public void fitPaths(JavaRDD<String> paths, int stepsPerWorker) {
                ComputationGraphConfiguration conf = graph.getConfiguration();
                master.nextSteps(stepsPerWorker);
                fitCounting(() -> sparkNet.fitPaths(paths, new ShardFiles.Loader(jsc)), stepsPerWorker,
                        conf::getIterationCount, conf::setIterationCount, conf::getEpochCount, conf::setEpochCount);
            }

            @Override
            public void endEpoch() {
                graph.incrementEpochCount();
            }

            @Override
            public double score() {
                return sparkNet.getScore();
            }

            @Override
            public Model network() {
                return sparkNet.getNetwork();
            }

            @Override
            public Model copy() {
                return sparkNet.getNetwork().clone();
            }

            @Override
            public void setLearningRate(double rate) {
                setRate(sparkNet.getNetwork().getConfiguration().getVertices().values().stream()
                        .filter(v -> v instanceof LayerVertex).map(v -> ((LayerVertex) v).getLayerConf()).toList(), rate);
            }

            /** Pixel accuracy. */
            @Override
            public double accuracy(List<String> paths) {
                return SparkSegmentationEvaluator.evaluate(jsc, sparkNet.getNetwork(), paths, classes, "sample").pixelAccuracy();
            }

            @Override
            public double loss(List<String> paths) {
                return SparkLoss.mean(jsc, sparkNet.getNetwork(), paths);
            }

            @Override
            public SparkTrainingStats stats() {
                return collectStats ? sparkNet.getSparkTrainingStats() : null;
            }

            @Override
            public AveragingMaster master() {
                return master;
            }
        };
    }

    static SparkModel classifier(JavaSparkContext jsc, MultiLayerNetwork net, AveragingMaster master,
                                 List<String> classes, boolean collectStats) {
        SparkDl4jMultiLayer sparkNet = new SparkDl4jMultiLayer(jsc, net, master);
        sparkNet.setCollectTrainingStats(collectStats);
        return new SparkModel() {
            @Override
            public void fitPaths(JavaRDD<String> paths, int stepsPerWorker) {
                MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
                master.nextSteps(stepsPerWorker);
                fitCounting(() -> sparkNet.fitPaths(paths, new ShardFiles.Loader(jsc)), stepsPerWorker,
                        conf::getIterationCount, conf::setIterationCount, conf::getEpochCount, conf::setEpochCount);
            }

            @Override
            public void endEpoch() {
                net.incrementEpochCount();
            }

            @Override
            public double score() {
                return sparkNet.getScore();
            }

            @Override
            public Model network() {
                return sparkNet.getNetwork();
            }

            @Override
            public Model copy() {
                return sparkNet.getNetwork().clone();
            }

            @Override
            public void setLearningRate(double rate) {
                setRate(sparkNet.getNetwork().getLayerWiseConfigurations().getConfs(), rate);
            }

            @Override
            public double accuracy(List<String> paths) {
                return SparkEvaluator.evaluate(jsc, sparkNet.getNetwork(), paths, classes, "sample").accuracy();
            }

            @Override
            public double loss(List<String> paths) {
                return SparkLoss.mean(jsc, sparkNet.getNetwork(), paths);
            }

            @Override
            public SparkTrainingStats stats() {
                return collectStats ? sparkNet.getSparkTrainingStats() : null;
            }

            @Override
            public AveragingMaster master() {
                return master;
            }
        };
    }
}
