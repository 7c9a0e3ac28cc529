package sparkconv.charts;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

import sparkconv.SparkconvException;
import sparkconv.data.Checksums;
import sparkconv.data.FeatureSet;
import sparkconv.data.ImageSet;
import sparkconv.data.OhlcIngest;
import sparkconv.shards.ShardWriter;
import sparkconv.spark.Fs;
import sparkconv.spark.SparkSessions;

/**
 * The render job: an ingested OHLC directory into chart-window shards (one shard directory, or one per walk-forward
 * fold under {@code out/fold-k}), with window, horizon, style, split dates and label balance in the manifest's lineage.
 * Every window and split is planned and checked before anything is written.
 */
public final class ChartRenderJob {
    private ChartRenderJob() {
    }

    /** One shard directory written (or found up to date). */
    public record Output(String dir, String fold, ShardWriter.Result result) {
    }

    public static List<Output> run(SparkSession spark, String in, String out, ChartWindows.Spec spec, int batchSize, boolean overwrite) {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        List<OhlcSeries> series = series(spark, in);
        List<TimeSplits.Fold> folds = ChartWindows.plan(series, spec);
        for (TimeSplits.Fold fold : folds) {
            fold.splits().forEach((name, windows) -> {
                if (windows.isEmpty() && !name.equals("validation")) {
                    throw new SparkconvException(String.format("%s: the %s split holds no windows after the %d-day embargo "
                            + "(series too short for this window, horizon and split)", fold.name(), name, spec.effectiveEmbargo()));
                }
            });
        }
        List<ImageSet.SourceFile> sources = sources(Fs.child(in, OhlcIngest.PRICES), conf);
        String dataset = (series.size() == 1 ? series.get(0).symbol() : series.size() + "-symbols") + "-" + spec.style().label()
                + spec.window() + "-h" + spec.horizon() + (spec.shuffleSeed() != 0 ? "-shuffled" : "");
        List<String> classNames = spec.labels().classNames();
        JavaSparkContext jsc = SparkSessions.javaContext(spark);

        List<Output> outputs = new ArrayList<>();
        for (TimeSplits.Fold fold : folds) {
            Map<String, String> lineage = new LinkedHashMap<>();
            lineage.put("job", "nifty render");
            lineage.put("input", Fs.uri(in));
            lineage.putAll(spec.lineage());
            lineage.put("fold", fold.name());
            lineage.put("symbols", String.join(",", series.stream().map(OhlcSeries::symbol).toList()));
            Map<String, int[]> labels = new LinkedHashMap<>();
            fold.splits().forEach((name, windows) -> {
                if (windows.isEmpty()) {
                    return;
                }
                int[] y = ChartWindows.labels(series, windows, spec, name);
                labels.put(name, y);
                lineage.put(name + ".dates", windows.stream().map(TimeSplits.Window::date).min(Comparable::compareTo).get() + ".."
                        + windows.stream().map(TimeSplits.Window::date).max(Comparable::compareTo).get());
                lineage.put(name + ".labelBalance", ChartWindows.balance(y, classNames));
            });
            String dir = folds.size() == 1 ? Fs.uri(out) : Fs.uri(out) + "/" + fold.name();
            ShardWriter.Options options = new ShardWriter.Options(dataset, batchSize, overwrite, lineage);
            var existing = ShardWriter.completeFor(dir, sources, options, conf);
            if (existing != null) {
                outputs.add(new Output(dir, fold.name(), new ShardWriter.Result(existing, true)));
                continue;
            }
            Map<String, ImageSet> images = new LinkedHashMap<>();
            Map<String, FeatureSet> features = new LinkedHashMap<>();
            labels.forEach((name, y) -> {
                List<TimeSplits.Window> windows = fold.splits().get(name);
                if (spec.style().isImage()) {
                    ChartGeometry g = ChartGeometry.forWindow(spec.window());
                    images.put(name, new ImageSet(1, g.height(), g.width(), classNames,
                            ChartWindows.renderImages(jsc, series, windows, spec), y, sources));
                } else {
                    features.put(name, new FeatureSet(spec.channels(), 1, spec.window(), classNames,
                            ChartWindows.renderReturns(jsc, series, windows, spec), y, sources));
                }
            });
            ShardWriter.Result r = spec.style().isImage() ? ShardWriter.write(spark, images, dir, options)
                    : ShardWriter.writeFeatures(spark, features, dir, options);
            outputs.add(new Output(dir, fold.name(), r));
        }
        return outputs;
    }

    /** The series of an ingested directory (what render and evaluate both read). */
    public static List<OhlcSeries> series(SparkSession spark, String in) {
        return OhlcSeries.of(OhlcIngest.readRows(spark, in));
    }

    private static List<ImageSet.SourceFile> sources(Path dir, Configuration conf) {
        try {
            FileStatus[] files = Fs.fs(dir, conf).listStatus(dir, p -> p.getName().endsWith(".parquet"));
            Arrays.sort(files, (a, b) -> a.getPath().getName().compareTo(b.getPath().getName()));
            List<ImageSet.SourceFile> out = new ArrayList<>();
            for (FileStatus f : files) {
                byte[] bytes = Fs.readBytes(f.getPath(), conf);
                out.add(new ImageSet.SourceFile(f.getPath().toString(), bytes.length, Checksums.sha256(bytes)));
            }
            return out;
        } catch (IOException e) {
            throw new SparkconvException(dir + ": cannot list ingested Parquet files: " + e.getMessage(), e);
        }
    }
}
