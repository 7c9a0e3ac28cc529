package sparkconv.spark;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

import sparkconv.SparkconvException;

/**
 * The one SparkSession factory. Configuration layers, lowest first: {@code conf/defaults.properties}, whatever
 * spark-submit already put in the SparkConf, then explicit overrides (pipeline spec, then CLI flags).
 * Every session carries the JVM flag list, Kryo with ND4J's registrator and one OpenMP thread per task.
 */
public final class SparkSessions {
    static final String DEFAULTS = "/sparkconv/conf/defaults.properties";

    private SparkSessions() {
    }

    /** Defaults from {@code conf/defaults.properties} (only the {@code spark.*} keys). */
    /** All of {@code conf/defaults.properties} (Spark settings and {@code cli.*} option defaults). */
    public static Properties defaultsFile() {
        return JvmFlags.load(DEFAULTS);
    }

    public static Map<String, String> defaults() {
        Properties p = defaultsFile();
        Map<String, String> out = new TreeMap<>();
        for (String k : p.stringPropertyNames()) {
            if (k.startsWith("spark.")) {
                out.put(k, p.getProperty(k).trim());
            }
        }
        String flags = JvmFlags.flags();
        out.put("spark.driver.extraJavaOptions", flags);
        out.put("spark.executor.extraJavaOptions", flags);
        return out;
    }

    /**
     * Builds the SparkConf for these overrides (pipeline spec, CLI); useful to inspect without starting Spark. The
     * plugins sparkconv needs ({@link ImageIoPlugin#DEFAULT_LIST}) are added to a list set elsewhere, never replaced by it.
     */
    public static SparkConf conf(Map<String, String> overrides) {
        SparkConf conf = new SparkConf();
        Map<String, String> defaults = defaults();
        defaults.forEach(conf::setIfMissing);
        overrides.forEach((k, v) -> {
            if (v != null) {
                conf.set(k, v);
            }
        });
        String plugins = defaults.get(ImageIoPlugin.DEFAULT_LIST);
        if (plugins != null) {
            Set<String> merged = new LinkedHashSet<>(List.of(conf.get(ImageIoPlugin.DEFAULT_LIST, "").split("\\s*,\\s*")));
            merged.addAll(List.of(plugins.split("\\s*,\\s*")));
            merged.remove("");
            conf.set(ImageIoPlugin.DEFAULT_LIST, String.join(",", merged));
        }
        return conf;
    }

    /**
     * The Hadoop configuration a session with these overrides has (HADOOP_CONF_DIR's files, {@code spark.hadoop.*}),
     * without starting Spark or touching its runtime (a check before a job must not pay for either); the running
     * session's when there is one.
     */
    public static Configuration hadoopConf(Map<String, String> overrides) {
        var running = SparkSession.getActiveSession().isDefined() ? SparkSession.getActiveSession() : SparkSession.getDefaultSession();
        if (running.isDefined()) {
            return running.get().sparkContext().hadoopConfiguration();
        }
        Configuration hadoop = new Configuration();
        for (scala.Tuple2<String, String> kv : conf(overrides).getAll()) {
            if (kv._1().startsWith("spark.hadoop.")) {
                hadoop.set(kv._1().substring("spark.hadoop.".length()), kv._2(), "spark.hadoop");
            }
        }
        return hadoop;
    }

    public static SparkSession getOrCreate(Map<String, String> overrides) {
        if (SparkSession.getActiveSession().isEmpty()) {
            checkHeap(Runtime.getRuntime().maxMemory());
        }
        return SparkSession.builder().config(conf(overrides)).getOrCreate();
    }

    /** What Spark's memory manager requires of the driver JVM's heap: 1.5 x its 300 MiB reserve. */
    static final long MIN_HEAP = 450L << 20;

    /**
     * Spark refuses a driver heap under {@link #MIN_HEAP} from deep inside its start-up, logging its own stack trace;
     * checked here first, the user gets one line that says what to change.
     */
    static void checkHeap(long maxHeap) {
        if (maxHeap < MIN_HEAP) {
            throw new SparkconvException(String.format("the JVM has %d MiB of heap, and Spark needs at least %d MiB: raise -Xmx "
                    + "(./sparkconv takes it from SPARKCONV_JAVA_OPTS, e.g. SPARKCONV_JAVA_OPTS=-Xmx2g; spark-submit: --driver-memory 2g)",
                    maxHeap >> 20, MIN_HEAP >> 20));
        }
    }

    public static JavaSparkContext javaContext(SparkSession session) {
        return JavaSparkContext.fromSparkContext(session.sparkContext());
    }
}
