package sparkconv.jobs;

import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Option;

import sparkconv.spark.SparkSessions;

/** Spark options every Spark job takes; they override conf/defaults.properties and spark-submit settings. */
final class SparkOptions {
    @Option(names = "--master", description = "Spark master (default: spark-submit's, else local[*] from conf/defaults.properties)")
    String master;

    @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "extra Spark setting (repeatable)")
    Map<String, String> conf = new LinkedHashMap<>();

    SparkSession session(String appName) {
        Map<String, String> overrides = new LinkedHashMap<>();
        overrides.put("spark.app.name", "sparkconv " + appName);
        overrides.putAll(conf);
        if (master != null) {
            overrides.put("spark.master", master);
        }
        return SparkSessions.getOrCreate(overrides);
    }
}
