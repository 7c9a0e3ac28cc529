package sparkconv.cli;

import java.util.concurrent.Callable;

import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import sparkconv.score.ScoreJob;

@Command(name = "score",
        description = "Score images (a folder tree, zip / tar(.gz) archives, Parquet with path + content columns, or the "
                + "examples of a shard directory) with a "
                + "stored model, on Spark: Parquet of path, predicted_class, class_name, probability, top_k, model_name, "
                + "model_version, scored_at, error. Unreadable images get an error and null scores.")
final class ScoreCommand implements Callable<Integer>, JobCommand<ScoreJob.Request> {
    @picocli.CommandLine.Mixin
    HelpOption helpOption;

    @Option(names = "--model", required = true, description = "NAME[:VERSION|latest|best] in --store, or a model version directory URI")
    String model;

    @Option(names = "--store", description = "model store root (any Hadoop URI)")
    String store;

    @Option(names = "--input", required = true, description = "images to score (any Hadoop URI)")
    String input;

    @Option(names = "--format", description = "folder, zip, tar, parquet or shards (default: detected)")
    String format;

    @Option(names = "--out", required = true, description = "Parquet directory to write (any Hadoop URI)")
    String out;

    @Option(names = "--top-k", defaultValue = "5", description = "classes listed per image in top_k (default ${DEFAULT-VALUE})")
    int topK;

    @Option(names = "--batch", defaultValue = "64", description = "images per forward pass (default ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--labels", description = "images sit in <class>/ directories (shards: their own labels): report accuracy and the confusion matrix")
    boolean labels;

    @Option(names = "--overwrite", description = "replace an existing output directory")
    boolean overwrite;

    @Mixin
    SparkOptions sparkOptions;

    @Override
    public ScoreJob.Request params() {
        return new ScoreJob.Request(model, store, input, format, out, topK, batch, labels, overwrite);
    }

    @Override
    public void checkInputs(ScoreJob.Request params, org.apache.hadoop.conf.Configuration conf) {
        ScoreJob.check(params, conf);
    }

    @Override
    public Integer call() {
        ScoreJob.Request request = params();
        SparkSession spark = sparkOptions.session("score");
        ScoreJob.Result r = ScoreJob.run(spark, request);
        System.out.printf("scored %,d images with %s %s (%s) in %.1f s: %,d with errors; written to %s%n", r.images(),
                r.model().name(), r.model().version(), r.model().shape(), r.seconds(), r.errors(), r.out());
        if (r.metrics() != null) {
            System.out.print(r.metrics().summary());
            System.out.print(confusion(r.metrics().confusion(), r.model().classes()));
        }
        return 0;
    }

    static String confusion(long[][] m, java.util.List<String> classes) {
        StringBuilder sb = new StringBuilder("  confusion matrix (rows: actual, columns: predicted)\n  ");
        sb.append(String.format("%-14s", ""));
        for (int c = 0; c < classes.size(); c++) {
            sb.append(String.format(" %6d", c));
        }
        sb.append('\n');
        for (int a = 0; a < classes.size(); a++) {
            sb.append(String.format("  %2d %-11.11s", a, classes.get(a)));
            for (long n : m[a]) {
                sb.append(String.format(" %6d", n));
            }
            sb.append('\n');
        }
        return sb.toString();
    }
}
