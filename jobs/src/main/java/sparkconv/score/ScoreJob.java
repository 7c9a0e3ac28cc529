package sparkconv.score;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.UUID;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.nd4j.evaluation.classification.Evaluation;

import sparkconv.SparkconvException;
import sparkconv.data.ImageEntry;
import sparkconv.data.ImageSources;
import sparkconv.eval.ClassificationMetrics;
import sparkconv.spark.Fs;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.split;
import static org.apache.spark.sql.functions.when;

/**
 * Bulk scoring: images from a folder tree, zip / tar(.gz) archives, or Parquet of binaries ({@code path}, {@code content})
 * scored on executors with {@link ImageScorer}; the result is Parquet with {@link #OUTPUT_COLUMNS}, written to a
 * hidden staging directory and renamed into place with its {@code _SUCCESS}, so readers see all of it or none.
 */
public final class ScoreJob {
    public static final List<String> OUTPUT_COLUMNS = List.of("path", "predicted_class", "class_name", "probability", "top_k",
            "model_name", "model_version", "scored_at", "error");
    static final StructType INPUT = new StructType()
            .add("path", DataTypes.StringType, false)
            .add("label", DataTypes.StringType, true)
            .add("content", DataTypes.BinaryType, true)
            .add("read_error", DataTypes.StringType, true);

    private ScoreJob() {
    }

    /**
     * @param format the input's format; null detects it (Parquet by a {@code .parquet} name or {@code part-*.parquet} files)
     * @param labels compare predictions with the class-directory names in the paths: accuracy and confusion matrix
     */
    public record Request(String model, String store, String input, String format, String out, int topK, int batchSize,
                          boolean labels, boolean overwrite) {
    }

    /** What was scored; metrics only with labels. */
    public record Result(ScoringModel model, long images, long errors, ClassificationMetrics metrics, String out, double seconds) {
    }

    public static Result run(SparkSession spark, Request r) {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        ScoringModel model = ScoringModel.resolve(r.model(), r.store(), conf);
        model.check(model.load(conf));
        ImageScorer scorer = new ImageScorer(model, r.topK(), r.batchSize());
        Path target = Fs.path(r.out());
        if (Fs.exists(target, conf) && !r.overwrite()) {
            throw new SparkconvException(r.out() + ": already exists (pass --overwrite to replace it)");
        }
        long start = System.nanoTime();
        Dataset<Row> images = images(spark, r.input(), r.format());
        if (r.labels()) {
            checkLabels(images, model, r.input());
        }
        Dataset<Row> scored = scorer.transform(images, "content")
                .withColumn("error", coalesce(col("read_error"), col("error")))
                .select(OUTPUT_COLUMNS.stream().map(Column::new).toArray(Column[]::new));
        Path staging = new Path(target.getParent(), "." + target.getName() + ".staging-" + UUID.randomUUID());
        try {
            scored.write().parquet(staging.toString());
            if (Fs.exists(target, conf)) {
                Fs.delete(target, conf);
            }
            Fs.rename(staging, target, conf);
        } finally {
            if (Fs.exists(staging, conf)) {
                Fs.delete(staging, conf);
            }
        }
        // The summary reads the committed Parquet (two small columns) rather than caching the scores in memory.
        Dataset<Row> written = spark.read().parquet(target.toString());
        Row counts = written.selectExpr("count(*)", "count(error)").first();
        ClassificationMetrics metrics = r.labels() ? metrics(written, model) : null;
        return new Result(model, counts.getLong(0), counts.getLong(1), metrics, target.toString(), (System.nanoTime() - start) / 1e9);
    }

    /** The input as rows of {@link #INPUT}: path, label (class directory), content, and why it could not be read. */
    static Dataset<Row> images(SparkSession spark, String input, String format) {
        String f = format != null ? format.toLowerCase(Locale.ROOT) : detect(spark, input);
        if (f.equals("parquet")) {
            Dataset<Row> df = spark.read().parquet(Fs.uri(input));
            List<String> columns = Arrays.asList(df.columns());
            if (!columns.contains("path") || !columns.contains("content")) {
                throw new SparkconvException(input + ": Parquet input needs 'path' and 'content' (binary) columns, has " + columns);
            }
            return df.select(col("path"), classDirectory(col("path")).as("label"), col("content"), lit(null).cast("string").as("read_error"));
        }
        ImageSources.Format sourceFormat = ImageSources.Format.parse(f);
        JavaRDD<Row> rows = ImageSources.entries(spark, input, sourceFormat, ImageSources.DEFAULT_MAX_ENTRY_BYTES)
                .map(ScoreJob::row);
        return spark.createDataFrame(rows, INPUT);
    }

    private static Row row(ImageEntry e) {
        return RowFactory.create(e.path(), e.label(), e.content(), e.ok() ? null : e.reason() + ": " + e.detail());
    }

    private static String detect(SparkSession spark, String input) {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Path p = Fs.path(input);
        if (p.getName().endsWith(".parquet")) {
            return "parquet";
        }
        try {
            var fs = Fs.fs(p, conf);
            if (fs.exists(p) && fs.getFileStatus(p).isDirectory()
                    && Arrays.stream(fs.listStatus(p)).anyMatch(s -> s.getPath().getName().matches("part-.*\\.parquet"))) {
                return "parquet";
            }
        } catch (java.io.IOException e) {
            throw new SparkconvException(input + ": cannot list: " + e.getMessage(), e);
        }
        ImageSources.Format f = ImageSources.detect(input, conf);
        if (f != ImageSources.Format.FOLDER && f != ImageSources.Format.ZIP && f != ImageSources.Format.TAR) {
            throw new SparkconvException(input + ": looks like " + f.name().toLowerCase(Locale.ROOT)
                    + " data; score reads image folders, zip / tar archives or Parquet of binaries");
        }
        return f.name().toLowerCase(Locale.ROOT);
    }

    /** Class directories the model does not know make accuracy meaningless: a clear error before scoring. */
    private static void checkLabels(Dataset<Row> images, ScoringModel model, String input) {
        List<String> unknown = new ArrayList<>();
        for (Row r : images.where("read_error IS NULL").select("label").distinct().collectAsList()) {
            if (!r.isNullAt(0) && !model.classes().contains(r.getString(0))) {
                unknown.add(r.getString(0));
            }
        }
        if (!unknown.isEmpty()) {
            throw new SparkconvException(input + ": class directories " + new TreeSet<>(unknown) + " are not classes of " + model
                    + " " + model.classes() + "; --labels needs <class>/<file> names the model knows");
        }
    }

    /** The class of an image is the name of the directory holding it: {@code .../<class>/<file>} or {@code archive!/<class>/<file>}. */
    static Column classDirectory(Column path) {
        return when(size(split(path, "/")).geq(2), element_at(split(path, "/"), -2));
    }

    private static ClassificationMetrics metrics(Dataset<Row> scored, ScoringModel model) {
        Evaluation eval = new Evaluation(model.classes());
        Dataset<Row> labelled = scored.where(col("error").isNull()).withColumn("label", classDirectory(col("path")));
        for (Row r : labelled.where(col("label").isin(model.classes().toArray())).groupBy("label", "predicted_class").count().collectAsList()) {
            int actual = model.classes().indexOf(r.getString(0));
            for (long n = r.getLong(2); n > 0; n--) {
                eval.eval(r.getInt(1), actual);
            }
        }
        return ClassificationMetrics.of("scored", eval, model.classes());
    }
}
