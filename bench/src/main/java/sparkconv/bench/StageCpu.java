package sparkconv.bench;

import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.sql.SparkSession;

/**
 * CPU time of the tasks of every Spark stage, by the stage's name (the call site that made it): where a job's executor
 * CPU goes, without a profiler. Deserialising tasks counts too. Register before the job, print after it.
 */
final class StageCpu extends SparkListener {
    private final Map<String, double[]> seconds = new LinkedHashMap<>();

    static StageCpu register(SparkSession spark) {
        StageCpu s = new StageCpu();
        spark.sparkContext().addSparkListener(s);
        return s;
    }

    @Override
    public synchronized void onStageCompleted(SparkListenerStageCompleted e) {
        var m = e.stageInfo().taskMetrics();
        double cpu = (m.executorCpuTime() + m.executorDeserializeCpuTime()) / 1e9;
        seconds.computeIfAbsent(e.stageInfo().name(), k -> new double[2])[0] += cpu;
        seconds.get(e.stageInfo().name())[1]++;
    }

    /**
     * {@link Runs} of a Spark job; after the median line, the task CPU of each stage of the last run, and that run's GC,
     * driver-thread and JIT time (the JVM's CPU outside the tasks).
     */
    static Runs runs(SparkSession spark, String name, Runs.Work job) throws Exception {
        StageCpu[] last = new StageCpu[1];
        double[] gcDriverJit = new double[3];
        Runs runs = Runs.of(name, pass -> {
            if (last[0] != null) {
                spark.sparkContext().removeSparkListener(last[0]);
            }
            last[0] = register(spark);
            double gc0 = gcSeconds();
            double[] driver0 = driverAndJit();
            long n = job.run(pass);
            double[] driver = driverAndJit();
            gcDriverJit[0] = gcSeconds() - gc0;
            gcDriverJit[1] = driver[0] - driver0[0];
            gcDriverJit[2] = driver[1] - driver0[1];
            return n;
        });
        spark.sparkContext().removeSparkListener(last[0]);
        System.out.println("    task CPU of the last run's stages:");
        System.out.print(last[0].report("    "));
        System.out.printf("    %6.2f s in garbage collection, %.2f CPU-s on the driver thread, %.2f s compiling (JIT)%n",
                gcDriverJit[0], gcDriverJit[1], gcDriverJit[2]);
        return runs;
    }

    /** Time the JVM's collectors have spent so far (pauses, and concurrent cycles where the collector reports them). */
    static double gcSeconds() {
        return java.lang.management.ManagementFactory.getGarbageCollectorMXBeans().stream()
                .mapToLong(java.lang.management.GarbageCollectorMXBean::getCollectionTime).sum() / 1e3;
    }

    /** CPU of the calling thread (the driver's), and the JIT compilers' time so far, in seconds. */
    static double[] driverAndJit() {
        var threads = java.lang.management.ManagementFactory.getThreadMXBean();
        var jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        return new double[]{threads.getCurrentThreadCpuTime() / 1e9, jit.getTotalCompilationTime() / 1e3};
    }

    /** One line per stage name: task CPU-s (and how many stages had that name), then forgets them. */
    synchronized String report(String indent) {
        StringBuilder sb = new StringBuilder();
        seconds.forEach((name, s) -> sb.append(String.format("%s%6.2f CPU-s  %s%s%n", indent, s[0], name, s[1] > 1 ? " (x" + (int) s[1] + ")" : "")));
        seconds.clear();
        return sb.toString();
    }
}
