package sparkconv;

import java.util.Map;

import org.apache.spark.sql.SparkSession;

import sparkconv.spark.SparkSessions;

/**
 * The one local SparkSession every test shares (as Spark's own examples do): real Spark, {@code local[2]},
 * made by the same factory as the jobs, so tests run with the production configuration.
 */
public final class LocalSpark {
    private static SparkSession session;

    private LocalSpark() {
    }

    public static synchronized SparkSession get() {
        if (session == null || session.sparkContext().isStopped()) {
            session = SparkSessions.getOrCreate(Map.of(
                    "spark.master", "local[2]",
                    "spark.ui.enabled", "false",
                    "spark.app.name", "sparkconv-tests"));
        }
        return session;
    }
}
