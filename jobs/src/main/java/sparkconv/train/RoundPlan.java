package sparkconv.train;

/**
 * What an {@link AveragingPolicy} decides for the averaging rounds of one half epoch with {@code W} workers: how many
 * minibatches each worker fits per round, the workers' learning rate, and the outer step after each average. The
 * trainer asks for a plan at the start of each half epoch ({@link AveragingPolicy#plan}) and hands it to the rounds
 * ({@link Rounds}); nothing else about a round depends on the policy.
 *
 * @param frequency     minibatches per worker between averages (F)
 * @param pieces        the pieces each shard is cut into, each a worker's minibatch (1: whole shards; {@code sync})
 * @param rate          the workers' learning rate: the schedule's rate times the policy's factor for W
 * @param outerMomentum the outer step's momentum β after each average (0: the average is the next round's start)
 * @param resetLocal    whether the workers' own optimiser state restarts from zero each round (with an outer step only)
 */
public record RoundPlan(int frequency, int pieces, double rate, double outerMomentum, boolean resetLocal) {
    /** The outer step for this plan's rounds on {@code velocity} (updated in place), or null without one. */
    OuterMomentum outerStep(float[] velocity) {
        return outerMomentum == 0 ? null : new OuterMomentum((float) outerMomentum, (float) rate, velocity, resetLocal);
    }
}
