package sparkconv.jobs;

import java.util.concurrent.Callable;

import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import sparkconv.eval.ClassificationMetrics;
import sparkconv.eval.SparkEvaluator;
import sparkconv.shards.Manifest;
import sparkconv.spark.Fs;
import sparkconv.spark.SparkSessions;
import sparkconv.store.ModelStore;

@Command(name = "evaluate", description = "Evaluate a stored model version on a split of a shard directory, on Spark: accuracy, "
                + "per-class precision / recall / F1 and the confusion matrix (written as metrics.json with --out).")
final class EvaluateCommand implements Callable<Integer> {
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
    public Integer call() {
        SparkSession spark = sparkOptions.session("evaluate");
        var conf = spark.sparkContext().hadoopConfiguration();
        ModelStore modelStore = new ModelStore(store, conf);
        Manifest manifest = Manifest.read(shards, conf);
        ModelStore.Version v = modelStore.get(name, version);
        v.requireFits(Fs.uri(shards), manifest.shape().channels(), manifest.shape().height(), manifest.shape().width(),
                manifest.classes().size());
        var net = modelStore.load(name, v.version());
        ClassificationMetrics m = SparkEvaluator.evaluate(SparkSessions.javaContext(spark), net, shards, manifest, split);
        System.out.printf("%s %s on %s/%s%n", name, v.version(), Fs.uri(shards), split);
        System.out.print(m.summary());
        if (out != null) {
            Fs.writeString(Fs.path(out), m.toJson(), conf);
            System.out.println("metrics written to " + Fs.uri(out));
        }
        return 0;
    }
}
