package sparkconv.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.spark.JvmFlags;

/**
 * The spark-submit command lines deploy/submit generates, per cluster manager. YARN and Kubernetes cannot run
 * here: their command lines are checked for shape; local and standalone ones also run in ClusterEndToEndIT.
 */
class SubmitCommandLineTest {
    static final String SUBMIT = "org.apache.spark.deploy.SparkSubmit";

    @BeforeAll
    static void needsSparkRuntimeClasspath() {
        Assumptions.assumeTrue(Files.isRegularFile(DeployScripts.ROOT.resolve("deploy/spark-runtime/target/classpath.txt")),
                "SKIPPED: deploy/spark-runtime/target/classpath.txt missing (run mvn from the repository root)");
    }

    /** A parsed dry run: environment, JVM part, spark-submit options (in order), --conf map, application part. */
    record Command(Map<String, String> env, List<String> jvm, List<String> submitOptions, Map<String, String> conf,
                   List<String> application) {
        String option(String name) {
            int i = submitOptions.indexOf(name);
            return i < 0 ? null : submitOptions.get(i + 1);
        }
    }

    static Command dryRun(String... args) throws Exception {
        DeployScripts.Result r = DeployScripts.dryRun(args);
        assertEquals(0, r.exitCode(), r.output());
        List<String> all = Arrays.asList(r.output().split("\0"));
        assertEquals("env", all.get(0));
        Map<String, String> env = new LinkedHashMap<>();
        int i = 1;
        for (; all.get(i).contains("="); i++) {
            env.put(all.get(i).substring(0, all.get(i).indexOf('=')), all.get(i).substring(all.get(i).indexOf('=') + 1));
        }
        int submit = all.indexOf(SUBMIT);
        assertTrue(submit > i, "runs " + SUBMIT + ": " + all);
        List<String> jvm = all.subList(i, submit);
        List<String> rest = all.subList(submit + 1, all.size());
        Map<String, String> conf = new LinkedHashMap<>();
        int j = 0;
        while (rest.get(j).startsWith("--")) {
            if (rest.get(j).equals("--conf")) {
                String kv = rest.get(j + 1);
                conf.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
            }
            j += 2;
        }
        return new Command(env, jvm, rest.subList(0, j), conf, rest.subList(j, rest.size()));
    }

    static void assertCarriesTheSparkconvSetup(Command c) {
        String flags = JvmFlags.flags();
        assertEquals(flags, c.conf().get("spark.executor.extraJavaOptions"));
        assertEquals(flags, c.conf().get("spark.driver.extraJavaOptions"));
        assertEquals("org.apache.spark.serializer.KryoSerializer", c.conf().get("spark.serializer"));
        assertEquals("sparkconv.spark.KryoRegistrator", c.conf().get("spark.kryo.registrator"));
        assertEquals("1", c.conf().get("spark.executorEnv.OMP_NUM_THREADS"));
        assertEquals("8388608", c.conf().get("spark.executorEnv.MALLOC_MMAP_THRESHOLD_"));
        assertEquals("134217728", c.conf().get("spark.executorEnv.MALLOC_TRIM_THRESHOLD_"));
        assertEquals("sparkconv.spark.ImageIoPlugin", c.conf().get("spark.plugins.defaultList"));
        assertEquals(sparkconv.spark.SparkSessions.defaults().get("spark.executor.memoryOverhead"),
                c.conf().get("spark.executor.memoryOverhead"), "defaults.properties' overhead");
        assertEquals("sparkconv.cli.Main", c.option("--class"));
        assertEquals("1", c.env().get("OMP_NUM_THREADS"));
        assertEquals("8388608", c.env().get("MALLOC_MMAP_THRESHOLD_"));
        assertEquals("134217728", c.env().get("MALLOC_TRIM_THRESHOLD_"));
        // the client JVM (driver in client mode) runs with the same flag list
        assertTrue(String.join(" ", c.jvm()).contains(flags), c.jvm().toString());
        assertTrue(flags.contains("-Dorg.bytedeco.javacpp.maxbytes="), "off-heap limit is in the flag list");
    }

    @Test
    void localRunsTheShadedJarInClientMode() throws Exception {
        Command c = dryRun("--master", "local[2]", "train", "--shards", "/tmp/s", "--store", "/tmp/m", "--epochs", "1");
        assertCarriesTheSparkconvSetup(c);
        assertEquals("local[2]", c.option("--master"));
        assertEquals("client", c.option("--deploy-mode"));
        assertEquals("java", c.jvm().get(0));
        assertTrue(c.application().get(0).matches(".*/jobs/target/sparkconv-[^/]+\\.jar"), c.application().toString());
        assertEquals(List.of("train", "--shards", "/tmp/s", "--store", "/tmp/m", "--epochs", "1"),
                c.application().subList(1, c.application().size()));
    }

    /** --dry-run shows a secret --conf as Spark's UI does; the rest of the command as it would run. */
    @Test
    void aDryRunShowsASecretSettingRedacted() throws Exception {
        Command c = dryRun("--master", "local[2]", "--conf", "spark.authenticate.secret=0f1e2d3c4b5a6978", "--conf",
                "spark.executorEnv.DB=my-password-is-this", "--conf", "spark.ui.port=4041", "evaluate", "--name", "m");
        assertEquals("*********(redacted)", c.conf().get("spark.authenticate.secret"));
        assertEquals("*********(redacted)", c.conf().get("spark.executorEnv.DB"), "a value that looks like a secret, whatever its key");
        assertEquals("4041", c.conf().get("spark.ui.port"));
        assertTrue(c.conf().values().stream().noneMatch(v -> v.contains("0f1e2d3c4b5a6978") || v.contains("my-password")), c.conf().toString());
    }

    @Test
    void standaloneWaitsForTheApplicationAndListensOnLoopbackForALoopbackMaster() throws Exception {
        Command c = dryRun("--master", "spark://127.0.0.1:17077", "--executor-memory", "1g",
                "--conf", "spark.executor.memoryOverhead=3g", "evaluate", "--name", "m");
        assertCarriesTheSparkconvSetupExceptOverhead(c);
        assertEquals("spark://127.0.0.1:17077", c.option("--master"));
        assertEquals("1g", c.option("--executor-memory"));
        assertEquals("1", c.option("--executor-cores"));
        assertEquals("true", c.conf().get("spark.standalone.submit.waitAppCompletion"));
        assertEquals("3g", c.conf().get("spark.executor.memoryOverhead"), "--conf wins over the defaults (it comes last)");
        assertEquals("127.0.0.1", c.env().get("SPARK_LOCAL_IP"));
        assertEquals(null, c.option("--properties-file"), "no secret file given: no authentication asked for");
        assertEquals(null, c.conf().get("spark.authenticate"));
    }

    /**
     * A standalone cluster's secret file (deploy/cluster's spark-secret.conf) reaches SparkSubmit as its properties file:
     * the command line names the file, never the secret, and turns authentication and both encryptions on.
     */
    @Test
    void standaloneWithASecretFilePassesTheFileNotTheSecret(@TempDir Path dir) throws Exception {
        String secret = "0123456789abcdef0123456789abcdef";
        Path file = dir.resolve("spark-secret.conf");
        Files.writeString(file, "spark.authenticate true\nspark.authenticate.secret " + secret + "\n");
        Command c = dryRun("--master", "spark://127.0.0.1:17077", "--secret-file", file.toString(), "evaluate", "--name", "m");
        assertEquals(file.toString(), c.option("--properties-file"));
        assertEquals("true", c.conf().get("spark.authenticate"));
        assertEquals("true", c.conf().get("spark.network.crypto.enabled"));
        assertEquals("true", c.conf().get("spark.io.encryption.enabled"));
        assertEquals(null, c.conf().get("spark.authenticate.secret"));
        DeployScripts.Result printed = DeployScripts.dryRun("--master", "spark://127.0.0.1:17077", "--secret-file",
                file.toString(), "evaluate", "--name", "m");
        assertFalse(printed.output().contains(secret), "the secret is not on the command line: " + printed.output());

        DeployScripts.Result yarn = DeployScripts.dryRun("--master", "yarn", "--secret-file", file.toString(), "train");
        assertEquals(2, yarn.exitCode());
        assertTrue(yarn.output().contains("--secret-file is for spark:// masters"), yarn.output());
    }

    private static void assertCarriesTheSparkconvSetupExceptOverhead(Command c) {
        assertEquals("sparkconv.spark.KryoRegistrator", c.conf().get("spark.kryo.registrator"));
        assertEquals(JvmFlags.flags(), c.conf().get("spark.executor.extraJavaOptions"));
        assertEquals("1", c.conf().get("spark.executorEnv.OMP_NUM_THREADS"));
    }

    @Test
    void yarnSubmitsInClusterModeWithItsConfDirQueueAndAppMasterEnvironment() throws Exception {
        Command c = dryRun("--master", "yarn", "--num-executors", "4", "--queue", "ml", "--hadoop-conf", "/etc/hadoop/conf",
                "train", "--shards", "hdfs:///data/s", "--store", "hdfs:///models");
        assertCarriesTheSparkconvSetup(c);
        assertEquals("yarn", c.option("--master"));
        assertEquals("cluster", c.option("--deploy-mode"));
        assertEquals("4", c.option("--num-executors"));
        assertEquals("ml", c.option("--queue"));
        assertEquals("1", c.conf().get("spark.yarn.appMasterEnv.OMP_NUM_THREADS"));
        assertEquals("8388608", c.conf().get("spark.yarn.appMasterEnv.MALLOC_MMAP_THRESHOLD_"));
        assertEquals("134217728", c.conf().get("spark.yarn.appMasterEnv.MALLOC_TRIM_THRESHOLD_"));
        assertEquals(sparkconv.spark.SparkSessions.defaults().get("spark.executor.memoryOverhead"), c.conf().get("spark.driver.memoryOverhead"));
        assertEquals("true", c.conf().get("spark.yarn.submit.waitAppCompletion"));
        assertEquals("/etc/hadoop/conf", c.env().get("HADOOP_CONF_DIR"));
        assertEquals("/etc/hadoop/conf", c.env().get("YARN_CONF_DIR"));
        assertTrue(c.jvm().get(c.jvm().indexOf("-cp") + 1).startsWith("/etc/hadoop/conf:"), "conf dir first on the classpath");
    }

    @Test
    void kubernetesNeedsAnImageAndRunsTheJarInsideIt() throws Exception {
        DeployScripts.Result noImage = DeployScripts.dryRun("--master", "k8s://https://k8s.example:6443", "train");
        assertEquals(2, noImage.exitCode());
        assertTrue(noImage.output().contains("--k8s-image is required"), noImage.output());

        Command c = dryRun("--master", "k8s://https://k8s.example:6443", "--k8s-image", "registry.example/sparkconv:0.1.0",
                "--k8s-namespace", "ml", "--num-executors", "3", "train", "--shards", "s3a://b/s");
        assertCarriesTheSparkconvSetup(c);
        assertEquals("k8s://https://k8s.example:6443", c.option("--master"));
        assertEquals("cluster", c.option("--deploy-mode"));
        assertEquals("registry.example/sparkconv:0.1.0", c.conf().get("spark.kubernetes.container.image"));
        assertEquals("ml", c.conf().get("spark.kubernetes.namespace"));
        assertEquals("1", c.conf().get("spark.kubernetes.driverEnv.OMP_NUM_THREADS"));
        assertEquals("8388608", c.conf().get("spark.kubernetes.driverEnv.MALLOC_MMAP_THRESHOLD_"));
        assertEquals("134217728", c.conf().get("spark.kubernetes.driverEnv.MALLOC_TRIM_THRESHOLD_"));
        assertEquals("true", c.conf().get("spark.kubernetes.submission.waitAppCompletion"));
        assertTrue(c.application().get(0).matches("local:///opt/sparkconv/sparkconv-[^/]+\\.jar"), c.application().toString());
    }

    @Test
    void rejectsUnknownMastersAndMissingCommands() throws Exception {
        DeployScripts.Result mesos = DeployScripts.dryRun("--master", "mesos://h:5050", "train");
        assertEquals(2, mesos.exitCode());
        assertTrue(mesos.output().contains("unsupported --master 'mesos://h:5050'"), mesos.output());
        DeployScripts.Result none = DeployScripts.dryRun("--master", "local[1]");
        assertEquals(2, none.exitCode());
        assertTrue(none.output().contains("a sparkconv command is required"), none.output());
    }
}
