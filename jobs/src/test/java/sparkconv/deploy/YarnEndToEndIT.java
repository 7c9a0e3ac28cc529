package sparkconv.deploy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
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

import com.fasterxml.jackson.databind.JsonNode;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.BlockLocation;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.hadoop.security.UserGroupInformation;
import org.apache.hadoop.yarn.api.records.ContainerId;
import org.apache.hadoop.yarn.api.records.SignalContainerCommand;
import org.apache.hadoop.yarn.client.api.YarnClient;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.exceptions.YarnException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import sparkconv.LocalSpark;
import sparkconv.TestData;
import sparkconv.data.IdxDataset;
import sparkconv.data.ImageSet;
import sparkconv.cli.AirflowDag;
import sparkconv.spark.Fs;
import sparkconv.spark.JvmFlags;
import sparkconv.store.ModelStore;
import sparkconv.store.Promotion;

/**
 * Spark on YARN for real, with Kerberos: deploy/cluster --kerberos brings up a KDC and a ResourceManager with 2 NodeManagers and HDFS with 2 DataNodes
 * (replication 2) on 127.0.0.1 (Spark's jars uploaded to HDFS once, as one archive). In client mode the Airflow DAG's
 * commands, as it renders them, run the whole path on hdfs://: preprocess -> train (parameter averaging across 2 executors in YARN
 * containers) -> evaluate -> models promote --if-better -> score. Cluster mode runs what it adds (the driver in the
 * ApplicationMaster's container): the same training, through a DataNode and an executor's container lost inside an
 * averaging round, to the same model. The executors' JVM flags and OpenMP threads are read from /proc of the container
 * processes; a failing job makes deploy/submit exit non-zero in both modes and name the application and its container
 * logs. The cluster always comes down, also when a step fails or this JVM is killed. HDFS and YARN run secured
 * (Kerberos, block tokens, SASL data transfer, HTTPS, permissions on): every submission passes the user's principal
 * and keytab (the DAG's Variables), this JVM logs in from the same keytab, and a submission without them is refused
 * in one line before any application starts.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class YarnEndToEndIT {
    static final Path RUN_DIR = Path.of("target/it-yarn").toAbsolutePath();
    static final Path STEP_LOGS = RUN_DIR.resolve("steps");
    /** Every job's Spark event log: what the history server's pages, the environment page among them, are built from. */
    static final Path EVENT_LOGS = RUN_DIR.resolve("eventlog");
    static final int SCORED = 40;
    /**
     * The cluster's HDFS and YARN delegation tokens must be renewed every this many seconds
     * (deploy/cluster --token-renew-interval) and live at most {@link #TOKEN_LIFETIME_SECONDS}, twice that (Hadoop's
     * ratio is 7): three lifetimes fit in each of the DAG's trainings (10 epochs for it), on a quiet host too. Spark logs
     * in again from the keytab and hands out fresh tokens at {@link #RENEWAL_RATIO} of the interval; every HDFS access
     * of sparkconv's own after that (the version claim, checkpoints, the store, the executors' shard reads, score's
     * output) uses them. Containers that start after the submission's tokens expired (on this busy host an
     * application's executors start 20-50 s after it) are localized with tokens the ResourceManager gets for the
     * application (deploy/cluster gives it the proxy-user right): it asks for them when it renews a token near its end,
     * at 0.9 of the interval, and stops renewing the old ones. So the submission's own tokens live 1.9 intervals at
     * most, and the ApplicationMaster's localizer (a JVM of its own, seconds to start under load) must reach HDFS within
     * that: 8-12 s on this busy host; a 10 s interval and lifetime (10 s) and a 4 s interval with 8 s (7.6 s) failed.
     */
    static final int TOKEN_RENEW_SECONDS = 8;
    static final int TOKEN_LIFETIME_SECONDS = 16;
    /**
     * Spark's spark.security.credentials.renewalRatio for these jobs: fresh tokens every half interval (4 s), 4 s before
     * the last ones expire (nobody renews the tokens Spark fetches; Spark's default, 0.75, would leave 2 s on a 2-core
     * host under load).
     */
    static final double RENEWAL_RATIO = 0.5;
    /** The DAG run's day, and the version its train publishes. */
    static final String DS = "2026-01-01";
    static final String VERSION = "v" + DS.replace("-", "");
    /** Model names: the undisturbed client-mode run and the cluster-mode run with faults (same shards, seed, settings). */
    static final String UNDISTURBED = "fm-client";
    static final String FAULTED = "fm-cluster";
    static AirflowDag dag;
    /** Test accuracy of the undisturbed run, for the fault run to compare with. */
    static double undisturbedAccuracy = Double.NaN;
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
                "--workers", "2", "--worker-memory", "4g", "--datanodes", "2", "--kerberos",
                "--token-renew-interval", String.valueOf(TOKEN_RENEW_SECONDS), "--token-max-lifetime", String.valueOf(TOKEN_LIFETIME_SECONDS),
                "--owner-pid", String.valueOf(ProcessHandle.current().pid()));
        assertEquals(0, r.exitCode(), "deploy/cluster up --manager yarn:\n" + r.output());
        Properties env = new Properties();
        env.load(Files.newBufferedReader(RUN_DIR.resolve("cluster.env")));
        cluster = new LinkedHashMap<>();
        env.stringPropertyNames().forEach(k -> cluster.put(k, env.getProperty(k)));
        assertEquals("yarn", cluster.get("MASTER_URL"), cluster.toString());
        kerberosLogin();
        for (String site : List.of("core-site.xml", "hdfs-site.xml", "yarn-site.xml")) {
            assertTrue(Files.exists(Path.of(cluster.get("HADOOP_CONF_DIR"), site)), site + " in HADOOP_CONF_DIR");
        }
        assertEquals("2", hadoopConf().get("dfs.replication"), "2 DataNodes, replication 2");
        assertTrue(Fs.exists(Fs.path(cluster.get("SPARK_YARN_ARCHIVE")), hadoopConf()), "Spark's jars in HDFS");
        Files.createDirectories(EVENT_LOGS); // the drivers (client mode here, cluster mode in a container on this host) write there
    }

    @AfterEach
    void stopSubmissions() throws InterruptedException {
        for (DeployScripts.Running job : SUBMISSIONS) {
            job.process().destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
        SUBMISSIONS.clear();
    }

    /**
     * This JVM (HDFS reads and writes, the local Spark that reads scores, the YARN client) logs in from the user's
     * keytab, as a client of the kerberized cluster would; {@link #tearDown} puts Hadoop back to simple authentication
     * for the tests after this one (same JVM).
     */
    static void kerberosLogin() throws IOException {
        Path keytab = Path.of(cluster.get("KERBEROS_KEYTAB"));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keytab)), "the user's keytab is 0600");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keytab.resolveSibling("hadoop.keytab"))));
        System.setProperty("java.security.krb5.conf", cluster.get("KRB5_CONFIG"));
        System.setProperty("sun.security.krb5.disableReferrals", "true");
        // Spark's context sets UGI's configuration when it starts: start the local one first
        Configuration local = LocalSpark.get().sparkContext().hadoopConfiguration();
        Configuration conf = hadoopConf();
        assertEquals("kerberos", conf.get("hadoop.security.authentication"));
        assertEquals("true", conf.get("dfs.permissions.enabled"));
        assertEquals("HTTPS_ONLY", conf.get("dfs.http.policy"));
        UserGroupInformation.setConfiguration(conf);
        UserGroupInformation.loginUserFromKeytab(cluster.get("KERBEROS_PRINCIPAL"), keytab.toString());
        assertTrue(UserGroupInformation.isSecurityEnabled() && UserGroupInformation.getCurrentUser().hasKerberosCredentials(),
                "logged in: " + UserGroupInformation.getCurrentUser());
        // the local Spark's own Hadoop configuration: the NameNode's principal, SASL to the DataNodes
        for (String key : List.of("dfs.namenode.kerberos.principal", "dfs.data.transfer.protection")) {
            local.set(key, conf.get(key));
        }
    }

    @AfterAll
    static void tearDown() {
        Configuration local = LocalSpark.get().sparkContext().hadoopConfiguration();
        local.unset("dfs.namenode.kerberos.principal");
        local.unset("dfs.data.transfer.protection");
        UserGroupInformation.reset();
        UserGroupInformation.setConfiguration(new Configuration());
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
    void theAirflowDagsCommandsInClientMode() throws Exception {
        Configuration conf = hadoopConf();
        dag = AirflowDag.read(Map.of("sparkconv_home", AirflowDag.ROOT.toString(),
                "sparkconv_principal", cluster.get("KERBEROS_PRINCIPAL"), "sparkconv_keytab", cluster.get("KERBEROS_KEYTAB")));
        // the day's IDX partition, as upstream writes it: 1,600 training images + the 5,000 preprocess holds out for
        // validation by default (the DAG's preprocess passes no --validation), 1,000 test images; _SUCCESS last
        IdxDataset.TrainTest fm = IdxDataset.load(TestData.fashionMnist().toString(), IdxDataset.FASHION_CLASSES, conf);
        String day = dagValue(UNDISTURBED, "params.data") + "/date=" + DS;
        writeIdx(day, "train", fm.train().slice(0, 6600), conf);
        writeIdx(day, "t10k", fm.test().slice(0, 1000), conf);
        Fs.writeString(Fs.child(day, "_SUCCESS"), "", conf);

        DeployScripts.Result pre = submitDagTask("client", "preprocess", UNDISTURBED);
        assertEquals(0, pre.exitCode(), pre.output());
        String shards = dagValue(UNDISTURBED, "params.work") + "/shards/date=" + DS;
        assertTrue(Fs.exists(Fs.child(shards, "_SUCCESS"), conf), "shards complete in HDFS");
        String shardReplicas = replicatedTwice(shards, conf);

        DeployScripts.Running train = startDagTask("client", "train", UNDISTURBED, STEP_LOGS.resolve("client-train.log"));
        List<ClusterEndToEndIT.Executor> executors = executorsInContainers(train.process());
        DeployScripts.Result trained = train.await(600);
        assertEquals(0, trained.exitCode(), trained.output());
        assertTrue(Pattern.compile("sparkconv: train runs as Spark application application_\\d+_\\d+ on yarn")
                .matcher(trained.output()).find(), "the driver names its application:\n" + trained.output());
        ModelStore.Version v = checkTrainingRun(UNDISTURBED, executors);
        // claimed its version, read shards on the executors, checkpointed, published (and released the claim) with
        // tokens Spark obtained after the first ones had expired (its checkpoint and the claim's heartbeat before the
        // version's files, the claim's release after them)
        String trainTokens = outlivedItsTokens("client-mode train", 3, trained.output(), executorLogs(applicationOf(trained.output())), v.uri());
        double accuracy = ClusterEndToEndIT.testAccuracy(v);
        assertTrue(accuracy > 0.2, "ten epochs on 1,600 images beat chance (0.1): " + accuracy);
        String modelReplicas = replicatedTwice(v.uri(), conf);
        undisturbedAccuracy = accuracy;

        DeployScripts.Result eval = submitDagTask("client", "evaluate", UNDISTURBED);
        assertEquals(0, eval.exitCode(), eval.output());
        String metricsUri = dagValue(UNDISTURBED, "params.work") + "/evaluations/" + UNDISTURBED + "-" + VERSION + ".json";
        Map<?, ?> metrics = ClusterEndToEndIT.JSON.readValue(Fs.readString(Fs.path(metricsUri), conf), Map.class);
        assertEquals(accuracy, ((Number) metrics.get("accuracy")).doubleValue(), 1e-9, "evaluate reproduces the recorded accuracy");

        // promote is a BashOperator: the sparkconv launcher on the Airflow worker (here: this host), not a Spark job
        DeployScripts.Result promote = runDagBashTask("promote", UNDISTURBED);
        assertEquals(0, promote.exitCode(), promote.output());
        String store = dagValue(UNDISTURBED, "params.store");
        assertEquals(VERSION, new Promotion(new ModelStore(store, conf), conf).best(UNDISTURBED).orElseThrow().version(),
                "best.json points at the day's version");

        // the day's archive partition: a folder of PNGs (Fashion-MNIST test images) and one empty file
        ImageSet images = fm.test().slice(0, SCORED);
        String archive = dagValue(UNDISTURBED, "params.archive") + "/date=" + DS;
        for (int i = 0; i < SCORED; i++) {
            Fs.writeBytes(Fs.child(archive, String.format("test/%03d.png", i)), ClusterEndToEndIT.png(images, i), conf);
        }
        Fs.writeBytes(Fs.child(archive, "broken/empty.png"), new byte[0], conf);
        DeployScripts.Result scored = submitDagTask("client", "score", UNDISTURBED);
        assertEquals(0, scored.exitCode(), scored.output());
        // read the model and the images, wrote and committed its Parquet output, with tokens Spark got after the first
        // ones expired (one lifetime: the DAG's score of 41 images is too short for three)
        String scoreTokens = outlivedItsTokens("client-mode score", 1, scored.output(), executorLogs(applicationOf(scored.output())),
                dagValue(UNDISTURBED, "params.scores") + "/date=" + DS);
        String scores = dagValue(UNDISTURBED, "params.scores") + "/date=" + DS;
        assertTrue(Fs.exists(Fs.child(scores, "_SUCCESS"), conf), "scores complete in HDFS");
        long rows = LocalSpark.get().read().parquet(scores).count();
        long errors = LocalSpark.get().read().parquet(scores).where("error is not null").count();
        assertEquals(SCORED + 1, rows, "one row per image file");
        assertEquals(1, errors, "the empty file is an error row");
        System.out.printf("YARN client mode, the Airflow DAG's commands (preprocess, train, evaluate, promote, score) as it "
                + "renders them: test accuracy %.4f, promoted %s, %d rows scored; replication 2: shards %s, model %s%n",
                accuracy, VERSION, rows, shardReplicas, modelReplicas);
        System.out.println(trainTokens);
        System.out.println(scoreTokens);

        failingJob("client");
    }

    /**
     * Cluster deploy mode adds the driver in the ApplicationMaster's container: a failing job, and a training run (the
     * DAG's train, on the client run's shards) through two faults landed inside its first averaging round by
     * {@link sparkconv.spark.FaultPoint}: a DataNode killed, then the paused executor's container killed by its
     * NodeManager. The task re-runs, every shard is read from its other replica, and the model equals the
     * undisturbed client-mode run's (same seed, shards and settings).
     */
    @Test
    @Order(2)
    void clusterModeTrainingSurvivesALostDataNodeAndALostContainer() throws Exception {
        Assumptions.assumeFalse(Double.isNaN(undisturbedAccuracy), "needs the undisturbed client-mode run of the first test");
        failingJob("cluster");

        Configuration conf = hadoopConf();
        Path pauseDir = ClusterEndToEndIT.freshPauseDir(RUN_DIR.resolve("fault-train"));
        long submitted = System.nanoTime();
        DeployScripts.Running train = startDagTask("cluster", "train", FAULTED, STEP_LOGS.resolve("cluster-train-faults.log"),
                "--conf", "spark.executorEnv.SPARKCONV_FAULT_PAUSE_DIR=" + pauseDir, "--conf", "spark.executorEnv.SPARKCONV_FAULT_PAUSE_AT=3");
        List<ClusterEndToEndIT.Executor> executors = executorsInContainers(train.process());
        Path paused = pauseDir.resolve("paused");
        long deadline = System.nanoTime() + 300_000_000_000L;
        while (!Files.exists(paused) || Files.readString(paused).isBlank()) {
            assertTrue(train.process().isAlive() && System.nanoTime() < deadline, "no executor paused in a round:\n" + train.output());
            Thread.sleep(100);
        }
        long pid = Long.parseLong(Files.readString(paused).trim());
        ClusterEndToEndIT.Executor victim = executors.stream().filter(e -> e.pid() == pid).findFirst()
                .orElseThrow(() -> new AssertionError("paused pid " + pid + " is not an executor of the job: " + executors));
        double pausedAfter = (System.nanoTime() - submitted) / 1e9;

        // fault 3: a DataNode lost (kill -9) while a task of the round waits inside it; every block has a replica on each
        long dataNode = Long.parseLong(Files.readString(RUN_DIR.resolve("pids/datanode-2.pid")).trim());
        Matcher address = Pattern.compile("dfs\\.datanode\\.address=(\\S+)").matcher(ClusterEndToEndIT.proc(dataNode, "cmdline"));
        assertTrue(address.find(), "DataNode 2's command line names its address");
        ProcessHandle dn = ProcessHandle.of(dataNode).orElseThrow(() -> new AssertionError("DataNode 2 is not running"));
        assertTrue(dn.destroyForcibly(), "DataNode 2 killed");
        dn.onExit().get(30, TimeUnit.SECONDS);
        long dataNodeKilled = System.nanoTime();

        // fault 4: the paused executor's container killed by its NodeManager (FORCEFUL_SHUTDOWN through the ResourceManager)
        String container = victim.environment().getOrDefault("CONTAINER_ID", "");
        assertTrue(container.startsWith("container_"), "the paused executor runs in a YARN container: " + victim.environment());
        signalContainer(container, SignalContainerCommand.FORCEFUL_SHUTDOWN);
        ProcessHandle.of(victim.pid()).ifPresent(p -> p.onExit().orTimeout(120, TimeUnit.SECONDS).join());
        long containerKilled = System.nanoTime();

        DeployScripts.Result trained = train.await(600);
        double finishedAfter = (System.nanoTime() - containerKilled) / 1e9;
        assertEquals(0, trained.exitCode(), trained.output());
        // cluster mode: the driver's result lines come from its container's log, and the application is named
        assertTrue(trained.output().lines().anyMatch(l -> l.startsWith("test accuracy ") && l.contains("model " + FAULTED + " " + VERSION)),
                "the driver's result line:\n" + trained.output());
        assertTrue(Pattern.compile("deploy/submit: YARN application application_\\d+_\\d+ \\(FINISHED/SUCCEEDED\\)")
                .matcher(trained.output()).find(), trained.output());
        ModelStore.Version v = checkTrainingRun(FAULTED, executors);
        String app = applicationId(victim.commandLine());
        // the driver in the ApplicationMaster's container renews too; the replacement executor started after the first
        // tokens expired (its container localized with the tokens the ResourceManager got for the application)
        String clusterTokens = outlivedItsTokens("cluster-mode train", 3, driverContainerLog(app), executorLogs(app), v.uri());
        String logs = containerLogs(applicationLogDirs(app));
        assertTrue(logs.contains("ExecutorLostFailure"), "the killed container's task was lost and re-run (driver log of " + app + ")");
        long containers = applicationLogDirs(app).stream().mapToLong(YarnEndToEndIT::containerCount).sum();
        // the DFS client's warnings when a read or write finds the dead DataNode (it then uses the other replica)
        long failovers = logs.lines().filter(l -> l.contains(address.group(1)) && l.contains("onnect")).count();

        double accuracy = ClusterEndToEndIT.testAccuracy(v);
        ModelStore models = new ModelStore(dagValue(FAULTED, "params.store"), conf);
        Map<?, ?> hdfs = nameNodeJmx("Hadoop:service=NameNode,name=FSNamesystemState");
        Object liveDataNodes = ((Map<?, ?>) ((List<?>) hdfs.get("beans")).get(0)).get("NumLiveDataNodes");
        System.out.printf("fault: DataNode 2 (%s, pid %d) killed -9 inside the first averaging round of a cluster-mode train "
                + "(an executor paused at its 3rd minibatch, %.1f s after submit); training read its shards from the other "
                + "replica (%d log lines about the dead DataNode) and finished, the NameNode counting %s live DataNode(s) at "
                + "the end; test accuracy %.4f vs %.4f undisturbed (parameters identical)%n", address.group(1), dataNode,
                pausedAfter, failovers, liveDataNodes, accuracy, undisturbedAccuracy);
        System.out.printf("fault: YARN container %s (executor pid %d) killed by its NodeManager (FORCEFUL_SHUTDOWN) inside the "
                + "same round, %.1f s after the DataNode; Spark re-ran the lost task (ExecutorLostFailure; the application ran "
                + "%d containers, ApplicationMaster included), training finished %.1f s after the kill; test accuracy %.4f vs %.4f undisturbed (parameters "
                + "identical)%n", container, victim.pid(), (containerKilled - dataNodeKilled) / 1e9, containers,
                finishedAfter, accuracy, undisturbedAccuracy);
        System.out.println(clusterTokens);
        assertTrue(failovers > 0, "the DFS client met the dead DataNode " + address.group(1) + " and went on to the other replica "
                + "(driver and executor logs of " + app + ")");
        assertArrayEquals(models.load(UNDISTURBED, VERSION).params().toFloatVector(), models.load(FAULTED, VERSION).params().toFloatVector(),
                "the model trained through both faults has the parameters of the undisturbed run (same seed, shards and settings)");
    }

    /**
     * After the suite: the user's keytab is in no output. Neither its bytes (as they are, hex or base64) nor any of its
     * keys (raw, hex, base64) appear in any log under the run directory (the steps' output, every container's stdout
     * and stderr, the daemons' logs), in any job's event log (the history server's environment page is built from its
     * SparkListenerEnvironmentUpdate, which every event log holds), in the versions' metadata.json and report.html, or
     * in the evaluation's output. Only the keytab files themselves, HDFS's blocks (a cluster-mode submission stages the
     * keytab for its driver) and the NodeManagers' localized copies hold it.
     */
    @Test
    @Order(3)
    void theKeytabIsInNoOutput() throws Exception {
        Assumptions.assumeFalse(Double.isNaN(undisturbedAccuracy), "needs the runs of the first test");
        Path keytab = Path.of(cluster.get("KERBEROS_KEYTAB"));
        List<byte[]> needles = new ArrayList<>(keytabForms(Files.readAllBytes(keytab)));
        javax.security.auth.kerberos.KerberosPrincipal principal = new javax.security.auth.kerberos.KerberosPrincipal(cluster.get("KERBEROS_PRINCIPAL"));
        javax.security.auth.kerberos.KerberosKey[] keys = javax.security.auth.kerberos.KeyTab.getInstance(keytab.toFile()).getKeys(principal);
        assertTrue(keys.length > 0, "the keytab holds keys of " + principal);
        for (javax.security.auth.kerberos.KerberosKey k : keys) {
            needles.addAll(keytabForms(k.getEncoded()));
        }
        List<String> leaks = new ArrayList<>();
        int scanned = 0;
        try (Stream<Path> files = Files.walk(RUN_DIR)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Path rel = RUN_DIR.relativize(f);
                boolean holdsItByDesign = rel.startsWith("kerberos") || rel.startsWith("hdfs") || rel.startsWith("spark-home")
                        || (rel.startsWith("yarn") && rel.toString().contains("/local/")) || f.toString().endsWith(".jar");
                if (!holdsItByDesign) {
                    scanned++;
                    if (holdsAny(Files.readAllBytes(f), needles)) {
                        leaks.add(rel.toString());
                    }
                }
            }
        }
        Configuration conf = hadoopConf();
        List<String> outputs = new ArrayList<>();
        for (String name : List.of(UNDISTURBED, FAULTED)) {
            ModelStore models = new ModelStore(dagValue(name, "params.store"), conf);
            if (models.versionNames(name).contains(VERSION)) {
                outputs.add(models.get(name, VERSION).uri() + "/metadata.json");
                outputs.add(models.get(name, VERSION).uri() + "/report.html");
            }
        }
        outputs.add(dagValue(UNDISTURBED, "params.work") + "/evaluations/" + UNDISTURBED + "-" + VERSION + ".json");
        assertTrue(Fs.exists(Fs.path(outputs.get(0)), conf) && Fs.exists(Fs.path(outputs.get(1)), conf), "the client run's metadata and report");
        for (String out : outputs.stream().filter(o -> Fs.exists(Fs.path(o), conf)).toList()) {
            scanned++;
            if (holdsAny(Fs.readString(Fs.path(out), conf).getBytes(StandardCharsets.ISO_8859_1), needles)) {
                leaks.add(out);
            }
        }
        List<Path> eventLogs;
        try (Stream<Path> files = Files.list(EVENT_LOGS)) {
            eventLogs = files.toList();
        }
        assertTrue(eventLogs.size() >= 5, "an event log per job: " + eventLogs);
        long environments = eventLogs.stream().filter(l -> {
            try {
                return Files.readString(l).contains("\"Event\":\"SparkListenerEnvironmentUpdate\"");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }).count();
        assertTrue(environments >= 5, "the environment page's data in every job's event log: " + environments + " of " + eventLogs);
        assertTrue(scanned > 30, "files scanned: " + scanned);
        assertEquals(List.of(), leaks, "outputs holding the keytab's bytes or keys");
        System.out.printf("the keytab (%d keys) is in none of %d logs, event logs (%d, each with its environment) and "
                + "outputs (metadata.json, report.html, evaluation)%n", keys.length, scanned, eventLogs.size());
    }

    /** The bytes as they are, as lower- and upper-case hex, and as base64 (standard and URL-safe). */
    static List<byte[]> keytabForms(byte[] secret) {
        String hex = java.util.HexFormat.of().formatHex(secret);
        List<byte[]> out = new ArrayList<>(List.of(secret));
        for (String f : List.of(hex, hex.toUpperCase(), java.util.Base64.getEncoder().encodeToString(secret),
                java.util.Base64.getUrlEncoder().encodeToString(secret))) {
            out.add(f.getBytes(StandardCharsets.US_ASCII));
        }
        return out;
    }

    static boolean holdsAny(byte[] haystack, List<byte[]> needles) {
        for (byte[] n : needles) {
            outer:
            for (int i = 0; i + n.length <= haystack.length; i++) {
                for (int j = 0; j < n.length; j++) {
                    if (haystack[i + j] != n[j]) {
                        continue outer;
                    }
                }
                return true;
            }
        }
        return false;
    }

    /**
     * The checks every training run makes: two executors of its application in YARN containers, with the JVM flag
     * list and one OpenMP thread; the published version records 2 workers and a YARN master. Returns the version.
     */
    static ModelStore.Version checkTrainingRun(String name, List<ClusterEndToEndIT.Executor> executors) {
        assertEquals(2, executors.size(), "two executors in YARN containers: " + executors);
        for (ClusterEndToEndIT.Executor e : executors) {
            assertTrue(e.commandLine().contains(JvmFlags.flags()), "executor " + e.pid() + " has the JVM flag list: " + e.commandLine());
            assertEquals("1", e.environment().get("OMP_NUM_THREADS"), "executor " + e.pid() + " runs one OpenMP thread");
            assertTrue(e.environment().getOrDefault("CONTAINER_ID", "").startsWith("container_"), "a YARN container: " + e.environment());
        }
        ModelStore.Version v = new ModelStore(dagValue(name, "params.store"), hadoopConf()).get(name, VERSION);
        Map<?, ?> training = (Map<?, ?>) v.metadata().get("training");
        assertEquals(2, ((Number) training.get("workers")).intValue(), "parameter averaging over 2 executors: " + training);
        assertTrue(String.valueOf(training.get("sparkMaster")).startsWith("yarn"), training.toString());
        return v;
    }

    /**
     * Failing jobs. Bad input this host can check (a shard directory that does not exist) is the job's own line and
     * exit code before any YARN application starts: the client-mode driver checks it before its SparkContext, and in
     * cluster mode deploy/submit checks it before it submits. A job that fails inside its application (cluster mode:
     * {@code models promote --if-better} of a version that is not better, exit 3) exits with the job's own code, shows
     * the driver's lines taken from its container's log, and names the application and its logs on this host.
     */
    void failingJob(String mode) throws Exception {
        String store = dagValue(UNDISTURBED, "params.store");
        long start = System.nanoTime();
        DeployScripts.Result bad = submit(mode, "evaluate", "--shards", hdfs("/no/such/shards"), "--store", store, "--name", UNDISTURBED);
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals(2, bad.exitCode(), "bad input: the job's own exit status\n" + bad.output());
        assertTrue(bad.output().contains("sparkconv: error: " + hdfs("/no/such/shards") + ": not a shard directory"), bad.output());
        assertTrue(bad.output().contains(mode.equals("client")
                ? "deploy/submit: sparkconv evaluate failed (exit 2) before it started a YARN application"
                : "deploy/submit: sparkconv evaluate not submitted (exit 2)"), bad.output());
        assertFalse(bad.output().contains("\tat "), "no stack trace:\n" + bad.output());
        System.out.printf("YARN %s mode, bad input: exit 2 with the job's error line after %.1f s, no application%n", mode, seconds);

        // Kerberos: no keytab and no ticket is one line naming what to pass, exit 2, before any application
        int apps = applicationCount();
        start = System.nanoTime();
        DeployScripts.Result noKeytab = start(mode, STEP_LOGS.resolve(mode + "-no-keytab.log"),
                "evaluate", "--shards", dagValue(UNDISTURBED, "params.work") + "/shards/date=" + DS, "--store", store, "--name", UNDISTURBED).await(120);
        seconds = (System.nanoTime() - start) / 1e9;
        assertEquals(2, noKeytab.exitCode(), noKeytab.output());
        List<String> lines = noKeytab.output().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(1, lines.size(), "one line:\n" + noKeytab.output());
        assertTrue(lines.get(0).startsWith("submit: error: the cluster uses Kerberos") && lines.get(0).contains("--principal PRINCIPAL --keytab KEYTAB")
                && lines.get(0).contains("kinit"), lines.get(0));
        assertEquals(apps, applicationCount(), "no YARN application was started");
        System.out.printf("YARN %s mode, Kerberos without keytab or ticket: exit 2 in %.1f s, one line, no application%n", mode, seconds);
        if (mode.equals("client")) {
            return;
        }
        // the day's version is already best: promoting it again is "not better", exit 3, decided inside the application
        DeployScripts.Result failed = submit(mode, "models", "promote", "--store", store, "--name", UNDISTURBED, "--version", VERSION,
                "--if-better", "accuracy");
        Matcher named = Pattern.compile("deploy/submit: sparkconv models failed \\(exit (\\d+)\\): YARN application "
                + "(application_\\d+_\\d+) \\(([A-Z_]+)/([A-Z_]+)\\); its container logs on this host: (.*)").matcher(failed.output());
        assertTrue(named.find(), "the failure names the application and its logs:\n" + failed.output());
        assertEquals("3", named.group(1), "the job's own exit status (3: not better), from the driver's container log:\n" + failed.output());
        assertEquals("FAILED", named.group(4), "the application failed:\n" + failed.output());
        assertEquals(3, failed.exitCode(), failed.output());
        String decision = "not promoted: " + UNDISTURBED + " " + VERSION + " is not better than best " + VERSION;
        assertTrue(failed.output().contains(decision), "the driver's result line, shown from its container's log:\n" + failed.output());
        assertFalse(failed.output().contains("\tat "), "no stack trace:\n" + failed.output());
        List<Path> logDirs = Stream.of(named.group(5).trim().split(" ")).map(Path::of).toList();
        assertTrue(containerLogs(logDirs).contains(decision), "the named container logs " + logDirs + " hold the driver's output");
        System.out.printf("YARN cluster mode, a job failing inside its application (promote, not better): exit %s, %s %s/%s, "
                + "logs in %s%n", named.group(1), named.group(2), named.group(3), named.group(4), logDirs);
    }

    /**
     * Spark's line each time it obtained delegation tokens and sent them to the executors (HadoopDelegationTokenManager,
     * at start and after every renewal), with its time: log4j's HH:mm:ss on this host's clock (conf/log4j2.properties
     * shows it on a client-mode driver's console; a cluster-mode driver logs at INFO with Spark's default pattern).
     */
    static final Pattern TOKENS_UPDATED = Pattern.compile("(\\d{2}:\\d{2}:\\d{2}) INFO +HadoopDelegationTokenManager: Updating delegation tokens\\.");
    /** An executor's line for each set it received (CoarseGrainedExecutorBackend). */
    static final String TOKENS_RECEIVED = "Received tokens of ";

    /**
     * The proof that a step outlived its delegation tokens {@code lifetimes} times over and that sparkconv's own HDFS
     * writes kept working, from Spark's log and the NameNode's records rather than a stopwatch: Spark obtained fresh
     * tokens at least as often as it renews within {@code lifetimes} lifetimes before the second in which the NameNode recorded the
     * first of the step's output files ({@code output}: a training's version, written at its end, or score's output),
     * never failing to; and two executors at least (the step's two workers) received fresh tokens, so their shard and
     * image reads ran on renewed tokens too. Returns the figures for the report.
     */
    static String outlivedItsTokens(String step, int lifetimes, String driverLog, List<String> executorLogs, String output) throws IOException {
        // Spark renews every RENEWAL_RATIO x the renew interval: so many renewals take that many lifetimes
        int renewals = (int) Math.ceil(lifetimes * TOKEN_LIFETIME_SECONDS / (RENEWAL_RATIO * TOKEN_RENEW_SECONDS));
        assertFalse(driverLog.contains("Failed to update tokens"), step + ": Spark failed to renew its tokens:\n" + driverLog);
        List<java.time.LocalTime> updates = new ArrayList<>();
        Matcher m = TOKENS_UPDATED.matcher(driverLog);
        while (m.find()) {
            updates.add(java.time.LocalTime.parse(m.group(1)));
        }
        long firstWrite = Long.MAX_VALUE;
        org.apache.hadoop.fs.Path root = Fs.path(output);
        RemoteIterator<LocatedFileStatus> files = Fs.fs(root, hadoopConf()).listFiles(root, true);
        while (files.hasNext()) {
            firstWrite = Math.min(firstWrite, files.next().getModificationTime());
        }
        java.time.LocalTime written = java.time.Instant.ofEpochMilli(firstWrite).atZone(java.time.ZoneId.systemDefault()).toLocalTime();
        long before = updates.stream().filter(u -> u.plusSeconds(1).isBefore(written)).count() - 1; // the first is the start
        assertTrue(before >= renewals, step + ": " + before + " renewals before its first output file ("
                + written + "), not the " + renewals + " of " + lifetimes + " " + TOKEN_LIFETIME_SECONDS + " s lifetime(s); "
                + "tokens updated at " + updates + ":\n" + driverLog);
        List<Long> received = executorLogs.stream().map(l -> l.lines().filter(x -> x.contains(TOKENS_RECEIVED)).count()).toList();
        assertTrue(received.stream().filter(n -> n >= 1).count() >= 2,
                step + ": fresh token sets its executors received: " + received);
        return String.format("%s: Spark replaced its delegation tokens %d times (%d in all, %s to %s) before the NameNode "
                + "recorded its first output file at %s (%d lifetime(s) of %d s take %d); its executors received %s fresh sets",
                step, before, updates.size() - 1, updates.get(0), updates.get(updates.size() - 1), written.withNano(0),
                lifetimes, TOKEN_LIFETIME_SECONDS, renewals, received);
    }

    /** The YARN application a client-mode driver's output names. */
    static String applicationOf(String output) {
        Matcher m = Pattern.compile("runs as Spark application (application_\\d+_\\d+)").matcher(output);
        assertTrue(m.find(), "the driver names its application:\n" + output);
        return m.group(1);
    }

    /** The stderr of each of the application's containers but the first (its ApplicationMaster): its executors' logs. */
    static List<String> executorLogs(String app) throws IOException {
        return containerStderr(app, false);
    }

    /** The stderr of the application's ApplicationMaster container (a cluster-mode driver's log). */
    static String driverContainerLog(String app) throws IOException {
        List<String> am = containerStderr(app, true);
        assertEquals(1, am.size(), "one ApplicationMaster container log of " + app);
        return am.get(0);
    }

    static List<String> containerStderr(String app, boolean applicationMaster) throws IOException {
        List<String> logs = new ArrayList<>();
        for (Path dir : applicationLogDirs(app)) {
            try (Stream<Path> containers = Files.list(dir)) {
                for (Path c : containers.filter(d -> d.getFileName().toString().startsWith("container_")).sorted().toList()) {
                    boolean am = c.getFileName().toString().endsWith("_000001");
                    if (am == applicationMaster && Files.exists(c.resolve("stderr"))) {
                        logs.add(Files.readString(c.resolve("stderr"), StandardCharsets.UTF_8));
                    }
                }
            }
        }
        return logs;
    }

    /** A NameNode JMX bean over HTTPS (its certificate is this run's own: curl --cacert). */
    static Map<?, ?> nameNodeJmx(String query) throws IOException, InterruptedException {
        Process curl = new ProcessBuilder("curl", "-fsS", "--cacert", cluster.get("HDFS_CA_CERT"), cluster.get("HDFS_UI") + "/jmx?qry=" + query)
                .redirectErrorStream(true).start();
        byte[] out = curl.getInputStream().readAllBytes();
        assertEquals(0, curl.waitFor(), new String(out, StandardCharsets.UTF_8));
        return ClusterEndToEndIT.JSON.readValue(out, Map.class);
    }

    /** Template values of the DAG's run for model {@code name}: day {@link #DS}, everything else under the user's HDFS home's dag/. */
    static String dagValue(String name, String template) {
        return switch (template) {
            case "ds" -> DS;
            case "ds_nodash" -> DS.replace("-", "");
            case "params.name" -> name;
            case "params.model" -> "lenet5";
            // three token lifetimes (48 s, 12 renewals) in each training also on a quiet host: there 16 epochs gave
            // 21 renewals in client mode and 24 in cluster mode (~3.5 s per epoch plus ~28 s of executors starting
            // and the test evaluation), so 10 epochs leave ~15 (3 epochs spanned 81-107 s at load 15, too few quiet)
            case "params.epochs" -> "10";
            case "params.metric" -> "accuracy";
            default -> template.startsWith("params.") ? cluster.get("HDFS_HOME") + "/dag/" + template.substring("params.".length()) : null;
        };
    }

    /**
     * A SparkSubmitOperator task of the DAG on this cluster: its application (the jar under the Variable
     * sparkconv_home), its Spark conf and its rendered arguments, through deploy/submit with this test's YARN sizes
     * (the DAG's memoryOverhead is sized for production nodes, larger than these containers).
     */
    static DeployScripts.Running startDagTask(String mode, String task, String name, Path log, String... submitOptions) throws IOException {
        JsonNode k = dag.tasks().get(task).get("kwargs");
        assertEquals("SparkSubmitOperator", dag.tasks().get(task).get("operator").asText(), task);
        List<String> args = new ArrayList<>(List.of(submitOptions));
        args.addAll(List.of("--jar", k.get("application").asText()));
        args.addAll(List.of("--principal", k.get("principal").asText(), "--keytab", k.get("keytab").asText()));
        k.get("conf").fields().forEachRemaining(c -> {
            if (!c.getValue().isNull() && !c.getKey().equals("spark.executor.memoryOverhead")) {
                args.addAll(List.of("--conf", c.getKey() + "=" + c.getValue().asText()));
            }
        });
        args.addAll(dag.sparkconvArgs(task, t -> dagValue(name, t)));
        return start(mode, log, args.toArray(String[]::new));
    }

    static DeployScripts.Result submitDagTask(String mode, String task, String name) throws IOException, InterruptedException {
        return startDagTask(mode, task, name, STEP_LOGS.resolve(mode + "-dag-" + task + ".log")).await(600);
    }

    /** A BashOperator task of the DAG: its rendered command through bash, with its env added to this one (append_env). */
    static DeployScripts.Result runDagBashTask(String task, String name) throws IOException, InterruptedException {
        JsonNode k = dag.tasks().get(task).get("kwargs");
        assertEquals("BashOperator", dag.tasks().get(task).get("operator").asText(), task);
        assertTrue(k.get("append_env").asBoolean(), task + " appends its env to the worker's");
        Path log = STEP_LOGS.resolve("dag-" + task + ".log");
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", AirflowDag.render(k.get("bash_command").asText(), t -> dagValue(name, t)))
                .directory(RUN_DIR.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        k.get("env").fields().forEachRemaining(e -> pb.environment().put(e.getKey(), e.getValue().asText()));
        pb.environment().put("HADOOP_CONF_DIR", cluster.get("HADOOP_CONF_DIR"));
        pb.environment().put("KRB5_CONFIG", cluster.get("KRB5_CONFIG"));
        return new DeployScripts.Running(pb.start(), log, task).await(300);
    }

    /** IDX images and labels files {@code <dir>/<prefix>-images-idx3-ubyte} and {@code -labels-idx1-ubyte}. */
    static void writeIdx(String dir, String prefix, ImageSet set, Configuration conf) throws IOException {
        ByteBuffer images = ByteBuffer.allocate(16 + set.pixels().length).putInt(0x803).putInt(set.size())
                .putInt(set.height()).putInt(set.width()).put(set.pixels());
        ByteBuffer labels = ByteBuffer.allocate(8 + set.size()).putInt(0x801).putInt(set.size());
        for (int label : set.labels()) {
            labels.put((byte) label);
        }
        Fs.writeBytes(Fs.child(dir, prefix + "-images-idx3-ubyte"), images.array(), conf);
        Fs.writeBytes(Fs.child(dir, prefix + "-labels-idx1-ubyte"), labels.array(), conf);
    }

    /**
     * Checks that every file under {@code uri} has replication 2 with each block on both DataNodes (so losing one
     * loses no block), and returns "files/blocks" for the report.
     */
    static String replicatedTwice(String uri, Configuration conf) throws IOException {
        org.apache.hadoop.fs.Path root = Fs.path(uri);
        FileSystem fs = Fs.fs(root, conf);
        int files = 0;
        int blocks = 0;
        RemoteIterator<LocatedFileStatus> it = fs.listFiles(root, true);
        while (it.hasNext()) {
            LocatedFileStatus f = it.next();
            assertEquals(2, f.getReplication(), f.getPath() + ": replication");
            for (BlockLocation b : f.getBlockLocations()) {
                assertEquals(2, Set.of(b.getNames()).size(), f.getPath() + ": a block on both DataNodes: " + Arrays.toString(b.getNames()));
                blocks++;
            }
            files++;
        }
        assertTrue(files > 0, "files under " + uri);
        return files + " files/" + blocks + " blocks";
    }

    /** The cluster's client configuration (replication 2 for what this test writes, too). */
    static Configuration hadoopConf() {
        Configuration conf = new Configuration();
        for (String site : List.of("core-site.xml", "hdfs-site.xml")) {
            conf.addResource(new org.apache.hadoop.fs.Path(Path.of(cluster.get("HADOOP_CONF_DIR"), site).toUri()));
        }
        return conf;
    }

    /** Signals a container through the ResourceManager; its NodeManager delivers the signal (FORCEFUL_SHUTDOWN: SIGKILL). */
    static void signalContainer(String containerId, SignalContainerCommand signal) throws IOException, YarnException {
        YarnConfiguration conf = new YarnConfiguration(hadoopConf());
        conf.addResource(new org.apache.hadoop.fs.Path(Path.of(cluster.get("HADOOP_CONF_DIR"), "yarn-site.xml").toUri()));
        try (YarnClient yarn = YarnClient.createYarnClient()) {
            yarn.init(conf);
            yarn.start();
            yarn.signalToContainer(ContainerId.fromString(containerId), signal);
        }
    }

    /** How many applications the ResourceManager knows (any state), asked as the logged-in user. */
    static int applicationCount() throws IOException {
        YarnConfiguration conf = new YarnConfiguration(hadoopConf());
        conf.addResource(new org.apache.hadoop.fs.Path(Path.of(cluster.get("HADOOP_CONF_DIR"), "yarn-site.xml").toUri()));
        try (YarnClient yarn = YarnClient.createYarnClient()) {
            yarn.init(conf);
            yarn.start();
            return yarn.getApplications().size();
        } catch (YarnException e) {
            throw new IOException(e);
        }
    }

    /** The application's log directories on this host's NodeManagers. */
    static List<Path> applicationLogDirs(String app) {
        List<Path> dirs = new ArrayList<>();
        for (int n = 1; cluster.containsKey("NODEMANAGER_" + n + "_LOGS"); n++) {
            Path dir = Path.of(cluster.get("NODEMANAGER_" + n + "_LOGS"), app);
            if (Files.isDirectory(dir)) {
                dirs.add(dir);
            }
        }
        return dirs;
    }

    static long containerCount(Path appLogDir) {
        try (Stream<Path> dirs = Files.list(appLogDir)) {
            return dirs.filter(d -> d.getFileName().toString().startsWith("container_")).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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

    /** A job of this test's own (not the DAG's): with the user's principal and keytab. */
    static DeployScripts.Result submit(String mode, String... command) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("--principal", cluster.get("KERBEROS_PRINCIPAL"), "--keytab", cluster.get("KERBEROS_KEYTAB")));
        args.addAll(List.of(command));
        return start(mode, STEP_LOGS.resolve(mode + "-" + command[0] + "-" + System.nanoTime() + ".log"), args.toArray(String[]::new)).await(600);
    }

    /**
     * deploy/submit --master yarn in the given deploy mode: 2 executors of 1 GiB heap + 1 GiB off-heap, 1 core each;
     * event logs, and Spark's token renewal at {@link #RENEWAL_RATIO}.
     */
    static DeployScripts.Running start(String mode, Path log, String... command) throws IOException {
        List<String> args = new ArrayList<>(List.of("--master", "yarn", "--deploy-mode", mode,
                "--hadoop-conf", cluster.get("HADOOP_CONF_DIR"), "--driver-memory", "1g", "--executor-memory", "1g",
                "--executor-memory-overhead", "1g", "--num-executors", "2",
                "--conf", "spark.yarn.archive=" + cluster.get("SPARK_YARN_ARCHIVE"),
                "--conf", "spark.eventLog.enabled=true", "--conf", "spark.eventLog.dir=" + EVENT_LOGS.toUri(),
                "--conf", "spark.security.credentials.renewalRatio=" + RENEWAL_RATIO));
        args.addAll(List.of(command));
        DeployScripts.Running job = DeployScripts.start(log, Map.of("KRB5_CONFIG", cluster.get("KRB5_CONFIG")), "submit", args.toArray(String[]::new));
        SUBMISSIONS.add(job);
        return job;
    }
}
