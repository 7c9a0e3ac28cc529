package sparkconv.report;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;
import java.util.Locale;

/** Small inline SVG charts for self-contained reports (no scripts, no network). */
final class Svg {
    static final String[] COLOURS = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};
    private static final int W = 460;
    private static final int H = 260;
    private static final int LEFT = 52;
    private static final int RIGHT = 12;
    private static final int TOP = 44;
    private static final int BOTTOM = 40;

    private Svg() {
    }

    /** One named series of y values at x = 1..n (NaN points are skipped). */
    record Series(String name, double[] y) {
    }

    static String lineChart(String title, String xLabel, List<Series> series) {
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        int n = 0;
        for (Series s : series) {
            n = Math.max(n, s.y().length);
            for (double v : s.y()) {
                if (Double.isFinite(v)) {
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
            }
        }
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' class='chart'>", W, H));
        sb.append(String.format(Locale.ROOT, "<text x='%d' y='18' class='title'>%s</text>", LEFT, Html.esc(title)));
        if (n == 0 || !Double.isFinite(min)) {
            return sb.append("<text x='60' y='120'>no data</text></svg>").toString();
        }
        if (max - min < 1e-9) {
            max += 0.5;
            min -= 0.5;
        }
        double pad = (max - min) * 0.08;
        min -= pad;
        max += pad;
        int pw = W - LEFT - RIGHT;
        int ph = H - TOP - BOTTOM;
        sb.append(String.format(Locale.ROOT, "<rect x='%d' y='%d' width='%d' height='%d' class='plot'/>", LEFT, TOP, pw, ph));
        for (int i = 0; i <= 4; i++) {
            double v = min + (max - min) * i / 4;
            double y = TOP + ph - ph * i / 4.0;
            sb.append(String.format(Locale.ROOT, "<line x1='%d' x2='%d' y1='%.1f' y2='%.1f' class='grid'/>", LEFT, LEFT + pw, y, y));
            sb.append(String.format(Locale.ROOT, "<text x='%d' y='%.1f' class='tick' text-anchor='end'>%.3f</text>", LEFT - 4, y + 4, v));
        }
        for (int x = 1; x <= n; x++) {
            double px = xPos(x, n, pw);
            sb.append(String.format(Locale.ROOT, "<text x='%.1f' y='%d' class='tick' text-anchor='middle'>%d</text>", px, TOP + ph + 14, x));
        }
        sb.append(String.format(Locale.ROOT, "<text x='%d' y='%d' class='tick' text-anchor='middle'>%s</text>",
                LEFT + pw / 2, H - 6, Html.esc(xLabel)));
        for (int si = 0; si < series.size(); si++) {
            Series s = series.get(si);
            String colour = COLOURS[si % COLOURS.length];
            StringBuilder pts = new StringBuilder();
            for (int i = 0; i < s.y().length; i++) {
                if (!Double.isFinite(s.y()[i])) {
                    continue;
                }
                double px = xPos(i + 1, n, pw);
                double py = TOP + ph - ph * (s.y()[i] - min) / (max - min);
                pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", px, py));
                sb.append(String.format(Locale.ROOT, "<circle cx='%.1f' cy='%.1f' r='3' fill='%s'/>", px, py, colour));
            }
            sb.append(String.format(Locale.ROOT, "<polyline points='%s' fill='none' stroke='%s' stroke-width='2'/>", pts, colour));
            int ly = 16 + 14 * si; // legend above the plot, clear of the lines
            sb.append(String.format(Locale.ROOT, "<rect x='%d' y='%d' width='12' height='3' fill='%s'/>", LEFT + pw - 120, ly - 4, colour));
            sb.append(String.format(Locale.ROOT, "<text x='%d' y='%d' class='tick'>%s</text>", LEFT + pw - 104, ly, Html.esc(s.name())));
        }
        return sb.append("</svg>").toString();
    }

    /**
     * Round tick values covering [min, max]: a step of 1, 2 or 5 times a power of ten, the smallest that needs at most
     * {@code most} ticks, on a grid through {@code anchor} (so a reference value such as 1.0 is a tick when in range).
     * The first and last ticks bound the axis.
     */
    static double[] ticks(double min, double max, int most, double anchor) {
        if (!(max > min)) { // one value: a small range around it
            double d = Math.max(Math.abs(min), 1) * 0.05;
            min -= d;
            max += d;
        }
        double power = Math.pow(10, Math.floor(Math.log10((max - min) / most)));
        for (int k = 0; ; k++) {
            double step = new double[] {1, 2, 5}[k % 3] * power * Math.pow(10, k / 3);
            // The epsilon keeps a bound that is a tick (up to rounding) from adding a tick beyond it.
            long first = (long) Math.floor((min - anchor) / step + 1e-9);
            long last = (long) Math.ceil((max - anchor) / step - 1e-9);
            if (last - first + 1 <= most) {
                double[] out = new double[(int) (last - first + 1)];
                for (int i = 0; i < out.length; i++) {
                    out[i] = anchor + (first + i) * step;
                }
                return out;
            }
        }
    }

    /** A tick value with as many decimals as its step needs. */
    static String tickLabel(double value, double step) {
        int decimals = Math.max(0, (int) -Math.floor(Math.log10(step) + 1e-9));
        return BigDecimal.valueOf(value).setScale(decimals, RoundingMode.HALF_UP).toPlainString(); // no "-0.0" for -1e-17
    }

    private static double xPos(int x, int n, int pw) {
        return n == 1 ? LEFT + pw / 2.0 : LEFT + 16 + (pw - 32) * (x - 1) / (double) (n - 1);
    }
}
