package sparkconv.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

import sparkconv.SparkconvException;
import sparkconv.charts.ChartRenderJob;
import sparkconv.charts.ChartWindows;
import sparkconv.charts.OhlcSeries;
import sparkconv.charts.TimeSplits;
import sparkconv.shards.Manifest;
import sparkconv.spark.Fs;
import sparkconv.spark.SparkSessions;
import sparkconv.store.ModelStore;

/**
 * Honest evaluation of chart-window models on the test period of a rendered shard directory: accuracy, balanced
 * accuracy and AUC with 95% moving-block bootstrap intervals, next to baselines on the same windows (majority,
 * momentum, logistic regression on returns) and any shuffled-label controls, plus each long/short signal's trading
 * figures before and after costs against buy-and-hold ({@link TradingMetrics}). The test windows are re-planned from
 * the manifest's lineage (the render is deterministic) and checked against the labels stored in the shards.
 * Predictions are kept per window ({@link TestSet}) so that walk-forward folds pool into one out-of-sample set and
 * several symbols split into per-symbol figures.
 */
public final class NiftyEvaluation {
    public static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    public static final double LEVEL = 0.95;
    /** The figures' defaults: bootstrap resamples and seed, trading cost in basis points per side. */
    public static final int RESAMPLES = 1000;
    public static final long SEED = 42;
    public static final int COST_BPS = 5;
    /** Where {@code train} writes a chart-window model version's own figures on its test period, inside the version. */
    public static final String VERSION_DIR = "trading";

    private NiftyEvaluation() {
    }

    /**
     * A row of trained networks to evaluate: one network, or an ensemble of independently trained ones whose class
     * probabilities are averaged (Jiang, Kelly & Xiu average 5); {@code kind} is "model" or "shuffled-label control".
     */
    public record Candidate(String name, String kind, List<MultiLayerNetwork> members) {
        public Candidate {
            if (members.isEmpty()) {
                throw new IllegalArgumentException(name + ": a candidate needs at least one network");
            }
        }

        public Candidate(String name, String kind, MultiLayerNetwork network) {
            this(name, kind, List.of(network));
        }
    }

    /** One row's predicted class and score of the up class per test window; {@code key} is the same in every fold. */
    public record Scored(String key, String name, String kind, int[] predicted, double[] score) {
    }

    /** Test windows (symbol, day index, end date, true label, forward return) with every row's predictions. */
    public record TestSet(List<String> classes, int window, int horizon, String[] symbol, int[] end, String[] date, int[] truth,
                          double[] forward, List<Scored> rows) {
        /** Folds' test sets as one, ordered by symbol then date; every fold must have the same rows. */
        public static TestSet pool(List<TestSet> folds) {
            TestSet first = folds.get(0);
            List<int[]> at = new ArrayList<>(); // {fold, index}
            for (int f = 0; f < folds.size(); f++) {
                TestSet s = folds.get(f);
                if (!s.rowKeys().equals(first.rowKeys())) {
                    throw new SparkconvException("cannot pool folds with different rows: " + s.rowKeys() + " vs " + first.rowKeys());
                }
                for (int i = 0; i < s.truth().length; i++) {
                    at.add(new int[]{f, i});
                }
            }
            at.sort(Comparator.<int[], String>comparing(a -> folds.get(a[0]).symbol()[a[1]]).thenComparing(a -> folds.get(a[0]).date()[a[1]]));
            return select(folds, at);
        }

        /** The windows of one symbol. */
        public TestSet symbol(String name) {
            List<int[]> at = new ArrayList<>();
            for (int i = 0; i < symbol.length; i++) {
                if (symbol[i].equals(name)) {
                    at.add(new int[]{0, i});
                }
            }
            return select(List.of(this), at);
        }

        public List<String> symbols() {
            return new ArrayList<>(new LinkedHashSet<>(Arrays.asList(symbol)));
        }

        List<String> rowKeys() {
            return rows.stream().map(Scored::key).toList();
        }

        private static TestSet select(List<TestSet> sets, List<int[]> at) {
            TestSet first = sets.get(0);
            int n = at.size();
            String[] symbol = new String[n];
            int[] end = new int[n];
            String[] date = new String[n];
            int[] truth = new int[n];
            double[] forward = new double[n];
            for (int k = 0; k < n; k++) {
                TestSet s = sets.get(at.get(k)[0]);
                int i = at.get(k)[1];
                symbol[k] = s.symbol[i];
                end[k] = s.end[i];
                date[k] = s.date[i];
                truth[k] = s.truth[i];
                forward[k] = s.forward[i];
            }
            List<Scored> rows = new ArrayList<>();
            for (int r = 0; r < first.rows.size(); r++) {
                int[] predicted = new int[n];
                double[] score = new double[n];
                for (int k = 0; k < n; k++) {
                    Scored s = sets.get(at.get(k)[0]).rows.get(r);
                    predicted[k] = s.predicted[at.get(k)[1]];
                    score[k] = s.score[at.get(k)[1]];
                }
                Scored last = sets.get(sets.size() - 1).rows.get(r);
                rows.add(new Scored(last.key, last.name, last.kind, predicted, score));
            }
            return new TestSet(first.classes, first.window, first.horizon, symbol, end, date, truth, forward, rows);
        }
    }

    public record Row(String name, String kind, BlockBootstrap.Interval accuracy, BlockBootstrap.Interval balancedAccuracy,
                      BlockBootstrap.Interval auc, TradingMetrics.Trading trading) {
    }

    public record Report(String title, String testDates, long examples, Map<String, Double> testClassShare, int window, int horizon,
                         int blockLength, int resamples, double costBps, String tradingNote, List<Row> rows) {
        public String toJson() {
            return json(this);
        }

        public String table() {
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                    "%s, test period %s: %,d windows (%s), %d-day windows, %d-day horizon; 95%% block-bootstrap CIs (block %d, %d resamples)%n",
                    title, testDates, examples, share(), window, horizon, blockLength, resamples));
            // The name column fits the longest name (an ensemble's control: "... on shuffled labels (ensemble of 5)").
            int nameWidth = Math.max(34, rows.stream().mapToInt(r -> r.name().length()).max().orElse(0));
            String fmt = "%-" + nameWidth + "s %-22s %-22s %-22s %-22s %7s %7s %7s %6s %5s%n";
            sb.append(String.format(Locale.ROOT, fmt, "model", "kind", "accuracy", "balanced accuracy", "AUC", "Sharpe",
                    "net", "turn/y", "maxDD", "hit"));
            for (Row r : rows) {
                TradingMetrics.Trading t = r.trading();
                sb.append(String.format(Locale.ROOT, fmt, r.name(), r.kind(), ci(r.accuracy()), ci(r.balancedAccuracy()), ci(r.auc()),
                        f2(t.sharpe()), f2(t.sharpeAfterCosts()), String.format(Locale.ROOT, "%.1f", t.turnover()),
                        f2(t.maxDrawdown()), f2(t.hitRate())));
            }
            TradingMetrics.Trading any = rows.get(0).trading();
            sb.append(String.format(Locale.ROOT, "buy-and-hold Sharpe %.2f, total return %.2f. %s%n", any.buyAndHoldSharpe(),
                    any.buyAndHoldTotalReturn(), tradingNote));
            return sb.toString();
        }

        private String share() {
            StringBuilder sb = new StringBuilder();
            testClassShare.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(k).append(' ')
                    .append(String.format(Locale.ROOT, "%.3f", v)));
            return sb.toString();
        }

        private static String f2(double v) {
            return String.format(Locale.ROOT, "%.2f", v);
        }

        static String ci(BlockBootstrap.Interval i) {
            return String.format(Locale.ROOT, "%.3f [%.3f, %.3f]", i.value(), i.low(), i.high());
        }
    }

    public static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
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

    /**
     * What {@code nifty evaluate} runs: stored models, and controls trained on shuffled labels, on the test period of one
     * fold's shards, each in its latest version.
     *
     * @param out directory for metrics.json and report.txt (any Hadoop URI)
     */
    public record Params(String shards, String store, List<String> models, List<String> controls, String out, int resamples,
                         long seed, double costBps) {
        public Params {
            models = List.copyOf(models);
            controls = List.copyOf(controls);
            checkFigures(resamples, costBps);
        }
    }

    /** The checks of the figures' settings, the same for one fold ({@code nifty evaluate}) and for walk-forward. */
    public static void checkFigures(int resamples, double costBps) {
        if (resamples < 100) {
            throw new SparkconvException("--resamples must be at least 100, got " + resamples);
        }
        if (costBps < 0) {
            throw new SparkconvException("--cost-bps must be 0 or more, got " + costBps);
        }
    }

    /** The test windows with every candidate's predictions, and their report. */
    public record Outcome(TestSet set, Report report) {
    }

    /** One fold's report (what {@code nifty evaluate} prints), written as {@code <out>/metrics.json} and {@code report.txt}. */
    /** The inputs, checked without Spark: the fold's shards, and every model and control in the store, trained on them. */
    public static void check(Params p, Configuration conf) {
        ModelStore store = new ModelStore(p.store(), conf);
        Manifest manifest = Manifest.read(p.shards(), conf);
        p.models().forEach(name -> checkTrainedOn(name, store.get(name, "latest").metadata(), manifest, false));
        p.controls().forEach(name -> checkTrainedOn(name, store.get(name, "latest").metadata(), manifest, true));
    }

    public static Outcome run(SparkSession spark, Params p) {
        var conf = spark.sparkContext().hadoopConfiguration();
        ModelStore store = new ModelStore(p.store(), conf);
        Manifest manifest = Manifest.read(p.shards(), conf);
        List<Candidate> candidates = new ArrayList<>();
        for (String name : p.models()) {
            candidates.add(candidate(store, name, manifest, false));
        }
        for (String name : p.controls()) {
            candidates.add(candidate(store, name, manifest, true));
        }
        TestSet set = predict(spark, p.shards(), candidates);
        Report report = report(set, p.shards() + " (" + manifest.lineage().get("fold") + ")", p.resamples(), p.seed(), p.costBps());
        Fs.writeString(Fs.child(p.out(), "metrics.json"), report.toJson(), conf);
        Fs.writeString(Fs.child(p.out(), "report.txt"), report.table(), conf);
        return new Outcome(set, report);
    }

    private static Candidate candidate(ModelStore store, String name, Manifest manifest, boolean control) {
        return candidate(store, store.get(name, "latest"), manifest, control);
    }

    private static Candidate candidate(ModelStore store, ModelStore.Version v, Manifest manifest, boolean control) {
        checkTrainedOn(v.name(), v.metadata(), manifest, control);
        return new Candidate(v.name(), control ? "shuffled-label control" : "model", store.load(v.name(), v.version()));
    }

    /**
     * A chart-window model version's figures on the test period of the shards it was trained on, beside the baselines
     * (a model trained on shuffled labels is scored as the control it is), at the default settings, written into the
     * version as {@code trading/metrics.json} and {@code report.txt}: what its report.html shows.
     */
    public static Report ofVersion(SparkSession spark, String shards, ModelStore store, ModelStore.Version v) {
        var conf = spark.sparkContext().hadoopConfiguration();
        Manifest manifest = Manifest.read(shards, conf);
        boolean control = !"0".equals(manifest.lineage().get("shuffledLabelsSeed"));
        TestSet set = predict(spark, shards, List.of(candidate(store, v, manifest, control)));
        Report report = report(set, v.name() + " " + v.version() + " (" + manifest.lineage().get("fold") + ")", RESAMPLES, SEED, COST_BPS);
        Fs.writeString(Fs.child(v.uri(), VERSION_DIR, "metrics.json"), report.toJson(), conf);
        Fs.writeString(Fs.child(v.uri(), VERSION_DIR, "report.txt"), report.table(), conf);
        return report;
    }

    /** The figures {@link #ofVersion} stored in a version, or null when it has none (not a chart-window model). */
    public static Report storedInVersion(String versionUri, org.apache.hadoop.conf.Configuration conf) {
        org.apache.hadoop.fs.Path file = Fs.child(versionUri, VERSION_DIR, "metrics.json");
        if (!Fs.exists(file, conf)) {
            return null;
        }
        try {
            return JSON.readValue(Fs.readString(file, conf), Report.class);
        } catch (JsonProcessingException e) {
            throw new SparkconvException(file + ": unreadable trading figures (" + e.getOriginalMessage() + ")");
        }
    }

    /** The test windows of a shard directory with the predictions of every candidate and baseline. */
    public static TestSet predict(SparkSession spark, String shardDir, List<Candidate> candidates) {
        Manifest manifest = Manifest.read(shardDir, spark.sparkContext().hadoopConfiguration());
        ChartWindows.Spec rendered = ChartWindows.Spec.fromLineage(manifest.lineage());
        // Labels for baselines are always the true ones, even for shards rendered as a shuffled-label control.
        ChartWindows.Spec spec = new ChartWindows.Spec(rendered.window(), rendered.horizon(), rendered.style(), rendered.channels(),
                rendered.deadBand(), rendered.split(), rendered.trainFraction(), rendered.validationFraction(), rendered.embargo(),
                rendered.folds(), 0);
        String foldName = manifest.lineage().get("fold");
        List<OhlcSeries> series = ChartRenderJob.series(spark, manifest.lineage().get("input"));
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
        int n = test.size();
        String[] symbol = new String[n];
        int[] end = new int[n];
        String[] date = new String[n];
        double[] forward = new double[n];
        for (int i = 0; i < n; i++) {
            TimeSplits.Window w = test.get(i);
            symbol[i] = w.symbol();
            end[i] = w.end();
            date[i] = w.date().toString();
            forward[i] = spec.labels().forwardReturn(series.get(w.series()), w.end());
        }
        List<Scored> rows = new ArrayList<>();
        for (Candidate c : candidates) {
            List<ShardPredictions.Predictions> members = new ArrayList<>();
            for (MultiLayerNetwork network : c.members()) {
                ShardPredictions.Predictions p = ShardPredictions.predict(SparkSessions.javaContext(spark), network, shardDir, manifest, "test");
                if (!Arrays.equals(p.labels(), truth)) {
                    throw new SparkconvException(shardDir + ": the labels stored in the test shards differ from the re-planned windows' labels");
                }
                members.add(p);
            }
            ShardPredictions.Predictions p = ShardPredictions.Predictions.mean(members);
            rows.add(new Scored(c.kind() + ":" + c.name(), c.name(), c.kind(), p.predicted(), p.score(up)));
        }
        WindowBaselines.Scored majority = WindowBaselines.majority(trainTruth, n, classes);
        rows.add(new Scored("baseline:majority", "majority class of training", "baseline", majority.predicted(), majority.score()));
        WindowBaselines.Scored momentum = WindowBaselines.momentum(series, test, rendered.horizon(), classes);
        rows.add(new Scored("baseline:momentum", "same direction as last " + rendered.horizon() + " days", "baseline",
                momentum.predicted(), momentum.score()));
        WindowBaselines.Scored logistic = WindowBaselines.logisticRegression(spark, series, train, trainTruth, test, rendered.window(), classes);
        rows.add(new Scored("baseline:logistic", "logistic regression on " + rendered.window() + " returns", "baseline",
                logistic.predicted(), logistic.score()));
        return new TestSet(manifest.classes(), rendered.window(), rendered.horizon(), symbol, end, date, truth, forward, rows);
    }

    /** Figures of every row of a test set (one fold, pooled folds, or one symbol's windows). */
    public static Report report(TestSet set, String title, int resamples, long seed, double costBps) {
        int classes = set.classes().size();
        int up = classes - 1;
        int block = set.window() + set.horizon();
        BlockBootstrap bootstrap = new BlockBootstrap(block, resamples, seed);
        int[] holding = holdingPeriods(set.symbol(), set.end(), set.horizon());
        double periodsPerYear = 252.0 / set.horizon();
        int[] truth = set.truth();
        List<Row> rows = new ArrayList<>();
        for (Scored s : set.rows()) {
            double[] positions = new double[holding.length];
            for (int k = 0; k < holding.length; k++) {
                int p = s.predicted()[holding[k]];
                positions[k] = p == up ? 1 : p == 0 ? -1 : 0;
            }
            TradingMetrics.Trading trading = TradingMetrics.of(pick(set.symbol(), holding), pick(set.date(), holding), positions,
                    pick(set.forward(), holding), periodsPerYear, costBps);
            rows.add(new Row(s.name(), s.kind(),
                    bootstrap.interval(truth.length, LEVEL, idx -> BinaryMetrics.accuracy(truth, s.predicted(), idx)),
                    bootstrap.interval(truth.length, LEVEL, idx -> BinaryMetrics.balancedAccuracy(truth, s.predicted(), idx, classes)),
                    bootstrap.interval(truth.length, LEVEL, idx -> BinaryMetrics.auc(truth, s.score(), idx, up)),
                    trading));
        }
        Map<String, Double> share = new LinkedHashMap<>();
        for (int k = 0; k < classes; k++) {
            final int cls = k;
            share.put(set.classes().get(k), Arrays.stream(truth).filter(y -> y == cls).count() / (double) truth.length);
        }
        String dates = Arrays.stream(set.date()).min(String::compareTo).orElse("") + ".."
                + Arrays.stream(set.date()).max(String::compareTo).orElse("");
        String note = String.format(Locale.ROOT, "Trading: long when up is predicted, short otherwise (flat for a flat class), "
                + "over %d non-overlapping %d-day holding periods%s; Sharpe annualised (x sqrt(252/%d)), 'net' after %.1f bps per "
                + "side at every position change; turnover per year; max drawdown and hit rate of the periods.",
                holding.length, set.horizon(), set.symbols().size() > 1 ? " per symbol, equal-weighted across symbols" : "",
                set.horizon(), costBps);
        return new Report(title, dates, truth.length, share, set.window(), set.horizon(), block, resamples, costBps, note, rows);
    }

    /** Every H-th test window of each symbol: positions held over non-overlapping periods. */
    static int[] holdingPeriods(String[] symbol, int[] end, int horizon) {
        List<Integer> out = new ArrayList<>();
        Map<String, Integer> lastEnd = new LinkedHashMap<>();
        for (int i = 0; i < symbol.length; i++) {
            Integer last = lastEnd.get(symbol[i]);
            if (last == null || end[i] - last >= horizon) {
                out.add(i);
                lastEnd.put(symbol[i], end[i]);
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

    private static String[] pick(String[] values, int[] idx) {
        String[] out = new String[idx.length];
        for (int k = 0; k < idx.length; k++) {
            out[k] = values[idx[k]];
        }
        return out;
    }
}
