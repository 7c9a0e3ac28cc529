package sparkconv.spark;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

import sparkconv.SparkconvException;

/**
 * OpenMP threads per parameter-averaging worker. A worker is one Spark task, so its cores are Spark's own
 * {@code spark.task.cpus}, and its threads the OpenMP threads of the JVM it runs in: the executors'
 * {@code OMP_NUM_THREADS} ({@code spark.executorEnv.*}), or in local mode this JVM's, which OpenMP fixes when the
 * process starts. One thread per worker is the default and the measured rule (docs/scaling.md, "Threads or
 * workers"): more threads per worker pay only where memory, not cores, limits the workers.
 */
public final class WorkerThreads {
    public static final String TASK_CPUS = "spark.task.cpus";
    static final String EXECUTOR_THREADS = "spark.executorEnv.OMP_NUM_THREADS";
    static final String EXECUTOR_WAIT_POLICY = "spark.executorEnv.OMP_WAIT_POLICY";
    private static final Pattern LOCAL = Pattern.compile("local(?:-cluster)?\\[(\\*|\\d+)(?:,\\s*\\d+)?]");

    private WorkerThreads() {
    }

    /**
     * The Spark settings that give every worker {@code threads} cores and as many OpenMP threads. Idle OpenMP threads
     * sleep ({@code PASSIVE}) rather than spin: spinning teams took the cores the JVM's own threads needed and made two
     * threads slower than one (docs/scaling.md).
     */
    public static Map<String, String> settings(int threads) {
        if (threads < 1) {
            throw new SparkconvException("--threads-per-worker must be at least 1, got " + threads);
        }
        Map<String, String> s = new LinkedHashMap<>();
        s.put(TASK_CPUS, String.valueOf(threads));
        s.put(EXECUTOR_THREADS, String.valueOf(threads));
        if (threads > 1) {
            s.put(EXECUTOR_WAIT_POLICY, "PASSIVE");
        }
        return s;
    }

    /** Cores (and OpenMP threads) per worker. */
    public static int perWorker(SparkConf conf) {
        return conf.getInt(TASK_CPUS, 1);
    }

    /** Workers that can run at once: the task slots, cores over cores per task. */
    public static int slots(JavaSparkContext jsc) {
        return Math.max(1, jsc.defaultParallelism() / perWorker(jsc.getConf()));
    }

    /** The cores of a local master ({@code local[N]}, {@code local[*]}, {@code local}); 0 for any other master. */
    public static int localCores(String master) {
        if (master.equals("local")) {
            return 1;
        }
        Matcher m = LOCAL.matcher(master);
        if (!m.matches()) {
            return 0;
        }
        return m.group(1).equals("*") ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(m.group(1));
    }

    /**
     * Refuses, before Spark starts, a session whose workers would not get the threads their cores are reserved for: in
     * local mode this JVM's {@code OMP_NUM_THREADS} ({@code jvmThreads}, null when unset) must be the cores per task, and
     * the master must have that many cores; on a cluster the executors' {@code OMP_NUM_THREADS} must be.
     */
    public static void check(SparkConf conf, String jvmThreads) {
        int threads = perWorker(conf);
        if (threads == 1) {
            return;
        }
        String master = conf.get("spark.master", "local[*]");
        int local = localCores(master);
        if (local > 0) {
            if (local < threads) {
                throw new SparkconvException(String.format(Locale.ROOT, "%s=%d: %s has %d %s, fewer than one worker needs",
                        TASK_CPUS, threads, master, local, local == 1 ? "core" : "cores"));
            }
            if (!String.valueOf(threads).equals(jvmThreads)) {
                throw new SparkconvException(String.format(Locale.ROOT, "%s=%d gives each worker %d cores, but this JVM runs "
                        + "OMP_NUM_THREADS=%s OpenMP threads, fixed when it started: start it with OMP_NUM_THREADS=%d "
                        + "(./sparkconv does that for --threads-per-worker %d)", TASK_CPUS, threads, threads,
                        jvmThreads == null ? "(unset: one per core)" : jvmThreads, threads, threads));
            }
            return;
        }
        String executors = conf.get(EXECUTOR_THREADS, "(unset: one per core)");
        if (!String.valueOf(threads).equals(executors)) {
            throw new SparkconvException(String.format(Locale.ROOT, "%s=%d but %s=%s: the workers would not use the cores "
                    + "they hold; --threads-per-worker %d sets both", TASK_CPUS, threads, EXECUTOR_THREADS, executors, threads));
        }
    }
}
