package sparkconv.charts;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.LocalDate;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

import sparkconv.SparkconvException;

class ChartRendererTest {
    private static byte[] render(OhlcSeries s, ChartStyle style, int window, int end) {
        ChartGeometry g = ChartGeometry.forWindow(window);
        byte[] px = new byte[g.pixels()];
        new ChartRenderer(g, style, s).render(end, px, 0);
        return px;
    }

    private static int at(byte[] px, ChartGeometry g, int row, int col) {
        return px[row * g.width() + col] & 0xff;
    }

    @Test
    void jiangKellyXiuSizes() {
        assertEquals(new ChartGeometry(5, 32, 15), ChartGeometry.forWindow(5));
        assertEquals(new ChartGeometry(20, 64, 60), ChartGeometry.forWindow(20));
        assertEquals(new ChartGeometry(60, 96, 180), ChartGeometry.forWindow(60));
        var e = assertThrows(SparkconvException.class, () -> ChartGeometry.forWindow(10));
        assertTrue(e.getMessage().startsWith("--window 10 has no chart size"), e.getMessage());
    }

    @Test
    void ohlcBarsTicksVolumeAndBlackBackgroundWhereJkxPutThem() {
        OhlcSeries s = Series.randomWalk(200, 1);
        for (int window : new int[]{5, 20, 60}) {
            ChartGeometry g = ChartGeometry.forWindow(window);
            int end = 150;
            byte[] px = render(s, ChartStyle.OHLC, window, end);
            assertEquals(g.height() * g.width(), px.length);
            long lit = 0;
            for (byte b : px) {
                assertTrue(b == 0 || b == ChartRenderer.WHITE);
                lit += b != 0 ? 1 : 0;
            }
            assertTrue(lit < px.length / 2, "background is black");
            int top = g.priceHeight() - 1;
            double hi = Double.NEGATIVE_INFINITY;
            double lo = Double.POSITIVE_INFINITY;
            double[] ma = s.movingAverage(window);
            for (int d = end - window + 1; d <= end; d++) {
                hi = Math.max(hi, Math.max(s.high()[d], ma[d]));
                lo = Math.min(lo, Math.min(s.low()[d], ma[d]));
            }
            double maxVolume = Arrays.stream(s.volume(), end - window + 1, end + 1).max().getAsDouble();
            for (int i = 0; i < window; i++) {
                int d = end - window + 1 + i;
                int highRow = (int) Math.round((hi - s.high()[d]) / (hi - lo) * top);
                int lowRow = (int) Math.round((hi - s.low()[d]) / (hi - lo) * top);
                for (int row = highRow; row <= lowRow; row++) {
                    assertEquals(255, at(px, g, row, 3 * i + 1), "high-low bar in the centre column of day " + i);
                }
                assertEquals(255, at(px, g, (int) Math.round((hi - s.open()[d]) / (hi - lo) * top), 3 * i), "open tick left");
                assertEquals(255, at(px, g, (int) Math.round((hi - s.close()[d]) / (hi - lo) * top), 3 * i + 2), "close tick right");
                int bar = Math.max(1, (int) Math.round(s.volume()[d] / maxVolume * g.volumeHeight()));
                for (int row = g.height() - 1; row >= g.height() - g.volumeHeight(); row--) {
                    assertEquals(row >= g.height() - bar ? 255 : 0, at(px, g, row, 3 * i + 1), "volume bar of day " + i + " row " + row);
                    assertEquals(0, at(px, g, row, 3 * i), "volume only in the centre column");
                }
            }
            for (int col = 0; col < g.width(); col++) {
                assertEquals(0, at(px, g, g.priceHeight(), col), "a blank row separates prices from volume");
            }
        }
    }

    @Test
    void movingAverageLineIsDrawnOnEveryDay() {
        OhlcSeries s = Series.randomWalk(200, 2);
        ChartGeometry g = ChartGeometry.forWindow(20);
        byte[] px = render(s, ChartStyle.OHLC, 20, 120);
        double[] ma = s.movingAverage(20);
        double hi = Double.NEGATIVE_INFINITY;
        double lo = Double.POSITIVE_INFINITY;
        for (int d = 101; d <= 120; d++) {
            hi = Math.max(hi, Math.max(s.high()[d], ma[d]));
            lo = Math.min(lo, Math.min(s.low()[d], ma[d]));
        }
        for (int i = 0; i < 20; i++) {
            int row = (int) Math.round((hi - ma[101 + i]) / (hi - lo) * (g.priceHeight() - 1));
            assertEquals(255, at(px, g, row, 3 * i + 1), "MA point of day " + i);
        }
        assertEquals((s.close()[101] + s.close()[120] + Arrays.stream(s.close(), 102, 120).sum()) / 20, ma[120], 1e-9);
    }

    @Test
    void imageCarriesNoAbsolutePriceLevel() {
        OhlcSeries s = Series.randomWalk(120, 3);
        OhlcSeries scaled = new OhlcSeries(s.symbol(), s.dates(), times(s.open(), 8), times(s.high(), 8), times(s.low(), 8),
                times(s.close(), 8), s.volume());
        for (ChartStyle style : new ChartStyle[]{ChartStyle.OHLC, ChartStyle.CANDLE}) {
            assertArrayEquals(render(s, style, 20, 100), render(scaled, style, 20, 100));
        }
    }

    @Test
    void candlesDistinguishUpAndDownDays() {
        LocalDate[] dates = new LocalDate[10];
        for (int i = 0; i < 10; i++) {
            dates[i] = LocalDate.of(2020, 1, 1).plusDays(i);
        }
        double[] open = {10, 10, 10, 10, 10, 10, 10, 10, 10, 10};
        double[] close = {11, 11, 11, 11, 11, 11, 11, 11, 12, 9};
        double[] high = {12, 12, 12, 12, 12, 12, 12, 12, 13, 13};
        double[] low = {8, 8, 8, 8, 8, 8, 8, 8, 8, 8};
        double[] vol = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
        OhlcSeries s = new OhlcSeries("C", dates, open, high, low, close, vol);
        ChartGeometry g = ChartGeometry.forWindow(5);
        byte[] px = render(s, ChartStyle.CANDLE, 5, 9);
        double hi = 13;
        double lo = 8;
        int top = g.priceHeight() - 1;
        int bodyUp = (int) Math.round((hi - 11) / (hi - lo) * top);
        int bodyDown = (int) Math.round((hi - 9.5) / (hi - lo) * top);
        assertEquals(255, at(px, g, bodyUp, 9), "up day (close 12 > open 10): white body, left column");
        assertEquals(128, at(px, g, bodyDown, 12), "down day (close 9 < open 10): grey body, left column");
    }

    @Test
    void returnTensorsAreLogReturnsOverThePreviousClose() {
        OhlcSeries s = Series.randomWalk(50, 4);
        float[] v = new float[4 * 10];
        new ReturnTensors(s, 10, 4).render(30, v, 0);
        for (int i = 0; i < 10; i++) {
            int d = 21 + i;
            assertEquals(Math.log(s.close()[d] / s.close()[d - 1]), v[i], 1e-6);
            assertEquals(Math.log(s.open()[d] / s.close()[d - 1]), v[10 + i], 1e-6);
            assertEquals(Math.log(s.high()[d] / s.close()[d - 1]), v[20 + i], 1e-6);
            assertEquals(Math.log(s.low()[d] / s.close()[d - 1]), v[30 + i], 1e-6);
        }
    }

    /** The no-look-ahead proof: replacing every day after t changes no pixel or value of the window ending at t. */
    @Test
    void noPixelOrValueOfAWindowDependsOnDaysAfterItsEnd() {
        OhlcSeries s = Series.randomWalk(400, 5);
        Labels labels = new Labels(5, 0);
        int labelsChanged = 0;
        for (int window : new int[]{5, 20, 60}) {
            for (int t = 2 * window - 1; t < 390; t += 37) {
                OhlcSeries changed = Series.withNewFuture(s, t, 1000 + t);
                assertFalse(Arrays.equals(s.close(), changed.close()));
                for (ChartStyle style : new ChartStyle[]{ChartStyle.OHLC, ChartStyle.CANDLE}) {
                    assertArrayEquals(render(s, style, window, t), render(changed, style, window, t), style + " W=" + window + " t=" + t);
                }
                float[] a = new float[4 * window];
                float[] b = new float[4 * window];
                new ReturnTensors(s, window, 4).render(t, a, 0);
                new ReturnTensors(changed, window, 4).render(t, b, 0);
                assertArrayEquals(a, b, "returns W=" + window + " t=" + t);
                labelsChanged += labels.label(s, t) != labels.label(changed, t) ? 1 : 0;
            }
        }
        assertTrue(labelsChanged > 0, "the future does decide labels (so the test would see a leak)");
    }

    @Test
    void labelIsDirectionOfCloseAfterHorizonWithOptionalDeadBand() {
        OhlcSeries s = new OhlcSeries("L", new LocalDate[4], new double[4], new double[4], new double[4],
                new double[]{100, 101, 100, 100.1}, new double[4]);
        assertEquals(1, new Labels(1, 0).label(s, 0));
        assertEquals(0, new Labels(1, 0).label(s, 1));
        assertEquals(0, new Labels(2, 0).label(s, 0), "a tie is down");
        assertEquals(java.util.List.of("down", "flat", "up"), new Labels(1, 0.002).classNames());
        assertEquals(1, new Labels(1, 0.002).label(s, 2), "+0.1% is inside a 0.2% dead band");
        assertEquals(2, new Labels(1, 0.002).label(s, 0));
        assertThrows(SparkconvException.class, () -> new Labels(0, 0));
    }

    private static double[] times(double[] v, double k) {
        return Arrays.stream(v).map(x -> x * k).toArray();
    }
}
