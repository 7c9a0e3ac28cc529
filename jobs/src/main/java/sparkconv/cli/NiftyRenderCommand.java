package sparkconv.cli;

import sparkconv.data.OhlcIngest;
import org.apache.hadoop.conf.Configuration;
import java.util.List;
import java.util.concurrent.Callable;

import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import sparkconv.SparkconvException;
import sparkconv.charts.ChartGeometry;
import sparkconv.charts.ChartPreview;
import sparkconv.charts.ChartRenderJob;
import sparkconv.charts.ChartWindows;
import sparkconv.charts.OhlcSeries;
import sparkconv.charts.TimeSplits;
import sparkconv.spark.Fs;

@Command(name = "render", mixinStandardHelpOptions = true,
        description = "Render chart windows of an ingested OHLC directory into shards + manifest, as a Spark job: "
                + "Jiang-Kelly-Xiu OHLC bar images, candlesticks, or 1D return tensors; labels are the direction of "
                + "close(t+H) vs close(t); splits are by date with an embargo of at least W+H trading days.",
        footer = {"", "Example:", "  sparkconv nifty render --in nifty/ingested --window 20 --horizon 5 --style ohlc --out nifty/ohlc20 --preview 8"})
final class NiftyRenderCommand implements Callable<Integer>, JobCommand<ChartWindows.Spec> {
    @Mixin
    ChartWindowFlags chart;

    @Option(names = "--out", required = true, description = "shard directory to write (walk-forward: one per fold under it)")
    String out;

    @Option(names = "--dead-band", defaultValue = "0", description = "three classes down/flat/up with |return| <= this as flat (default: two classes)")
    double deadBand;

    @Option(names = "--split", defaultValue = "time", description = "time, walk-forward (expanding) or walk-forward-rolling; random is refused")
    String split;

    @Option(names = "--train", defaultValue = "0.7", description = "time split: fraction of dates for training (default ${DEFAULT-VALUE})")
    double train;

    @Option(names = "--validation", defaultValue = "0.15", description = "time split: fraction of dates for validation (default ${DEFAULT-VALUE})")
    double validation;

    @Option(names = "--folds", defaultValue = "4", description = "walk-forward folds (default ${DEFAULT-VALUE})")
    int folds;

    @Option(names = "--shuffle-labels", defaultValue = "0", paramLabel = "SEED",
            description = "permute train/validation labels with this seed: the shuffled-label control (test labels stay true)")
    long shuffleSeed;

    @Option(names = "--batch", defaultValue = "64", description = "examples per shard (default ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--preview", defaultValue = "0", paramLabel = "N", description = "also write N windows as PNG to <out>-preview/")
    int preview;

    @Option(names = "--preview-scale", defaultValue = "4", description = "pixels per chart pixel in previews (default ${DEFAULT-VALUE})")
    int previewScale;

    @Option(names = "--overwrite", description = "replace existing shards made from other inputs or options")
    boolean overwrite;

    @Mixin
    SparkOptions sparkOptions;

    @Override
    public ChartWindows.Spec params() {
        return chart.spec(deadBand, split, train, validation, folds, shuffleSeed);
    }

    @Override
    public void checkInputs(ChartWindows.Spec params, Configuration conf) {
        OhlcIngest.checkIngested(chart.in, conf);
    }

    @Override
    public Integer call() {
        ChartWindows.Spec spec = params();
        if (preview > 0 && !spec.style().isImage()) {
            throw new SparkconvException("--preview draws image styles (ohlc, candle), not " + chart.style);
        }
        if (previewScale < 1) {
            throw new SparkconvException("--preview-scale must be at least 1, got " + previewScale);
        }
        SparkSession spark = sparkOptions.session("nifty render");
        for (ChartRenderJob.Output o : ChartRenderJob.run(spark, chart.in, out, spec, batch, overwrite)) {
            System.out.println(o.dir() + ":");
            Jobs.print(o.result());
            o.result().manifest().lineage().forEach((k, v) -> {
                if (k.endsWith(".dates") || k.endsWith(".labelBalance")) {
                    System.out.printf("  %-24s %s%n", k, v);
                }
            });
        }
        if (preview > 0) {
            List<OhlcSeries> series = ChartRenderJob.series(spark, chart.in);
            List<TimeSplits.Window> windows = ChartWindows.windows(series, spec);
            List<String> files = ChartPreview.write(series, windows, ChartWindows.labels(series, windows, spec, "test"),
                    spec.labels().classNames(), ChartGeometry.forWindow(chart.window), spec.style(), preview, previewScale,
                    Fs.uri(out) + "-preview", spark.sparkContext().hadoopConfiguration());
            System.out.printf("wrote %d previews to %s-preview/%n", files.size(), Fs.uri(out));
        }
        return 0;
    }
}
