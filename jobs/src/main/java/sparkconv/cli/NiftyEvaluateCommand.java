package sparkconv.cli;

import org.apache.hadoop.conf.Configuration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import sparkconv.eval.NiftyEvaluation;
import sparkconv.report.NiftyReport;
import sparkconv.spark.Fs;

@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "Evaluate stored chart-window models on the test period of a nifty render shard directory: accuracy, "
                + "balanced accuracy and AUC with 95%% block-bootstrap CIs, beside baselines on the same windows (majority, "
                + "momentum, logistic regression on returns) and shuffled-label controls, and the long/short trading figures (Sharpe "
                + "before and after costs, turnover, maximum drawdown, hit rate) vs buy-and-hold. Writes <out>/metrics.json, "
                + "<out>/report.txt and <out>/report.html. For all walk-forward folds in one go, see nifty walk-forward.",
        footer = {"", "Example:", "  sparkconv nifty evaluate --shards nifty/ohlc20 --store store --model NIFTY50-ohlc20-h5-candle-cnn-small "
                + "--control NIFTY50-ohlc20-h5-shuffled-candle-cnn-small --out nifty/eval"})
final class NiftyEvaluateCommand implements Callable<Integer>, JobCommand<NiftyEvaluation.Params> {
    @Option(names = "--shards", required = true, description = "shard directory written by nifty render (one fold)")
    String shards;

    @Option(names = "--store", required = true, description = "model store root")
    String store;

    @Option(names = "--model", required = true, arity = "1..*", description = "stored model names to evaluate (latest version)")
    List<String> models;

    @Option(names = "--control", arity = "0..*", description = "stored models trained on shuffled labels (nifty render --shuffle-labels)")
    List<String> controls = new ArrayList<>();

    @Option(names = "--out", required = true, description = "directory for metrics.json and report.txt (any Hadoop URI)")
    String out;

    @Option(names = "--resamples", defaultValue = "" + NiftyEvaluation.RESAMPLES, description = "bootstrap resamples (default ${DEFAULT-VALUE})")
    int resamples;

    @Option(names = "--seed", defaultValue = "" + NiftyEvaluation.SEED, description = "bootstrap seed (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--cost-bps", defaultValue = "" + NiftyEvaluation.COST_BPS, description = "trading cost in basis points per side, charged at every position change (default ${DEFAULT-VALUE})")
    double costBps;

    @Mixin
    SparkOptions sparkOptions;

    @Override
    public NiftyEvaluation.Params params() {
        return new NiftyEvaluation.Params(shards, store, models, controls, out, resamples, seed, costBps);
    }

    @Override
    public void checkInputs(NiftyEvaluation.Params params, Configuration conf) {
        NiftyEvaluation.check(params, conf);
    }

    @Override
    public Integer call() {
        NiftyEvaluation.Params p = params();
        SparkSession spark = sparkOptions.session("nifty evaluate");
        NiftyEvaluation.Outcome o = NiftyEvaluation.run(spark, p);
        System.out.print(o.report().table());
        Fs.writeString(Fs.child(out, "report.html"), NiftyReport.html(spark, shards, o.set(), o.report(), List.of(), List.of()),
                spark.sparkContext().hadoopConfiguration());
        System.out.println("metrics written to " + Fs.uri(out) + "/metrics.json, report " + Fs.uri(out) + "/report.html");
        return 0;
    }
}
