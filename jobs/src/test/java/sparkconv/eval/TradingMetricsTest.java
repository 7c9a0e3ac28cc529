package sparkconv.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class TradingMetricsTest {
    @Test
    void costsAreChargedPerSideAtEveryPositionChange() {
        String[] sym = {"A", "A", "A", "A"};
        String[] dates = {"2020-01-01", "2020-01-02", "2020-01-03", "2020-01-06"};
        double[] positions = {1, 1, -1, -1};
        double[] returns = {0.01, -0.02, -0.01, 0.03};
        TradingMetrics.Trading t = TradingMetrics.of(sym, dates, positions, returns, 252, 10);
        // entering long: 1 side; long -> short: 2 sides; 10 bps per side
        double[] net = {0.01 - 0.001, -0.02, 0.01 - 0.002, -0.03};
        double equity = 1;
        double peak = 1;
        double drawdown = 0;
        for (double r : net) {
            equity *= 1 + r;
            peak = Math.max(peak, equity);
            drawdown = Math.max(drawdown, 1 - equity / peak);
        }
        assertEquals(equity - 1, t.totalReturnAfterCosts(), 1e-12);
        assertEquals(drawdown, t.maxDrawdown(), 1e-12);
        assertEquals(3.0 / 4 * 252, t.turnover(), 1e-9, "3 sides traded over 4 periods");
        assertEquals(0.5, t.hitRate(), 1e-12);
        assertEquals(TradingMetrics.sharpe(net, 252), t.sharpeAfterCosts(), 1e-12);
        assertEquals(TradingMetrics.sharpe(positions, returns, 252), t.sharpe(), 1e-12);
        assertEquals(1.01 * 0.98 * 0.99 * 1.03, t.buyAndHold()[3], 1e-12);
    }

    @Test
    void severalSymbolsAreEqualWeightedPerDate() {
        String[] sym = {"A", "A", "B", "B"};
        String[] dates = {"d1", "d2", "d1", "d2"};
        TradingMetrics.Trading t = TradingMetrics.of(sym, dates, new double[]{1, 1, -1, -1}, new double[]{0.02, 0.01, 0.02, -0.01}, 252, 0);
        assertEquals(2, t.periods());
        assertEquals(1.0 * 1.01, t.equity()[1], 1e-12, "d1: (+0.02 - 0.02)/2, d2: (0.01 + 0.01)/2");
    }
}
