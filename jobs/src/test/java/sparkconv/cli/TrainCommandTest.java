package sparkconv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static sparkconv.cli.CommandHarness.assertOneLineError;
import static sparkconv.cli.CommandHarness.ok;
import static sparkconv.cli.CommandHarness.run;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.LocalSpark;
import sparkconv.Tampering;
import sparkconv.TestData;
import sparkconv.models.Hyper;
import sparkconv.models.ModelZoo;
import sparkconv.shards.Manifest;
import sparkconv.store.ModelStore;
import sparkconv.train.Checkpoints;

/**
 * {@code sparkconv train} from the command line: the version it publishes carries the conf/ defaults (train.*) and the
 * name {@code <dataset>-<model>}; bad values and a taken version are one-line errors. (Accuracy across epochs with
 * the defaults: QuickstartEndToEndTest.)
 */
class TrainCommandTest {
    /** train's default policy (conf/defaults.properties): a worker's step holds its piece of each shard. */
    private static final sparkconv.train.AveragingPolicy SYNC = sparkconv.train.AveragingPolicy.parse("sync");

    @TempDir
    Path tmp;

    @Test
    void trainsWithTheConfDefaultsAndPublishesANamedVersion() {
        LocalSpark.get();
        String shards = tmp.resolve("shards").toString();
        String store = tmp.resolve("store").toString();
        ok("preprocess", "--data", TestData.fashionMnist().toString(), "--out", shards, "--limit", "600", "--validation", "100");

        CommandHarness.Result r = ok("train", "--shards", shards, "--store", store, "--epochs", "1", "--verify");
        assertTrue(r.out().contains("model fashion-mnist-lenet5 v1 stored at"), r.out());
        int shardFiles = Manifest.read(shards, new Configuration()).splits().values().stream().mapToInt(s -> s.shards().size()).sum();
        assertTrue(r.out().contains("checked the sha256 of " + shardFiles + " shards"), r.out());
        ModelStore.Version v = new ModelStore(store, new Configuration()).get("fashion-mnist-lenet5", "v1");
        Map<?, ?> hyper = (Map<?, ?>) v.metadata().get("hyperParameters");
        assertEquals("nesterovs", hyper.get("updater"), "train.updater");
        assertEquals(0.05, ((Number) hyper.get("learningRate")).doubleValue(), 1e-12, "train.lr");
        assertEquals(0.9, ((Number) hyper.get("momentum")).doubleValue(), 1e-12, "train.momentum");
        Map<?, ?> training = (Map<?, ?>) v.metadata().get("training");
        assertEquals(5, ((Number) training.get("averagingFrequency")).intValue(), "train.averaging-frequency");
        assertEquals(64, ((Number) training.get("batchSizePerWorker")).intValue(), "preprocess.batch");

        assertOneLineError(run("train", "--shards", shards, "--store", store, "--version", "v1", "--epochs", "1"), 2,
                "the store already holds fashion-mnist-lenet5 v1");
        refusesWhatCannotFit(shards, store);
        assertOneLineError(run("train", "--shards", shards, "--store", store, "--lr", "0"), 2, "--lr must be a positive number, got 0.0");
        assertOneLineError(run("train", "--shards", shards, "--store", store, "--updater", "rmsprop"), 2, "unknown updater 'rmsprop'");
    }

    /**
     * The run above fitted what it was configured with; the same model and batch predicted to need more than a small
     * configured limit is refused in one line before Spark starts, naming the setting to raise: on a cluster master the
     * executors' memory overhead, in local mode this JVM's maxphysicalbytes. Nothing is published.
     */
    private static void refusesWhatCannotFit(String shards, String store) {
        var shape = sparkconv.train.WorkerMemory.shape("lenet5", new ModelZoo.Input(1, 28, 28), 10, "nesterovs");
        var executor = sparkconv.train.WorkerMemory.need(shape, "nesterovs", 64, SYNC, 1, 2, false);
        assertOneLineError(run("train", "--shards", shards, "--store", store, "--epochs", "1", "--master", "yarn",
                        "--conf", "spark.executor.memory=512m", "--conf", "spark.executor.memoryOverhead=100m"), 2,
                "lenet5 at batch 64 with 1 worker per executor needs " + MemorySizing.mib(executor.offHeap())
                        + " off-heap per executor and spark.executor.memoryOverhead is 100 MiB: raise spark.executor.memoryOverhead to at least "
                        + MemorySizing.setting(executor.offHeap()) + " (sparkconv describe --model lenet5 --batch 64 --workers 1 shows the sizes)");
        var local = sparkconv.train.WorkerMemory.need(shape, "nesterovs", 64, SYNC, 2, 2, true);
        String key = "org.bytedeco.javacpp.maxphysicalbytes";
        String was = System.getProperty(key);
        System.setProperty(key, "100m"); // read by the check only: JavaCPP read its limit when it loaded
        try {
            assertOneLineError(run("train", "--shards", shards, "--store", store, "--epochs", "1", "--master", "local[2]"), 2,
                    "lenet5 at batch 64 with 2 workers in this JVM needs " + MemorySizing.mib(local.total()) + " resident (heap "
                            + MemorySizing.mib(local.heap()) + " + off-heap " + MemorySizing.mib(local.offHeap())
                            + ") and -Dorg.bytedeco.javacpp.maxphysicalbytes is 100 MiB: raise it to at least ");
        } finally {
            if (was == null) {
                System.clearProperty(key);
            } else {
                System.setProperty(key, was);
            }
        }
        // Without maxphysicalbytes (conf/jvm.properties ships 0: no check at each allocation) the machine's memory bounds it.
        var tooSmall = assertThrows(sparkconv.SparkconvException.class, () -> MemorySizing.check("lenet5", shape, "nesterovs", 64, SYNC, 2, 2,
                new org.apache.spark.SparkConf().set("spark.master", "local[2]"), 1L << 30, "0", 100L << 20));
        assertEquals("lenet5 at batch 64 with 2 workers in this JVM needs " + MemorySizing.mib(local.total()) + " resident (heap "
                + MemorySizing.mib(local.heap()) + " + off-heap " + MemorySizing.mib(local.offHeap()) + ") and this machine has "
                + "100 MiB of memory: lower the batch or --workers, or train on a cluster (sparkconv describe --model lenet5 "
                + "--batch 64 --workers 2 shows the sizes)", tooSmall.getMessage());
        MemorySizing.check("lenet5", shape, "nesterovs", 64, SYNC, 2, 2, new org.apache.spark.SparkConf().set("spark.master", "local[2]"),
                1L << 30, null, 64L << 30);
        assertEquals(List.of("v1"), new ModelStore(store, new Configuration()).versionNames("fashion-mnist-lenet5"), "nothing published");
    }

    /**
     * {@code --threads-per-worker T} makes a worker T cores (spark.task.cpus) and T OpenMP threads: in a JVM started with
     * OMP_NUM_THREADS=T (what ./sparkconv exports for the flag) {@code local[2]} trains with one worker of 2 threads and
     * says so; a JVM whose OpenMP has other threads, a master with too few cores, and executors left at another
     * OMP_NUM_THREADS are refused in one line before Spark starts.
     */
    @Test
    void threadsPerWorkerAreSparksTaskCpusWithTheOpenMpThreadsToMatch() throws Exception {
        LocalSpark.get();
        String shards = tmp.resolve("shards").toString();
        String store = tmp.resolve("store").toString();
        ok("preprocess", "--data", TestData.fashionMnist().toString(), "--out", shards, "--limit", "300", "--validation", "100");

        ProcessBuilder pb = sparkconv.TestJvm.command("sparkconv.cli.Main", "train", "--shards", shards, "--store", store,
                "--epochs", "1", "--master", "local[2]", "--threads-per-worker", "2", "--conf", "spark.ui.enabled=false");
        pb.environment().put("OMP_NUM_THREADS", "2");
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertTrue(out.contains("parameter averaging: 1 worker x 2 OpenMP threads, policy sync:8, every minibatch"), out);
        Map<?, ?> training = (Map<?, ?>) new ModelStore(store, new Configuration()).get("fashion-mnist-lenet5", "v1").metadata().get("training");
        assertEquals(1, ((Number) training.get("workers")).intValue(), "local[2] at 2 cores per worker");
        assertEquals(2, ((Number) training.get("threadsPerWorker")).intValue());

        // this JVM runs OMP_NUM_THREADS=1 (the surefire configuration)
        assertOneLineError(run("train", "--shards", shards, "--store", store, "--master", "local[2]", "--threads-per-worker", "2"), 2,
                "spark.task.cpus=2 gives each worker 2 cores, but this JVM runs OMP_NUM_THREADS=1 OpenMP threads, fixed when it "
                        + "started: start it with OMP_NUM_THREADS=2 (./sparkconv does that for --threads-per-worker 2)");
        assertOneLineError(run("train", "--shards", shards, "--store", store, "--master", "local[1]", "--threads-per-worker", "2"), 2,
                "spark.task.cpus=2: local[1] has 1 core, fewer than one worker needs");
        assertOneLineError(run("train", "--shards", shards, "--store", store, "--master", "spark://127.0.0.1:7077",
                "--conf", "spark.task.cpus=2"), 2, "spark.task.cpus=2 but spark.executorEnv.OMP_NUM_THREADS=1: the workers would "
                + "not use the cores they hold; --threads-per-worker 2 sets both");
        assertOneLineError(run("train", "--shards", shards, "--store", store, "--threads-per-worker", "0"), 2,
                "--threads-per-worker must be at least 1, got 0");
        assertEquals(List.of("v1"), new ModelStore(store, new Configuration()).versionNames("fashion-mnist-lenet5"), "nothing else published");
    }

    /**
     * A checkpoint whose model.zip changed after it was written is refused by --resume, and a shard that changed after
     * preprocessing by --verify: one line naming the file, exit 2, nothing trained or published.
     */
    @Test
    void changedCheckpointsAndShardsAreRefused() throws Exception {
        LocalSpark.get();
        String shards = tmp.resolve("shards").toString();
        String store = tmp.resolve("store").toString();
        ok("preprocess", "--data", TestData.fashionMnist().toString(), "--out", shards, "--limit", "300", "--validation", "100");
        MultiLayerNetwork net = new MultiLayerNetwork(ModelZoo.build("lenet5", new ModelZoo.Input(1, 28, 28), 10,
                new Hyper("nesterovs", 0.05, 0.9, 1e-4, 42)));
        net.init();
        new Checkpoints(store, "fm-v1", new Configuration()).save(
                new Checkpoints.State("fm-v1", "lenet5", 42, 1, List.of(), 0, 0), net);
        Tampering.flipOneWeightBit(tmp.resolve("store/checkpoints/fm-v1/epoch-0001/model.zip"));

        CommandHarness.Result resumed = run("train", "--shards", shards, "--store", store, "--name", "fm", "--epochs", "2", "--resume");
        assertOneLineError(resumed, 2, "/checkpoints/fm-v1/epoch-0001/model.zip: sha256 ");
        assertTrue(resumed.errors().get(0).contains("checkpoint.json records for checkpoint epoch 1 of fm-v1"), resumed.errors().get(0));

        Path shard = tmp.resolve("shards/validation/shard-00000.bin");
        Tampering.flipOneBit(shard);
        CommandHarness.Result verified = run("train", "--shards", shards, "--store", store, "--name", "other", "--epochs", "1", "--verify");
        assertOneLineError(verified, 2, "/shards/validation/shard-00000.bin: sha256 ");
        assertTrue(verified.errors().get(0).endsWith("manifest.json records (the shard changed after it was written); refusing to use the shards"),
                verified.errors().get(0));
        assertTrue(new ModelStore(store, new Configuration()).versionNames("fm").isEmpty(), "nothing published");
        assertTrue(new ModelStore(store, new Configuration()).versionNames("other").isEmpty(), "nothing published");
    }
}
