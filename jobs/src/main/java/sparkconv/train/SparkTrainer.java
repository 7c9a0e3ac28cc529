package sparkconv.train;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;

import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.stats.SparkTrainingStats;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;

import sparkconv.eval.ClassificationMetrics;
import sparkconv.eval.SparkEvaluator;
import sparkconv.shards.Manifest;

/**
 * Data-parallel training with dl4j-spark's {@link ParameterAveragingTrainingMaster}, straight from shard paths
 * ({@code fitPaths}: executors read the minibatch files themselves; nothing is cached on the driver).
 * Each epoch is fed in a few chunks so the driver can report progress (examples/s, loss, ETA) while it runs.
 */
public final class SparkTrainer {
    /** Progress is reported about this many times per epoch. */
    static final int CHUNKS_PER_EPOCH = 8;

    private final JavaSparkContext jsc;
    private final Consumer<String> progress;

    public SparkTrainer(JavaSparkContext jsc, Consumer<String> progress) {
        this.jsc = jsc;
        this.progress = progress;
    }

    public record Result(MultiLayerNetwork network, List<EpochStats> epochs, int workers, String trainingStats) {
    }

    public Result train(MultiLayerNetwork net, String shardDir, Manifest manifest, TrainOptions options) {
        int workers = options.workers() > 0 ? options.workers() : jsc.defaultParallelism();
        ParameterAveragingTrainingMaster master = new ParameterAveragingTrainingMaster.Builder(workers, manifest.batchSize())
                .batchSizePerWorker(manifest.batchSize())
                .averagingFrequency(options.averagingFrequency())
                .workerPrefetchNumBatches(options.prefetch())
                .rngSeed(options.hyper().seed())
                .collectTrainingStats(options.collectStats())
                .build();
        SparkDl4jMultiLayer sparkNet = new SparkDl4jMultiLayer(jsc, net, master);
        sparkNet.setCollectTrainingStats(options.collectStats());

        List<String> trainPaths = manifest.shardUris(shardDir, "train");
        boolean hasValidation = manifest.splits().containsKey("validation")
                && !manifest.splits().get("validation").shards().isEmpty();
        long epochExamples = manifest.splits().get("train").examples();
        int perChunk = Math.max(workers * options.averagingFrequency(),
                (int) Math.ceil(trainPaths.size() / (double) CHUNKS_PER_EPOCH));
        Random shuffle = new Random(options.hyper().seed());
        List<EpochStats> history = new ArrayList<>();
        for (int epoch = 1; epoch <= options.epochs(); epoch++) {
            sparkNet.getNetwork().setLearningRate(options.hyper().learningRate(epoch));
            List<String> order = new ArrayList<>(trainPaths);
            Collections.shuffle(order, shuffle);
            long start = System.nanoTime();
            long done;
            for (int from = 0; from < order.size(); from += perChunk) {
                List<String> chunk = order.subList(from, Math.min(order.size(), from + perChunk));
                sparkNet.fitPaths(jsc.parallelize(chunk, Math.min(workers, chunk.size())));
                // Every shard is a full minibatch except possibly one; the epoch's end is exact.
                done = from + chunk.size() >= order.size() ? epochExamples
                        : Math.min(epochExamples, (long) (from + chunk.size()) * manifest.batchSize());
                double secs = (System.nanoTime() - start) / 1e9;
                double rate = done / secs;
                progress.accept(String.format("epoch %d/%d  %3.0f%%  %,d examples  %,.0f ex/s  loss %.4f  ETA %s",
                        epoch, options.epochs(), 100.0 * done / epochExamples, done, rate, sparkNet.getScore(),
                        eta((epochExamples - done) / rate + (options.epochs() - epoch) * epochExamples / rate)));
            }
            double secs = (System.nanoTime() - start) / 1e9;
            double valAcc = Double.NaN;
            if (hasValidation) {
                ClassificationMetrics m = SparkEvaluator.evaluate(jsc, sparkNet, shardDir, manifest, "validation");
                valAcc = m.accuracy();
            }
            EpochStats stats = new EpochStats(epoch, epochExamples, secs, epochExamples / secs, sparkNet.getScore(), valAcc);
            history.add(stats);
            progress.accept(String.format("epoch %d/%d done: loss %.4f, %,.0f ex/s, %.1f s%s", epoch, options.epochs(),
                    stats.loss(), stats.examplesPerSecond(), secs,
                    hasValidation ? String.format(", validation accuracy %.4f", valAcc) : ""));
        }
        SparkTrainingStats stats = options.collectStats() ? sparkNet.getSparkTrainingStats() : null;
        return new Result(sparkNet.getNetwork(), history, workers, stats == null ? null : stats.statsAsString());
    }

    private static String eta(double seconds) {
        long s = Math.round(seconds);
        return s >= 60 ? String.format("%dm%02ds", s / 60, s % 60) : s + "s";
    }
}
