package sparkconv.train;

import java.io.Serializable;

/**
 * SlowMo's outer step (Wang et al. 2020, Algorithm 1 with outer rate α = 1) on a round's average: with the round's
 * start {@code x}, the workers' average {@code a}, the round's rate {@code γ} and the slow velocity {@code u},
 * {@code u ← β·u + (x − a)/γ} and the next start is {@code x − γ·u}. With β = 0 that is the average itself, which is
 * why a policy without outer momentum never calls this. The same float arithmetic runs wherever a round ends (the
 * barrier tasks, each on its own copy; the driver, for a job per round), so every place computes the same floats.
 *
 * @param beta     the outer momentum β, in (0, 1)
 * @param rate     the round's learning rate γ (the velocity is kept in its units, so a new rate scales old steps)
 * @param velocity {@code u}, one float per parameter, updated in place
 * @param resetLocal whether the workers' own optimiser state (momentum) starts every round from zero, as BMUF's
 *                   learners start each block, instead of from the workers' average
 */
record OuterMomentum(float beta, float rate, float[] velocity, boolean resetLocal) implements Serializable {
    /** {@code average}'s first {@code velocity.length} floats (the parameters) become the next start. */
    void step(float[] start, float[] average) {
        step(start, average, 0);
    }

    /**
     * The same on a piece of the average vector (parameters, then updater state) that starts at element {@code offset}:
     * its parameters become the next start's, element by element as above (the updater state is left alone).
     */
    void step(float[] start, float[] piece, long offset) {
        int end = (int) Math.min(velocity.length, offset + piece.length);
        for (int i = (int) offset; i < end; i++) {
            int j = i - (int) offset;
            velocity[i] = beta * velocity[i] + (start[i] - piece[j]) / rate;
            piece[j] = start[i] - rate * velocity[i];
        }
    }
}
