package sparkconv.charts;

import java.io.Serializable;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import sparkconv.data.OhlcRow;

/** One symbol's daily bars in date order, as parallel arrays (what the renderers read in their hot loop). */
public record OhlcSeries(String symbol, LocalDate[] dates, double[] open, double[] high, double[] low, double[] close,
                         double[] volume) implements Serializable {

    public int size() {
        return close.length;
    }

    /** Groups rows sorted by symbol and date (as {@code OhlcIngest.readRows} returns them) into one series per symbol. */
    public static List<OhlcSeries> of(List<OhlcRow> rows) {
        Map<String, List<OhlcRow>> bySymbol = new LinkedHashMap<>();
        for (OhlcRow r : rows) {
            bySymbol.computeIfAbsent(r.symbol(), k -> new ArrayList<>()).add(r);
        }
        List<OhlcSeries> out = new ArrayList<>();
        bySymbol.forEach((symbol, list) -> {
            int n = list.size();
            LocalDate[] d = new LocalDate[n];
            double[] o = new double[n], h = new double[n], l = new double[n], c = new double[n], v = new double[n];
            for (int i = 0; i < n; i++) {
                OhlcRow r = list.get(i);
                d[i] = r.date();
                o[i] = r.open();
                h[i] = r.high();
                l[i] = r.low();
                c[i] = r.close();
                v[i] = r.volume();
            }
            out.add(new OhlcSeries(symbol, d, o, h, l, c, v));
        });
        return out;
    }

    /**
     * The trailing {@code length}-day moving average of the close: {@code ma[t]} averages closes {@code t-length+1..t}
     * (fewer at the start of the series). It only ever looks back, so a window's MA line holds no future.
     */
    public double[] movingAverage(int length) {
        double[] ma = new double[size()];
        double sum = 0;
        for (int t = 0; t < size(); t++) {
            sum += close[t];
            if (t >= length) {
                sum -= close[t - length];
            }
            ma[t] = sum / Math.min(t + 1, length);
        }
        return ma;
    }
}
