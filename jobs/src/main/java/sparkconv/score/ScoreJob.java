package sparkconv.score;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.nd4j.evaluation.classification.Evaluation;

import sparkconv.SparkconvException;
import sparkconv.data.ImageEntry;
import sparkconv.data.ImageReader;
import sparkconv.data.ImageSources;
import sparkconv.eval.ClassificationMetrics;
import sparkconv.shards.Manifest;
import sparkconv.spark.Fs;
import sparkconv.spark.JobDescriptions;
import sparkconv.spark.ParquetSchemas;
import sparkconv.spark.StagedCommit;

/**
 * Bulk scoring: images from a folder tree, zip / tar(.gz) archives, Parquet of binaries ({@code path}, {@code content}) or
 * the examples of a shard directory, scored on executors with {@link ImageScorer}; the result is Parquet with {@link #OUTPUT_COLUMNS}, written to a
 * hidden staging directory and renamed into place with its {@code _SUCCESS}, so readers see all of it or none.
 */
public final class ScoreJob {
    public static final List<String> OUTPUT_COLUMNS = List.of("path", "predicted_class", "class_name", "probability", "top_k",
            "model_name", "model_version", "scored_at", "error");

    private ScoreJob() {
    }

    /**
     * @param format the input's format (folder, zip, tar, parquet, shards); null detects it (Parquet by a {@code .parquet} name
     *               or {@code part-*.parquet} files, shards by a {@code manifest.json})
     * @param labels compare predictions with the class-directory names in the paths (a shard's own labels): accuracy and
     *               confusion matrix
     */
    public record Request(String model, String store, String input, String format, String out, int topK, int batchSize,
                          boolean labels, boolean overwrite) {
    }

    /** What was scored; metrics only with labels. */
    public record Result(ScoringModel model, long images, long errors, ClassificationMetrics metrics, String out, double seconds) {
    }

    /** The inputs, checked without Spark: the model version exists, the input exists, the output does not (or --overwrite). */
    public static ScoringModel check(Request r, Configuration conf) {
        ScoringModel model = ScoringModel.resolve(r.model(), r.store(), conf);
        if (!Fs.matches(r.input(), conf)) {
            throw new SparkconvException(r.input() + ": no such file or directory to score");
        }
        if (Fs.exists(Fs.path(r.out()), conf) && !r.overwrite()) {
            throw new SparkconvException(r.out() + ": already exists (pass --overwrite to replace it)");
        }
        return model;
    }

    public static Result run(SparkSession spark, Request r) {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        ScoringModel model = check(r, conf);
        model.check(model.load(conf));
        ImageScorer scorer = new ImageScorer(model, r.topK(), r.batchSize());
        Path target = Fs.path(r.out());
        long start = System.nanoTime();
        LabelTally tally = null;
        if (r.labels()) {
            tally = new LabelTally(model.classes().size());
            spark.sparkContext().register(tally, "label tally");
        }
        String format = r.format() != null ? r.format().toLowerCase(Locale.ROOT) : detect(spark, r.input());
        JavaRDD<Row> scored = format.equals(SHARDS) ? ShardScoring.score(spark, r.input(), scorer, tally)
                : scoreImages(spark, r.input(), format, scorer, tally);
        LabelTally labelTally = tally;
        StagedCommit.commit(target, conf, true, "scores", staging -> {
            // Parquet's dictionaries only cost here: paths and probabilities are (nearly) all distinct
            JobDescriptions.step(spark.sparkContext(), "score " + format + " " + r.input() + " with " + model.name() + " "
                    + model.version() + " into Parquet", () -> {
                        spark.createDataFrame(scored, OUTPUT).write()
                                .option("parquet.enable.dictionary#path", "false")
                                .option("parquet.enable.dictionary#probability", "false")
                                .option("parquet.enable.dictionary#top_k.list.element.probability", "false")
                                .parquet(staging.toString());
                        return null;
                    });
            if (labelTally != null) {
                checkLabels(labelTally.value().keySet(), model, r.input());
            }
            return null;
        });
        // Counts come from the committed Parquet (one small column): exact even if a task ran twice.
        Row counts = JobDescriptions.step(spark.sparkContext(), "count scored rows and errors",
                () -> spark.read().parquet(target.toString()).selectExpr("count(*)", "count(error)").first());
        ClassificationMetrics metrics = tally == null ? null : metrics(tally.value(), model);
        return new Result(model, counts.getLong(0), counts.getLong(1), metrics, target.toString(), (System.nanoTime() - start) / 1e9);
    }

    static final String SHARDS = "shards";
    /** The written rows: the input's path, then the score columns (error: why the input could not be read or scored). */
    static final StructType OUTPUT = ParquetSchemas.SCORES.type();

    /**
     * Encoded images scored straight from the RDD they are read into (no DataFrame of inputs to convert from): a folder
     * tree, zip / tar archives, or Parquet with {@code path} and {@code content} columns.
     */
    private static JavaRDD<Row> scoreImages(SparkSession spark, String input, String format, ImageScorer scorer, LabelTally tally) {
        if (format.equals("parquet")) {
            Dataset<Row> df = spark.read().parquet(Fs.uri(input));
            List<String> columns = Arrays.asList(df.columns());
            if (!columns.contains("path") || !columns.contains("content")) {
                throw new SparkconvException(input + ": Parquet input needs 'path' and 'content' (binary) columns, has " + columns);
            }
            return df.select("path", "content").javaRDD().mapPartitions(rows -> scorer.score(rows,
                    row -> row.getAs(1), row -> row.isNullAt(1) ? "no image bytes" : null,
                    (row, scores) -> output(row.getString(0), ImageEntry.label(row.getString(0)), scores, tally)));
        }
        if (!(ImageReader.of(input, ImageReader.Format.parse(format)) instanceof ImageReader.Encoded images)) {
            throw new SparkconvException(input + ": " + format + " data holds no image files; score reads image folders, zip / tar "
                    + "archives, Parquet of binaries or shard directories");
        }
        return images.entries(spark, ImageSources.DEFAULT_MAX_ENTRY_BYTES)
                .mapPartitions(entries -> scorer.score(entries, ImageEntry::content, e -> e.ok() ? null : e.reason() + ": " + e.detail(),
                        (e, scores) -> output(e.path(), e.label(), scores, tally)));
    }

    /** An output row: path and score values; a scored image's label (when labels are tallied) is counted. */
    static Row output(String path, String label, Object[] scores, LabelTally tally) {
        if (tally != null && label != null && scores[0] != null) {
            tally.add(new LabelTally.Scored(label, (Integer) scores[0]));
        }
        Object[] values = new Object[1 + scores.length];
        values[0] = path;
        System.arraycopy(scores, 0, values, 1, scores.length);
        return RowFactory.create(values);
    }

    private static String detect(SparkSession spark, String input) {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Path p = Fs.path(input);
        if (p.getName().endsWith(".parquet")) {
            return "parquet";
        }
        if (Fs.exists(Fs.child(input, Manifest.FILE), conf)) {
            return SHARDS;
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
        return ImageReader.detect(input, conf).code();
    }

    /**
     * Class directories the model does not know make accuracy meaningless: an error, and the scores are not committed.
     * Checked from the labels the scoring pass tallied, so the images are read once.
     */
    private static void checkLabels(java.util.Set<String> labels, ScoringModel model, String input) {
        List<String> unknown = labels.stream().filter(l -> model.classOfDirectory(l) < 0).toList();
        if (!unknown.isEmpty()) {
            throw new SparkconvException(input + ": class directories " + new TreeSet<>(unknown) + " are not classes of " + model
                    + " " + model.classes() + "; --labels needs <class>/<file> names the model knows (a '/' in a class name is"
                    + " written '_' in its directory name)");
        }
    }

    private static ClassificationMetrics metrics(java.util.Map<String, long[]> tally, ScoringModel model) {
        Evaluation eval = new Evaluation(model.classes());
        tally.forEach((label, predicted) -> {
            int actual = model.classOfDirectory(label);
            for (int p = 0; p < predicted.length; p++) {
                for (long n = predicted[p]; n > 0; n--) {
                    eval.eval(p, actual);
                }
            }
        });
        return ClassificationMetrics.of("scored", eval, model.classes());
    }
}
