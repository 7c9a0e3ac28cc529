package sparkconv.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.junit.jupiter.api.Test;

class BinaryMetricsTest {
    @Test
    void aucCountsCorrectlyOrderedPairsWithTiesAsHalf() {
        int[] y = {0, 0, 1, 1};
        int[] all = BinaryMetrics.all(4);
        assertEquals(1.0, BinaryMetrics.auc(y, new double[]{0.1, 0.2, 0.3, 0.4}, all, 1));
        assertEquals(0.0, BinaryMetrics.auc(y, new double[]{0.4, 0.3, 0.2, 0.1}, all, 1));
        assertEquals(0.5, BinaryMetrics.auc(y, new double[]{0.5, 0.5, 0.5, 0.5}, all, 1));
        // pairs (neg, pos): (0.1,0.3) ok, (0.1,0.2) ok, (0.35,0.3) wrong, (0.35,0.2) wrong -> 2/4
        assertEquals(0.5, BinaryMetrics.auc(y, new double[]{0.1, 0.35, 0.3, 0.2}, all, 1));
        assertTrue(Double.isNaN(BinaryMetrics.auc(new int[]{1, 1}, new double[]{0.1, 0.2}, BinaryMetrics.all(2), 1)));
    }

    @Test
    void balancedAccuracyOfAConstantPredictionIsOneOverClasses() {
        int[] y = {0, 1, 1, 1, 1, 1, 1, 1};
        int[] allUp = {1, 1, 1, 1, 1, 1, 1, 1};
        assertEquals(7 / 8.0, BinaryMetrics.accuracy(y, allUp, BinaryMetrics.all(8)));
        assertEquals(0.5, BinaryMetrics.balancedAccuracy(y, allUp, BinaryMetrics.all(8), 2));
    }

    @Test
    void blockBootstrapIsDeterministicAndBracketsTheEstimate() {
        Random r = new Random(3);
        int n = 600;
        int[] y = new int[n];
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(2);
            p[i] = r.nextDouble() < 0.6 ? y[i] : 1 - y[i];
        }
        BlockBootstrap b = new BlockBootstrap(25, 500, 9);
        BlockBootstrap.Interval ci = b.interval(n, 0.95, idx -> BinaryMetrics.accuracy(y, p, idx));
        assertEquals(ci, b.interval(n, 0.95, idx -> BinaryMetrics.accuracy(y, p, idx)));
        assertTrue(ci.low() < ci.value() && ci.value() < ci.high(), ci.toString());
        assertTrue(ci.high() - ci.low() > 0.03 && ci.high() - ci.low() < 0.15, "about +-2 standard errors of 0.02: " + ci);
    }

    @Test
    void sharpeOfAConstantlyRightSignalIsItsMeanOverSd() {
        double[] returns = {0.01, -0.02, 0.03, -0.01};
        double[] perfect = {1, -1, 1, -1};
        double[] gains = {0.01, 0.02, 0.03, 0.01};
        double mean = 0.0175;
        double sd = Math.sqrt(((0.01 - mean) * (0.01 - mean) * 2 + (0.02 - mean) * (0.02 - mean) + (0.03 - mean) * (0.03 - mean)) / 3);
        assertEquals(mean / sd * Math.sqrt(252), TradingMetrics.sharpe(perfect, returns, 252), 1e-9);
        assertEquals(TradingMetrics.sharpe(new double[]{1, 1, 1, 1}, gains, 252), TradingMetrics.sharpe(perfect, returns, 252), 1e-9);
    }
}
