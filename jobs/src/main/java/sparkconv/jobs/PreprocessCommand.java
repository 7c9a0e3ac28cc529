package sparkconv.jobs;

import java.util.concurrent.Callable;

import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import sparkconv.data.IdxDataset;
import sparkconv.shards.Manifest;
import sparkconv.shards.Preprocess;
import sparkconv.shards.ShardWriter;

@Command(name = "preprocess", description = "Read an IDX dataset (Fashion-MNIST, MNIST; raw or .gz) and write DL4J DataSet shards "
                + "(one minibatch per file) with manifest.json, as a Spark job.")
final class PreprocessCommand implements Callable<Integer> {
    @picocli.CommandLine.Mixin
    HelpOption helpOption;

    @Option(names = "--data", defaultValue = IdxDataset.DEBIAN_FASHION_MNIST,
            description = "directory (any Hadoop URI) with the four IDX files (default ${DEFAULT-VALUE})")
    String data;

    @Option(names = "--dataset", defaultValue = "fashion-mnist", description = "fashion-mnist or mnist: names the classes (default ${DEFAULT-VALUE})")
    String dataset;

    @Option(names = "--out", required = true, description = "shard directory to write (any Hadoop URI)")
    String out;

    @Option(names = "--batch", description = "examples per shard = minibatch per worker (default ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--validation", description = "training images held out for validation (default ${DEFAULT-VALUE})")
    int validation;

    @Option(names = "--limit", defaultValue = "0", description = "use only the first N training images (quick runs; 0 = all)")
    int limit;

    @Option(names = "--overwrite", description = "replace an existing shard directory made from other inputs")
    boolean overwrite;

    @Mixin
    SparkOptions sparkOptions;

    @Override
    public Integer call() {
        SparkSession spark = sparkOptions.session("preprocess");
        ShardWriter.Result r = run(spark, data, dataset, out, batch, validation, limit, overwrite);
        Jobs.print(r);
        return 0;
    }

    static ShardWriter.Result run(SparkSession spark, String data, String dataset, String out, int batch, int validation,
                                  int limit, boolean overwrite) {
        var classes = switch (dataset) {
            case "fashion-mnist" -> IdxDataset.FASHION_CLASSES;
            case "mnist" -> IdxDataset.DIGIT_CLASSES;
            default -> throw new sparkconv.SparkconvException("unknown --dataset '" + dataset + "' (fashion-mnist or mnist)");
        };
        return Preprocess.idx(spark, data, dataset, classes, out, batch, validation, limit, overwrite);
    }

    static String describe(Manifest m) {
        StringBuilder sb = new StringBuilder();
        m.splits().forEach((name, s) -> sb.append(String.format("  %-10s %,7d examples in %,5d shards%n", name, s.examples(), s.shards().size())));
        return sb.toString();
    }
}
