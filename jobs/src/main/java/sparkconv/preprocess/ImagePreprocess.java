package sparkconv.preprocess;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import sparkconv.SparkconvException;
import sparkconv.data.DecodedImage;
import sparkconv.data.ImageDecoder;
import sparkconv.data.ImageReader;
import sparkconv.data.ImageSet;
import sparkconv.shards.ImageStats;
import sparkconv.shards.Manifest;
import sparkconv.shards.ShardWriter;
import sparkconv.spark.Fs;
import sparkconv.spark.ParquetSchemas;

/**
 * Image folders, zip / tar archives and CIFAR-10 batches into the same shards + manifest as IDX data. Images are read
 * and decoded on executors; bad ones go to {@code <out>/quarantine} (Parquet: path, reason, bytes, detail) and are
 * counted, never failing the job unless nothing is usable. The split of an image is fixed by its path: a first
 * directory named train/validation/test, CIFAR's test batch, or else a hash of its relative path, so adding images
 * never moves others between splits. Classes are the sorted class-directory names (CIFAR: its meta file's order).
 */
public final class ImagePreprocess {
    private static final Logger LOG = LoggerFactory.getLogger(ImagePreprocess.class);
    public static final String QUARANTINE = "quarantine";
    public static final StructType QUARANTINE_SCHEMA = ParquetSchemas.IMAGE_QUARANTINE.type();

    private ImagePreprocess() {
    }

    /**
     * @param validationFraction share of images (outside a named split) that go to validation, by path hash
     * @param testFraction       share that goes to test, by path hash (CIFAR: its test batch is the test split)
     */
    public record Request(String source, ImageReader.Format format, String dataset, ImageDecoder decoder, long maxEntryBytes,
                          double validationFraction, double testFraction, int batchSize, boolean overwrite) {
        public Request {
            if (validationFraction < 0 || testFraction < 0 || validationFraction + testFraction >= 1) {
                throw new SparkconvException("validation and test fractions must be >= 0 and leave a training share, got "
                        + validationFraction + " and " + testFraction);
            }
            reader(source, format); // IDX is refused here, not mid-job
        }

        /** The source's reader: one that reads image by image. */
        ImageReader.Records reader() {
            return reader(source, format);
        }

        private static ImageReader.Records reader(String source, ImageReader.Format format) {
            if (!(ImageReader.of(source, format) instanceof ImageReader.Records reader)) {
                throw new SparkconvException(source + ": " + format.code() + " data is read whole (IdxPreprocess.idx), not image by image");
            }
            return reader;
        }
    }

    /** The shards, and the quarantined inputs by reason (empty when the shards were already up to date). */
    public record Result(ShardWriter.Result shards, Map<String, Long> quarantined, String quarantineUri) {
    }

    public static Result run(SparkSession spark, Request r, String out) {
        var conf = spark.sparkContext().hadoopConfiguration();
        ImageReader.Records reader = r.reader();
        List<ImageSet.SourceFile> sources = reader.fingerprint(conf);
        ShardWriter.Options options = new ShardWriter.Options(r.dataset(), r.batchSize(), r.overwrite(), lineage(r));
        Manifest done = ShardWriter.completeFor(out, sources, options, conf);
        String quarantineUri = Fs.child(out, QUARANTINE).toString();
        if (done != null) {
            LOG.info("{} is complete for these inputs; nothing to do", out);
            return new Result(new ShardWriter.Result(done, true), Map.of(), quarantineUri);
        }

        List<String> classes = reader.classNames(conf);
        double validation = r.validationFraction();
        double test = r.testFraction();
        // Pixels stay on the executors, decoded once and kept serialized on local disk (counted, aggregated, sorted and
        // shuffled into shards from there): a cache in memory would grow the executors' heap with the archive. Only
        // counts, the histogram and per-shard metadata reach the driver.
        JavaRDD<DecodedImage> decoded = reader.decode(spark, r.decoder(), r.maxEntryBytes())
                .map(d -> d.ok() ? d.withSplit(split(d, validation, test)) : d)
                .persist(StorageLevel.DISK_ONLY());
        try {
            ImageStats stats = ImageStats.of(decoded, SPLITS);
            Map<String, Long> quarantined = stats.quarantined();
            if (stats.usable() == 0) {
                throw new SparkconvException(r.source() + ": no usable images: all " + quarantined.values().stream().mapToLong(Long::longValue).sum()
                        + " inputs were quarantined " + quarantined + examples(decoded));
            }
            ShardWriter.Result shards = ShardWriter.write(spark, decoded, stats,
                    new Manifest.Shape(r.decoder().channels(), r.decoder().height(), r.decoder().width()), classes, sources, out, options);
            writeQuarantine(spark, decoded, quarantineUri);
            return new Result(shards, quarantined, quarantineUri);
        } finally {
            decoded.unpersist(false);
        }
    }

    private static final List<String> SPLITS = List.of("train", "validation", "test");

    /** The quarantined images as the {@code image-quarantine} Parquet table (path, reason, bytes, detail) at {@code uri}. */
    public static void writeQuarantine(SparkSession spark, JavaRDD<DecodedImage> decoded, String uri) {
        JavaRDD<Row> bad = decoded.filter(d -> !d.ok()).map(d -> RowFactory.create(d.path(), d.reason(), d.bytes(), d.detail()));
        spark.createDataFrame(bad, QUARANTINE_SCHEMA).repartition(1).sortWithinPartitions("path")
                .write().mode(SaveMode.Overwrite).parquet(uri);
    }

    /** Examples of what was quarantined, for the error when nothing is usable: a user fixes the input from these. */
    public static String examples(JavaRDD<DecodedImage> decoded) {
        StringBuilder sb = new StringBuilder();
        for (DecodedImage d : decoded.filter(d -> !d.ok()).take(EXAMPLES)) {
            sb.append("; ").append(d.path()).append(": ").append(d.detail());
        }
        return sb.toString();
    }

    private static final int EXAMPLES = 3;

    /** The split an image belongs to: named by its path, else by a hash of its relative path (stable across runs). */
    static String split(DecodedImage d, double validation, double test) {
        if (d.split() != null) {
            return d.split();
        }
        double u = unitHash(d.key());
        return u < test ? "test" : u < test + validation ? "validation" : "train";
    }

    private static double unitHash(String key) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return (ByteBuffer.wrap(h).getLong() >>> 11) / (double) (1L << 53);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, String> lineage(Request r) {
        Map<String, String> lineage = new LinkedHashMap<>();
        lineage.put("job", "preprocess");
        lineage.put("format", r.format().code());
        lineage.put("input", r.decoder().channels() + "x" + r.decoder().height() + "x" + r.decoder().width());
        lineage.put("resize", ImageDecoder.RESIZE);
        lineage.put("maxPixels", Long.toString(r.decoder().maxPixels()));
        lineage.put("maxEntryBytes", Long.toString(r.maxEntryBytes()));
        lineage.put("validationFraction", Double.toString(r.validationFraction()));
        lineage.put("testFraction", Double.toString(r.testFraction()));
        return lineage;
    }
}
