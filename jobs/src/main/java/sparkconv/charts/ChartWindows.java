package sparkconv.charts;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

import sparkconv.SparkconvException;

/**
 * What a render is (window, horizon, style, labels, split) and the windows it yields: enumeration, labels, the
 * date split with its embargo, and drawing on Spark executors. Deterministic: the same series and spec always give
 * the same windows in the same order, which is how {@code nifty evaluate} finds each test example's date and returns.
 */
public final class ChartWindows {
    private static final int WINDOWS_PER_TASK = 2048;

    private ChartWindows() {
    }

    /**
     * A render's settings. {@code embargo} 0 means the minimum, W+H; {@code shuffleSeed} non-zero permutes the
     * train and validation labels (the shuffled-label control; test labels stay true).
     */
    public record Spec(int window, int horizon, ChartStyle style, int channels, double deadBand, String split,
                       double trainFraction, double validationFraction, int embargo, int folds, long shuffleSeed)
            implements Serializable {
        public Spec {
            if (window < 2) {
                throw new SparkconvException("--window must be at least 2 trading days, got " + window);
            }
            if (style.isImage()) {
                ChartGeometry.forWindow(window);
                if (channels != 1) {
                    throw new SparkconvException("--channels applies to --style returns only");
                }
            }
            TimeSplits.requireTimeSplit(split);
            if (split.equals("time")) {
                TimeSplits.requireFractions(trainFraction, validationFraction);
            }
            new Labels(horizon, deadBand); // validates --horizon and --dead-band (fields are not assigned yet here)
        }

        public Labels labels() {
            return new Labels(horizon, deadBand);
        }

        public int effectiveEmbargo() {
            return embargo == 0 ? TimeSplits.minimumEmbargo(window, horizon) : embargo;
        }

        /** The first day index a window may end on: a full W-day MA on every drawn day and a previous close for returns. */
        public int firstEnd() {
            return 2 * window - 1;
        }

        public Map<String, String> lineage() {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("window", Integer.toString(window));
            m.put("horizon", Integer.toString(horizon));
            m.put("style", style.label());
            m.put("channels", Integer.toString(channels));
            m.put("deadBand", Double.toString(deadBand));
            m.put("split", split);
            m.put("trainFraction", Double.toString(trainFraction));
            m.put("validationFraction", Double.toString(validationFraction));
            m.put("embargo", Integer.toString(effectiveEmbargo()));
            m.put("folds", Integer.toString(folds));
            m.put("shuffledLabelsSeed", Long.toString(shuffleSeed));
            return m;
        }

        /** Whether a shard manifest's lineage is a chart-window render's. */
        public static boolean inLineage(Map<String, String> m) {
            return m.containsKey("window") && m.containsKey("style");
        }

        public static Spec fromLineage(Map<String, String> m) {
            if (!inLineage(m)) {
                throw new SparkconvException("the shard manifest has no chart-window lineage (render it with nifty render)");
            }
            return new Spec(Integer.parseInt(m.get("window")), Integer.parseInt(m.get("horizon")), ChartStyle.parse(m.get("style")),
                    Integer.parseInt(m.get("channels")), Double.parseDouble(m.get("deadBand")), m.get("split"),
                    Double.parseDouble(m.get("trainFraction")), Double.parseDouble(m.get("validationFraction")),
                    Integer.parseInt(m.get("embargo")), Integer.parseInt(m.get("folds")), Long.parseLong(m.get("shuffledLabelsSeed")));
        }
    }

    /** Every window with a full history and a known label, per symbol in date order. */
    public static List<TimeSplits.Window> windows(List<OhlcSeries> series, Spec spec) {
        List<TimeSplits.Window> out = new ArrayList<>();
        for (int s = 0; s < series.size(); s++) {
            OhlcSeries x = series.get(s);
            int lastEnd = x.size() - 1 - spec.horizon();
            if (lastEnd < spec.firstEnd()) {
                throw new SparkconvException(String.format("symbol %s has %d rows: a %d-day window with a %d-day horizon needs at "
                        + "least %d (2W + H)", x.symbol(), x.size(), spec.window(), spec.horizon(), spec.firstEnd() + spec.horizon() + 1));
            }
            for (int t = spec.firstEnd(); t <= lastEnd; t++) {
                out.add(new TimeSplits.Window(s, x.symbol(), t, x.dates()[t]));
            }
        }
        return out;
    }

    /** The folds of a render: one ("time") for a date split, {@code folds} for walk-forward. */
    public static List<TimeSplits.Fold> plan(List<OhlcSeries> series, Spec spec) {
        List<TimeSplits.Window> all = windows(series, spec);
        return switch (spec.split()) {
            case "time" -> List.of(TimeSplits.byDate(all, spec.trainFraction(), spec.validationFraction(), spec.effectiveEmbargo(),
                    spec.window(), spec.horizon()));
            case "walk-forward" -> TimeSplits.walkForward(all, spec.folds(), true, spec.validationFraction(), spec.effectiveEmbargo(), spec.window(), spec.horizon());
            default -> TimeSplits.walkForward(all, spec.folds(), false, spec.validationFraction(), spec.effectiveEmbargo(), spec.window(), spec.horizon());
        };
    }

    /** Labels of windows; with a shuffle seed and a non-test split, a seeded permutation of them. */
    public static int[] labels(List<OhlcSeries> series, List<TimeSplits.Window> windows, Spec spec, String split) {
        Labels labels = spec.labels();
        int[] y = new int[windows.size()];
        for (int i = 0; i < y.length; i++) {
            TimeSplits.Window w = windows.get(i);
            y[i] = labels.label(series.get(w.series()), w.end());
        }
        if (spec.shuffleSeed() != 0 && !split.equals("test")) {
            Random r = new Random(spec.shuffleSeed() ^ split.hashCode());
            for (int i = y.length - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int tmp = y[i];
                y[i] = y[j];
                y[j] = tmp;
            }
        }
        return y;
    }

    /** Draws windows into one (N, 1, H, W) byte array, on Spark executors (series broadcast once). */
    public static byte[] renderImages(JavaSparkContext jsc, List<OhlcSeries> series, List<TimeSplits.Window> windows, Spec spec) {
        ChartGeometry g = ChartGeometry.forWindow(spec.window());
        Broadcast<List<OhlcSeries>> b = jsc.broadcast(series);
        ChartStyle style = spec.style();
        List<List<TimeSplits.Window>> chunks = chunks(windows);
        List<byte[]> parts = jsc.parallelize(chunks, Math.max(1, Math.min(jsc.defaultParallelism() * 2, chunks.size())))
                .map(chunk -> renderImages(b.value(), chunk, g, style))
                .collect();
        b.destroy();
        byte[] out = new byte[windows.size() * g.pixels()];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    /** Draws windows into one byte array on this thread (the executors' work, and the benchmark's). */
    public static byte[] renderImages(List<OhlcSeries> series, List<TimeSplits.Window> windows, ChartGeometry g, ChartStyle style) {
        byte[] out = new byte[windows.size() * g.pixels()];
        Map<Integer, ChartRenderer> renderers = new LinkedHashMap<>();
        for (int i = 0; i < windows.size(); i++) {
            TimeSplits.Window w = windows.get(i);
            renderers.computeIfAbsent(w.series(), s -> new ChartRenderer(g, style, series.get(s))).render(w.end(), out, i * g.pixels());
        }
        return out;
    }

    /** Return tensors of windows as one (N, C, 1, W) float array, on Spark executors. */
    public static float[] renderReturns(JavaSparkContext jsc, List<OhlcSeries> series, List<TimeSplits.Window> windows, Spec spec) {
        Broadcast<List<OhlcSeries>> b = jsc.broadcast(series);
        int window = spec.window();
        int channels = spec.channels();
        List<List<TimeSplits.Window>> chunks = chunks(windows);
        List<float[]> parts = jsc.parallelize(chunks, Math.max(1, Math.min(jsc.defaultParallelism() * 2, chunks.size())))
                .map(chunk -> renderReturns(b.value(), chunk, window, channels))
                .collect();
        b.destroy();
        float[] out = new float[windows.size() * channels * window];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    public static float[] renderReturns(List<OhlcSeries> series, List<TimeSplits.Window> windows, int window, int channels) {
        float[] out = new float[windows.size() * channels * window];
        Map<Integer, ReturnTensors> tensors = new LinkedHashMap<>();
        for (int i = 0; i < windows.size(); i++) {
            TimeSplits.Window w = windows.get(i);
            tensors.computeIfAbsent(w.series(), s -> new ReturnTensors(series.get(s), window, channels))
                    .render(w.end(), out, i * channels * window);
        }
        return out;
    }

    private static List<List<TimeSplits.Window>> chunks(List<TimeSplits.Window> windows) {
        List<List<TimeSplits.Window>> out = new ArrayList<>();
        for (int from = 0; from < windows.size(); from += WINDOWS_PER_TASK) {
            out.add(new ArrayList<>(windows.subList(from, Math.min(windows.size(), from + WINDOWS_PER_TASK))));
        }
        return out;
    }

    /** "down 0.470 up 0.530": the share of each class, for the manifest's lineage. */
    public static String balance(int[] labels, List<String> classNames) {
        long[] counts = new long[classNames.size()];
        Arrays.stream(labels).forEach(y -> counts[y]++);
        StringBuilder sb = new StringBuilder();
        for (int c = 0; c < counts.length; c++) {
            sb.append(c == 0 ? "" : " ").append(classNames.get(c)).append(' ')
                    .append(String.format(Locale.ROOT, "%.3f", labels.length == 0 ? 0.0 : counts[c] / (double) labels.length));
        }
        return sb.toString();
    }
}
