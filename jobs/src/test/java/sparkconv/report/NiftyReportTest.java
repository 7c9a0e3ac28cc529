package sparkconv.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

import sparkconv.eval.BlockBootstrap;
import sparkconv.eval.NiftyEvaluation;
import sparkconv.eval.TradingMetrics;

/** The equity chart's axis, legend and coinciding curves, and the stratified draw of sample windows. */
class NiftyReportTest {
    @Test
    void ticksAreRoundStepsThroughOne() {
        assertArrayEquals(new double[] {0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3}, Svg.ticks(0.75, 1.26, 8, 1.0), 1e-12,
                "the user's range 0.75..1.26: steps of 0.1, not (max - min) / 4");
        assertArrayEquals(new double[] {0.92, 0.94, 0.96, 0.98, 1.0, 1.02, 1.04}, Svg.ticks(0.93, 1.04, 8, 1.0), 1e-12);
        assertArrayEquals(new double[] {0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5}, Svg.ticks(0.5, 3.2, 8, 1.0), 1e-12);
        assertArrayEquals(new double[] {0.8, 0.9, 1.0, 1.1, 1.2}, Svg.ticks(0.8, 1.2, 8, 1.0), 1e-12, "bounds on ticks add none");
        assertArrayEquals(new double[] {1.1, 1.12, 1.14, 1.16, 1.18, 1.2, 1.22, 1.24}, Svg.ticks(1.11, 1.24, 8, 1.0), 1e-12, "1.0 out of range: not forced in");
        assertEquals(7, Svg.ticks(1, 1, 8, 1.0).length, "one value: a range around it");
        assertEquals("1.0", Svg.tickLabel(1.0, 0.1));
        assertEquals("0.92", Svg.tickLabel(0.92, 0.02));
        assertEquals("1.15", Svg.tickLabel(1.15, 0.05));
        assertEquals("3", Svg.tickLabel(3, 1));
        assertEquals("0.0", Svg.tickLabel(-1e-17, 0.1), "no -0.0");
    }

    @Test
    void curvesWithinTheToleranceOfAnEarlierOneAreItsCopies() {
        double[] market = {1.0, 1.01, 0.99, 1.02};
        double[] other = {1.0, 0.98, 0.97, 0.99};
        double[] lessEntryCost = Arrays.stream(market).map(v -> v * (1 - 5e-4)).toArray();
        double[] same = market.clone();
        assertArrayEquals(new int[] {-1, -1, 0, 0, 1}, NiftyReport.sameAs(List.of(market, other, lessEntryCost, same, other), 2e-3));
        assertArrayEquals(new int[] {-1, -1, -1, 0, 1}, NiftyReport.sameAs(List.of(market, other, lessEntryCost, same, other), 1e-4),
                "0.0005 apart is not within 0.0001");
    }

    /**
     * A model, a control of the same positions, an always-long majority baseline and a collapsed model that is always
     * long: both always-long curves are within the entry cost of buy and hold and are drawn dashed on it in turns; the
     * control is the model's curve; the y axis says what is plotted, with round ticks; the legend has the full names.
     */
    @Test
    void theEquityChartLabelsItsAxisShowsFullNamesAndMarksCurvesThatCoincide() {
        int n = 60;
        String[] symbols = new String[n];
        String[] dates = new String[n];
        double[] returns = new double[n];
        double[] alternating = new double[n];
        double[] longOnly = new double[n];
        Random r = new Random(3);
        for (int i = 0; i < n; i++) {
            symbols[i] = "AAA";
            dates[i] = java.time.LocalDate.of(2020, 1, 1).plusDays(i).toString();
            returns[i] = 0.01 * r.nextGaussian();
            alternating[i] = i % 2 == 0 ? 1 : -1;
            longOnly[i] = 1;
        }
        String longName = "candle-cnn-small (ensemble of 2) on shuffled labels, a name far longer than the 28 characters the legend had";
        List<NiftyEvaluation.Row> rows = List.of(row("candle-cnn-small", "model", symbols, dates, alternating, returns),
                row(longName, "shuffled-label control", symbols, dates, alternating, returns),
                row("majority class of training", "baseline", symbols, dates, longOnly, returns),
                row("always up", "baseline", symbols, dates, longOnly, returns));
        String svg = NiftyReport.equity(new NiftyEvaluation.Report("t", "d", n, Map.of(), 5, 1, 6, 200, 5, "note", rows));

        assertTrue(svg.contains(">value of 1 invested, after costs</text>"), svg);
        assertTrue(svg.contains(">holding period start</text>"), svg);
        assertTrue(svg.contains(">0.95</text>") && svg.contains(">1.00</text>") && svg.contains(">1.05</text>"), "steps of 0.05 through 1: " + svg);
        assertTrue(svg.contains(">" + longName + ": the same curve as candle-cnn-small, drawn dashed on it</text>"), svg);
        for (String copy : List.of("majority class of training", "always up")) {
            assertEquals(1, count(svg, ">" + copy + ": within 0\\.000(5|5\\d) of buy and hold \\(no costs\\) throughout, drawn dashed on it</text>"),
                    "one entry cost (5 bps) apart: " + svg);
        }
        assertTrue(svg.contains(">candle-cnn-small</text>") && svg.contains(">buy and hold (no costs)</text>"), svg);
        assertFalse(svg.contains("\u2026"), "no name is cut");
        // Two copies of buy and hold take turns (dash, gap for the other and for buy and hold); the control is the model's only copy.
        assertEquals(2, count(svg, "<polyline[^>]*stroke-dasharray='6 12'"), svg);
        assertEquals(1, count(svg, "<polyline[^>]*stroke-dasharray='6 12' stroke-dashoffset='-6'"), svg);
        assertEquals(1, count(svg, "<polyline[^>]*stroke='#d62728'[^>]*stroke-dasharray='6 6'"), svg);
        assertEquals(5, count(svg, "<polyline"), "every curve drawn");
        List<Boolean> dashed = java.util.regex.Pattern.compile("<polyline[^>]*>").matcher(svg).results()
                .map(m -> m.group().contains("stroke-dasharray")).toList();
        assertEquals(List.of(false, false, true, true, true), dashed, "copies are drawn after (over) the other curves");
    }

    private static NiftyEvaluation.Row row(String name, String kind, String[] symbols, String[] dates, double[] positions, double[] returns) {
        BlockBootstrap.Interval any = new BlockBootstrap.Interval(0.5, 0.4, 0.6);
        return new NiftyEvaluation.Row(name, kind, any, any, any, TradingMetrics.of(symbols, dates, positions, returns, 252, 5));
    }

    @Test
    void theSampleIsStratifiedByOutcomeInProportionAndDeterministicPerSeed() {
        int n = 524;
        int[] truth = new int[n];
        int[] predicted = new int[n];
        Random r = new Random(1);
        for (int i = 0; i < n; i++) {
            truth[i] = r.nextDouble() < 0.55 ? 1 : 0;
            predicted[i] = i < 300 ? truth[i] : 1 - truth[i]; // 300 of 524 right: 57.3%
        }
        int[] sample = NiftyReport.stratifiedSample(truth, predicted, 2, 12, 42);
        assertEquals(12, Arrays.stream(sample).distinct().count());
        assertArrayEquals(Arrays.stream(sample).sorted().toArray(), sample, "in window order");
        long right = Arrays.stream(sample).filter(i -> predicted[i] == truth[i]).count();
        assertEquals(7, right, "12 x 57.3% = 6.9: 7 right, 5 wrong");
        for (int o = 0; o < 2; o++) {
            boolean wantRight = o == 0;
            long[] byLabel = new long[2];
            long[] shown = new long[2];
            for (int i = 0; i < n; i++) {
                byLabel[truth[i]] += (predicted[i] == truth[i]) == wantRight ? 1 : 0;
            }
            for (int i : sample) {
                shown[truth[i]] += (predicted[i] == truth[i]) == wantRight ? 1 : 0;
            }
            int[] expected = NiftyReport.shares(byLabel, (int) (wantRight ? right : 12 - right));
            assertArrayEquals(new long[] {expected[0], expected[1]}, shown, "true labels within the outcome in proportion");
        }
        assertArrayEquals(sample, NiftyReport.stratifiedSample(truth, predicted, 2, 12, 42), "the same seed, the same windows");
        assertFalse(Arrays.equals(sample, NiftyReport.stratifiedSample(truth, predicted, 2, 12, 43)), "another seed, another draw");
        assertEquals(12, NiftyReport.stratifiedSample(truth, truth, 2, 12, 42).length, "all right: all drawn from the right ones");
    }

    @Test
    void sharesSplitByLargestRemainders() {
        assertArrayEquals(new int[] {7, 5}, NiftyReport.shares(new long[] {57, 43}, 12));
        assertArrayEquals(new int[] {1, 1, 0}, NiftyReport.shares(new long[] {1, 1, 1}, 2), "ties: the first");
        assertArrayEquals(new int[] {0, 3}, NiftyReport.shares(new long[] {0, 5}, 3));
        assertArrayEquals(new int[] {0, 0}, NiftyReport.shares(new long[] {0, 0}, 0));
    }

    private static int count(String s, String regex) {
        return (int) java.util.regex.Pattern.compile(regex).matcher(s).results().count();
    }
}
