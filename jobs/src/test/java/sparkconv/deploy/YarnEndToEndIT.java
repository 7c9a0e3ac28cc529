package sparkconv.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import sparkconv.LocalSpark;
import sparkconv.TestData;
import sparkconv.data.IdxDataset;
import sparkconv.data.ImageSet;
import sparkconv.data.TestImages;
import sparkconv.spark.Fs;
import sparkconv.spark.JvmFlags;
import sparkconv.store.ModelStore;
import sparkconv.store.Promotion;

/**
 * Spark on YARN for real: deploy/cluster brings up a ResourceManager with 2 NodeManagers and HDFS on 127.0.0.1
 * (Spark's jars uploaded to HDFS once), and deploy/submit runs preprocess -> train (parameter averaging across 2
 * executors in YARN containers) -> evaluate -> models promote --if-better -> score on hdfs://, in client and in
 * cluster deploy mode; the executors' JVM flags and OpenMP threads are read from /proc of the container processes;
 * a failing job makes deploy/submit exit non-zero and name the application and its container logs. The cluster
 * always comes down, also when a step fails or this JVM is killed.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class YarnEndToEndIT {
    static final Path RUN_DIR = Path.of("target/it-yarn").toAbsolutePath();
    static final Path STEP_LOGS = RUN_DIR.resolve("steps");
    static final int SCORED = 40;
    static Map<String, String> cluster;
    static final Thread TEAR_DOWN_ON_EXIT = new Thread(YarnEndToEndIT::down);
    static final List<DeployScripts.Running> SUBMISSIONS = new ArrayList<>();

    @BeforeAll
    static void up() throws Exception {
        TestData.fashionMnist();
        Files.createDirectories(STEP_LOGS);
        Runtime.getRuntime().addShutdownHook(TEAR_DOWN_ON_EXIT);
        DeployScripts.Result r = DeployScripts.run(STEP_LOGS.resolve("up.log"), 300, "cluster", "up", "--manager", "yarn",
                "--dir", RUN_DIR.toString(), "--base-port", String.valueOf(ClusterEndToEndIT.freeBasePort(60)),
                "--workers", "2", "--worker-memory", "4g", "--owner-pid", String.valueOf(ProcessHandle.current().pid()));
        assertEquals(0, r.exitCode(), "deploy/cluster up --manager yarn:\n" + r.output());
        Properties env = new Properties();
        env.load(Files.newBufferedReader(RUN_DIR.resolve("cluster.env")));
        cluster = new LinkedHashMap<>();
        env.stringPropertyNames().forEach(k -> cluster.put(k, env.getProperty(k)));
        assertEquals("yarn", cluster.get("MASTER_URL"), cluster.toString());
        for (String site : List.of("core-site.xml", "hdfs-site.xml", "yarn-site.xml")) {
            assertTrue(Files.exists(Path.of(cluster.get("HADOOP_CONF_DIR"), site)), site + " in HADOOP_CONF_DIR");
        }
        assertTrue(Fs.exists(Fs.child(cluster.get("HDFS_URI"), "spark/jars"), new Configuration()), "Spark's jars in HDFS");
    }

    @AfterEach
    void stopSubmissions() throws InterruptedException {
        for (DeployScripts.Running job : SUBMISSIONS) {
            job.process().destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
        SUBMISSIONS.clear();
    }

    @AfterAll
    static void tearDown() {
        down();
        Runtime.getRuntime().removeShutdownHook(TEAR_DOWN_ON_EXIT);
    }

    static void down() {
        try {
            DeployScripts.run(STEP_LOGS.resolve("down.log"), 90, "cluster", "down", "--dir", RUN_DIR.toString());
        } catch (IOException | InterruptedException e) {
            System.err.println("deploy/cluster down failed: " + e);
        }
    }

    static String hdfs(String path) {
        return cluster.get("HDFS_URI") + path;
    }

    @Test
    @Order(1)
    void theWholePathInClientMode() throws Exception {
        wholePath("client");
    }

    @Test
    @Order(2)
    void theWholePathInClusterMode() throws Exception {
        wholePath("cluster");
    }

    /**
     * preprocess -> train -> evaluate -> promote --if-better -> score in one deploy mode, under {@code /<mode>/} in
     * HDFS and as model {@code fm-<mode>}; then a failing job.
     */
    void wholePath(String mode) throws Exception {
        Configuration conf = new Configuration();
        String shards = hdfs("/" + mode + "/shards");
        String store = hdfs("/models");
        String name = "fm-" + mode;
        DeployScripts.Result pre = submit(mode, "preprocess", "--data", TestData.fashionMnist().toString(), "--limit", "1000",
                "--validation", "200", "--batch", "32", "--out", shards);
        assertEquals(0, pre.exitCode(), pre.output());
        assertTrue(Fs.exists(Fs.child(shards, "_SUCCESS"), conf), "shards complete in HDFS");

        DeployScripts.Running train = start(mode, STEP_LOGS.resolve(mode + "-train.log"), "train", "--shards", shards,
                "--store", store, "--name", name, "--epochs", "1", "--workers", "2", "--averaging-frequency", "5");
        List<ClusterEndToEndIT.Executor> executors = executorsInContainers(train.process());
        DeployScripts.Result trained = train.await(600);
        assertEquals(0, trained.exitCode(), trained.output());
        assertEquals(2, executors.size(), "two executors in YARN containers: " + executors);
        for (ClusterEndToEndIT.Executor e : executors) {
            assertTrue(e.commandLine().contains(JvmFlags.flags()), "executor " + e.pid() + " has the JVM flag list: " + e.commandLine());
            assertEquals("1", e.environment().get("OMP_NUM_THREADS"), "executor " + e.pid() + " runs one OpenMP thread");
            assertTrue(e.environment().getOrDefault("CONTAINER_ID", "").startsWith("container_"), "a YARN container: " + e.environment());
        }

        ModelStore models = new ModelStore(store, conf);
        ModelStore.Version v1 = models.get(name, "latest");
        assertEquals("v1", v1.version());
        Map<?, ?> training = (Map<?, ?>) v1.metadata().get("training");
        assertEquals(2, ((Number) training.get("workers")).intValue(), "parameter averaging over 2 executors: " + training);
        assertTrue(String.valueOf(training.get("sparkMaster")).startsWith("yarn"), training.toString());
        double accuracy = ClusterEndToEndIT.testAccuracy(v1);
        assertTrue(accuracy > 0.2, "one epoch on 800 images beats chance (0.1): " + accuracy);

        String metricsUri = hdfs("/" + mode + "/eval/metrics.json");
        DeployScripts.Result eval = submit(mode, "evaluate", "--shards", shards, "--store", store, "--name", name, "--out", metricsUri);
        assertEquals(0, eval.exitCode(), eval.output());
        Map<?, ?> metrics = ClusterEndToEndIT.JSON.readValue(Fs.readString(Fs.path(metricsUri), conf), Map.class);
        assertEquals(accuracy, ((Number) metrics.get("accuracy")).doubleValue(), 1e-9, "evaluate reproduces the recorded accuracy");

        DeployScripts.Result promote = submit(mode, "models", "promote", "--store", store, "--name", name, "--version", "v1",
                "--if-better", "accuracy");
        assertEquals(0, promote.exitCode(), promote.output());
        assertEquals("v1", new Promotion(models, conf).best(name).orElseThrow().version(), "best.json points at v1");

        ImageSet images = IdxDataset.load(TestData.fashionMnist().toString(), IdxDataset.FASHION_CLASSES, conf).test().slice(0, SCORED);
        List<TestImages.Entry> entries = new ArrayList<>();
        for (int i = 0; i < SCORED; i++) {
            entries.add(TestImages.Entry.file(String.format("test/%03d.png", i), ClusterEndToEndIT.png(images, i)));
        }
        entries.add(TestImages.Entry.file("broken/empty.png", new byte[0]));
        Path zip = RUN_DIR.resolve(mode + "-images.zip");
        TestImages.zip(zip, entries.toArray(TestImages.Entry[]::new));
        String archive = hdfs("/" + mode + "/archive/images.zip");
        Fs.writeBytes(Fs.path(archive), Files.readAllBytes(zip), conf);
        String scores = hdfs("/" + mode + "/scores");
        DeployScripts.Result scored = submit(mode, "score", "--model", name + ":best", "--store", store, "--input", archive,
                "--out", scores);
        assertEquals(0, scored.exitCode(), scored.output());
        assertTrue(Fs.exists(Fs.child(scores, "_SUCCESS"), conf), "scores complete in HDFS");
        long rows = LocalSpark.get().read().parquet(scores).count();
        long errors = LocalSpark.get().read().parquet(scores).where("error is not null").count();
        assertEquals(entries.size(), rows, "one row per archive entry");
        assertEquals(1, errors, "the empty entry is an error row");
        System.out.printf("YARN %s mode: preprocess, train (2 executors in containers), evaluate, promote, score: test "
                + "accuracy %.4f, %d rows scored%n", mode, accuracy, rows);

        // a failing job: non-zero exit, the job's own error line, and the application and its logs named
        DeployScripts.Result failed = submit(mode, "evaluate", "--shards", hdfs("/no/such/shards"), "--store", store, "--name", name);
        assertTrue(failed.exitCode() != 0, "a failing job fails deploy/submit:\n" + failed.output());
        Matcher named = Pattern.compile("deploy/submit: sparkconv evaluate failed \\(exit (\\d+)\\): YARN application "
                + "(application_\\d+_\\d+) \\(([A-Z_]+)/([A-Z_]+)\\); its logs: yarn logs -applicationId \\2(?:; on this host:(.*))?")
                .matcher(failed.output());
        assertTrue(named.find(), "the failure names the application and its logs:\n" + failed.output());
        // client mode: the driver may fail before YARN started any container on this host
        List<Path> logDirs = named.group(5) == null ? List.of() : Stream.of(named.group(5).trim().split(" ")).map(Path::of).toList();
        String logs = containerLogs(logDirs);
        String error = "sparkconv: error: " + hdfs("/no/such/shards") + ": not a shard directory";
        if (mode.equals("client")) {
            assertEquals("2", named.group(1), "client mode: the driver's own exit status");
            assertTrue(failed.output().contains(error), failed.output());
        } else {
            assertEquals("FAILED", named.group(4), "cluster mode: the application failed");
            assertTrue(logs.contains(error), "the driver's error line is in the named container logs " + logDirs + ":\n" + logs);
        }
        System.out.printf("YARN %s mode, failing job: exit %s, %s %s/%s, logs in %s%n", mode, named.group(1), named.group(2),
                named.group(3), named.group(4), logDirs);
    }

    /** stdout and stderr of every container under the given application log directories. */
    static String containerLogs(List<Path> appLogDirs) throws IOException {
        StringBuilder out = new StringBuilder();
        for (Path dir : appLogDirs) {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    out.append("== ").append(f).append('\n').append(Files.readString(f, StandardCharsets.UTF_8));
                }
            }
        }
        return out.toString();
    }

    /** Polls /proc until two executor JVMs run in this cluster's containers, or the job ends. */
    /**
     * The executors of the job's own YARN application: the first application (by its {@code --app-id}) that was not
     * already running when the job started has two executors. An earlier step's executor can outlive its application
     * for a moment (its container is still being torn down), so executors are grouped by application.
     */
    static List<ClusterEndToEndIT.Executor> executorsInContainers(Process job) throws IOException, InterruptedException {
        Set<String> earlier = executorProcesses().values().stream().map(YarnEndToEndIT::applicationId).collect(Collectors.toSet());
        Map<String, Map<Long, ClusterEndToEndIT.Executor>> byApplication = new LinkedHashMap<>();
        while (job.isAlive()) {
            for (Map.Entry<Long, String> p : executorProcesses().entrySet()) {
                String app = applicationId(p.getValue());
                if (!earlier.contains(app)) {
                    byApplication.computeIfAbsent(app, a -> new LinkedHashMap<>()).computeIfAbsent(p.getKey(),
                            pid -> new ClusterEndToEndIT.Executor(pid, p.getValue(), ClusterEndToEndIT.environment(pid)));
                }
            }
            for (Map<Long, ClusterEndToEndIT.Executor> executors : byApplication.values()) {
                if (executors.size() >= 2) {
                    return new ArrayList<>(executors.values());
                }
            }
            Thread.sleep(300);
        }
        return byApplication.values().stream().flatMap(e -> e.values().stream()).toList();
    }

    /** pid -> command line of every YARN executor JVM of this cluster's NodeManagers (not the container's `bash -c`). */
    static Map<Long, String> executorProcesses() throws IOException {
        String nodeDirs = RUN_DIR.resolve("yarn").toString() + "/nm-";
        Map<Long, String> found = new LinkedHashMap<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                long pid = Long.parseLong(p.getFileName().toString());
                String cmd = ClusterEndToEndIT.proc(pid, "cmdline");
                boolean jvm = cmd.split(" ", 2)[0].endsWith("/java");
                if (jvm && cmd.contains("YarnCoarseGrainedExecutorBackend") && cmd.contains(nodeDirs)) {
                    found.put(pid, cmd);
                }
            }
        }
        return found;
    }

    static String applicationId(String executorCommandLine) {
        Matcher m = Pattern.compile("--app-id (\\S+)").matcher(executorCommandLine);
        return m.find() ? m.group(1) : "";
    }

    static DeployScripts.Result submit(String mode, String... command) throws IOException, InterruptedException {
        return start(mode, STEP_LOGS.resolve(mode + "-" + command[0] + "-" + System.nanoTime() + ".log"), command).await(600);
    }

    /** deploy/submit --master yarn in the given deploy mode: 2 executors of 1 GiB heap + 1 GiB off-heap, 1 core each. */
    static DeployScripts.Running start(String mode, Path log, String... command) throws IOException {
        List<String> args = new ArrayList<>(List.of("--master", "yarn", "--deploy-mode", mode,
                "--hadoop-conf", cluster.get("HADOOP_CONF_DIR"), "--driver-memory", "1g", "--executor-memory", "1g",
                "--executor-memory-overhead", "1g", "--num-executors", "2",
                "--conf", "spark.yarn.jars=" + cluster.get("SPARK_YARN_JARS")));
        args.addAll(List.of(command));
        DeployScripts.Running job = DeployScripts.start(log, "submit", args.toArray(String[]::new));
        SUBMISSIONS.add(job);
        return job;
    }
}
