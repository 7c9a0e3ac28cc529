package sparkconv.train;

import java.io.Serializable;
import org.apache.spark.SparkContext;
import org.apache.spark.util.LongAccumulator;

/**
 * Where the rounds that ran inside barrier stages ({@link KeptNetworkWorker#exchanging}) spent their time: fitting
 * (loading and fitting a round's minibatches, copying out the parameters), waiting ({@link PeerAverage}: the slowest
 * worker's lead, the two syncs, the slices fetched, summed and gathered) and averaging (assigning the average, the
 * outer step). Spark's
 * job and task events do not see these rounds, so each task adds its own clocks to named Spark accumulators: the driver
 * has the sums once a job is done, on a cluster as in local mode, and the Spark UI shows them per stage.
 */
public final class RoundClock implements Serializable {
    /** The accumulators' names (a Spark listener reads them from task-end events: bench/run's rounds table). */
    public static final String ROUNDS = "sparkconv worker-rounds";
    public static final String FIT = "sparkconv round fit ns";
    public static final String WAIT = "sparkconv round wait ns";
    public static final String AVERAGE = "sparkconv round average ns";

    private final LongAccumulator rounds;
    private final LongAccumulator fit;
    private final LongAccumulator waiting;
    private final LongAccumulator average;

    RoundClock(SparkContext sc) {
        rounds = sc.longAccumulator(ROUNDS);
        fit = sc.longAccumulator(FIT);
        waiting = sc.longAccumulator(WAIT);
        average = sc.longAccumulator(AVERAGE);
    }

    /** Totals over worker-rounds (two workers running one round add two). */
    public record Totals(long workerRounds, long fitNanos, long waitNanos, long averageNanos) {
        public static final Totals NONE = new Totals(0, 0, 0, 0);

        public Totals since(Totals earlier) {
            return new Totals(workerRounds - earlier.workerRounds, fitNanos - earlier.fitNanos, waitNanos - earlier.waitNanos,
                    averageNanos - earlier.averageNanos);
        }

        /** Mean milliseconds per worker-round, for a progress line. */
        public String perRound() {
            double n = Math.max(1, workerRounds) * 1e6;
            return String.format("fit %.0f ms, wait %.0f ms, average %.0f ms (%d worker-rounds)", fitNanos / n,
                    waitNanos / n, averageNanos / n, workerRounds);
        }
    }

    /** A worker's round (on the executor). */
    void add(long fitNanos, long waitNanos, long averageNanos) {
        rounds.add(1);
        fit.add(fitNanos);
        waiting.add(waitNanos);
        average.add(averageNanos);
    }

    /** The sums of the jobs done so far (on the driver). */
    Totals totals() {
        return new Totals(rounds.value(), fit.value(), waiting.value(), average.value());
    }
}
