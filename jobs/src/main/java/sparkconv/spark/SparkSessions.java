package sparkconv.spark;

import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

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

    /** Builds the SparkConf for these overrides (pipeline spec, CLI); useful to inspect without starting Spark. */
    public static SparkConf conf(Map<String, String> overrides) {
        SparkConf conf = new SparkConf();
        defaults().forEach(conf::setIfMissing);
        overrides.forEach((k, v) -> {
            if (v != null) {
                conf.set(k, v);
            }
        });
        return conf;
    }

    public static SparkSession getOrCreate(Map<String, String> overrides) {
        return SparkSession.builder().config(conf(overrides)).getOrCreate();
    }

    public static JavaSparkContext javaContext(SparkSession session) {
        return JavaSparkContext.fromSparkContext(session.sparkContext());
    }
}
