package sparkconv.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

import sparkconv.SparkconvException;
import sparkconv.charts.ChartRender;
import sparkconv.charts.ChartWindows;
import sparkconv.charts.OhlcSeries;
import sparkconv.charts.TimeSplits;
import sparkconv.shards.Manifest;
import sparkconv.spark.SparkSessions;

/**
 * Honest evaluation of chart-window models on the test period of a rendered shard directory: accuracy, balanced
 * accuracy and AUC with 95% moving-block bootstrap intervals, next to baselines on the same windows (majority,
 * momentum, logistic regression on returns) and any shuffled-label controls, plus the annualised Sharpe ratio of each
 * long/short signal against buy-and-hold, before costs. The test windows are re-planned from the manifest's lineage
 * (the render is deterministic) and checked against the labels stored in the shards.
 */
public final class NiftyEvaluation {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    public static final double LEVEL = 0.95;

    private NiftyEvaluation() {
    }

    /** A trained network to evaluate; {@code kind} is "model" or "shuffled-label control". */
    public record Candidate(String name, String kind, MultiLayerNetwork network) {
    }

    public record Row(String name, String kind, BlockBootstrap.Interval accuracy, BlockBootstrap.Interval balancedAccuracy,
                      BlockBootstrap.Interval auc, double sharpe) {
    }

    public record Report(String shards, String fold, Map<String, String> render, String testDates, long examples,
                         Map<String, Double> testClassShare, int blockLength, int resamples, double buyAndHoldSharpe,
                         String sharpeNote, List<Row> rows) {
        public String toJson() {
            try {
                return JSON.writeValueAsString(this);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }

        public String table() {
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                    "test period %s: %,d windows (%s), %d-day %s windows, %d-day horizon; 95%% block-bootstrap CIs (block %d, %d resamples)%n",
                    testDates, examples, share(), Integer.parseInt(render.get("window")), render.get("style"),
                    Integer.parseInt(render.get("horizon")), blockLength, resamples));
            String fmt = "%-34s %-24s %-22s %-22s %-22s %7s%n";
            sb.append(String.format(Locale.ROOT, fmt, "model", "kind", "accuracy", "balanced accuracy", "AUC", "Sharpe"));
            for (Row r : rows) {
                sb.append(String.format(Locale.ROOT, fmt, r.name(), r.kind(), ci(r.accuracy()), ci(r.balancedAccuracy()), ci(r.auc()),
                        String.format(Locale.ROOT, "%.2f", r.sharpe())));
            }
            sb.append(String.format(Locale.ROOT, "buy-and-hold Sharpe %.2f. %s%n", buyAndHoldSharpe, sharpeNote));
            return sb.toString();
        }

        private String share() {
            StringBuilder sb = new StringBuilder();
            testClassShare.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(k).append(' ')
                    .append(String.format(Locale.ROOT, "%.3f", v)));
            return sb.toString();
        }

        private static String ci(BlockBootstrap.Interval i) {
            return String.format(Locale.ROOT, "%.3f [%.3f, %.3f]", i.value(), i.low(), i.high());
        }
    }

    /** Lineage keys that must match between the shards a model was trained on and the shards it is evaluated on. */
    private static final List<String> SAME_RENDER = List.of("input", "window", "horizon", "style", "channels", "deadBand", "split",
            "trainFraction", "validationFraction", "embargo", "folds", "fold");

    /**
     * Refuses to evaluate a model trained on other windows than these shards' (another window, horizon, style, split or
     * fold), and a control that was not trained on shuffled labels (or a model that was).
     *
     * @param metadata the stored model version's metadata (its {@code data.manifest.lineage} is the training shards')
     */
    public static void checkTrainedOn(String name, Map<String, Object> metadata, Manifest manifest, boolean control) {
        Object data = metadata.get("data");
        Object trained = data instanceof Map<?, ?> d && d.get("manifest") instanceof Map<?, ?> m ? m.get("lineage") : null;
        if (!(trained instanceof Map<?, ?> lineage)) {
            throw new SparkconvException("model " + name + " has no training-data lineage in its metadata");
        }
        for (String key : SAME_RENDER) {
            if (!java.util.Objects.equals(lineage.get(key), manifest.lineage().get(key))) {
                throw new SparkconvException(String.format("model %s was trained on %s=%s, these shards have %s=%s", name, key,
                        lineage.get(key), key, manifest.lineage().get(key)));
            }
        }
        boolean shuffled = !"0".equals(lineage.get("shuffledLabelsSeed"));
        if (shuffled != control) {
            throw new SparkconvException("model " + name + (control ? " is given as a --control but was trained on true labels"
                    : " was trained on shuffled labels: pass it as --control"));
        }
    }

    public static Report evaluate(SparkSession spark, String shardDir, List<Candidate> candidates, int resamples, long seed) {
        Manifest manifest = Manifest.read(shardDir, spark.sparkContext().hadoopConfiguration());
        ChartWindows.Spec rendered = ChartWindows.Spec.fromLineage(manifest.lineage());
        // Labels for baselines are always the true ones, even for shards rendered as a shuffled-label control.
        ChartWindows.Spec spec = new ChartWindows.Spec(rendered.window(), rendered.horizon(), rendered.style(), rendered.channels(),
                rendered.deadBand(), rendered.split(), rendered.trainFraction(), rendered.validationFraction(), rendered.embargo(),
                rendered.folds(), 0);
        String foldName = manifest.lineage().get("fold");
        List<OhlcSeries> series = ChartRender.series(spark, manifest.lineage().get("input"));
        TimeSplits.Fold fold = ChartWindows.plan(series, spec).stream().filter(f -> f.name().equals(foldName)).findFirst()
                .orElseThrow(() -> new SparkconvException(shardDir + ": fold '" + foldName + "' of its lineage is not in the re-planned render"));
        List<TimeSplits.Window> test = fold.splits().get("test");
        List<TimeSplits.Window> train = fold.splits().get("train");
        if (test.size() != manifest.splits().get("test").examples()) {
            throw new SparkconvException(shardDir + ": the test split holds " + manifest.splits().get("test").examples()
                    + " windows but re-planning from " + manifest.lineage().get("input") + " gives " + test.size()
                    + " (the ingested data changed since render; render again)");
        }
        int classes = manifest.classes().size();
        int up = classes - 1;
        int[] truth = ChartWindows.labels(series, test, spec, "test");
        int[] trainTruth = ChartWindows.labels(series, train, spec, "train");

        int block = rendered.window() + rendered.horizon();
        BlockBootstrap bootstrap = new BlockBootstrap(block, resamples, seed);
        double[] forward = new double[test.size()];
        for (int i = 0; i < forward.length; i++) {
            forward[i] = spec.labels().forwardReturn(series.get(test.get(i).series()), test.get(i).end());
        }
        int[] holding = holdingPeriods(test, rendered.horizon());
        double periodsPerYear = 252.0 / rendered.horizon();

        List<Row> rows = new ArrayList<>();
        for (Candidate c : candidates) {
            ShardPredictions.Predictions p = ShardPredictions.predict(SparkSessions.javaContext(spark), c.network(), shardDir, manifest, "test");
            if (!Arrays.equals(p.labels(), truth)) {
                throw new SparkconvException(shardDir + ": the labels stored in the test shards differ from the re-planned windows' labels");
            }
            rows.add(row(c.name(), c.kind(), truth, p.predicted(), p.score(up), classes, up, bootstrap, forward, holding, periodsPerYear));
        }
        WindowBaselines.Scored majority = WindowBaselines.majority(trainTruth, test.size(), classes);
        rows.add(row("majority (" + manifest.classes().get(majority.predicted().length > 0 ? majority.predicted()[0] : 0) + ")",
                "baseline", truth, majority.predicted(), majority.score(), classes, up, bootstrap, forward, holding, periodsPerYear));
        WindowBaselines.Scored momentum = WindowBaselines.momentum(series, test, rendered.horizon(), classes);
        rows.add(row("same direction as last " + rendered.horizon() + " days", "baseline", truth, momentum.predicted(), momentum.score(),
                classes, up, bootstrap, forward, holding, periodsPerYear));
        WindowBaselines.Scored logistic = WindowBaselines.logisticRegression(spark, series, train, trainTruth, test, rendered.window(), classes);
        rows.add(row("logistic regression on " + rendered.window() + " returns", "baseline", truth, logistic.predicted(), logistic.score(),
                classes, up, bootstrap, forward, holding, periodsPerYear));

        double[] longOnly = new double[holding.length];
        Arrays.fill(longOnly, 1);
        double buyAndHold = TradingMetrics.sharpe(longOnly, pick(forward, holding), periodsPerYear);
        Map<String, Double> share = new LinkedHashMap<>();
        for (int k = 0; k < classes; k++) {
            final int cls = k;
            share.put(manifest.classes().get(k), Arrays.stream(truth).filter(y -> y == cls).count() / (double) truth.length);
        }
        String dates = test.stream().map(TimeSplits.Window::date).min(Comparable::compareTo).get() + ".."
                + test.stream().map(TimeSplits.Window::date).max(Comparable::compareTo).get();
        String note = String.format(Locale.ROOT, "Sharpe: annualised (x sqrt(252/%d)), long when up is predicted, short otherwise "
                + "(flat for a flat class), over %d non-overlapping %d-day holding periods, before costs.",
                rendered.horizon(), holding.length, rendered.horizon());
        return new Report(shardDir, foldName, rendered.lineage(), dates, test.size(), share, block, resamples, buyAndHold, note, rows);
    }

    private static Row row(String name, String kind, int[] truth, int[] predicted, double[] score, int classes, int up,
                           BlockBootstrap bootstrap, double[] forward, int[] holding, double periodsPerYear) {
        double[] positions = new double[holding.length];
        for (int k = 0; k < holding.length; k++) {
            int p = predicted[holding[k]];
            positions[k] = p == up ? 1 : p == 0 ? -1 : 0;
        }
        return new Row(name, kind,
                bootstrap.interval(truth.length, LEVEL, idx -> BinaryMetrics.accuracy(truth, predicted, idx)),
                bootstrap.interval(truth.length, LEVEL, idx -> BinaryMetrics.balancedAccuracy(truth, predicted, idx, classes)),
                bootstrap.interval(truth.length, LEVEL, idx -> BinaryMetrics.auc(truth, score, idx, up)),
                TradingMetrics.sharpe(positions, pick(forward, holding), periodsPerYear));
    }

    /** Every H-th test window of each symbol: positions held over non-overlapping periods. */
    static int[] holdingPeriods(List<TimeSplits.Window> test, int horizon) {
        List<Integer> out = new ArrayList<>();
        Map<Integer, Integer> lastEnd = new LinkedHashMap<>();
        for (int i = 0; i < test.size(); i++) {
            TimeSplits.Window w = test.get(i);
            Integer last = lastEnd.get(w.series());
            if (last == null || w.end() - last >= horizon) {
                out.add(i);
                lastEnd.put(w.series(), w.end());
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private static double[] pick(double[] values, int[] idx) {
        double[] out = new double[idx.length];
        for (int k = 0; k < idx.length; k++) {
            out[k] = values[idx[k]];
        }
        return out;
    }
}
