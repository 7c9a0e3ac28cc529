package sparkconv.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

import scala.collection.JavaConverters;

import sparkconv.train.RoundClock;

/**
 * Where an averaging round's wall time goes, from Spark's own job and task events (a listener on the driver) and, for
 * rounds run inside one barrier stage, from the tasks' own clocks (the {@link RoundClock} accumulators each task's end
 * event carries). Each Spark job of the training names its rounds ({@code ... epoch 2/3 rounds 1-12/43}, or {@code round
 * 43/43}); epoch 1 (JIT warm-up) is left out. Per job: the driver's gap between the previous job's end and this one's
 * start, the scheduling delay to the first task, each task's run time (the slowest and the fastest worker), the skew
 * between the workers' finishes (the faster worker's wait), the tail from the last task to the job's end (result
 * handling), and the result size per worker; divided by the job's rounds, medians over the jobs. The time between jobs
 * leaves out what the benchmark paused its clocks for (validation, test evaluations).
 */
final class RoundTimes extends SparkListener {
    private static final Pattern ROUND = Pattern.compile("epoch (\\d+)/\\d+ rounds? (\\d+)(?:-(\\d+))?/\\d+");
    /** The tasks' round clocks (accumulator name to sum) over the measured jobs. */
    private final Map<String, Long> clocks = new HashMap<>();

    private record Task(long launch, long finish, long run, long resultBytes) {
    }

    private static final class Job {
        final long start;
        final int rounds;
        long end = -1;
        final List<Task> tasks = new ArrayList<>();

        Job(long start, int rounds) {
            this.start = start;
            this.rounds = rounds;
        }
    }

    private final Map<Integer, Job> jobByStage = new HashMap<>();
    private final List<Job> rounds = new ArrayList<>();
    private final Map<Integer, Job> byJobId = new HashMap<>();

    @Override
    public synchronized void onJobStart(SparkListenerJobStart e) {
        String description = e.properties() == null ? null : e.properties().getProperty("spark.job.description");
        Matcher m = description == null ? null : ROUND.matcher(description);
        if (m == null || !m.find() || Integer.parseInt(m.group(1)) < 2) {
            return;
        }
        Job job = new Job(e.time(), m.group(3) == null ? 1 : Integer.parseInt(m.group(3)) - Integer.parseInt(m.group(2)) + 1);
        rounds.add(job);
        byJobId.put(e.jobId(), job);
        for (Object stage : JavaConverters.seqAsJavaList(e.stageIds())) {
            jobByStage.put((Integer) stage, job);
        }
    }

    @Override
    public synchronized void onTaskEnd(SparkListenerTaskEnd e) {
        Job job = jobByStage.get(e.stageId());
        if (job != null && e.taskMetrics() != null) {
            job.tasks.add(new Task(e.taskInfo().launchTime(), e.taskInfo().finishTime(), e.taskMetrics().executorRunTime(),
                    e.taskMetrics().resultSize()));
            for (AccumulableInfo a : JavaConverters.seqAsJavaList(e.taskInfo().accumulables())) {
                if (a.name().isDefined() && a.name().get().startsWith("sparkconv ") && a.update().isDefined()) {
                    clocks.merge(a.name().get(), ((Number) a.update().get()).longValue(), Long::sum);
                }
            }
        }
    }

    @Override
    public synchronized void onJobEnd(SparkListenerJobEnd e) {
        Job job = byJobId.get(e.jobId());
        if (job != null) {
            job.end = e.time();
        }
    }

    /**
     * Medians in milliseconds per round (result size in KB per job) over the measured jobs; and, when rounds ran inside
     * barrier stages, each worker's mean fit, wait and average per round from their clocks. Empty when none ran.
     */
    synchronized Map<String, Object> summary(java.util.function.LongBinaryOperator pausedMillisBetween) {
        List<Job> done = rounds.stream().filter(j -> j.end >= 0 && !j.tasks.isEmpty()).toList();
        Map<String, Object> out = new LinkedHashMap<>();
        if (done.size() < 2) {
            return out;
        }
        List<Double> period = new ArrayList<>();
        List<Double> gap = new ArrayList<>();
        for (int i = 1; i < done.size(); i++) {
            Job last = done.get(i - 1);
            Job next = done.get(i);
            period.add((double) (next.start - last.start - pausedMillisBetween.applyAsLong(last.start, next.start)) / last.rounds);
            gap.add((double) (next.start - last.end - pausedMillisBetween.applyAsLong(last.end, next.start)) / next.rounds);
        }
        out.put("rounds", done.stream().mapToInt(j -> j.rounds).sum());
        out.put("jobs", done.size());
        out.put("periodMs", median(period));
        out.put("driverGapMs", median(gap));
        out.put("jobMs", perRound(done, j -> j.end - j.start));
        out.put("schedulingMs", perRound(done, j -> j.tasks.stream().mapToLong(Task::launch).min().getAsLong() - j.start));
        out.put("slowestTaskRunMs", perRound(done, j -> j.tasks.stream().mapToLong(Task::run).max().getAsLong()));
        out.put("fastestTaskRunMs", perRound(done, j -> j.tasks.stream().mapToLong(Task::run).min().getAsLong()));
        out.put("skewMs", perRound(done, j -> j.tasks.stream().mapToLong(Task::finish).max().getAsLong()
                - j.tasks.stream().mapToLong(Task::finish).min().getAsLong()));
        out.put("tailMs", perRound(done, j -> j.end - j.tasks.stream().mapToLong(Task::finish).max().getAsLong()));
        out.put("resultKB", median(done.stream().map(j -> j.tasks.stream().mapToLong(Task::resultBytes).max().getAsLong() / 1024.0).toList()));
        long workerRounds = clocks.getOrDefault(RoundClock.ROUNDS, 0L);
        if (workerRounds > 0) {
            double n = workerRounds * 1e6;
            out.put("fitMs", clocks.getOrDefault(RoundClock.FIT, 0L) / n);
            out.put("waitMs", clocks.getOrDefault(RoundClock.WAIT, 0L) / n);
            out.put("averageMs", clocks.getOrDefault(RoundClock.AVERAGE, 0L) / n);
        }
        return out;
    }

    private static double perRound(List<Job> jobs, java.util.function.ToLongFunction<Job> ms) {
        return median(jobs.stream().map(j -> (double) ms.applyAsLong(j) / j.rounds).toList());
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
