package sparkconv.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.LocalSpark;
import sparkconv.TestData;
import sparkconv.data.IdxDataset;
import sparkconv.models.Hyper;
import sparkconv.models.ModelZoo;
import sparkconv.shards.Manifest;
import sparkconv.preprocess.IdxPreprocess;
import sparkconv.spark.SparkSessions;

/**
 * The same seed trains the same model. On a cluster that needs more than a fixed seed: a shuffle's read order depends
 * on which executor's blocks arrive first, so the minibatches of an averaging round must reach the workers without
 * one (dl4j-spark's repartitioning is one). Local mode reads shuffles in a fixed order, so this test checks the
 * cause directly: no shuffle while training, including the last, partial averaging round.
 */
class TrainingDeterminismTest {
    @TempDir
    static Path dir;

    private static String shards;
    private static Manifest manifest;

    @BeforeAll
    static void shards() {
        SparkSession spark = LocalSpark.get();
        shards = dir.resolve("shards").toString();
        // 900 training images in 29 shards of 32: averaging rounds of 2 workers x 2 minibatches leave a partial last round
        IdxPreprocess.idx(spark, TestData.fashionMnist().toString(), "fashion-mnist", IdxDataset.FASHION_CLASSES, shards,
                32, 100, 1000, false);
        manifest = Manifest.read(shards, spark.sparkContext().hadoopConfiguration());
        assertTrue(manifest.shardUris(shards, "train").size() % 4 != 0, "a partial last averaging round");
    }

    @Test
    void twoRunsWithTheSameSeedTrainTheSameParametersWithoutAShuffle() throws InterruptedException {
        SparkSession spark = LocalSpark.get();
        ShuffleCounter first = new ShuffleCounter();
        float[] a = train(spark, first, false);
        ShuffleCounter second = new ShuffleCounter();
        float[] b = train(spark, second, false);

        assertEquals(0, first.shuffleRecordsWritten.get(), "no shuffle between the chunks of shard paths and the workers");
        assertEquals(0, second.shuffleRecordsWritten.get());
        assertArrayEquals(a, b, "bit-identical parameters from the same seed");

        // Dropout draws from the random generator of the thread that fits: the workers' generators must follow the seed.
        float[] c = train(spark, new ShuffleCounter(), true);
        float[] d = train(spark, new ShuffleCounter(), true);
        assertArrayEquals(c, d, "bit-identical parameters from the same seed, with dropout");
        assertTrue(!java.util.Arrays.equals(a, c), "dropout changed the training (so the check above bites)");
    }

    /**
     * An epoch's chunks (Spark jobs) follow the clock, a progress line about every 10 s, so where they end varies from
     * run to run; the rounds, and so the model, must not: a worker's round is the same minibatches in any chunk.
     */
    @Test
    void howAnEpochIsCutIntoSparkJobsDoesNotChangeTheModel() throws InterruptedException {
        assertEquals(List.of("a", "b", "e", "f", "c", "d", "g", "h"),
                new RoundLayout(2, 2, 8).byWorker(List.of("a", "b", "c", "d", "e", "f", "g", "h")),
                "two rounds of 2 workers x 2: worker 1's rounds first (a b, then e f), then worker 2's (c d, then g h)");
        SparkSession spark = LocalSpark.get();
        List<String> perRound = new CopyOnWriteArrayList<>();
        List<String> perHalfEpoch = new CopyOnWriteArrayList<>();
        float[] a = train(spark, new ShuffleCounter(), false, 0, perRound::add);
        float[] b = train(spark, new ShuffleCounter(), false, 1e9, perHalfEpoch::add);
        // 29 shards: 7 full rounds of 4 and a short one. A chunk per round, or the first an eighth of the epoch (one
        // round), then to the epoch's middle (rounds 2-4), to its last full round (5-7), and the short round.
        assertEquals(8, progressLines(perRound), "a progress line per round: " + perRound);
        assertEquals(4, progressLines(perHalfEpoch), "progress at the middle and the end of the epoch: " + perHalfEpoch);
        assertTrue(perHalfEpoch.stream().anyMatch(l -> l.matches("^epoch 1/1 +5\\d% .*")), "a line at half the epoch");
        assertArrayEquals(a, b, "bit-identical parameters however the epoch was cut into jobs");
    }

    private static long progressLines(List<String> log) {
        return log.stream().filter(l -> l.matches("^epoch 1/1 +\\d+% .*")).count();
    }

    private static float[] train(SparkSession spark, ShuffleCounter counter, boolean dropout) throws InterruptedException {
        return train(spark, counter, dropout, SparkTrainer.PROGRESS_SECONDS, line -> { });
    }

    private static float[] train(SparkSession spark, ShuffleCounter counter, boolean dropout, double progressSeconds,
                                 Consumer<String> progress) throws InterruptedException {
        TrainOptions options = TrainOptions.builder("seed-trace", new Hyper("nesterovs", 0.02, 0.9, 1e-4, 7))
                .workers(2).averagingFrequency(2).prefetch(1).build();
        MultiLayerConfiguration conf = ModelZoo.build(options.model(), new ModelZoo.Input(1, 28, 28),
                manifest.classes().size(), options.hyper());
        if (dropout) {
            for (int i = 1; i < conf.getConfs().size(); i++) {
                conf.getConf(i).getLayer().setIDropout(new Dropout(0.5));
            }
        }
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        SparkContext sc = spark.sparkContext();
        String group = "determinism-" + System.nanoTime();
        sc.addSparkListener(counter);
        sc.setJobGroup(group, "training", false);
        try {
            new SparkTrainer(SparkSessions.javaContext(spark), progress, progressSeconds).train(net, shards, manifest, options);
            counter.awaitJobs(sc.statusTracker().getJobIdsForGroup(group));
        } finally {
            sc.clearJobGroup();
            sc.removeSparkListener(counter);
        }
        return net.params().toFloatVector();
    }

    /** Shuffle records written by the tasks of the jobs it sees end. */
    static final class ShuffleCounter extends SparkListener {
        final AtomicLong shuffleRecordsWritten = new AtomicLong();
        final Set<Integer> endedJobs = ConcurrentHashMap.newKeySet();

        @Override
        public void onTaskEnd(SparkListenerTaskEnd taskEnd) {
            if (taskEnd.taskMetrics() != null) {
                shuffleRecordsWritten.addAndGet(taskEnd.taskMetrics().shuffleWriteMetrics().recordsWritten());
            }
        }

        @Override
        public void onJobEnd(SparkListenerJobEnd jobEnd) {
            endedJobs.add(jobEnd.jobId());
        }

        /** Listener events arrive asynchronously: wait until the end of each of these jobs (and so of its tasks) was seen. */
        void awaitJobs(int[] jobIds) throws InterruptedException {
            assertTrue(jobIds.length > 0, "training ran Spark jobs");
            long deadline = System.nanoTime() + 30_000_000_000L;
            for (int id : jobIds) {
                while (!endedJobs.contains(id)) {
                    assertTrue(System.nanoTime() < deadline, "listener saw no end of job " + id);
                    Thread.sleep(10);
                }
            }
        }
    }
}
