package sparkconv.cli;

import java.util.concurrent.Callable;

import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import sparkconv.eval.EvaluateJob;
import sparkconv.spark.Fs;

@Command(name = "evaluate", description = "Evaluate a stored model version on a split of a shard directory, on Spark: accuracy, "
                + "per-class precision / recall / F1 and the confusion matrix (written as metrics.json with --out).")
final class EvaluateCommand implements Callable<Integer>, JobCommand<EvaluateJob.Params> {
    @picocli.CommandLine.Mixin
    HelpOption helpOption;

    @Option(names = "--store", required = true, description = "model store root")
    String store;

    @Option(names = "--name", required = true, description = "model name")
    String name;

    @Option(names = "--version", defaultValue = "latest", description = "version (default ${DEFAULT-VALUE})")
    String version;

    @Option(names = "--shards", required = true, description = "shard directory")
    String shards;

    @Option(names = "--split", defaultValue = "test", description = "split to evaluate (default ${DEFAULT-VALUE})")
    String split;

    @Option(names = "--out", description = "write the metrics JSON here (any Hadoop URI)")
    String out;

    @Mixin
    SparkOptions sparkOptions;

    @Override
    public EvaluateJob.Params params() {
        return new EvaluateJob.Params(store, name, version, shards, split, out);
    }

    @Override
    public void checkInputs(EvaluateJob.Params params, Configuration conf) {
        EvaluateJob.check(params, conf);
    }

    @Override
    public Integer call() {
        EvaluateJob.Result r = EvaluateJob.run(sparkOptions.session("evaluate"), params());
        System.out.printf("%s %s on %s/%s%n", name, r.version().version(), Fs.uri(shards), split);
        System.out.print(r.metrics().summary());
        if (out != null) {
            System.out.println("metrics written to " + Fs.uri(out));
        }
        return 0;
    }
}
