package sparkconv.train;

import java.util.concurrent.atomic.LongAdder;

/**
 * Where the rounds that ran inside barrier stages ({@link KeptNetworkWorker#exchanging}) spent their time, summed over
 * this JVM's tasks: fitting (loading, fitting and encoding a round's minibatches), waiting for the other workers'
 * messages (the barrier: the slowest worker's lead, plus the exchange through the driver) and averaging (decoding,
 * averaging, assigning). Spark's job and task events no longer see these rounds; in local mode the tasks run in the
 * driver's JVM, where {@code bench/run} reads these totals and tests check that rounds ran this way.
 */
public final class RoundClock {
    private static final LongAdder ROUNDS = new LongAdder();
    private static final LongAdder FIT = new LongAdder();
    private static final LongAdder WAIT = new LongAdder();
    private static final LongAdder AVERAGE = new LongAdder();

    private RoundClock() {
    }

    /** Totals over worker-rounds (two workers running one round add two). */
    public record Totals(long workerRounds, long fitNanos, long waitNanos, long averageNanos) {
        public Totals since(Totals earlier) {
            return new Totals(workerRounds - earlier.workerRounds, fitNanos - earlier.fitNanos, waitNanos - earlier.waitNanos,
                    averageNanos - earlier.averageNanos);
        }
    }

    static void add(long fitNanos, long waitNanos, long averageNanos) {
        ROUNDS.increment();
        FIT.add(fitNanos);
        WAIT.add(waitNanos);
        AVERAGE.add(averageNanos);
    }

    public static Totals totals() {
        return new Totals(ROUNDS.sum(), FIT.sum(), WAIT.sum(), AVERAGE.sum());
    }
}
