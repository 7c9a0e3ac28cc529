package sparkconv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The one job-test harness: runs a sparkconv command line in this JVM as {@code ./sparkconv} would (same parser,
 * defaults, exit codes, one-line errors), on the shared local Spark session, and captures what it prints.
 */
public final class CommandHarness {
    private CommandHarness() {
    }

    /** Exit code, standard output, and the {@code sparkconv: error:} and {@code sparkconv: warning:} lines of standard error. */
    public record Result(int code, String out, List<String> errors, List<String> warnings) {
    }

    public static Result run(String... args) {
        return capture(Main::run, args);
    }

    /** The check deploy/submit runs before a cluster-mode submission ({@link Main#check}): nothing runs. */
    public static Result check(String... args) {
        return capture(Main::check, args);
    }

    private static Result capture(java.util.function.ToIntFunction<String[]> main, String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = main.applyAsInt(args);
            String text = err.toString(StandardCharsets.UTF_8);
            return new Result(code, out.toString(StandardCharsets.UTF_8), lines(text, "sparkconv: error:"), lines(text, "sparkconv: warning:"));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    private static List<String> lines(String text, String prefix) {
        return text.lines().filter(l -> l.startsWith(prefix)).toList();
    }

    /** Runs and expects success, naming the command line and its errors otherwise. */
    public static Result ok(String... args) {
        Result r = run(args);
        assertEquals(0, r.code(), String.join(" ", args) + ": " + r.errors());
        return r;
    }

    /** A successful run's result and the description of every Spark job it started (what the Spark UI lists). */
    public record Described(Result result, List<String> descriptions) {
    }

    /** Runs and expects success, recording each Spark job's description ({@code spark.job.description}) as it starts. */
    public static Described okDescribed(String... args) {
        org.apache.spark.SparkContext sc = sparkconv.LocalSpark.get().sparkContext();
        List<String> descriptions = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        org.apache.spark.scheduler.SparkListener listener = new org.apache.spark.scheduler.SparkListener() {
            @Override
            public void onJobStart(org.apache.spark.scheduler.SparkListenerJobStart job) {
                descriptions.add(String.valueOf(job.properties().getProperty("spark.job.description")));
            }
        };
        sc.addSparkListener(listener);
        try {
            Result r = ok(args);
            sc.listenerBus().waitUntilEmpty(10_000);
            return new Described(r, List.copyOf(descriptions));
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("Spark's listener bus did not drain in 10 s", e);
        } finally {
            sc.removeSparkListener(listener);
        }
    }

    /** Bad input or usage: exactly one error line containing {@code expected}, and the exit code. */
    public static void assertOneLineError(Result r, int code, String expected) {
        assertEquals(code, r.code(), "exit code; errors: " + r.errors());
        assertEquals(1, r.errors().size(), "exactly one error line: " + r.errors());
        assertTrue(r.errors().get(0).contains(expected), r.errors().get(0));
    }
}
