package sparkconv.eval;

/** Annualised Sharpe ratio of a long/short signal over non-overlapping holding periods, before costs. */
public final class TradingMetrics {
    private TradingMetrics() {
    }

    /**
     * @param positions     +1 long, -1 short, 0 flat, one per holding period
     * @param returns       the asset's simple return over each period
     * @param periodsPerYear e.g. 252 / H for H-day holding periods
     */
    public static double sharpe(double[] positions, double[] returns, double periodsPerYear) {
        int n = returns.length;
        double mean = 0;
        for (int i = 0; i < n; i++) {
            mean += positions[i] * returns[i];
        }
        mean /= n;
        double var = 0;
        for (int i = 0; i < n; i++) {
            double d = positions[i] * returns[i] - mean;
            var += d * d;
        }
        double sd = Math.sqrt(var / Math.max(1, n - 1));
        return sd == 0 ? 0 : mean / sd * Math.sqrt(periodsPerYear);
    }
}
