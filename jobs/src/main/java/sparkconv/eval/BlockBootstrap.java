package sparkconv.eval;

import java.util.Arrays;
import java.util.Random;
import java.util.function.ToDoubleFunction;

/**
 * Moving-block bootstrap over time-ordered examples: resamples contiguous blocks of {@code blockLength} examples (with
 * wrap-around) so the dependence between neighbouring, overlapping windows is kept in each resample. Percentile
 * intervals; deterministic for a seed.
 */
public record BlockBootstrap(int blockLength, int resamples, long seed) {

    /** A point estimate with its percentile interval. */
    public record Interval(double value, double low, double high) {
    }

    public Interval interval(int n, double level, ToDoubleFunction<int[]> statistic) {
        double value = statistic.applyAsDouble(BinaryMetrics.all(n));
        Random random = new Random(seed);
        int block = Math.max(1, Math.min(blockLength, n));
        double[] stats = new double[resamples];
        int kept = 0;
        int[] idx = new int[n];
        for (int r = 0; r < resamples; r++) {
            int filled = 0;
            while (filled < n) {
                int start = random.nextInt(n);
                for (int k = 0; k < block && filled < n; k++) {
                    idx[filled++] = (start + k) % n;
                }
            }
            double s = statistic.applyAsDouble(idx);
            if (!Double.isNaN(s)) {
                stats[kept++] = s;
            }
        }
        if (kept == 0) {
            return new Interval(value, Double.NaN, Double.NaN);
        }
        double[] sorted = Arrays.copyOf(stats, kept);
        Arrays.sort(sorted);
        double tail = (1 - level) / 2;
        return new Interval(value, sorted[(int) Math.floor(tail * (kept - 1))], sorted[(int) Math.ceil((1 - tail) * (kept - 1))]);
    }
}
