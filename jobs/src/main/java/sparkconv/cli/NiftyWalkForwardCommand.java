package sparkconv.cli;

import sparkconv.data.OhlcIngest;
import org.apache.hadoop.conf.Configuration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import sparkconv.SparkconvException;
import sparkconv.charts.ChartWindows;
import sparkconv.eval.NiftyEvaluation;
import sparkconv.walkforward.WalkForward;
import sparkconv.models.TrainingDefaults;
import sparkconv.report.NiftyReport;
import sparkconv.spark.Fs;

@Command(name = "walk-forward", mixinStandardHelpOptions = true,
        description = "Walk-forward evaluation in one command: render the folds (true labels and shuffled training labels), "
                + "train each fold's model and its shuffled-label control (the model's own training defaults unless flags are "
                + "given), evaluate them beside the baselines and pool the out-of-sample predictions of all folds: accuracy, "
                + "balanced accuracy, AUC with block-bootstrap 95%% CIs, trading figures after costs. Resumable: what is done is "
                + "skipped. Writes <out>/metrics.json, report.txt and report.html.",
        footer = {"", "Example:", "  sparkconv nifty walk-forward --in nifty/ingested --window 5 --horizon 5 --folds 3 --model candle-cnn-5 --out nifty/wf5"})
final class NiftyWalkForwardCommand implements Callable<Integer>, JobCommand<WalkForward.Params> {
    @Spec
    CommandSpec spec;

    @Mixin
    ChartWindowFlags chart;

    @Option(names = "--out", required = true, description = "output directory: shards, model store, per-fold and pooled figures")
    String out;

    @Option(names = "--split", defaultValue = "walk-forward", description = "walk-forward (expanding) or walk-forward-rolling (default ${DEFAULT-VALUE})")
    String split;

    @Option(names = "--folds", defaultValue = "3", description = "walk-forward folds (default ${DEFAULT-VALUE})")
    int folds;

    @Option(names = "--validation-fraction", defaultValue = "0.15",
            description = "last fraction of each fold's training dates held out for early stopping (default ${DEFAULT-VALUE})")
    double validationFraction;

    @Option(names = "--batch", description = "examples per shard (default: the model's, see describe; else 64)")
    Integer batch;

    @Option(names = "--control-seed", defaultValue = "7", description = "seed of the control's label permutation (default ${DEFAULT-VALUE})")
    long controlSeed;

    @Option(names = "--only-fold", paramLabel = "fold-K", description = "run only these folds (repeatable; default: all)")
    List<String> onlyFolds = new ArrayList<>();

    @Option(names = "--resamples", defaultValue = "" + NiftyEvaluation.RESAMPLES, description = "bootstrap resamples (default ${DEFAULT-VALUE})")
    int resamples;

    @Option(names = "--bootstrap-seed", defaultValue = "" + NiftyEvaluation.SEED, description = "bootstrap seed (default ${DEFAULT-VALUE})")
    long bootstrapSeed;

    @Option(names = "--cost-bps", defaultValue = "" + NiftyEvaluation.COST_BPS, description = "trading cost in basis points per side, at every position change (default ${DEFAULT-VALUE})")
    double costBps;

    @Option(names = "--ensemble", defaultValue = "1",
            description = "networks trained per fold for the model and for the control (seeds --seed, --seed+1, ...), "
                    + "their probabilities averaged; the paper averages 5 (default ${DEFAULT-VALUE})")
    int ensemble;

    @Mixin
    TrainingFlags training;

    @Mixin
    SparkOptions sparkOptions;

    @Override
    public WalkForward.Params params() {
        var trainOptions = training.toTrainOptions();
        Integer modelBatch = TrainingDefaults.of(trainOptions.model()).batch();
        int shardBatch = batch != null ? batch : modelBatch != null ? modelBatch : 64;
        // The train fraction is unused by walk-forward splits; nifty render's default keeps the lineage identical, so folds
        // rendered by nifty render with the same options are reused.
        ChartWindows.Spec render = chart.spec(0, split, 0.7, validationFraction, folds, 0);
        return new WalkForward.Params(chart.in, out, render, shardBatch, controlSeed, trainOptions, onlyFolds, resamples,
                bootstrapSeed, costBps, ensemble);
    }

    @Override
    public void checkInputs(WalkForward.Params params, Configuration conf) {
        OhlcIngest.checkIngested(params.in(), conf);
    }

    @Override
    public java.util.Map<String, String> sparkSettings() {
        return training.sparkSettings();
    }

    @Override
    public Integer call() {
        if (!spec.commandLine().getParseResult().hasMatchedOption("--model")) {
            throw new SparkconvException("walk-forward needs --model (e.g. candle-cnn-5 for 5-day windows; see describe)");
        }
        WalkForward.Params params = params();
        SparkSession spark = sparkOptions.session("nifty walk-forward");
        WalkForward.Result r = WalkForward.run(spark, params, System.out::println);
        System.out.println();
        System.out.print(r.pooledReport().table());
        r.bySymbol().values().forEach(s -> System.out.print(s.table()));
        var last = r.folds().get(r.folds().size() - 1);
        String html = NiftyReport.html(spark, last.shards(), r.pooled(), r.pooledReport(),
                r.folds().stream().map(f -> new NiftyReport.Part(f.fold(), f.report())).toList(),
                r.bySymbol().entrySet().stream().map(e -> new NiftyReport.Part(e.getKey(), e.getValue())).toList());
        Fs.writeString(Fs.child(out, "report.html"), html, spark.sparkContext().hadoopConfiguration());
        System.out.println("figures: " + Fs.uri(out) + "/metrics.json, report.txt, report.html");
        return 0;
    }
}
