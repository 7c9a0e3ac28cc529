package sparkconv.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;

import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import sparkconv.TestData;
import sparkconv.spark.Fs;
import sparkconv.spark.JvmFlags;
import sparkconv.store.ModelStore;

/**
 * The production path on a real cluster: deploy/cluster brings up a Spark standalone master with 2 one-core workers
 * and HDFS on 127.0.0.1; deploy/submit runs preprocess -> train (parameter averaging across both workers) ->
 * evaluate with hdfs:// inputs and outputs; the cluster always comes down, also when a step fails.
 * Runs in {@code mvn verify} (failsafe: it needs the shaded jar).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterEndToEndIT {
    static final Path RUN_DIR = Path.of("target/it-cluster").toAbsolutePath();
    static final Path STEP_LOGS = RUN_DIR.resolve("steps");
    static Map<String, String> cluster;
    /** Test accuracy of the undisturbed run (seed 42), for the fault test to compare with. */
    static double undisturbedAccuracy = Double.NaN;
    static final Thread TEAR_DOWN_ON_EXIT = new Thread(ClusterEndToEndIT::down);

    @BeforeAll
    static void up() throws Exception {
        TestData.fashionMnist();
        Files.createDirectories(STEP_LOGS);
        Runtime.getRuntime().addShutdownHook(TEAR_DOWN_ON_EXIT); // also when the test JVM is interrupted
        DeployScripts.Result r = DeployScripts.run(STEP_LOGS.resolve("up.log"), 240, "cluster", "up",
                "--dir", RUN_DIR.toString(), "--base-port", String.valueOf(freeBasePort()), "--worker-memory", "2g",
                "--owner-pid", String.valueOf(ProcessHandle.current().pid())); // down even if this JVM is killed
        assertEquals(0, r.exitCode(), "deploy/cluster up:\n" + r.output());
        Properties env = new Properties();
        env.load(Files.newBufferedReader(RUN_DIR.resolve("cluster.env")));
        cluster = new LinkedHashMap<>();
        env.stringPropertyNames().forEach(k -> cluster.put(k, env.getProperty(k)));
        assertTrue(cluster.get("MASTER_URL").startsWith("spark://127.0.0.1:"), cluster.toString());
        assertTrue(cluster.get("HDFS_URI").startsWith("hdfs://127.0.0.1:"), cluster.toString());
    }

    @AfterAll
    static void tearDown() {
        down();
        Runtime.getRuntime().removeShutdownHook(TEAR_DOWN_ON_EXIT);
    }

    static void down() {
        try {
            DeployScripts.run(STEP_LOGS.resolve("down.log"), 60, "cluster", "down", "--dir", RUN_DIR.toString());
        } catch (IOException | InterruptedException e) {
            System.err.println("deploy/cluster down failed: " + e);
        }
    }

    static String shards() {
        return cluster.get("HDFS_URI") + "/fashion-mnist/shards";
    }

    static String store() {
        return cluster.get("HDFS_URI") + "/models";
    }

    @Test
    @Order(1)
    void preprocessTrainEvaluateOnTheStandaloneClusterWithHdfs() throws Exception {
        String hdfs = cluster.get("HDFS_URI");
        String shards = shards();
        String store = store();

        DeployScripts.Result pre = submit("preprocess", "--data", TestData.fashionMnist().toString(), "--limit", "2000",
                "--validation", "500", "--out", shards);
        assertEquals(0, pre.exitCode(), pre.output());
        assertTrue(Fs.exists(Fs.child(shards, "_SUCCESS"), new Configuration()), "shards complete in HDFS");

        // train, and meanwhile look at the executors the workers launched: one per worker, with our JVM flags and
        // one OpenMP thread (the environment a worker gives an executor is only visible in /proc)
        Instant submitted = Instant.now();
        CompletableFuture<DeployScripts.Result> train = submitAsync(STEP_LOGS.resolve("train-v1.log"),
                "train", "--shards", shards, "--store", store, "--name", "fm", "--epochs", "1");
        List<Executor> executors = executorsOfBothWorkers(train, submitted);
        DeployScripts.Result trained = train.get();
        assertEquals(0, trained.exitCode(), trained.output());
        assertEquals(2, executors.size(), "one executor per worker: " + executors);
        for (Executor e : executors) {
            assertTrue(e.commandLine().contains(JvmFlags.flags()), "executor " + e.pid() + " has the JVM flag list: " + e.commandLine());
            assertEquals("1", e.environment().get("OMP_NUM_THREADS"), "executor " + e.pid());
        }

        ModelStore models = new ModelStore(store, new Configuration());
        assertEquals(List.of("v1"), models.versionNames("fm"));
        ModelStore.Version v1 = models.get("fm", "v1");
        assertTrue(v1.uri().startsWith(hdfs), v1.uri());
        Map<?, ?> training = (Map<?, ?>) v1.metadata().get("training");
        assertEquals(2, ((Number) training.get("workers")).intValue(), "parameter averaging over both workers: " + training);
        assertEquals(cluster.get("MASTER_URL"), training.get("sparkMaster"));
        double trainAccuracy = ((Number) ((Map<?, ?>) v1.metrics().get("test")).get("accuracy")).doubleValue();
        assertTrue(trainAccuracy > 0.2, "one epoch on 1,500 images beats chance (0.1): " + trainAccuracy);
        undisturbedAccuracy = trainAccuracy;
        var net = models.load("fm", "v1");
        assertEquals(10, net.layerSize(net.getnLayers() - 1), "the stored model loads back from HDFS: 10 classes");

        String metricsUri = hdfs + "/fashion-mnist/eval/metrics.json";
        DeployScripts.Result eval = submit("evaluate", "--shards", shards, "--store", store, "--name", "fm",
                "--out", metricsUri);
        assertEquals(0, eval.exitCode(), eval.output());
        Map<?, ?> metrics = new ObjectMapper().readValue(Fs.readString(Fs.path(metricsUri), new Configuration()), Map.class);
        assertEquals(trainAccuracy, ((Number) metrics.get("accuracy")).doubleValue(), 1e-9,
                "evaluate on the stored model reproduces the test accuracy recorded at training");

        // a failing job: spark-submit must pass the job's exit status through
        DeployScripts.Result failed = submit("evaluate", "--shards", hdfs + "/no/such/shards", "--store", store, "--name", "fm");
        assertEquals(2, failed.exitCode(), failed.output());
        assertTrue(failed.output().contains("sparkconv: error: " + hdfs + "/no/such/shards: not a shard directory"), failed.output());
    }

    /** An executor JVM killed mid-epoch: Spark re-runs its tasks elsewhere and training finishes as if undisturbed. */
    @Test
    @Order(2)
    void trainingSurvivesAnExecutorKilledMidEpoch() throws Exception {
        Assumptions.assumeFalse(Double.isNaN(undisturbedAccuracy), "needs the undisturbed run of the first test");
        Path log = STEP_LOGS.resolve("train-v2-executor-killed.log");
        Instant submitted = Instant.now();
        CompletableFuture<DeployScripts.Result> train = submitAsync(log,
                "train", "--shards", shards(), "--store", store(), "--name", "fm", "--version", "v2", "--epochs", "1");
        // the first averaging round has been reported: training is under way on both executors
        while (!train.isDone() && !(Files.exists(log) && Files.readString(log).matches("(?s).*epoch 1/1 +\\d+%.*"))) {
            Thread.sleep(100);
        }
        List<Executor> executors = executorsOfBothWorkers(train, submitted);
        assertTrue(!executors.isEmpty() && !train.isDone(), "training still running with executors: " + executors);
        Executor victim = executors.get(0);
        assertTrue(ProcessHandle.of(victim.pid()).orElseThrow().destroyForcibly(), "killed executor " + victim.pid());
        long killedAt = System.nanoTime();

        DeployScripts.Result trained = train.get();
        assertEquals(0, trained.exitCode(), trained.output());
        ModelStore models = new ModelStore(store(), new Configuration());
        double accuracy = ((Number) ((Map<?, ?>) models.get("fm", "v2").metrics().get("test")).get("accuracy")).doubleValue();
        // the standalone master replaced the killed executor: the application (the newest) had 3 executors in all
        assertEquals(3, executorsOfNewestApplication(), "executor directories of the training application");
        boolean tasksLost = trained.output().contains("ExecutorLostFailure");
        System.out.printf("executor %d killed mid-epoch (%s); training finished %.1f s later; test accuracy %.4f vs %.4f undisturbed%n",
                victim.pid(), tasksLost ? "its running tasks were lost and re-run" : "it was between tasks",
                (System.nanoTime() - killedAt) / 1e9, accuracy, undisturbedAccuracy);
        // Not asserted within 1 pp of the undisturbed run: two undisturbed runs with the same seed already differ by up
        // to ~4 pp at this size, because the last, partial averaging round's shards go to the workers in whatever way
        // scheduling falls (measured: 0.5195 and 0.5556; one killed run reproduced the 0.5195 trajectory exactly).
        assertTrue(accuracy > 0.2, "the recovered model beats chance (0.1): " + accuracy);
    }

    /** Executors (work/worker-N/APP/EXECUTOR directories) the workers launched for the newest application. */
    static long executorsOfNewestApplication() throws IOException {
        List<Path> apps = new ArrayList<>();
        for (int w = 1; w <= 2; w++) {
            try (var dirs = Files.list(RUN_DIR.resolve("work/worker-" + w))) {
                dirs.filter(d -> d.getFileName().toString().startsWith("app-")).forEach(apps::add);
            }
        }
        String newest = apps.stream().map(a -> a.getFileName().toString()).max(String::compareTo).orElseThrow();
        long executors = 0;
        for (Path app : apps) {
            if (app.getFileName().toString().equals(newest)) {
                try (var dirs = Files.list(app)) {
                    executors += dirs.filter(Files::isDirectory).count();
                }
            }
        }
        return executors;
    }

    record Executor(long pid, String commandLine, Map<String, String> environment) {
    }

    /**
     * Polls the worker JVMs' child processes until each has an executor started after {@code since} (executors of
     * the previous application may still be exiting) or the job ends.
     */
    static List<Executor> executorsOfBothWorkers(CompletableFuture<?> job, Instant since) throws IOException, InterruptedException {
        Map<Long, Executor> found = new LinkedHashMap<>();
        while (!job.isDone() && found.size() < 2) {
            for (int w = 1; w <= 2; w++) {
                long worker = Long.parseLong(Files.readString(RUN_DIR.resolve("pids/worker-" + w + ".pid")).trim());
                for (long child : ProcessHandle.of(worker).map(p -> p.children()
                        .filter(c -> c.info().startInstant().map(t -> t.isAfter(since)).orElse(false))
                        .mapToLong(ProcessHandle::pid).toArray()).orElse(new long[0])) {
                    String cmd = proc(child, "cmdline");
                    if (cmd.contains("CoarseGrainedExecutorBackend")) {
                        Map<String, String> env = new LinkedHashMap<>();
                        for (String kv : proc(child, "environ").split(" ")) {
                            int eq = kv.indexOf('=');
                            if (eq > 0) {
                                env.put(kv.substring(0, eq), kv.substring(eq + 1));
                            }
                        }
                        found.putIfAbsent(worker, new Executor(child, cmd, env));
                    }
                }
            }
            Thread.sleep(200);
        }
        return new ArrayList<>(found.values());
    }

    private static String proc(long pid, String file) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc", String.valueOf(pid), file)), StandardCharsets.UTF_8).replace('\0', ' ');
        } catch (IOException e) {
            return ""; // the process ended meanwhile
        }
    }

    static DeployScripts.Result submit(String... command) throws IOException, InterruptedException {
        return submit(STEP_LOGS.resolve(command[0] + "-" + System.nanoTime() + ".log"), command);
    }

    static DeployScripts.Result submit(Path log, String... command) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("--master", cluster.get("MASTER_URL"), "--driver-memory", "1g",
                "--executor-memory", "1g"));
        args.addAll(List.of(command));
        return DeployScripts.run(log, 300, "submit", args.toArray(String[]::new));
    }

    static CompletableFuture<DeployScripts.Result> submitAsync(Path log, String... command) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return submit(log, command);
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** A base port with the 25 ports deploy/cluster uses above it free right now. */
    static int freeBasePort() throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            int base = ThreadLocalRandom.current().nextInt(20000, 40000);
            if (allFree(base, 25)) {
                return base;
            }
        }
        throw new IOException("no free range of 25 ports on 127.0.0.1");
    }

    private static boolean allFree(int base, int count) {
        for (int p = base; p < base + count; p++) {
            try (ServerSocket s = new ServerSocket(p, 1, java.net.InetAddress.getLoopbackAddress())) {
                s.setReuseAddress(true);
            } catch (IOException e) {
                return false;
            }
        }
        return true;
    }
}
