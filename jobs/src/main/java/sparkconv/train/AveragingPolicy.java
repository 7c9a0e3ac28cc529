package sparkconv.train;

import java.io.Serializable;
import java.util.Locale;

import sparkconv.SparkconvException;

/**
 * What parameter averaging changes with the number of workers {@code W}: the learning rate's multiplier on top of the
 * schedule, and the averaging frequency, for each half epoch. Why it must: {@code W} workers consume {@code W·F}
 * minibatches per round but move the model by about one worker's {@code F} steps (the average of {@code W} trajectories
 * from one start), so at one JVM's rate an epoch takes {@code W} times fewer steps.
 * <ul>
 *   <li>{@code local}: the rate as scheduled, averaging every {@code F} (plain local SGD; dl4j-spark's behaviour).</li>
 *   <li>{@code linear[:E]}: the rate times {@code W} (Goyal et al. 2017, "Accurate, Large Minibatch SGD"), reached by a
 *       gradual warm-up from one JVM's rate over the first {@code E} epochs (default 2), stepped every half epoch.</li>
 *   <li>{@code sqrt[:E]}: the rate times √W, with the same warm-up (the square-root rule, Krizhevsky 2014).</li>
 *   <li>{@code post-local[:E]}: {@code linear[:E]}, averaging after every minibatch ({@code F = 1}: synchronous
 *       large-batch SGD with the optimiser state kept) during the warm-up, then every {@code F} (Lin et al. 2020,
 *       "Don't Use Large Mini-Batches, Use Local SGD").</li>
 *   <li>{@code slowmo[:β]}: the rate as scheduled, and an outer momentum step after every average (Wang et al. 2020,
 *       "SlowMo: Improving Communication-Efficient Distributed SGD with Slow Momentum", outer rate α = 1): the driver's
 *       slow velocity {@code u = β·u + (start − average)/γ} and the next start {@code start − γ·u}, {@code γ} the
 *       round's rate. The workers' own momentum is averaged and kept, as in every policy ({@link OuterMomentum}), so
 *       the two momenta compound: β defaults to {@code 1 − 1/√W}, which in steady state moves the model √W times the
 *       averaged round's displacement, as {@code sqrt} scales the rate (block momentum's {@code 1 − 1/W} diverged
 *       within half an epoch at W = 8: docs/scaling.md).</li>
 *   <li>{@code slowmo-reset[:β]}: {@code slowmo} with the workers' own optimiser state (momentum) set to zero at the
 *       start of every round, so the outer momentum is the only momentum across rounds (SlowMo's "reset buffers"
 *       choice; BMUF's learners start every block afresh); β defaults to block momentum's {@code 1 − 1/W} (Chen &amp;
 *       Huo 2016).</li>
 *   <li>{@code sync[:b]}: synchronous SGD at the shards' minibatch: each of a round's shards is cut into {@code s}
 *       pieces (as equal as its examples allow), one per worker, and the workers average after every piece
 *       ({@code F = 1}), so {@code W} workers take the steps one JVM takes on whole shards: the average of the pieces'
 *       gradients is the shard's gradient, and a momentum updater's step is linear in it (exact up to float rounding
 *       for SGD and Nesterov momentum; Adam's step is not linear, batch norm's statistics and dropout's draws are per
 *       piece). {@code s} is the largest divisor of {@code W} that leaves pieces of at least {@code b} examples
 *       (default 8: DL4J's cost per minibatch hardly shrinks below that, and each piece pays a round's exchange;
 *       docs/scaling.md); with {@code s < W} a round takes {@code W/s} shards, a global minibatch {@code W/s} times
 *       the shards', and the rate grows by √(W/s) over a 2-epoch warm-up as in {@code sqrt}.</li>
 * </ul>
 * With one worker every policy is {@code local}, so one worker still trains what one JVM trains. The rate and the
 * frequency change only at half epochs, where {@link SparkTrainer}'s chunks always end: the model does not depend on
 * how an epoch was cut into chunks.
 */
public record AveragingPolicy(String kind, double warmupEpochs, double momentum, int pieceExamples) implements Serializable {
    public static final AveragingPolicy LOCAL = new AveragingPolicy("local", 0, 0, 0);
    private static final double DEFAULT_WARMUP = 2;
    /** {@code sync}'s smallest piece of a shard, in examples. */
    private static final int DEFAULT_PIECE = 8;

    public AveragingPolicy {
        if (!(warmupEpochs >= 0) || !Double.isFinite(warmupEpochs)) {
            throw new SparkconvException("--averaging-policy: the warm-up must be 0 or more epochs, got " + warmupEpochs);
        }
        if (!(momentum >= 0 && momentum < 1) && !Double.isNaN(momentum)) {
            throw new SparkconvException("--averaging-policy: the outer momentum must be in [0, 1), got " + momentum);
        }
        if (kind.equals("sync") && pieceExamples < 1) {
            throw new SparkconvException("--averaging-policy: sync's smallest minibatch per worker must be 1 or more examples, got "
                    + pieceExamples);
        }
    }

    /** Text forms as given to {@code --averaging-policy}: local, linear[:E], sqrt[:E], post-local[:E], slowmo[:β],
     * slowmo-reset[:β], sync[:b]. */
    public static AveragingPolicy parse(String text) {
        String[] p = text.trim().toLowerCase(Locale.ROOT).split(":");
        try {
            if (p.length <= 2 && (p[0].equals("linear") || p[0].equals("sqrt") || p[0].equals("post-local"))) {
                return new AveragingPolicy(p[0], p.length == 2 ? Double.parseDouble(p[1]) : DEFAULT_WARMUP, 0, 0);
            } else if (p.length <= 2 && (p[0].equals("slowmo") || p[0].equals("slowmo-reset"))) {
                return new AveragingPolicy(p[0], 0, p.length == 2 ? Double.parseDouble(p[1]) : Double.NaN, 0);
            } else if (p.length <= 2 && p[0].equals("sync")) {
                return new AveragingPolicy(p[0], DEFAULT_WARMUP, 0, p.length == 2 ? Integer.parseInt(p[1]) : DEFAULT_PIECE);
            } else if (p.length == 1 && p[0].equals("local")) {
                return LOCAL;
            }
        } catch (NumberFormatException e) {
            // the error below
        }
        throw new SparkconvException("--averaging-policy '" + text + "' is not local, linear[:E], sqrt[:E], post-local[:E] "
                + "slowmo[:B], slowmo-reset[:B] or sync[:b] (E: warm-up epochs, B: outer momentum in [0, 1), b: smallest minibatch "
                + "per worker)");
    }

    /**
     * The factor on the scheduled rate in {@code half} (0 or 1) of 1-based {@code epoch} with {@code workers} on shards
     * of {@code shardBatch} examples: from 1 at the start up to the policy's target, in equal steps per half epoch over
     * the warm-up.
     */
    public double rateFactor(int workers, int shardBatch, int epoch, int half) {
        double target = switch (kind) {
            case "linear", "post-local" -> workers;
            case "sqrt" -> Math.sqrt(workers);
            case "sync" -> Math.sqrt(workers / pieces(workers, shardBatch));
            default -> 1;
        };
        double halves = 2 * warmupEpochs;
        double done = 2 * (epoch - 1) + half; // half epochs before this one
        return done >= halves ? target : 1 + (target - 1) * done / halves;
    }

    /** Minibatches per worker between averaging rounds in 1-based {@code epoch}, given {@code --averaging-frequency}. */
    public int frequency(int configured, int epoch) {
        return kind.equals("sync") || kind.equals("post-local") && epoch <= warmupEpochs ? 1 : configured;
    }

    /**
     * The pieces each shard of {@code shardBatch} examples is cut into, one per worker of a round: {@code sync}'s largest
     * divisor of {@code workers} whose pieces hold at least its smallest minibatch (1: whole shards; every other policy).
     */
    public int pieces(int workers, int shardBatch) {
        if (!kind.equals("sync")) {
            return 1;
        }
        int pieces = 1;
        for (int s = 2; s <= workers; s++) {
            if (workers % s == 0 && shardBatch / s >= pieceExamples) {
                pieces = s;
            }
        }
        return pieces;
    }

    /**
     * The outer momentum β after each average with {@code workers} workers (0: the average is the next start). One
     * worker gets 0 under every policy, so it still trains what one JVM trains.
     */
    public double outerMomentum(int workers) {
        if (!kind.startsWith("slowmo") || workers <= 1) {
            return 0;
        }
        if (!Double.isNaN(momentum)) {
            return momentum;
        }
        return resetsLocalState() ? 1 - 1.0 / workers : 1 - 1 / Math.sqrt(workers);
    }

    /**
     * The rounds of {@code half} (0 or 1) of 1-based {@code epoch} with {@code workers} workers on shards of
     * {@code shardBatch} examples, given the schedule's rate for the epoch and {@code --averaging-frequency}: everything
     * this policy decides about them.
     */
    public RoundPlan plan(int workers, int shardBatch, int epoch, int half, double scheduledRate, int configuredFrequency) {
        return new RoundPlan(frequency(configuredFrequency, epoch), pieces(workers, shardBatch),
                scheduledRate * rateFactor(workers, shardBatch, epoch, half), outerMomentum(workers), resetsLocalState());
    }

    /** Whether the workers' own optimiser state restarts from zero every round (only with an outer step). */
    public boolean resetsLocalState() {
        return kind.equals("slowmo-reset");
    }

    @Override
    public String toString() {
        if (kind.startsWith("slowmo")) {
            return Double.isNaN(momentum) ? kind : kind + ":" + momentum;
        }
        if (kind.equals("sync")) {
            return kind + ":" + pieceExamples;
        }
        return kind.equals("local") ? kind : kind + ":" + (warmupEpochs == Math.rint(warmupEpochs)
                ? String.valueOf((long) warmupEpochs) : String.valueOf(warmupEpochs));
    }
}
