package sparkconv.deploy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.nd4j.linalg.api.ndarray.INDArray;

import sparkconv.LocalSpark;
import sparkconv.TestData;
import sparkconv.data.IdxDataset;
import sparkconv.data.ImageSet;
import sparkconv.data.TestImages;
import sparkconv.shards.Manifest;
import sparkconv.shards.ShardWriter;
import sparkconv.spark.Fs;
import sparkconv.spark.JvmFlags;
import sparkconv.store.ModelStore;
import sparkconv.train.Checkpoints;

/**
 * The production path on a real cluster: deploy/cluster brings up a Spark standalone master with 2 one-core workers
 * and HDFS on 127.0.0.1, with Spark's authentication, RPC and local I/O encryption on (its default; a submission
 * without the secret is refused); deploy/submit runs preprocess -> train (parameter averaging across both workers) ->
 * evaluate -> score with hdfs:// inputs and outputs; then the faults: an executor killed mid-epoch and the driver
 * killed mid-training (resumed from its checkpoint), each compared with the undisturbed run of the same seed.
 * The cluster always comes down, also when a step fails. Runs in {@code mvn verify} (failsafe: it needs the shaded jar).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterEndToEndIT {
    static final Path RUN_DIR = Path.of("target/it-cluster").toAbsolutePath();
    static final Path STEP_LOGS = RUN_DIR.resolve("steps");
    /** Every job's Spark event log: what the history server's pages, the environment page among them, are built from. */
    static final Path EVENT_LOGS = RUN_DIR.resolve("eventlog");
    /** Every training run: 2 epochs on 1,500 images, seed 42 (the default), so the runs are comparable. */
    static final String EPOCHS = "2";
    /**
     * Shards of 16 images (94 training shards) and one averaging round per epoch (2 workers x 48): each round's tasks fit
     * 47 minibatches, long enough for the executor-kill test to find one running and kill it mid-task. With shards of
     * 64 a task fitted 12 minibatches, and once training got faster a kill could land just after the round (the driver's
     * REST API reports a task as running a little after it ends); with the default averaging of 10 the last round of
     * an epoch is a partial one.
     */
    static final String SHARD_BATCH = "16";
    static final String AVERAGING = "48";
    /** Fashion-MNIST test images written as PNGs into the archive that score reads. */
    static final int SCORED = 100;
    /** Images the Spark ML program fits and transforms on the cluster, and files landing for score --watch. */
    static final int ML_IMAGES = 120;
    static final int WATCHED = 10;
    static Map<String, String> cluster;
    /** The cluster's shared secret (spark.authenticate is on by default): it must appear in no log and no command line. */
    static String secret;
    /** Test accuracy of the undisturbed run v1, for the fault tests to compare with. */
    static double undisturbedAccuracy = Double.NaN;
    static final Thread TEAR_DOWN_ON_EXIT = new Thread(ClusterEndToEndIT::down);
    /** deploy/submit processes started by the current test. */
    static final List<DeployScripts.Running> SUBMISSIONS = new ArrayList<>();

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
        Path secretFile = Path.of(cluster.get("SPARK_SECRET_FILE"));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(secretFile)), secretFile.toString());
        secret = Files.readAllLines(secretFile).stream().filter(l -> l.startsWith("spark.authenticate.secret "))
                .map(l -> l.substring(l.indexOf(' ') + 1).trim()).findFirst().orElseThrow();
        assertTrue(secret.length() >= 32, "a generated secret of 32 bytes or more");
        Files.createDirectories(EVENT_LOGS);
    }

    /** A test that fails while a job runs must not leave that job running into the next test: the driver is killed. */
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
                "--validation", "500", "--batch", SHARD_BATCH, "--out", shards);
        assertEquals(0, pre.exitCode(), pre.output());
        assertTrue(Fs.exists(Fs.child(shards, "_SUCCESS"), new Configuration()), "shards complete in HDFS");

        // a client without the cluster's secret is refused at the master's first answer, in one line, before any work
        long started = System.nanoTime();
        String refusedOut = hdfs + "/refused/shards";
        DeployScripts.Result refused = DeployScripts.run(STEP_LOGS.resolve("preprocess-without-secret.log"), 120, "submit",
                "--master", cluster.get("MASTER_URL"), "--driver-memory", "1g", "--executor-memory", "1g",
                "preprocess", "--data", TestData.fashionMnist().toString(), "--limit", "200", "--validation", "50", "--out", refusedOut);
        double refusedAfter = (System.nanoTime() - started) / 1e9;
        assertEquals(2, refused.exitCode(), refused.output());
        List<String> said = refused.output().lines().filter(l -> l.contains("spark.authenticate")).toList();
        assertEquals(1, said.size(), refused.output());
        assertTrue(said.get(0).startsWith("submit: error: " + cluster.get("MASTER_URL") + " refused this client")
                && said.get(0).contains("--secret-file"), said.get(0));
        assertTrue(!refused.output().contains("Exception") && !refused.output().contains("All masters are unresponsive"),
                "only the one line about it:\n" + refused.output());
        assertTrue(!Fs.exists(Fs.path(refusedOut), new Configuration()), "the refused job wrote nothing");
        System.out.printf("a submission without the secret: refused after %.1f s: %s%n", refusedAfter, said.get(0));

        // train, and meanwhile look at the executors the workers launched: one per worker, with our JVM flags and
        // one OpenMP thread (the environment a worker gives an executor is only visible in /proc)
        Instant submitted = Instant.now();
        DeployScripts.Running train = startSubmit(STEP_LOGS.resolve("train-v1.log"),
                "train", "--shards", shards, "--store", store, "--name", "fm", "--epochs", EPOCHS,
                "--averaging-frequency", AVERAGING);
        List<Executor> executors = executorsOfBothWorkers(train.process(), submitted);
        DeployScripts.Result trained = train.await(300);
        assertEquals(0, trained.exitCode(), trained.output());
        // The rounds ran inside barrier stages on the executors, and their clocks reached the driver (accumulators).
        assertTrue(trained.output().lines().anyMatch(l -> l.contains(" done: ") && l.contains("; a round: fit ")),
                "each epoch's line says where its rounds' time went: " + trained.output());
        assertEquals(2, executors.size(), "one executor per worker: " + executors);
        for (Executor e : executors) {
            assertTrue(e.commandLine().contains(JvmFlags.flags()), "executor " + e.pid() + " has the JVM flag list: " + e.commandLine());
            assertEquals("1", e.environment().get("OMP_NUM_THREADS"), "executor " + e.pid());
            // the worker hands its executors the secret in their environment, never on their command line
            assertTrue(e.environment().containsKey("_SPARK_AUTH_SECRET"), "executor " + e.pid() + " has the secret");
            assertTrue(!e.commandLine().contains(secret), "executor " + e.pid() + ": the secret is not on its command line");
        }

        ModelStore models = new ModelStore(store, new Configuration());
        assertEquals(List.of("v1"), models.versionNames("fm"));
        ModelStore.Version v1 = models.get("fm", "v1");
        assertTrue(v1.uri().startsWith(hdfs), v1.uri());
        Map<?, ?> training = (Map<?, ?>) v1.metadata().get("training");
        assertEquals(2, ((Number) training.get("workers")).intValue(), "parameter averaging over both workers: " + training);
        assertEquals(cluster.get("MASTER_URL"), training.get("sparkMaster"));
        double trainAccuracy = testAccuracy(v1);
        assertTrue(trainAccuracy > 0.2, "two epochs on 1,500 images beat chance (0.1): " + trainAccuracy);
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

    /**
     * Score a zip of Fashion-MNIST test images (PNG, 28x28 grey: the model's input) plus broken entries, in HDFS, on
     * the cluster: one Parquet row per entry, errors on the broken ones, and on the others the same predictions as the
     * stored model's own {@code output()} in this JVM. The scoring run is itself the re-run of one killed inside a task
     * with the same output ({@link #killDuringATask}): the killed application leaves nothing visible, and the re-run
     * completes with every entry.
     */
    @Test
    @Order(2)
    void scoreAnImageArchiveInHdfsWithTheTrainedModel() throws Exception {
        Assumptions.assumeFalse(Double.isNaN(undisturbedAccuracy), "needs the model v1 of the first test");
        Configuration conf = new Configuration();
        ImageSet images = IdxDataset.load(TestData.fashionMnist().toString(), IdxDataset.FASHION_CLASSES, conf).test().slice(0, SCORED);
        List<TestImages.Entry> entries = new ArrayList<>();
        for (int i = 0; i < SCORED; i++) {
            entries.add(TestImages.Entry.file(String.format("fashion-mnist-test/%03d.png", i), png(images, i)));
        }
        byte[] aPng = png(images, 0);
        Map<String, String> broken = Map.of("broken/empty.png", "empty-file", "broken/cut.png", "corrupt-image",
                "broken/notes.txt", "not-an-image");
        entries.add(TestImages.Entry.file("broken/empty.png", new byte[0]));
        entries.add(TestImages.Entry.file("broken/cut.png", TestImages.truncated(aPng, aPng.length / 2)));
        entries.add(TestImages.Entry.file("broken/notes.txt", TestImages.text("not an image")));
        Path zip = RUN_DIR.resolve("fashion-mnist-test.zip");
        TestImages.zip(zip, entries.toArray(TestImages.Entry[]::new));
        String archive = cluster.get("HDFS_URI") + "/archive/date=2026-01-01/fashion-mnist-test.zip";
        Fs.writeBytes(Fs.path(archive), Files.readAllBytes(zip), conf);
        String scores = cluster.get("HDFS_URI") + "/scores/date=2026-01-01";
        String[] score = {"score", "--model", "fm:v1", "--store", store(), "--input", archive, "--out", scores};
        killDuringATask("score", score, scores);

        DeployScripts.Result scored = submit(STEP_LOGS.resolve("score-rerun.log"), score);
        assertEquals(0, scored.exitCode(), scored.output());
        assertTrue(scored.output().contains(String.format("scored %d images with fm v1", entries.size())), scored.output());
        assertTrue(Fs.exists(Fs.child(scores, "_SUCCESS"), conf), "scores complete in HDFS");
        Map<String, Row> byEntry = new LinkedHashMap<>();
        for (Row row : LocalSpark.get().read().parquet(scores).collectAsList()) {
            String path = row.getString(row.fieldIndex("path"));
            assertTrue(path.startsWith(archive + "!/"), path);
            byEntry.put(path.substring(path.indexOf("!/") + 2), row);
        }
        assertEquals(entries.size(), byEntry.size(), "one row per archive entry: " + byEntry.keySet());
        broken.forEach((entry, reason) -> {
            Row row = byEntry.get(entry);
            String error = row.getString(row.fieldIndex("error"));
            assertTrue(error != null && error.startsWith(reason), entry + ": " + error);
            assertTrue(row.isNullAt(row.fieldIndex("predicted_class")), entry + " has no prediction");
        });

        // the single-JVM reference: the stored model's output() on the same pixels, normalised as at training
        MultiLayerNetwork net = new ModelStore(store(), conf).load("fm", "v1");
        Manifest.Normalisation norm = Manifest.read(shards(), conf).normalisation();
        INDArray expected = net.output(ShardWriter.toDataSet(images.pixels(), images.labels(), images.channels(), images.height(),
                images.width(), images.classNames().size(), norm).getFeatures(), false);
        int correct = 0;
        for (int i = 0; i < SCORED; i++) {
            String entry = String.format("fashion-mnist-test/%03d.png", i);
            Row row = byEntry.get(entry);
            assertTrue(row.isNullAt(row.fieldIndex("error")), entry + ": " + row.get(row.fieldIndex("error")));
            assertEquals("fm", row.getString(row.fieldIndex("model_name")));
            assertEquals("v1", row.getString(row.fieldIndex("model_version")));
            int predicted = row.getInt(row.fieldIndex("predicted_class"));
            int best = expected.getRow(i).argMax().getInt(0);
            assertEquals(best, predicted, entry + " scored on the cluster as output() in one JVM");
            assertEquals(expected.getDouble(i, best), row.getDouble(row.fieldIndex("probability")), 1e-4, entry);
            assertEquals(IdxDataset.FASHION_CLASSES.get(predicted), row.getString(row.fieldIndex("class_name")));
            correct += predicted == images.labels()[i] ? 1 : 0;
        }
        double accuracy = correct / (double) SCORED;
        System.out.printf("scored %d archive entries on the cluster: accuracy %.2f on the %d Fashion-MNIST test images "
                + "(model v1: %.4f on its test split)%n", entries.size(), accuracy, SCORED, undisturbedAccuracy);
        assertTrue(accuracy > 0.3, "the scores are meaningful: accuracy " + accuracy + " beats chance (0.1)");
    }

    /**
     * The Spark ML path on the cluster with everything in HDFS: docs/spark-ml.md's program ({@code SparkMlExample}:
     * {@code StringIndexer} -> {@code CnnClassifier} -> {@code IndexToString} fitted on the {@code image} data source, the
     * predictions written, the pipeline saved and loaded again) submitted by {@code deploy/submit --class --jars}; the
     * version it published is in the HDFS store for {@code score --watch}, which scores a landing folder in HDFS (a
     * broken file as an error row). The pipeline saved on the cluster, loaded in this JVM, predicts what the cluster
     * predicted.
     */
    @Test
    @Order(3)
    void aSparkMlPipelineAndAStreamingScoreRunOnTheClusterWithTheStoreInHdfs() throws Exception {
        String hdfs = cluster.get("HDFS_URI");
        Configuration conf = new Configuration();
        ImageSet images = IdxDataset.load(TestData.fashionMnist().toString(), IdxDataset.FASHION_CLASSES, conf).test().slice(0, ML_IMAGES);
        String folder = hdfs + "/ml/images";
        for (int i = 0; i < ML_IMAGES; i++) {
            String label = IdxDataset.FASHION_CLASSES.get(images.labels()[i]).replace('/', '-');
            Fs.writeBytes(Fs.path(String.format("%s/%s/%03d.png", folder, label, i)), png(images, i), conf);
        }
        Path example = RUN_DIR.resolve("spark-ml-example.jar");
        try (var jar = new java.util.jar.JarOutputStream(Files.newOutputStream(example))) {
            Path classes = Path.of("target", "test-classes");
            try (Stream<Path> files = Files.list(classes.resolve("sparkconv/ml"))) {
                for (Path c : files.filter(f -> f.getFileName().toString().startsWith("SparkMlExample")).toList()) {
                    jar.putNextEntry(new java.util.jar.JarEntry(classes.relativize(c).toString()));
                    jar.write(Files.readAllBytes(c));
                    jar.closeEntry();
                }
            }
        }
        String work = hdfs + "/ml/work";
        DeployScripts.Result fitted = submit(STEP_LOGS.resolve("spark-ml-example.log"), "--class", "sparkconv.ml.SparkMlExample",
                "--jars", example.toString(), folder, work);
        assertEquals(0, fitted.exitCode(), fitted.output());
        assertTrue(fitted.output().contains("predictedClass"), "the loaded pipeline's predictions were shown:\n" + fitted.output());
        String store = work + "/store";
        assertEquals(List.of("v1"), new ModelStore(store, conf).versionNames("example"), "fit published to the store in HDFS");

        var spark = LocalSpark.get();
        List<Row> predicted = spark.read().parquet(work + "/predictions").collectAsList();
        assertEquals(ML_IMAGES, predicted.size(), "a prediction per image");
        Map<String, String> onCluster = new LinkedHashMap<>();
        predicted.forEach(r -> onCluster.put(r.getString(0), r.getString(2)));
        var df = spark.read().format("image").option("recursiveFileLookup", "true").load(folder)
                .withColumn("class", org.apache.spark.sql.functions.regexp_extract(org.apache.spark.sql.functions.url_decode(
                        org.apache.spark.sql.functions.col("image.origin")), "([^/]+)/[^/]+$", 1));
        for (Row r : org.apache.spark.ml.PipelineModel.load(work + "/pipeline").transform(df)
                .select("image.origin", "predictedClass").collectAsList()) {
            assertEquals(onCluster.get(r.getString(0)), r.getString(1), r.getString(0) + ": the saved pipeline predicts here what it predicted there");
        }

        String landing = hdfs + "/ml/landing";
        for (int i = 0; i < WATCHED; i++) {
            Fs.writeBytes(Fs.path(String.format("%s/%03d.png", landing, i)), png(images, i), conf);
        }
        Fs.writeBytes(Fs.path(landing + "/broken.png"), TestImages.truncated(png(images, 0), 100), conf);
        String watched = hdfs + "/ml/watched";
        DeployScripts.Result watch = submit(STEP_LOGS.resolve("score-watch.log"), "score", "--watch", "--once", "--store", store,
                "--model", "example:latest", "--input", landing, "--out", watched);
        assertEquals(0, watch.exitCode(), watch.output());
        assertTrue(watch.output().contains(String.format("%d images, 1 with errors; scores in ", WATCHED + 1)), watch.output());
        List<Row> scored = spark.read().parquet(watched).collectAsList();
        assertEquals(WATCHED + 1, scored.size(), "a row per landed file");
        List<Row> errors = scored.stream().filter(r -> !r.isNullAt(r.fieldIndex("error"))).toList();
        assertEquals(1, errors.size(), errors.toString());
        assertTrue(errors.get(0).getString(errors.get(0).fieldIndex("error")).startsWith("corrupt-image"), errors.toString());
        assertTrue(scored.stream().allMatch(r -> "example".equals(r.getString(r.fieldIndex("model_name")))), "scored with the fitted model");
    }

    /** A 28x28 grey PNG of image {@code i}. */
    static byte[] png(ImageSet images, int i) {
        BufferedImage img = new BufferedImage(images.width(), images.height(), BufferedImage.TYPE_BYTE_GRAY);
        img.getRaster().setDataElements(0, 0, images.width(), images.height(),
                Arrays.copyOfRange(images.pixels(), i * images.imageBytes(), (i + 1) * images.imageBytes()));
        return TestImages.encode(img, "png");
    }

    /**
     * Two faults in one training run, each compared with the undisturbed run of the same seed. First an executor JVM
     * killed while it fits its minibatches of epoch 1's averaging round: Spark re-runs the lost task (the standalone
     * master launches a replacement executor) and the round completes from the same broadcast parameters with the
     * same minibatches. The kill lands inside the task by construction: the executors run with
     * {@link sparkconv.spark.FaultPoint} on, so the first executor to load its third minibatch pauses there (between
     * two minibatches of the round) and says so; the test kills that JVM. Then the driver (the spark-submit JVM in
     * client mode) killed with SIGKILL during epoch 2: the application ends with its executors, and
     * {@code train --resume} continues from the epoch-1 checkpoint in HDFS (written after the re-run round) to the
     * model of the undisturbed run, bit for bit: so the re-run task reproduced epoch 1 exactly, and the resume
     * reproduced epoch 2. Both faults share one training run (one application fewer than a run each); the price is
     * that differing parameters would not say which of the two faults changed them.
     */
    @Test
    @Order(4)
    void trainingSurvivesAKilledExecutorAndResumesFromItsCheckpointAfterTheDriverIsKilled() throws Exception {
        Assumptions.assumeFalse(Double.isNaN(undisturbedAccuracy), "needs the undisturbed run of the first test");
        Configuration conf = new Configuration();
        Checkpoints checkpoints = new Checkpoints(store(), "fm-v2", conf);
        String[] train = {"train", "--shards", shards(), "--store", store(), "--name", "fm", "--version", "v2", "--epochs", EPOCHS,
                "--averaging-frequency", AVERAGING};
        Path pauseDir = freshPauseDir(RUN_DIR.resolve("fault-executor"));
        Instant submitted = Instant.now();
        String[] pausing = {"--conf", "spark.executorEnv.SPARKCONV_FAULT_PAUSE_DIR=" + pauseDir,
                "--conf", "spark.executorEnv.SPARKCONV_FAULT_PAUSE_AT=3"};
        DeployScripts.Running driver = startSubmit(STEP_LOGS.resolve("train-v2-executor-and-driver-killed.log"),
                Stream.concat(Arrays.stream(pausing), Arrays.stream(train)).toArray(String[]::new));
        List<Executor> executors = executorsOfBothWorkers(driver.process(), submitted);
        Path paused = pauseDir.resolve("paused");
        long deadline = System.nanoTime() + 300_000_000_000L;
        while (!Files.exists(paused) || Files.readString(paused).isBlank()) {
            assertTrue(driver.process().isAlive() && System.nanoTime() < deadline, "no executor paused in a round:\n" + output(driver));
            Thread.sleep(100);
        }
        long pid = Long.parseLong(Files.readString(paused).trim());
        Executor victim = executors.stream().filter(e -> e.pid() == pid).findFirst()
                .orElseThrow(() -> new AssertionError("paused pid " + pid + " is not an executor of the job: " + executors));
        long roundsReported = driver.output().lines().filter(l -> l.matches("epoch \\d+/" + EPOCHS + " +\\d+%.*")).count();
        assertTrue(ProcessHandle.of(victim.pid()).orElseThrow().destroyForcibly(), "killed executor " + victim.pid());
        long executorKilledAt = System.nanoTime();

        awaitOutput(driver, out -> out.contains("checkpoint epoch 1 -> "));
        double checkpointedAfter = (System.nanoTime() - executorKilledAt) / 1e9;
        assertTrue(driver.output().contains("ExecutorLostFailure"), "the killed executor's task was lost and re-run:\n" + driver.output());
        assertTrue(driver.output().contains("epoch 1/" + EPOCHS + " done"), "epoch 1 finished after the re-run:\n" + driver.output());
        // the standalone master replaced the killed executor: the application (the newest) had 3 executors in all
        assertEquals(3, executorsOfNewestApplication(), "executor directories of the training application");
        System.out.printf("executor pid %d killed while paused inside a task of an averaging round (after its 3rd minibatch, "
                + "%d progress reports); its task re-ran and epoch 1 was checkpointed %.1f s later%n", victim.pid(), roundsReported,
                checkpointedAfter);

        List<Executor> running = executorsOfBothWorkers(driver.process(), submitted);
        assertTrue(driver.process().isAlive(), "the driver is training epoch 2:\n" + driver.output());
        assertTrue(driver.process().destroyForcibly().waitFor(30, TimeUnit.SECONDS), "driver killed");
        long killedAt = System.nanoTime();
        assertEquals(137, driver.process().exitValue(), "killed by SIGKILL");

        // the master notices the driver is gone: the application ends and its executors (the replacement too) exit
        awaitNoActiveApplication();
        for (Executor e : running) {
            ProcessHandle.of(e.pid()).ifPresent(p -> p.onExit().orTimeout(60, TimeUnit.SECONDS).join());
        }
        double endedAfter = (System.nanoTime() - killedAt) / 1e9;
        assertEquals(1, checkpoints.latest().orElseThrow().epoch(), "the epoch-1 checkpoint is in HDFS");
        ModelStore models = new ModelStore(store(), conf);
        assertTrue(!models.versionNames("fm").contains("v2"), "no model version from the killed run");

        String[] resume = Stream.concat(Arrays.stream(train), Stream.of("--resume"))
                .toArray(String[]::new);
        DeployScripts.Result resumed = submit(STEP_LOGS.resolve("train-v2-resumed.log"), resume);
        assertEquals(0, resumed.exitCode(), resumed.output());
        assertTrue(resumed.output().contains("resuming at epoch 2/" + EPOCHS + " from " + checkpoints.runDir()), resumed.output());
        assertTrue(!resumed.output().contains("epoch 1/" + EPOCHS + " done"), "epoch 1 is not trained again:\n" + resumed.output());
        ModelStore.Version v2 = models.get("fm", "v2");
        Map<?, ?> training = (Map<?, ?>) v2.metadata().get("training");
        assertEquals(2, ((Number) training.get("resumedAtEpoch")).intValue(), training.toString());
        assertEquals(2, ((List<?>) v2.metrics().get("epochs")).size(), "the history holds both epochs");
        assertTrue(checkpoints.latest().isEmpty(), "the checkpoints are removed once the version is published");
        double accuracy = testAccuracy(v2);
        System.out.printf("driver killed in epoch 2; application and executors gone %.1f s later; resumed at epoch 2: "
                + "test accuracy %.4f vs %.4f undisturbed (parameters identical)%n", endedAfter, accuracy,
                undisturbedAccuracy);
        assertSameParameters("v2", "v1", "the re-run task started from the round's broadcast with the same minibatches, and "
                + "the resumed run continued from the epoch-1 checkpoint (parameters and updater state)");
    }

    private static String output(DeployScripts.Running job) {
        try {
            return job.output();
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }

    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final ObjectMapper JSON = new ObjectMapper();

    static <T> T getJson(String url, Class<T> type) throws IOException, InterruptedException {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException(url + ": HTTP " + r.statusCode());
        }
        return JSON.readValue(r.body(), type);
    }

    /**
     * The whole application killed (its driver, {@code kill -9}) while preprocess runs a task (an executor paused
     * inside it at {@link sparkconv.spark.FaultPoint}): no output directory and no {@code _SUCCESS} appear (only a
     * hidden staging directory is left), and a re-run writes the undisturbed run's shards. (Score killed the same way:
     * {@link #scoreAnImageArchiveInHdfsWithTheTrainedModel}, whose scoring run is the re-run.)
     */
    @Test
    @Order(5)
    void killingTheApplicationDuringPreprocessLeavesNothingHalfVisible() throws Exception {
        Assumptions.assumeFalse(Double.isNaN(undisturbedAccuracy), "needs the shards of the first test");
        Configuration conf = new Configuration();
        String shards2 = cluster.get("HDFS_URI") + "/preprocess-killed/shards";
        String[] preprocess = {"preprocess", "--data", TestData.fashionMnist().toString(), "--limit", "2000",
                "--validation", "500", "--batch", SHARD_BATCH, "--out", shards2};
        killDuringATask("preprocess", preprocess, shards2);
        DeployScripts.Result again = submit(STEP_LOGS.resolve("preprocess-rerun.log"), preprocess);
        assertEquals(0, again.exitCode(), again.output());
        List<Object> undisturbed = shardHashes(shards(), conf);
        assertEquals(undisturbed, shardHashes(shards2, conf), "the re-run wrote the same shards as the undisturbed run");
        System.out.printf("preprocess killed inside a task: nothing visible at the output; re-run: %d training shards, "
                + "byte-identical to the undisturbed run's%n", undisturbed.size());
    }

    /**
     * After every job of the suite: the cluster's secret is in no log (deploy scripts, daemons, executors' stdout and
     * stderr, the jobs' output) and on no process's command line.
     */
    @Test
    @Order(6)
    void theSecretIsInNoLogAndOnNoCommandLine() throws IOException {
        List<Path> leaks = new ArrayList<>();
        long scanned;
        try (Stream<Path> files = Files.walk(RUN_DIR)) {
            List<Path> logs = files.filter(Files::isRegularFile)
                    .filter(f -> !f.startsWith(RUN_DIR.resolve("hdfs")) && !f.startsWith(RUN_DIR.resolve("spark-home")))
                    .filter(f -> !f.equals(Path.of(cluster.get("SPARK_SECRET_FILE"))) && !f.toString().endsWith(".jar"))
                    .toList();
            for (Path f : logs) {
                if (new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1).contains(secret)) {
                    leaks.add(f);
                }
            }
            scanned = logs.size();
        }
        assertTrue(scanned > 10, "logs scanned: " + scanned);
        // the outputs in HDFS: every version's metadata.json and report.html, the evaluation's metrics
        Configuration conf = new Configuration();
        List<String> outputs = new ArrayList<>();
        ModelStore models = new ModelStore(store(), conf);
        for (String version : models.versionNames("fm")) {
            ModelStore.Version v = models.get("fm", version);
            outputs.add(v.uri() + "/metadata.json");
            outputs.add(v.uri() + "/report.html");
        }
        outputs.add(cluster.get("HDFS_URI") + "/fashion-mnist/eval/metrics.json");
        List<String> present = outputs.stream().filter(o -> Fs.exists(Fs.path(o), conf)).toList();
        assertTrue(present.stream().anyMatch(o -> o.endsWith("metadata.json")) && present.stream().anyMatch(o -> o.endsWith("report.html")),
                "metadata and a report to check: " + present);
        for (String out : present) {
            if (Fs.readString(Fs.path(out), conf).contains(secret)) {
                leaks.add(Path.of(out.replace(':', '_')));
            }
        }
        // the environment page of every job (its event log's SparkListenerEnvironmentUpdate) lists the setting, redacted
        List<Path> eventLogs;
        try (Stream<Path> files = Files.list(EVENT_LOGS)) {
            eventLogs = files.toList();
        }
        assertTrue(eventLogs.size() >= 4, "an event log per job: " + eventLogs);
        long environments = 0;
        for (Path log : eventLogs) { // a killed driver's log may end before its environment was flushed
            for (String environment : Files.readString(log).lines().filter(l -> l.contains("\"Event\":\"SparkListenerEnvironmentUpdate\"")).toList()) {
                assertTrue(environment.contains("\"spark.authenticate.secret\":\"*********(redacted)\""), log + ": the secret's setting, redacted");
                environments++;
            }
        }
        assertTrue(environments >= 4, "the environment of every finished job: " + environments + " in " + eventLogs);
        assertEquals(List.of(), leaks, "files under " + RUN_DIR + " and outputs holding the secret");
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            List<String> onCommandLine = procs.filter(p -> p.getFileName().toString().matches("\\d+"))
                    .filter(p -> proc(Long.parseLong(p.getFileName().toString()), "cmdline").contains(secret))
                    .map(p -> p.getFileName().toString()).toList();
            assertEquals(List.of(), onCommandLine, "processes with the secret on their command line");
        }
        System.out.printf("the secret is in none of %d files under %s (%d event logs, %d environments, the setting redacted), none of %d "
                + "outputs (metadata.json, report.html, metrics) and on no command line%n", scanned, RUN_DIR, eventLogs.size(), environments, present.size());
    }

    /** Starts {@code command} with an executor pausing inside its first task, kills the driver, and checks the output. */
    static void killDuringATask(String name, String[] command, String out) throws Exception {
        Path pauseDir = freshPauseDir(RUN_DIR.resolve("fault-" + name));
        List<String> args = new ArrayList<>(List.of("--conf", "spark.executorEnv.SPARKCONV_FAULT_PAUSE_DIR=" + pauseDir,
                "--conf", "spark.executorEnv.SPARKCONV_FAULT_PAUSE_AT=1"));
        args.addAll(List.of(command));
        DeployScripts.Running job = startSubmit(STEP_LOGS.resolve(name + "-killed.log"), args.toArray(String[]::new));
        long deadline = System.nanoTime() + 300_000_000_000L;
        while (!Files.exists(pauseDir.resolve("paused"))) {
            assertTrue(job.process().isAlive() && System.nanoTime() < deadline, name + ": no task paused:\n" + job.output());
            Thread.sleep(100);
        }
        assertTrue(job.process().destroyForcibly().waitFor(30, TimeUnit.SECONDS), name + ": driver killed");
        awaitNoActiveApplication();
        Configuration conf = new Configuration();
        assertTrue(!Fs.exists(Fs.path(out), conf), name + ": nothing at " + out + " after the kill");
        org.apache.hadoop.fs.Path parent = Fs.path(out).getParent();
        // the task may pause before anything was written: then not even the parent directory exists
        List<String> left = !Fs.exists(parent, conf) ? List.of()
                : Arrays.stream(Fs.fs(parent, conf).listStatus(parent)).map(st -> st.getPath().getName()).toList();
        assertTrue(left.stream().allMatch(n -> n.startsWith(".")), name + ": only hidden staging left beside the output: " + left);
        System.out.printf("%s: driver killed while an executor was inside a task; left in %s: %s%n", name, parent, left);
    }

    /**
     * An empty directory for {@link sparkconv.spark.FaultPoint}'s markers: a {@code paused} left by an earlier run in
     * the same target directory would stop every executor from pausing and name a process that is gone.
     */
    static Path freshPauseDir(Path dir) throws IOException {
        Files.deleteIfExists(dir.resolve("paused"));
        Files.deleteIfExists(dir.resolve("release"));
        return Files.createDirectories(dir);
    }

    /** The sha256 of every training shard, from a shard directory's manifest. */
    static List<Object> shardHashes(String shards, Configuration conf) throws IOException {
        Map<?, ?> manifest = JSON.readValue(Fs.readString(Fs.child(shards, "manifest.json"), conf), Map.class);
        List<?> files = (List<?>) ((Map<?, ?>) ((Map<?, ?>) manifest.get("splits")).get("train")).get("shards");
        return files.stream().map(f -> (Object) ((Map<?, ?>) f).get("sha256")).toList();
    }

    /** Two stored versions of fm have bit-identical parameters: training is deterministic per seed, faults included. */
    static void assertSameParameters(String a, String b, String why) {
        ModelStore models = new ModelStore(store(), new Configuration());
        assertArrayEquals(models.load("fm", b).params().toFloatVector(), models.load("fm", a).params().toFloatVector(),
                "fm " + a + " has the parameters of the undisturbed fm " + b + ": " + why);
    }

    static double testAccuracy(ModelStore.Version v) {
        return ((Number) ((Map<?, ?>) v.metrics().get("test")).get("accuracy")).doubleValue();
    }

    /** Waits (up to 5 minutes) until the job's output satisfies {@code ready}; fails if the job ends first. */
    static void awaitOutput(DeployScripts.Running job, Predicate<String> ready) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 300_000_000_000L;
        while (!ready.test(job.output())) {
            assertTrue(job.process().isAlive(), job.command() + " ended early:\n" + job.output());
            assertTrue(System.nanoTime() < deadline, job.command() + ": still waiting after 5 minutes:\n" + job.output());
            Thread.sleep(100);
        }
    }

    /** Polls the standalone master's JSON status (up to 60 s) until no application is active. */
    static void awaitNoActiveApplication() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (true) {
            List<?> active = (List<?>) getJson(cluster.get("MASTER_UI") + "/json/", Map.class).get("activeapps");
            if (active.isEmpty()) {
                return;
            }
            assertTrue(System.nanoTime() < deadline, "applications still active 60 s after the driver was killed: " + active);
            Thread.sleep(200);
        }
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
    static List<Executor> executorsOfBothWorkers(Process job, Instant since) throws IOException, InterruptedException {
        Map<Long, Executor> found = new LinkedHashMap<>();
        while (job.isAlive() && found.size() < 2) {
            for (int w = 1; w <= 2; w++) {
                long worker = Long.parseLong(Files.readString(RUN_DIR.resolve("pids/worker-" + w + ".pid")).trim());
                for (long child : ProcessHandle.of(worker).map(p -> p.children()
                        .filter(c -> c.info().startInstant().map(t -> t.isAfter(since)).orElse(false))
                        .mapToLong(ProcessHandle::pid).toArray()).orElse(new long[0])) {
                    String cmd = proc(child, "cmdline");
                    if (cmd.contains("CoarseGrainedExecutorBackend")) {
                        found.putIfAbsent(worker, new Executor(child, cmd, environment(child)));
                    }
                }
            }
            Thread.sleep(200);
        }
        return new ArrayList<>(found.values());
    }

    /** A process's environment, from /proc. */
    static Map<String, String> environment(long pid) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String kv : proc(pid, "environ").split(" ")) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                String name = kv.substring(0, eq);
                // kept out of assertion messages, which print the environment
                env.put(name, name.equals("_SPARK_AUTH_SECRET") ? "(redacted)" : kv.substring(eq + 1));
            }
        }
        return env;
    }

    static String proc(long pid, String file) {
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
        return startSubmit(log, command).await(300);
    }

    /**
     * deploy/submit on the cluster in the background: in client mode its process is the driver. {@code command} may
     * start with deploy/submit options (e.g. {@code --conf K=V}).
     */
    static DeployScripts.Running startSubmit(Path log, String... command) throws IOException {
        List<String> args = new ArrayList<>(List.of("--master", cluster.get("MASTER_URL"), "--secret-file",
                cluster.get("SPARK_SECRET_FILE"), "--driver-memory", "1g", "--executor-memory", "1g",
                "--conf", "spark.eventLog.enabled=true", "--conf", "spark.eventLog.dir=" + EVENT_LOGS.toUri()));
        args.addAll(List.of(command));
        DeployScripts.Running job = DeployScripts.start(log, "submit", args.toArray(String[]::new));
        SUBMISSIONS.add(job);
        return job;
    }

    /** A base port with the 25 ports deploy/cluster uses above it free right now. */
    static int freeBasePort() throws IOException {
        return freeBasePort(25);
    }

    /**
     * A base port with {@code count} ports above it free right now, below the kernel's ephemeral range: there any
     * process's outgoing connections and any JVM's own random listeners (this test JVM's local Spark, the previous
     * cluster's last clients) may take a port between this check and the cluster's start (a CI run met one).
     */
    static int freeBasePort(int count) throws IOException {
        int ephemeral = 32768;
        try {
            ephemeral = Integer.parseInt(Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim().split("\\s+")[0]);
        } catch (IOException | NumberFormatException e) {
            // not Linux: its usual range
        }
        int high = Math.max(20000 + count + 1000, ephemeral - count);
        for (int attempt = 0; attempt < 50; attempt++) {
            int base = ThreadLocalRandom.current().nextInt(20000, high);
            if (allFree(base, count)) {
                return base;
            }
        }
        throw new IOException("no free range of " + count + " ports on 127.0.0.1");
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
