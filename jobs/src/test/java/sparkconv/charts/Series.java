package sparkconv.charts;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import sparkconv.data.OhlcRow;

/** Synthetic daily series for chart tests: a seeded random walk with consistent bars on weekdays. */
final class Series {
    private Series() {
    }

    static List<OhlcRow> randomWalkRows(String symbol, int days, long seed) {
        Random r = new Random(seed);
        List<OhlcRow> rows = new ArrayList<>();
        LocalDate d = LocalDate.of(2001, 1, 1);
        double close = 100;
        for (int i = 0; i < days; i++) {
            while (d.getDayOfWeek().getValue() > 5) {
                d = d.plusDays(1);
            }
            double open = close * (1 + 0.01 * r.nextGaussian());
            close = open * (1 + 0.01 * r.nextGaussian());
            double high = Math.max(open, close) * (1 + 0.005 * r.nextDouble());
            double low = Math.min(open, close) * (1 - 0.005 * r.nextDouble());
            rows.add(new OhlcRow(symbol, d, open, high, low, close, 1000 + r.nextInt(1000)));
            d = d.plusDays(1);
        }
        return rows;
    }

    static OhlcSeries randomWalk(int days, long seed) {
        return OhlcSeries.of(randomWalkRows("SYN", days, seed)).get(0);
    }

    /** A copy of {@code s} in which every day after {@code t} is replaced by another random walk's. */
    static OhlcSeries withNewFuture(OhlcSeries s, int t, long seed) {
        OhlcSeries other = randomWalk(s.size(), seed);
        double[][] cols = {s.open().clone(), s.high().clone(), s.low().clone(), s.close().clone(), s.volume().clone()};
        double[][] src = {other.open(), other.high(), other.low(), other.close(), other.volume()};
        for (int c = 0; c < cols.length; c++) {
            System.arraycopy(src[c], t + 1, cols[c], t + 1, s.size() - t - 1);
        }
        return new OhlcSeries(s.symbol(), s.dates(), cols[0], cols[1], cols[2], cols[3], cols[4]);
    }

    static String csv(List<OhlcRow> rows) {
        StringBuilder sb = new StringBuilder("Date,Open,High,Low,Close,Volume\n");
        for (OhlcRow r : rows) {
            sb.append(r.date()).append(',').append(r.open()).append(',').append(r.high()).append(',').append(r.low()).append(',')
                    .append(r.close()).append(',').append(r.volume()).append('\n');
        }
        return sb.toString();
    }
}
