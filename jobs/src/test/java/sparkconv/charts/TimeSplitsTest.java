package sparkconv.charts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

import sparkconv.SparkconvException;

class TimeSplitsTest {
    private static final int W = 20;
    private static final int H = 5;

    private static ChartWindows.Spec spec(String split, int embargo) {
        return new ChartWindows.Spec(W, H, ChartStyle.OHLC, 1, 0, split, 0.6, 0.2, embargo, 3, 0);
    }

    private static List<OhlcSeries> twoSymbols() {
        List<sparkconv.data.OhlcRow> rows = new ArrayList<>(Series.randomWalkRows("AAA", 600, 1));
        rows.addAll(Series.randomWalkRows("BBB", 600, 2));
        return OhlcSeries.of(rows);
    }

    /** Every pair of windows of a symbol in different splits is more than W+H days apart, and later splits come later. */
    private static void assertEmbargoed(TimeSplits.Fold fold, int embargo) {
        List<String> names = new ArrayList<>(fold.splits().keySet());
        for (int a = 0; a < names.size(); a++) {
            for (int b = a + 1; b < names.size(); b++) {
                for (TimeSplits.Window x : fold.splits().get(names.get(a))) {
                    for (TimeSplits.Window y : fold.splits().get(names.get(b))) {
                        if (x.series() == y.series()) {
                            assertTrue(y.end() - x.end() > embargo, x + " / " + y);
                            assertTrue(y.date().isAfter(x.date()));
                        }
                    }
                }
            }
        }
    }

    @Test
    void dateSplitLeavesAnEmbargoOfAtLeastWindowPlusHorizon() {
        List<OhlcSeries> series = twoSymbols();
        TimeSplits.Fold fold = ChartWindows.plan(series, spec("time", 0)).get(0);
        assertEquals(List.of("train", "validation", "test"), new ArrayList<>(fold.splits().keySet()));
        assertEmbargoed(fold, W + H);
        int total = ChartWindows.windows(series, spec("time", 0)).size();
        int kept = fold.splits().values().stream().mapToInt(List::size).sum();
        assertEquals(2 * 2 * (W + H), total - kept, "exactly W+H windows dropped after each of 2 boundaries, per symbol");

        TimeSplits.Fold wider = ChartWindows.plan(series, spec("time", 60)).get(0);
        assertEmbargoed(wider, 60);
        var e = assertThrows(SparkconvException.class, () -> ChartWindows.plan(series, spec("time", W + H - 1)));
        assertTrue(e.getMessage().startsWith("--embargo 24 is shorter than window + horizon = 25"), e.getMessage());
    }

    @Test
    void walkForwardFoldsTrainBeforeTheyTest() {
        List<OhlcSeries> series = twoSymbols();
        for (String method : List.of("walk-forward", "walk-forward-rolling")) {
            List<TimeSplits.Fold> folds = ChartWindows.plan(series, spec(method, 0));
            assertEquals(3, folds.size());
            for (TimeSplits.Fold f : folds) {
                assertEmbargoed(f, W + H);
                assertTrue(!f.splits().get("train").isEmpty() && !f.splits().get("test").isEmpty());
            }
            int firstTrain = folds.get(0).splits().get("train").size();
            int lastTrain = folds.get(2).splits().get("train").size();
            assertTrue(method.equals("walk-forward") ? lastTrain > 2 * firstTrain : Math.abs(lastTrain - firstTrain) < firstTrain / 4,
                    method + ": " + firstTrain + " -> " + lastTrain);
        }
    }

    @Test
    void randomSplitOfOverlappingWindowsIsRefused() {
        List<OhlcSeries> series = twoSymbols();
        List<TimeSplits.Window> all = new ArrayList<>(ChartWindows.windows(series, spec("time", 0)));
        Collections.shuffle(all, new Random(7));
        Map<String, List<TimeSplits.Window>> random = new LinkedHashMap<>();
        random.put("train", all.subList(0, all.size() * 7 / 10));
        random.put("test", all.subList(all.size() * 7 / 10, all.size()));
        var e = assertThrows(SparkconvException.class, () -> TimeSplits.verify(new TimeSplits.Fold("random", random), W, H));
        assertTrue(e.getMessage().startsWith("split refused: "), e.getMessage());
        var byName = assertThrows(SparkconvException.class, () -> spec("random", 0));
        assertTrue(byName.getMessage().startsWith("--split random is refused"), byName.getMessage());
    }

    @Test
    void tooShortSeriesIsOneClearLine() {
        List<OhlcSeries> series = OhlcSeries.of(Series.randomWalkRows("TINY", 30, 1));
        var e = assertThrows(SparkconvException.class, () -> ChartWindows.windows(series, spec("time", 0)));
        assertEquals("symbol TINY has 30 rows: a 20-day window with a 5-day horizon needs at least 45 (2W + H)", e.getMessage());
    }
}
