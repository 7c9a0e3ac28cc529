package sparkconv.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a researcher checks of a long/short signal over non-overlapping holding periods: the annualised Sharpe ratio
 * before and after costs, turnover, maximum drawdown, hit rate, and the equity curve beside buy-and-hold. Costs are
 * {@code costBps} basis points per side, charged on every position change (entering from flat is one side, a flip
 * from long to short two). With several symbols the portfolio holds each symbol's position with equal weight; a
 * period's portfolio return is the mean over the symbols held on that date.
 */
public final class TradingMetrics {
    private TradingMetrics() {
    }

    /**
     * @param turnover    position traded per year (sum of |change| per symbol-period, times periods per year)
     * @param maxDrawdown largest peak-to-trough fall of the after-cost equity curve, as a fraction
     * @param hitRate     share of periods with a position whose return had the position's sign
     */
    public record Trading(double sharpe, double sharpeAfterCosts, double turnover, double maxDrawdown, double hitRate,
                          double totalReturnAfterCosts, double buyAndHoldSharpe, double buyAndHoldTotalReturn, int periods,
                          double costBps, List<String> dates, double[] equity, double[] buyAndHold) {
    }

    /**
     * @param symbols   each period's symbol
     * @param dates     each period's start date (ISO; periods of one date are one portfolio period)
     * @param positions +1 long, -1 short, 0 flat, one per holding period, in time order within each symbol
     * @param returns   the symbol's simple return over each period
     */
    public static Trading of(String[] symbols, String[] dates, double[] positions, double[] returns, double periodsPerYear,
                             double costBps) {
        double cost = costBps / 1e4;
        Map<String, Double> held = new HashMap<>();
        TreeMap<String, double[]> byDate = new TreeMap<>(); // gross, net, buy-and-hold, count
        double traded = 0;
        int withPosition = 0;
        int hits = 0;
        for (int i = 0; i < positions.length; i++) {
            double change = Math.abs(positions[i] - held.getOrDefault(symbols[i], 0.0));
            held.put(symbols[i], positions[i]);
            traded += change;
            double gross = positions[i] * returns[i];
            if (positions[i] != 0) {
                withPosition++;
                hits += gross > 0 ? 1 : 0;
            }
            double[] d = byDate.computeIfAbsent(dates[i], k -> new double[4]);
            d[0] += gross;
            d[1] += gross - change * cost;
            d[2] += returns[i];
            d[3]++;
        }
        int n = byDate.size();
        double[] gross = new double[n];
        double[] net = new double[n];
        double[] market = new double[n];
        int k = 0;
        for (double[] d : byDate.values()) {
            gross[k] = d[0] / d[3];
            net[k] = d[1] / d[3];
            market[k] = d[2] / d[3];
            k++;
        }
        double[] equity = compound(net);
        double[] buyAndHold = compound(market);
        double peak = 1;
        double maxDrawdown = 0;
        for (double e : equity) {
            peak = Math.max(peak, e);
            maxDrawdown = Math.max(maxDrawdown, 1 - e / peak);
        }
        return new Trading(sharpe(gross, periodsPerYear), sharpe(net, periodsPerYear),
                positions.length == 0 ? 0 : traded / positions.length * periodsPerYear, maxDrawdown,
                withPosition == 0 ? Double.NaN : hits / (double) withPosition, n == 0 ? 0 : equity[n - 1] - 1,
                sharpe(market, periodsPerYear), n == 0 ? 0 : buyAndHold[n - 1] - 1, n, costBps,
                new ArrayList<>(byDate.keySet()), equity, buyAndHold);
    }

    private static double[] compound(double[] returns) {
        double[] out = new double[returns.length];
        double value = 1;
        for (int i = 0; i < returns.length; i++) {
            value *= 1 + returns[i];
            out[i] = value;
        }
        return out;
    }

    /** Annualised Sharpe ratio (no risk-free rate) of per-period returns. */
    public static double sharpe(double[] periodReturns, double periodsPerYear) {
        int n = periodReturns.length;
        if (n == 0) {
            return 0;
        }
        double mean = 0;
        for (double r : periodReturns) {
            mean += r;
        }
        mean /= n;
        double var = 0;
        for (double r : periodReturns) {
            var += (r - mean) * (r - mean);
        }
        double sd = Math.sqrt(var / Math.max(1, n - 1));
        return sd == 0 ? 0 : mean / sd * Math.sqrt(periodsPerYear);
    }

    /** Sharpe ratio of a long/short signal before costs: {@code positions[i] * returns[i]} per period. */
    public static double sharpe(double[] positions, double[] returns, double periodsPerYear) {
        double[] r = new double[returns.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = positions[i] * returns[i];
        }
        return sharpe(r, periodsPerYear);
    }
}
