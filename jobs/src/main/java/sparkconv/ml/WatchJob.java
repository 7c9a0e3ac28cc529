package sparkconv.ml;

import java.io.IOException;
import java.sql.Timestamp;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.util.ShutdownHookManager;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.DataStreamReader;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryException;
import org.apache.spark.sql.streaming.StreamingQueryProgress;
import org.apache.spark.sql.streaming.Trigger;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import sparkconv.SparkconvException;
import sparkconv.score.ScoringModel;
import sparkconv.spark.Fs;
import sparkconv.spark.ParquetSchemas;
import sparkconv.spark.StagedCommit;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.current_timestamp;
import static org.apache.spark.sql.functions.lit;

/**
 * {@code score --watch}: a Structured Streaming query that scores the image files landing in a directory (Spark's
 * {@code binaryFile} file source, any Hadoop URI) with a stored model into a Parquet sink with a checkpoint, in
 * {@code score}'s own table ({@link ParquetSchemas#SCORES}: one row per file, unreadable ones with an {@code error}).
 * The scoring is {@link CnnClassificationModel#transform} ({@code handleInvalid=keep}), the Transformer a user's own
 * streaming job would use, and through it {@code score}'s {@code ImageScorer}: no inference of its own.
 *
 * <p>Exactly once is Spark's file source and file sink with a checkpoint: a micro-batch's files are recorded in the
 * checkpoint's offset log before it runs, and its Parquet files count only once the sink's log
 * ({@code <out>/_spark_metadata}) lists them, so a query killed mid-batch re-runs that batch, with the same files, from
 * its checkpoint, and the files the killed attempt wrote are never read (readers of {@code <out>} go through the log).
 */
public final class WatchJob {
    /** The checkpoint's default place: under the output, a directory Spark's readers skip ({@code _}). */
    public static final String CHECKPOINT_DIR = "_checkpoint";
    /** What the file sink keeps its log of committed files in. */
    public static final String SINK_LOG = "_spark_metadata";
    /** binaryFile's columns: a streaming file source takes its schema up front. */
    public static final StructType BINARY_FILE = new StructType().add("path", DataTypes.StringType)
            .add("modificationTime", DataTypes.TimestampType).add("length", DataTypes.LongType).add("content", DataTypes.BinaryType);
    /** The name of the per-batch counts observed on the scores ({@code Dataset.observe}). */
    static final String OBSERVED = "sparkconv_watch";
    /** Above Spark's own shutdown hook (which stops the SparkContext): the query stops first. */
    static final int SHUTDOWN_PRIORITY = 100;

    private WatchJob() {
    }

    /**
     * @param input              the directory to watch (any Hadoop URI; a glob is taken as it is)
     * @param checkpoint         the query's checkpoint; null: {@code <out>/_checkpoint}
     * @param triggerInterval    a micro-batch at most this often (Spark's processing-time trigger, e.g. {@code 10s}, {@code 1 minute})
     * @param maxFilesPerTrigger at most this many new files per micro-batch (the file source's option); null: all new files
     * @param once               score what has landed, in as many micro-batches as {@code maxFilesPerTrigger} makes, then
     *                           stop ({@code Trigger.AvailableNow}): for schedulers such as Airflow, and tests
     */
    public record Request(String model, String store, String input, String out, String checkpoint, int topK, int batchSize,
                          String triggerInterval, Integer maxFilesPerTrigger, boolean once) {
        public Request {
            if (topK < 1) {
                throw new SparkconvException("--top-k must be at least 1, got " + topK);
            }
            if (batchSize < 1) {
                throw new SparkconvException("--batch must be at least 1, got " + batchSize);
            }
            if (maxFilesPerTrigger != null && maxFilesPerTrigger < 1) {
                throw new SparkconvException("--max-files-per-trigger must be at least 1, got " + maxFilesPerTrigger);
            }
            trigger(triggerInterval, once);
        }

        /** The checkpoint's URI: the one given, else {@code <out>/_checkpoint}. */
        public String checkpointUri() {
            if (checkpoint != null) {
                return Fs.uri(checkpoint);
            }
            String o = Fs.uri(out); // spelt as the output is in the watch's lines (a Hadoop Path would print file:/ for file:///)
            return o + (o.endsWith("/") ? "" : "/") + CHECKPOINT_DIR;
        }
    }

    /** One micro-batch that scored files: its id (as the checkpoint numbers it), files, error rows and wall time. */
    public record Batch(long id, long images, long errors, double seconds) {
        public String line() {
            return String.format("batch %d: %s, %,d with errors in %.2f s, %,.1f images/s", id, noun(images, "image", "images"), errors,
                    seconds, seconds > 0 ? images / seconds : 0.0);
        }
    }

    /** What this run of the query scored; {@code stopped}: ended by a stop request (SIGTERM, Ctrl-C), not by catching up. */
    public record Result(ScoringModel model, int batches, long images, long errors, boolean stopped, String out, String checkpoint) {
        public String line() {
            return String.format("%s: %s, %s, %,d with errors; scores in %s (checkpoint %s)",
                    stopped ? "stopped" : "caught up", noun(batches, "batch", "batches"), noun(images, "image", "images"), errors, out, checkpoint);
        }
    }

    /** "1 image", "0 images", "1,000 batches". */
    static String noun(long n, String one, String many) {
        return String.format("%,d %s", n, n == 1 ? one : many);
    }

    static Trigger trigger(String interval, boolean once) {
        if (once) {
            return Trigger.AvailableNow();
        }
        if (interval == null || interval.isBlank()) {
            throw new SparkconvException("--trigger-interval needs an interval, e.g. 10s, 500ms or '1 minute'");
        }
        String value = interval.trim();
        try {
            return Trigger.ProcessingTime(org.apache.spark.network.util.JavaUtils.timeStringAsMs(value)); // Spark conf's 10s, 500ms, 1min
        } catch (RuntimeException notShort) {
            try {
                return Trigger.ProcessingTime(value); // the trigger's own interval strings: "10 seconds", "1 minute"
            } catch (RuntimeException e) {
                throw new SparkconvException("--trigger-interval " + interval + ": not an interval (e.g. 10s, 500ms, 1min or '1 minute')");
            }
        }
    }

    /**
     * The inputs, checked without Spark: the model version, the watched directory (it exists and is a directory), and an
     * output that is this query's or new: not {@code score}'s batch output, and not a watch output whose checkpoint is
     * missing (a new query would number its batches from 0 again, and the sink skips batch ids it has already committed).
     */
    public static ScoringModel check(Request r, Configuration conf) {
        ScoringModel model = ScoringModel.resolve(r.model(), r.store(), conf);
        if (!r.input().matches(".*[*?\\[{].*")) {
            Path in = Fs.path(r.input());
            FileStatus status;
            try {
                status = Fs.fs(in, conf).getFileStatus(in);
            } catch (java.io.FileNotFoundException e) {
                throw new SparkconvException(r.input() + ": no such directory to watch");
            } catch (IOException e) {
                throw new SparkconvException(r.input() + ": cannot read: " + e.getMessage(), e);
            }
            if (!status.isDirectory()) {
                throw new SparkconvException(r.input() + ": is a file; --watch watches a directory and scores the files that land in it");
            }
        }
        Path out = Fs.path(r.out());
        boolean sinkLog = Fs.exists(new Path(out, SINK_LOG), conf);
        if (!sinkLog && Fs.exists(new Path(out, StagedCommit.SUCCESS), conf)) {
            throw new SparkconvException(r.out() + ": holds the output of score without --watch; a watch writes an output of its own");
        }
        if (sinkLog && !Fs.exists(Fs.path(r.checkpointUri()), conf)) {
            throw new SparkconvException(r.out() + ": holds a watch's scores but its checkpoint " + r.checkpointUri() + " is missing: a new "
                    + "query would skip batches the output already has; pass --checkpoint with that query's checkpoint, or another --out");
        }
        return model;
    }

    /**
     * {@code score}'s table from the model's transform of a binaryFile stream (or DataFrame): the path, the best class
     * (top_k's first, as score takes it), the top-k, the model, the micro-batch's time and the error.
     */
    public static Dataset<Row> scores(CnnClassificationModel model, Dataset<Row> files) {
        String name = model.scoringModel().name();
        String version = model.scoringModel().version();
        Dataset<Row> transformed = model.transform(files);
        MapFunction<Row, Row> row = r -> {
            Row best = r.isNullAt(1) ? null : r.<Row>getSeq(1).head();
            return RowFactory.create(r.getString(0), best == null ? null : best.getInt(0), best == null ? null : best.getString(1),
                    best == null ? null : best.getDouble(2), r.isNullAt(1) ? null : r.get(1), name, version, r.<Timestamp>getAs(3),
                    r.getString(2));
        };
        // current_timestamp() is the micro-batch's time in a stream, recorded in the offset log: a re-run batch keeps it
        return transformed.select(col("path"), col(model.getTopKCol()), col(model.getErrorCol()), current_timestamp())
                .map(row, Encoders.row(ParquetSchemas.SCORES.type()));
    }

    /**
     * Runs the query until it has caught up ({@code once}) or is stopped (JVM shutdown: SIGTERM, Ctrl-C), handing a
     * line per micro-batch that scored files to {@code progress}. On shutdown the batch that is running is let finish
     * (up to {@code STOP_WAIT_SECONDS}) before the query stops; a batch stopped or killed half-way runs again on restart.
     */
    public static Result run(SparkSession spark, Request r, Consumer<String> progress) {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        ScoringModel scoring = check(r, conf);
        scoring.check(scoring.load(conf));
        CnnClassificationModel model = new CnnClassificationModel(Identifiable.randomUID("cnnClassificationModel"), scoring)
                .setFeaturesCol("content").setHandleInvalid("keep").setTopK(r.topK()).setBatchSize(r.batchSize());
        // a session of its own (same SparkContext): adaptive execution off, which streaming would otherwise warn it turns off
        SparkSession session = spark.newSession();
        session.conf().set("spark.sql.adaptive.enabled", "false");
        if (!spark.sparkContext().getConf().contains(OPEN_COST)) {
            // Spark counts each file as 4 MB when it packs files into tasks: a micro-batch of 5,000 PNGs of 1 KB became
            // 160 tasks (and Parquet files) of 31 images. At 16 KB a batch is split by size across the cores instead.
            session.conf().set(OPEN_COST, String.valueOf(OPEN_COST_BYTES));
        }
        if (!spark.sparkContext().getConf().contains(LISTING_PARALLELISM)) {
            // A micro-batch hands its new files to a file index as paths of their own, which Spark lists (past 32 paths) in
            // a job of one task per file, up to 10,000, and each task deserializes the whole Hadoop configuration first (most
            // of the executors' samples in a JFR profile): 37 of a 500-file batch's 86 s under load. One task per core lists them.
            session.conf().set(LISTING_PARALLELISM, String.valueOf(spark.sparkContext().defaultParallelism()));
        }
        DataStreamReader reader = session.readStream().format("binaryFile").schema(BINARY_FILE);
        if (r.maxFilesPerTrigger() != null) {
            reader = reader.option("maxFilesPerTrigger", r.maxFilesPerTrigger());
        }
        Dataset<Row> scored = scores(model, reader.load(Fs.uri(r.input())))
                .observe(OBSERVED, count(lit(1)).as("images"), count(col("error")).as("errors"));
        String out = Fs.uri(r.out());
        String checkpoint = r.checkpointUri();
        StreamingQuery query = scored.writeStream().format("parquet").option("checkpointLocation", checkpoint)
                    // as score writes them: dictionaries only cost where values are (nearly) all distinct
                    .option("parquet.enable.dictionary#path", "false")
                    .option("parquet.enable.dictionary#probability", "false")
                    .option("parquet.enable.dictionary#top_k.list.element.probability", "false")
                    .trigger(trigger(r.triggerInterval(), r.once()))
                    .start(out);
        progress.accept(String.format("watching %s with %s %s (%s): scores to %s, checkpoint %s; %s", Fs.uri(r.input()), scoring.name(),
                scoring.version(), scoring.shape(), out, checkpoint, r.once() ? "what has landed, then stop"
                        : "a micro-batch at most every " + r.triggerInterval().trim()
                        + (r.maxFilesPerTrigger() == null ? "" : ", " + r.maxFilesPerTrigger() + " files at most")));

        AtomicBoolean stopRequested = new AtomicBoolean();
        CountDownLatch reported = new CountDownLatch(1);
        Runnable stopOnShutdown = () -> {
            stopRequested.set(true);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STOP_WAIT_SECONDS);
            while (query.isActive() && query.status().isTriggerActive() && System.nanoTime() < deadline) {
                sleep(50);
            }
            try {
                query.stop();
                reported.await(10, TimeUnit.SECONDS); // the last batch's line and the summary
            } catch (Exception e) { // TimeoutException, InterruptedException
                // the JVM is going down anyway; the checkpoint makes the batch run again
            }
        };
        ShutdownHookManager.get().addShutdownHook(stopOnShutdown, SHUTDOWN_PRIORITY);
        Totals totals = new Totals();
        try {
            while (!query.awaitTermination(200)) {
                totals.report(query, progress);
            }
            totals.report(query, progress);
        } catch (StreamingQueryException e) {
            totals.report(query, progress);
            Throwable cause = e.cause() != null ? e.cause() : e;
            if (cause instanceof SparkconvException bad) {
                throw bad;
            }
            throw new IllegalStateException("the watch's query failed: " + cause.getMessage(), cause);
        } finally {
            if (!ShutdownHookManager.get().isShutdownInProgress()) {
                ShutdownHookManager.get().removeShutdownHook(stopOnShutdown);
            }
        }
        Result result = new Result(scoring, totals.batches, totals.images, totals.errors, stopRequested.get(), out, checkpoint);
        progress.accept(result.line());
        reported.countDown();
        return result;
    }

    static final String OPEN_COST = "spark.sql.files.openCostInBytes";
    static final String LISTING_PARALLELISM = "spark.sql.sources.parallelPartitionDiscovery.parallelism";
    /** What a file costs in the packing of files into tasks, unless {@code --conf} sets it: about a small image's size. */
    static final long OPEN_COST_BYTES = 16_384;

    /** How long a stop request waits for the running micro-batch to finish before stopping the query anyway. */
    static final int STOP_WAIT_SECONDS = 20;

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The batches reported so far (from the query's recent progress, each once). */
    private static final class Totals {
        long lastBatch = -1;
        int batches;
        long images;
        long errors;

        void report(StreamingQuery query, Consumer<String> progress) {
            for (StreamingQueryProgress p : query.recentProgress()) {
                if (p.batchId() <= lastBatch || p.numInputRows() == 0) {
                    continue; // reported, or a trigger that found no new files
                }
                lastBatch = p.batchId();
                Map<String, Row> observed = p.observedMetrics();
                Row counts = observed == null ? null : observed.get(OBSERVED);
                long n = counts == null ? p.numInputRows() : counts.getLong(0);
                long bad = counts == null ? 0 : counts.getLong(1);
                Long ms = p.durationMs().get("triggerExecution");
                Batch b = new Batch(p.batchId(), n, bad, ms == null ? 0 : ms / 1000.0);
                batches++;
                images += n;
                errors += bad;
                progress.accept(b.line());
            }
        }
    }
}
