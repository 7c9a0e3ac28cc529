package sparkconv.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

import scala.collection.JavaConverters;

/**
 * Where an averaging round's wall time goes, from Spark's own job and task events (a listener on the driver), for
 * every round sparkconv runs (dl4j-spark's {@code --stats} exist only on its own worker, which sparkconv's rounds no
 * longer use). Each round is one Spark job whose description names it ({@code ... epoch 2/3 round 4/43}); epoch 1
 * (JIT warm-up) is left out. Per round: the period from one round's start to the next, the driver's gap between a
 * round's end and the next one's start, the scheduling delay to the first task, each task's run time (the slowest and
 * the fastest worker: loading, fitting and returning its minibatches), the skew between the workers' finishes (the
 * barrier: time the faster worker waits), the tail from the last task to the job's end (result handling), and the
 * result size per worker. Medians over the rounds.
 */
final class RoundTimes extends SparkListener {
    private static final Pattern ROUND = Pattern.compile("epoch (\\d+)/\\d+ round \\d+/\\d+");

    private record Task(long launch, long finish, long run, long resultBytes) {
    }

    private static final class Job {
        final long start;
        long end = -1;
        final List<Task> tasks = new ArrayList<>();

        Job(long start) {
            this.start = start;
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
        Job job = new Job(e.time());
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
        }
    }

    @Override
    public synchronized void onJobEnd(SparkListenerJobEnd e) {
        Job job = byJobId.get(e.jobId());
        if (job != null) {
            job.end = e.time();
        }
    }

    /** Medians in milliseconds (result size in KB) over the measured rounds; empty when none ran. */
    synchronized Map<String, Object> summary() {
        List<Job> done = rounds.stream().filter(j -> j.end >= 0 && !j.tasks.isEmpty()).toList();
        Map<String, Object> out = new LinkedHashMap<>();
        if (done.size() < 2) {
            return out;
        }
        List<Double> period = new ArrayList<>();
        List<Double> gap = new ArrayList<>();
        for (int i = 1; i < done.size(); i++) {
            period.add((double) (done.get(i).start - done.get(i - 1).start));
            gap.add((double) (done.get(i).start - done.get(i - 1).end));
        }
        out.put("rounds", done.size());
        out.put("periodMs", median(period));
        out.put("driverGapMs", median(gap));
        out.put("jobMs", median(done.stream().map(j -> (double) (j.end - j.start)).toList()));
        out.put("schedulingMs", median(done.stream().map(j -> (double) (j.tasks.stream().mapToLong(Task::launch).min().getAsLong() - j.start)).toList()));
        out.put("slowestTaskRunMs", median(done.stream().map(j -> (double) j.tasks.stream().mapToLong(Task::run).max().getAsLong()).toList()));
        out.put("fastestTaskRunMs", median(done.stream().map(j -> (double) j.tasks.stream().mapToLong(Task::run).min().getAsLong()).toList()));
        out.put("skewMs", median(done.stream().map(j -> (double) (j.tasks.stream().mapToLong(Task::finish).max().getAsLong()
                - j.tasks.stream().mapToLong(Task::finish).min().getAsLong())).toList()));
        out.put("tailMs", median(done.stream().map(j -> (double) (j.end - j.tasks.stream().mapToLong(Task::finish).max().getAsLong())).toList()));
        out.put("resultKB", median(done.stream().map(j -> j.tasks.stream().mapToLong(Task::resultBytes).max().getAsLong() / 1024.0).toList()));
        return out;
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
