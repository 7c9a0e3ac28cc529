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
