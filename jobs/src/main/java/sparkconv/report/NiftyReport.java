package sparkconv.report;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.IntStream;

import org.apache.spark.sql.SparkSession;

import sparkconv.charts.ChartGeometry;
import sparkconv.charts.ChartPreview;
import sparkconv.charts.ChartRenderJob;
import sparkconv.charts.ChartWindows;
import sparkconv.charts.OhlcSeries;
import sparkconv.charts.TimeSplits;
import sparkconv.eval.BlockBootstrap;
import sparkconv.eval.NiftyEvaluation;
import sparkconv.eval.TradingMetrics;
import sparkconv.shards.Manifest;

/**
 * The self-contained report.html of a chart-window evaluation (one fold or a walk-forward): sample test windows as
 * the model saw them with their true and predicted labels, the figures of the model beside its shuffled-label control
 * and the baselines, the after-cost equity curves against buy-and-hold, and the per-fold and per-symbol tables.
 */
public final class NiftyReport {
    private static final int SAMPLES = 12;
    private static final long SAMPLE_SEED = 42;

    private NiftyReport() {
    }

    /** A titled sub-report (a fold, or a symbol). */
    public record Part(String name, NiftyEvaluation.Report report) {
    }

    /**
     * @param shardDir shards of (the last) fold: their lineage names the ingested input and the chart style
     */
    public static String html(SparkSession spark, String shardDir, NiftyEvaluation.TestSet set, NiftyEvaluation.Report report,
                              List<Part> folds, List<Part> symbols) {
        StringBuilder sb = new StringBuilder();
        sb.append("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>")
                .append(Html.esc(report.title())).append("</title><style>")
                .append("body{font:14px/1.4 sans-serif;margin:24px;color:#222;max-width:1150px}")
                .append("h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}")
                .append("table{border-collapse:collapse}td,th{padding:3px 8px;border:1px solid #ddd;text-align:right}")
                .append("th{background:#f4f4f4}td.l,th.l{text-align:left}tr.model td{font-weight:bold}")
                .append(".chart .title{font-weight:bold;font-size:13px}.chart .tick{font-size:11px;fill:#444}")
                .append(".chart .plot{fill:#fafafa;stroke:#bbb}.chart .grid{stroke:#e4e4e4}")
                .append(".samples{display:flex;flex-wrap:wrap;gap:8px}.sample{font-size:11px;text-align:center;")
                .append("border:2px solid #2ca02c;padding:3px}.sample.wrong{border-color:#d62728}")
                .append(".sample img{image-rendering:pixelated;display:block;margin:0 auto 2px}.muted{color:#777}")
                .append("</style></head><body>");
        sb.append("<h1>").append(Html.esc(report.title())).append("</h1>");
        sb.append(String.format(Locale.ROOT, "<p>Test period %s: %,d windows of %d days, label: direction over the next %d days. "
                        + "Intervals: 95%% moving-block bootstrap (block %d, %d resamples).</p>", Html.esc(report.testDates()),
                report.examples(), report.window(), report.horizon(), report.blockLength(), report.resamples()));
        sb.append("<h2>Model, shuffled-label control and baselines</h2>");
        figures(sb, report);
        if (!folds.isEmpty()) {
            sb.append("<h2>Per fold</h2>");
            parts(sb, folds);
        }
        if (!symbols.isEmpty()) {
            sb.append("<h2>Per symbol</h2>");
            parts(sb, symbols);
        }
        samples(sb, spark, shardDir, set);
        return sb.append("</body></html>").toString();
    }

    /**
     * The rows' table with the trading note, then the after-cost equity curves: also a chart-window model version's
     * report.html section (the caller writes its heading).
     */
    public static void figures(StringBuilder sb, NiftyEvaluation.Report report) {
        table(sb, report);
        sb.append("<p class='muted'>").append(Html.esc(report.tradingNote())).append("</p>");
        sb.append("<h3>Equity after costs</h3>");
        sb.append(equity(report));
    }

    private static void table(StringBuilder sb, NiftyEvaluation.Report report) {
        sb.append("<table><tr><th class='l'>model</th><th class='l'>kind</th><th>accuracy</th><th>balanced accuracy</th><th>AUC</th>")
                .append("<th>Sharpe</th><th>Sharpe after costs</th><th>turnover / year</th><th>max drawdown</th><th>hit rate</th></tr>");
        for (NiftyEvaluation.Row r : report.rows()) {
            TradingMetrics.Trading t = r.trading();
            sb.append("<tr class='").append(r.kind().equals("model") ? "model" : "").append("'><td class='l'>").append(Html.esc(r.name()))
                    .append("</td><td class='l'>").append(Html.esc(r.kind())).append("</td>")
                    .append(td(r.accuracy())).append(td(r.balancedAccuracy())).append(td(r.auc()))
                    .append(String.format(Locale.ROOT, "<td>%.2f</td><td>%.2f</td><td>%.1f</td><td>%.2f</td><td>%.2f</td></tr>",
                            t.sharpe(), t.sharpeAfterCosts(), t.turnover(), t.maxDrawdown(), t.hitRate()));
        }
        TradingMetrics.Trading any = report.rows().get(0).trading();
        sb.append(String.format(Locale.ROOT, "<tr><td class='l'>buy and hold</td><td class='l'>market</td><td></td><td></td><td></td>"
                + "<td>%.2f</td><td></td><td></td><td></td><td></td></tr></table>", any.buyAndHoldSharpe()));
    }

    private static String td(BlockBootstrap.Interval i) {
        return String.format(Locale.ROOT, "<td>%.3f <span class='muted'>[%.3f, %.3f]</span></td>", i.value(), i.low(), i.high());
    }

    private static void parts(StringBuilder sb, List<Part> parts) {
        sb.append("<table><tr><th class='l'></th><th class='l'>test period</th><th>windows</th><th class='l'>row</th>")
                .append("<th>accuracy</th><th>balanced accuracy</th><th>AUC</th><th>Sharpe</th><th>after costs</th></tr>");
        for (Part p : parts) {
            List<NiftyEvaluation.Row> rows = p.report().rows();
            for (int i = 0; i < rows.size(); i++) {
                NiftyEvaluation.Row r = rows.get(i);
                sb.append("<tr class='").append(r.kind().equals("model") ? "model" : "").append("'>");
                if (i == 0) {
                    sb.append(String.format(Locale.ROOT, "<td class='l' rowspan='%d'>%s</td><td class='l' rowspan='%d'>%s</td><td rowspan='%d'>%,d</td>",
                            rows.size(), Html.esc(p.name()), rows.size(), Html.esc(p.report().testDates()), rows.size(), p.report().examples()));
                }
                sb.append("<td class='l'>").append(Html.esc(r.name())).append("</td>").append(td(r.accuracy()))
                        .append(td(r.balancedAccuracy())).append(td(r.auc()))
                        .append(String.format(Locale.ROOT, "<td>%.2f</td><td>%.2f</td></tr>", r.trading().sharpe(), r.trading().sharpeAfterCosts()));
            }
        }
        sb.append("</table>");
    }

    /**
     * After-cost equity (the value of 1 invested at the start of the test period) of every row, against buy-and-hold, by
     * date. A curve that the plot cannot tell apart from an earlier one (within a pixel everywhere) would hide under it:
     * it is drawn dashed on top, and its legend entry says which curve it equals.
     */
    static String equity(NiftyEvaluation.Report report) {
        TradingMetrics.Trading first = report.rows().get(0).trading();
        List<String> dates = first.dates();
        // Buy and hold first: the reference that a strategy always long (or never trading) coincides with.
        List<String> names = new ArrayList<>(List.of("buy and hold (no costs)"));
        List<String> colours = new ArrayList<>(List.of("#000"));
        List<double[]> curves = new ArrayList<>(List.of(first.buyAndHold()));
        for (int r = 0; r < report.rows().size(); r++) {
            names.add(report.rows().get(r).name());
            colours.add(Svg.COLOURS[r % Svg.COLOURS.length]);
            curves.add(report.rows().get(r).trading().equity());
        }
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (double[] c : curves) {
            for (double v : c) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
        }
        int n = dates.size();
        int w = 1000;
        int left = 64;
        int top = 12;
        int pw = w - left - 40; // room for half the last date
        int ph = 260;
        int legendTop = top + ph + 44;
        int h = legendTop + 16 * curves.size();
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' class='chart' id='equity'>", w, h));
        if (n < 2 || !Double.isFinite(min)) {
            return sb.append("<text x='60' y='120'>too few holding periods for a curve</text></svg>").toString();
        }
        double[] ticks = Svg.ticks(min, max, 8, 1.0);
        double lo = ticks[0];
        double span = ticks[ticks.length - 1] - lo;
        sb.append(String.format(Locale.ROOT, "<rect x='%d' y='%d' width='%d' height='%d' class='plot'/>", left, top, pw, ph));
        for (double v : ticks) {
            double y = top + ph - ph * (v - lo) / span;
            sb.append(String.format(Locale.ROOT, "<line x1='%d' x2='%d' y1='%.1f' y2='%.1f' class='grid'%s/>", left, left + pw, y, y,
                    Math.abs(v - 1) < 1e-9 ? " style='stroke:#aaa'" : "")); // break-even: darker
            sb.append(String.format(Locale.ROOT, "<text x='%d' y='%.1f' class='tick' text-anchor='end'>%s</text>", left - 4, y + 4,
                    Svg.tickLabel(v, ticks[1] - ticks[0])));
        }
        sb.append(String.format(Locale.ROOT, "<text x='%d' y='14' class='tick' text-anchor='middle' transform='rotate(-90)'>"
                + "value of 1 invested, after costs</text>", -(top + ph / 2)));
        for (int i = 0; i <= 4; i++) {
            int k = (n - 1) * i / 4;
            sb.append(String.format(Locale.ROOT, "<text x='%.1f' y='%d' class='tick' text-anchor='middle'>%s</text>",
                    left + pw * k / (double) (n - 1), top + ph + 16, Html.esc(dates.get(k))));
        }
        sb.append(String.format(Locale.ROOT, "<text x='%d' y='%d' class='tick' text-anchor='middle'>holding period start</text>",
                left + pw / 2, top + ph + 30));
        int[] same = sameAs(curves, span / ph);
        String[] dash = new String[curves.size()];
        for (int c = 0; c < curves.size(); c++) {
            dash[c] = "";
            if (same[c] >= 0) {
                // The copies of one curve take turns over it: dash, gap for each other copy and for the curve itself.
                int copies = 0;
                int before = 0;
                for (int d = 0; d < curves.size(); d++) {
                    copies += same[d] == same[c] ? 1 : 0;
                    before += same[d] == same[c] && d < c ? 1 : 0;
                }
                dash[c] = String.format(Locale.ROOT, " stroke-dasharray='6 %d' stroke-dashoffset='%d'", 6 * copies, -6 * before);
            }
        }
        StringBuilder copiesOnTop = new StringBuilder();
        for (int c = 0; c < curves.size(); c++) {
            StringBuilder pts = new StringBuilder();
            for (int i = 0; i < n; i++) {
                pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", left + pw * i / (double) (n - 1),
                        top + ph - ph * (curves.get(c)[i] - lo) / span));
            }
            (same[c] >= 0 ? copiesOnTop : sb).append(String.format(Locale.ROOT,
                    "<polyline points='%s' fill='none' stroke='%s' stroke-width='%s'%s/>", pts, colours.get(c),
                    c == 0 || same[c] >= 0 ? "2" : "1.5", dash[c]));
        }
        sb.append(copiesOnTop);
        for (int c = 0; c < curves.size(); c++) {
            int y = legendTop + 16 * c;
            String note = "";
            if (same[c] >= 0) {
                sb.append(String.format(Locale.ROOT, "<line x1='%d' x2='%d' y1='%d' y2='%d' stroke='%s' stroke-width='2'/>",
                        left, left + 24, y - 4, y - 4, colours.get(same[c])));
                double gap = gap(curves.get(c), curves.get(same[c]));
                note = gap < 1e-9 ? ": the same curve as " + names.get(same[c]) + ", drawn dashed on it"
                        : ": within " + new BigDecimal(gap).round(new MathContext(2, RoundingMode.UP)).toPlainString() + " of "
                        + names.get(same[c]) + " throughout, drawn dashed on it";
            }
            sb.append(String.format(Locale.ROOT, "<line x1='%d' x2='%d' y1='%d' y2='%d' stroke='%s' stroke-width='2'%s/>", left, left + 24,
                    y - 4, y - 4, colours.get(c), dash[c]));
            sb.append(String.format(Locale.ROOT, "<text x='%d' y='%d' class='tick'>%s</text>", left + 32, y, Html.esc(names.get(c) + note)));
        }
        return sb.append("</svg>").toString();
    }

    /**
     * For each curve, the first earlier curve (not itself a copy) that it stays within {@code tolerance} of at every
     * point, or -1: drawn after it, the curve would hide it; drawn before, it would be hidden.
     */
    static int[] sameAs(List<double[]> curves, double tolerance) {
        int[] same = new int[curves.size()];
        for (int c = 0; c < curves.size(); c++) {
            same[c] = -1;
            for (int d = 0; d < c && same[c] < 0; d++) {
                if (same[d] < 0 && gap(curves.get(c), curves.get(d)) <= tolerance) {
                    same[c] = d;
                }
            }
        }
        return same;
    }

    /** The largest distance between two curves of the same dates. */
    private static double gap(double[] a, double[] b) {
        double gap = 0;
        for (int i = 0; i < a.length; i++) {
            gap = Math.max(gap, Math.abs(a[i] - b[i]));
        }
        return gap;
    }

    /**
     * Test windows drawn at random and stratified by outcome, as the model saw them, with true and predicted labels: the
     * sample shows the model right as often as it is (evenly spaced windows could show 2 of 12 right at 57% accuracy).
     */
    private static void samples(StringBuilder sb, SparkSession spark, String shardDir, NiftyEvaluation.TestSet set) {
        Manifest manifest = Manifest.read(shardDir, spark.sparkContext().hadoopConfiguration());
        ChartWindows.Spec spec = ChartWindows.Spec.fromLineage(manifest.lineage());
        NiftyEvaluation.Scored model = set.rows().stream().filter(r -> r.kind().equals("model")).findFirst().orElse(null);
        int[] truth = set.truth();
        if (!spec.style().isImage() || model == null || truth.length == 0) {
            return;
        }
        List<OhlcSeries> series = ChartRenderJob.series(spark, manifest.lineage().get("input"));
        ChartGeometry g = ChartGeometry.forWindow(spec.window());
        int scale = Math.max(1, 160 / g.height());
        int[] picked = stratifiedSample(truth, model.predicted(), set.classes().size(), Math.min(SAMPLES, truth.length), SAMPLE_SEED);
        long right = IntStream.range(0, truth.length).filter(i -> model.predicted()[i] == truth[i]).count();
        long rightShown = Arrays.stream(picked).filter(i -> model.predicted()[i] == truth[i]).count();
        sb.append("<h2>Sample test windows</h2><p class='muted'>").append(String.format(Locale.ROOT,
                "%d of the %,d test windows, drawn at random (seed %d) and stratified by outcome in proportion to the test period: "
                        + "%d right and %d wrong, as %s's %.1f%% accuracy (%,d of %,d right); within each outcome, by true label "
                        + "in proportion too. ", picked.length, truth.length, SAMPLE_SEED, rightShown, picked.length - rightShown,
                Html.esc(model.name()), 100.0 * right / truth.length, right, truth.length))
                .append("As the model saw them, in test-set order; green: ").append(Html.esc(model.name()))
                .append(" predicted the true label, red: it did not.</p><div class='samples'>");
        for (int i : picked) {
            int s = indexOf(series, set.symbol()[i]);
            byte[] pixels = ChartWindows.renderImages(series, List.of(new TimeSplits.Window(s, set.symbol()[i], set.end()[i],
                    series.get(s).dates()[set.end()[i]])), g, spec.style());
            String png = Base64.getEncoder().encodeToString(ChartPreview.png(pixels, g.height(), g.width(), scale));
            boolean wrong = model.predicted()[i] != truth[i];
            sb.append("<div class='sample").append(wrong ? " wrong" : "").append("'><img alt='chart' src='data:image/png;base64,")
                    .append(png).append("'>").append(Html.esc(set.symbol()[i] + " " + set.date()[i])).append("<br>true ")
                    .append(Html.esc(set.classes().get(truth[i]))).append(", predicted ")
                    .append(Html.esc(set.classes().get(model.predicted()[i])))
                    .append(String.format(Locale.ROOT, " (p(up) %.2f)", model.score()[i])).append("</div>");
        }
        sb.append("</div>");
    }

    /**
     * {@code n} windows drawn at random (seeded), stratified by outcome (right, wrong) and within an outcome by true
     * label; each stratum gets its share of the draw, so the sample's right and wrong counts are the nearest to the
     * accuracy's. Window indices in ascending order.
     */
    static int[] stratifiedSample(int[] truth, int[] predicted, int classes, int n, long seed) {
        List<List<List<Integer>>> strata = new ArrayList<>(); // [right, wrong][true label]: windows
        for (int o = 0; o < 2; o++) {
            List<List<Integer>> byLabel = new ArrayList<>();
            for (int k = 0; k < classes; k++) {
                byLabel.add(new ArrayList<>());
            }
            strata.add(byLabel);
        }
        for (int i = 0; i < truth.length; i++) {
            strata.get(predicted[i] == truth[i] ? 0 : 1).get(truth[i]).add(i);
        }
        int[] outcomes = shares(strata.stream().mapToLong(byLabel -> byLabel.stream().mapToLong(List::size).sum()).toArray(), n);
        Random random = new Random(seed);
        List<Integer> picked = new ArrayList<>();
        for (int o = 0; o < 2; o++) {
            List<List<Integer>> byLabel = strata.get(o);
            int[] labels = shares(byLabel.stream().mapToLong(List::size).toArray(), outcomes[o]);
            for (int k = 0; k < classes; k++) {
                List<Integer> windows = new ArrayList<>(byLabel.get(k));
                Collections.shuffle(windows, random);
                picked.addAll(windows.subList(0, labels[k]));
            }
        }
        return picked.stream().mapToInt(Integer::intValue).sorted().toArray();
    }

    /**
     * {@code n} split in proportion to {@code sizes} by largest remainders: the whole parts, then one more each for the
     * largest fractions (the first on ties). No part exceeds its size when {@code n} does not exceed their sum.
     */
    static int[] shares(long[] sizes, int n) {
        long total = Arrays.stream(sizes).sum();
        int[] out = new int[sizes.length];
        long[] rest = new long[sizes.length];
        int given = 0;
        for (int i = 0; i < sizes.length && total > 0; i++) {
            out[i] = (int) (n * sizes[i] / total);
            rest[i] = n * sizes[i] % total;
            given += out[i];
        }
        for (; given < n && total > 0; given++) {
            int best = 0;
            for (int i = 1; i < rest.length; i++) {
                best = rest[i] > rest[best] ? i : best;
            }
            out[best]++;
            rest[best] = -1;
        }
        return out;
    }

    private static int indexOf(List<OhlcSeries> series, String symbol) {
        for (int s = 0; s < series.size(); s++) {
            if (series.get(s).symbol().equals(symbol)) {
                return s;
            }
        }
        throw new IllegalStateException("symbol " + symbol + " is not in the ingested input");
    }
}
