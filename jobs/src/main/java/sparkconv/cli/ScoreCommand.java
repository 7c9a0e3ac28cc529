package sparkconv.cli;

import java.util.concurrent.Callable;

import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import sparkconv.SparkconvException;
import sparkconv.ml.WatchJob;
import sparkconv.score.ScoreJob;

@Command(name = "score",
        description = "Score images (a folder tree, zip / tar(.gz) archives, Parquet with path + content columns, or the "
                + "examples of a shard directory) with a "
                + "stored model, on Spark: Parquet of path, predicted_class, class_name, probability, top_k, model_name, "
                + "model_version, scored_at, error. Unreadable images get an error and null scores. With --watch, a Structured "
                + "Streaming query scores the files landing in the --input directory into the same table, exactly once, "
                + "until stopped (SIGTERM, Ctrl-C) or, with --once, until it has caught up.")
final class ScoreCommand implements Callable<Integer>, JobCommand<Record> {
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

    @Option(names = "--watch", description = "score the files that land in the --input directory (any Hadoop URI) as they "
            + "arrive: a Structured Streaming query (binaryFile source, Parquet sink with a checkpoint), each file exactly once; "
            + "runs until SIGTERM / Ctrl-C (the running micro-batch finishes first) or, with --once, until caught up")
    boolean watch;

    @Option(names = "--once", description = "with --watch: score what has landed, then stop (Spark's Trigger.AvailableNow)")
    boolean once;

    @Option(names = "--trigger-interval", defaultValue = "10s",
            description = "with --watch: a micro-batch at most this often, e.g. 500ms, 10s, 1min or '1 minute' (default ${DEFAULT-VALUE})")
    String triggerInterval;

    @Option(names = "--max-files-per-trigger", description = "with --watch: new files per micro-batch at most (default: all)")
    Integer maxFilesPerTrigger;

    @Option(names = "--checkpoint", description = "with --watch: the query's checkpoint (any Hadoop URI; default <out>/_checkpoint)")
    String checkpoint;

    @Mixin
    SparkOptions sparkOptions;

    /** {@link ScoreJob.Request}, or with --watch {@link WatchJob.Request}. */
    @Override
    public Record params() {
        if (watch) {
            for (var only : new Object[][]{{"--labels", labels}, {"--format", format != null}, {"--overwrite", overwrite}}) {
                if ((Boolean) only[1]) {
                    throw new SparkconvException(only[0] + " does not apply to --watch (it scores every new file of the directory "
                            + "into an output of its own, as binaryFile reads it)");
                }
            }
            return new WatchJob.Request(model, store, input, out, checkpoint, topK, batch, triggerInterval, maxFilesPerTrigger, once);
        }
        for (var only : new Object[][]{{"--once", once}, {"--max-files-per-trigger", maxFilesPerTrigger != null},
                {"--checkpoint", checkpoint != null}}) {
            if ((Boolean) only[1]) {
                throw new SparkconvException(only[0] + " needs --watch");
            }
        }
        return new ScoreJob.Request(model, store, input, format, out, topK, batch, labels, overwrite);
    }

    @Override
    public void checkInputs(Record params, org.apache.hadoop.conf.Configuration conf) {
        if (params instanceof WatchJob.Request w) {
            WatchJob.check(w, conf);
        } else {
            ScoreJob.check((ScoreJob.Request) params, conf);
        }
    }

    @Override
    public Integer call() {
        Record params = params();
        SparkSession spark = sparkOptions.session("score");
        if (params instanceof WatchJob.Request w) {
            WatchJob.run(spark, w, line -> {
                System.out.println(line);
                System.out.flush();
            });
            return 0;
        }
        ScoreJob.Request request = (ScoreJob.Request) params;
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
