package sparkconv.jobs;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import sparkconv.eval.NiftyEvaluation;
import sparkconv.report.NiftyReport;
import sparkconv.shards.Manifest;
import sparkconv.spark.Fs;
import sparkconv.store.ModelStore;

@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "Evaluate stored chart-window models on the test period of a nifty render shard directory: accuracy, "
                + "balanced accuracy and AUC with 95%% block-bootstrap CIs, beside baselines on the same windows (majority, "
                + "momentum, logistic regression on returns) and shuffled-label controls, and the long/short trading figures (Sharpe "
                + "before and after costs, turnover, maximum drawdown, hit rate) vs buy-and-hold. Writes <out>/metrics.json, "
                + "<out>/report.txt and <out>/report.html. For all walk-forward folds in one go, see nifty walk-forward.",
        footer = {"", "Example:", "  sparkconv nifty evaluate --shards nifty/ohlc20 --store store --model NIFTY50-ohlc20-h5-candle-cnn-small "
                + "--control NIFTY50-ohlc20-h5-shuffled-candle-cnn-small --out nifty/eval"})
final class NiftyEvaluateCommand implements Callable<Integer> {
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

    @Option(names = "--resamples", defaultValue = "1000", description = "bootstrap resamples (default ${DEFAULT-VALUE})")
    int resamples;

    @Option(names = "--seed", defaultValue = "42", description = "bootstrap seed (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--cost-bps", defaultValue = "5", description = "trading cost in basis points per side, charged at every position change (default ${DEFAULT-VALUE})")
    double costBps;

    @Mixin
    SparkOptions sparkOptions;

    @Override
    public Integer call() {
        SparkSession spark = sparkOptions.session("nifty evaluate");
        var conf = spark.sparkContext().hadoopConfiguration();
        ModelStore modelStore = new ModelStore(store, conf);
        Manifest manifest = Manifest.read(shards, conf);
        List<NiftyEvaluation.Candidate> candidates = new ArrayList<>();
        for (String name : models) {
            candidates.add(candidate(modelStore, name, manifest, false));
        }
        for (String name : controls) {
            candidates.add(candidate(modelStore, name, manifest, true));
        }
        NiftyEvaluation.TestSet set = NiftyEvaluation.predict(spark, shards, candidates);
        NiftyEvaluation.Report report = NiftyEvaluation.report(set, shards + " (" + manifest.lineage().get("fold") + ")",
                resamples, seed, costBps);
        String table = report.table();
        System.out.print(table);
        Fs.writeString(Fs.child(out, "metrics.json"), report.toJson(), conf);
        Fs.writeString(Fs.child(out, "report.txt"), table, conf);
        Fs.writeString(Fs.child(out, "report.html"), NiftyReport.html(spark, shards, set, report, List.of(), List.of()), conf);
        System.out.println("metrics written to " + Fs.uri(out) + "/metrics.json, report " + Fs.uri(out) + "/report.html");
        return 0;
    }

    private static NiftyEvaluation.Candidate candidate(ModelStore store, String name, Manifest manifest, boolean control) {
        ModelStore.Version v = store.get(name, "latest");
        NiftyEvaluation.checkTrainedOn(name, v.metadata(), manifest, control);
        return new NiftyEvaluation.Candidate(name, control ? "shuffled-label control" : "model", store.load(name, v.version()));
    }
}
