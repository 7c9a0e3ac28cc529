package sparkconv.walkforward;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

import sparkconv.SparkconvException;
import sparkconv.charts.ChartRenderJob;
import sparkconv.charts.ChartWindows;
import sparkconv.models.Hyper;
import sparkconv.eval.NiftyEvaluation;
import sparkconv.shards.Manifest;
import sparkconv.spark.Fs;
import sparkconv.store.ModelStore;
import sparkconv.train.TrainControl;
import sparkconv.train.TrainOptions;
import sparkconv.train.TrainingRun;

/**
 * Walk-forward evaluation in one job: renders the folds twice (true labels, and shuffled training labels for the
 * control), trains each fold's model and its shuffled-label control (or an ensemble of each, {@code --ensemble}),
 * evaluates both beside the baselines on the fold's test period, and pools the out-of-sample predictions of all folds
 * into one set of figures (and per-symbol figures when the input holds several symbols). Resumable: renders already
 * complete are kept, a model already in the store is not trained again (after checking it was trained on that fold's
 * shards), an interrupted training continues from its last epoch checkpoint, and a fold whose predictions hold this
 * run's rows is not evaluated again.
 * <pre>
 * out/shards/fold-k, out/shards-shuffled/fold-k   rendered folds
 * out/store/models/MODEL-fold-k[-runI][-shuffled]/vN   trained models (-runI: the I-th network of --ensemble)
 * out/fold-k/{predictions.json, metrics.json, report.txt}
 * out/{metrics.json, report.txt}                pooled, per fold, per symbol
 * </pre>
 */
public final class WalkForward {
    private static final ObjectMapper COMPACT = new ObjectMapper();

    private WalkForward() {
    }

    /**
     * @param spec        the render (split walk-forward or walk-forward-rolling; its shuffle seed is ignored)
     * @param controlSeed seed of the control's label permutation (non-zero)
     * @param onlyFolds   folds to run ("fold-3"); empty: all
     * @param ensemble    networks trained per fold for the model and for the control, with seeds seed, seed+1, ...;
     *                    their class probabilities are averaged (Jiang, Kelly &amp; Xiu average 5 independently trained runs)
     */
    public record Params(String in, String out, ChartWindows.Spec spec, int batch, long controlSeed, TrainOptions train,
                         List<String> onlyFolds, int resamples, long bootstrapSeed, double costBps, int ensemble) {
        public Params {
            if (spec.split().equals("time")) {
                throw new SparkconvException("walk-forward needs --split walk-forward or walk-forward-rolling, not time");
            }
            if (controlSeed == 0) {
                throw new SparkconvException("--control-seed must be non-zero (0 means true labels)");
            }
            NiftyEvaluation.checkFigures(resamples, costBps);
            if (ensemble < 1) {
                throw new SparkconvException("--ensemble must be at least 1, got " + ensemble);
            }
        }
    }

    /** Training time and speed of one stored model. */
    public record Training(String name, String version, double seconds, int epochsRun, Object bestEpoch, double examplesPerSecond) {
    }

    public record FoldResult(String fold, String shards, NiftyEvaluation.TestSet set, NiftyEvaluation.Report report,
                             List<Training> training) {
    }

    public record Result(List<FoldResult> folds, NiftyEvaluation.TestSet pooled, NiftyEvaluation.Report pooledReport,
                         Map<String, NiftyEvaluation.Report> bySymbol) {
        public String table() {
            StringBuilder sb = new StringBuilder();
            for (FoldResult f : folds) {
                sb.append(f.report().table());
                for (Training t : f.training()) {
                    sb.append(String.format(Locale.ROOT, "  trained %s %s: %.0f s, %d epochs (best %s), %.1f examples/s%n", t.name(),
                            t.version(), t.seconds(), t.epochsRun(), t.bestEpoch(), t.examplesPerSecond()));
                }
                sb.append('\n');
            }
            sb.append(pooledReport.table());
            bySymbol.values().forEach(r -> sb.append('\n').append(r.table()));
            return sb.toString();
        }
    }

    public static Result run(SparkSession spark, Params p, Consumer<String> progress) {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        ChartWindows.Spec spec = withShuffle(p.spec(), 0);
        String store = Fs.uri(p.out()) + "/store";
        progress.accept("rendering " + spec.folds() + " folds -> " + Fs.uri(p.out()) + "/shards and /shards-shuffled");
        List<ChartRenderJob.Output> real = ChartRenderJob.run(spark, p.in(), Fs.uri(p.out()) + "/shards", spec, p.batch(), false);
        List<ChartRenderJob.Output> shuffled = ChartRenderJob.run(spark, p.in(), Fs.uri(p.out()) + "/shards-shuffled",
                withShuffle(spec, p.controlSeed()), p.batch(), false);
        for (String only : p.onlyFolds()) {
            if (real.stream().noneMatch(o -> o.fold().equals(only))) {
                throw new SparkconvException("--only-fold " + only + ": no such fold (fold-1 .. fold-" + real.size() + ")");
            }
        }
        ModelStore models = new ModelStore(store, conf);
        List<FoldResult> folds = new ArrayList<>();
        for (int k = 0; k < real.size(); k++) {
            String fold = real.get(k).fold();
            if (!p.onlyFolds().isEmpty() && !p.onlyFolds().contains(fold)) {
                continue;
            }
            String foldOut = Fs.uri(p.out()) + "/" + fold;
            List<String> modelNames = memberNames(p.train().model() + "-" + fold, "", p.ensemble());
            List<String> controlNames = memberNames(p.train().model() + "-" + fold, "-shuffled", p.ensemble());
            List<Training> training = new ArrayList<>();
            for (int i = 0; i < p.ensemble(); i++) {
                TrainOptions member = memberOptions(p.train(), i);
                training.add(trained(spark, models, store, modelNames.get(i), real.get(k).dir(), member, false, progress));
                training.add(trained(spark, models, store, controlNames.get(i), shuffled.get(k).dir(), member, true, progress));
            }
            String ensemble = p.ensemble() == 1 ? "" : " (ensemble of " + p.ensemble() + ")";
            String modelRow = p.train().model() + ensemble;
            String controlRow = p.train().model() + " on shuffled labels" + ensemble;
            var predictionsFile = Fs.child(foldOut, "predictions.json");
            NiftyEvaluation.TestSet set = Fs.exists(predictionsFile, conf) ? read(Fs.readString(predictionsFile, conf)) : null;
            if (set != null && set.rows().stream().map(NiftyEvaluation.Scored::name).toList().containsAll(List.of(modelRow, controlRow))) {
                progress.accept(fold + ": evaluated already (" + predictionsFile + ")");
            } else {
                if (set != null) {
                    progress.accept(fold + ": " + predictionsFile + " holds other networks' predictions (another --ensemble); evaluating again");
                    Fs.delete(predictionsFile, conf);
                }
                progress.accept(fold + ": evaluating " + String.join(", ", modelNames) + " and " + String.join(", ", controlNames)
                        + " on the test period");
                set = NiftyEvaluation.predict(spark, real.get(k).dir(), List.of(
                        new NiftyEvaluation.Candidate(modelRow, "model", load(models, modelNames)),
                        new NiftyEvaluation.Candidate(controlRow, "shuffled-label control", load(models, controlNames))));
            }
            NiftyEvaluation.Report report = NiftyEvaluation.report(set, fold, p.resamples(), p.bootstrapSeed(), p.costBps());
            Fs.writeString(Fs.child(foldOut, "metrics.json"), NiftyEvaluation.json(Map.of("report", report, "training", training)), conf);
            Fs.writeString(Fs.child(foldOut, "report.txt"), report.table(), conf);
            if (!Fs.exists(predictionsFile, conf)) {
                Fs.writeString(predictionsFile, write(set), conf); // last: its presence marks the fold done
            }
            progress.accept(report.table());
            folds.add(new FoldResult(fold, real.get(k).dir(), set, report, training));
        }
        NiftyEvaluation.TestSet pooled = NiftyEvaluation.TestSet.pool(folds.stream().map(FoldResult::set).toList());
        NiftyEvaluation.Report pooledReport = NiftyEvaluation.report(pooled,
                "walk-forward, " + folds.size() + " fold" + (folds.size() == 1 ? "" : "s") + " pooled", p.resamples(), p.bootstrapSeed(), p.costBps());
        Map<String, NiftyEvaluation.Report> bySymbol = new LinkedHashMap<>();
        if (pooled.symbols().size() > 1) {
            for (String s : pooled.symbols()) {
                bySymbol.put(s, NiftyEvaluation.report(pooled.symbol(s), s + ", folds pooled", p.resamples(), p.bootstrapSeed(), p.costBps()));
            }
        }
        Result result = new Result(folds, pooled, pooledReport, bySymbol);
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("pooled", pooledReport);
        Map<String, Object> perFold = new LinkedHashMap<>();
        folds.forEach(f -> perFold.put(f.fold(), Map.of("report", f.report(), "training", f.training())));
        metrics.put("folds", perFold);
        metrics.put("symbols", bySymbol);
        metrics.put("training", p.train());
        Fs.writeString(Fs.child(p.out(), "metrics.json"), NiftyEvaluation.json(metrics), conf);
        Fs.writeString(Fs.child(p.out(), "report.txt"), result.table(), conf);
        return result;
    }

    /** The stored model of a fold, trained now unless the store has it (trained on exactly these shards). */
    private static Training trained(SparkSession spark, ModelStore models, String store, String name, String shards,
                                    TrainOptions options, boolean control, Consumer<String> progress) {
        Manifest manifest = Manifest.read(shards, spark.sparkContext().hadoopConfiguration());
        if (models.versionNames(name).isEmpty()) {
            progress.accept("training " + name + " on " + shards);
            // An interrupted walk-forward continues a fold's training from its last checkpoint.
            TrainOptions resuming = options.withControl(new TrainControl(options.control().schedule(),
                    options.control().patience(), true, options.control().stopOn()));
            TrainingRun.run(spark, shards, resuming, store, name, null, progress);
        } else {
            progress.accept(name + ": in the store already, not trained again");
        }
        ModelStore.Version v = models.get(name, "latest");
        NiftyEvaluation.checkTrainedOn(name, v.metadata(), manifest, control);
        if (!options.model().equals(v.metadata().get("model"))) {
            throw new SparkconvException(v.uri() + ": is a " + v.metadata().get("model") + ", not " + options.model());
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> t = (Map<String, Object>) v.metadata().get("training");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> epochs = (List<Map<String, Object>>) v.metrics().get("epochs");
        double exPerSec = epochs.stream().mapToDouble(e -> ((Number) e.get("examplesPerSecond")).doubleValue()).average().orElse(Double.NaN);
        return new Training(name, v.version(), ((Number) t.get("seconds")).doubleValue(), ((Number) t.get("epochsRun")).intValue(),
                t.get("bestEpoch"), exPerSec);
    }

    /** A fold's model names: {@code base+suffix} for the first network, {@code base-runI+suffix} for the I-th after it. */
    static List<String> memberNames(String base, String suffix, int ensemble) {
        List<String> names = new ArrayList<>();
        for (int i = 1; i <= ensemble; i++) {
            names.add(base + (i == 1 ? "" : "-run" + i) + suffix);
        }
        return names;
    }

    /** The i-th network of an ensemble (from 0) trains as the first with the seed moved on by i. */
    private static TrainOptions memberOptions(TrainOptions t, int i) {
        Hyper h = t.hyper();
        return i == 0 ? t : t.withHyper(new Hyper(h.updater(), h.learningRate(), h.momentum(), h.l2(), h.seed() + i));
    }

    private static List<MultiLayerNetwork> load(ModelStore models, List<String> names) {
        return names.stream().map(n -> models.load(n, "latest")).toList();
    }

    private static ChartWindows.Spec withShuffle(ChartWindows.Spec s, long seed) {
        return new ChartWindows.Spec(s.window(), s.horizon(), s.style(), s.channels(), s.deadBand(), s.split(), s.trainFraction(),
                s.validationFraction(), s.embargo(), s.folds(), seed);
    }

    static String write(NiftyEvaluation.TestSet set) {
        try {
            return COMPACT.writeValueAsString(set);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static NiftyEvaluation.TestSet read(String json) {
        try {
            return COMPACT.readValue(json, NiftyEvaluation.TestSet.class);
        } catch (java.io.IOException e) {
            throw new SparkconvException("cannot read a fold's predictions.json (delete it to evaluate the fold again): " + e.getMessage(), e);
        }
    }
}
