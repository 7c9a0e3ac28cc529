package sparkconv.spark;

import java.util.function.Supplier;

import org.apache.spark.SparkContext;

/**
 * What the Spark UI lists for each job: the sparkconv command that started it, then the step
 * ("nifty render --in nifty/ingested --window 20 ...: write 78 shards"). Spark keeps the description per driver thread
 * (a local property), so a command sets it once and every job it starts carries it; a step appends to it while it runs.
 */
public final class JobDescriptions {
    /** The local property SparkContext.setJobDescription sets. */
    private static final String KEY = "spark.job.description";
    /** The Spark UI shows descriptions on one line: long command lines are cut. */
    private static final int MAX = 200;

    private JobDescriptions() {
    }

    /** The description of every job this thread starts from now on (a command's, set when its session is made). */
    public static void command(SparkContext sc, String description) {
        sc.setLocalProperty(KEY, description.length() > MAX ? description.substring(0, MAX - 3) + "..." : description);
    }

    /** Runs {@code body} with {@code ": step"} appended to the current description, restoring it afterwards. */
    public static <T> T step(SparkContext sc, String step, Supplier<T> body) {
        String before = sc.getLocalProperty(KEY);
        sc.setLocalProperty(KEY, before == null ? step : before + ": " + step);
        try {
            return body.get();
        } finally {
            sc.setLocalProperty(KEY, before);
        }
    }
}
