package sparkconv.shards;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import sparkconv.SparkconvException;
import sparkconv.data.BadImage;
import sparkconv.data.CifarBatches;
import sparkconv.data.DecodedImage;
import sparkconv.data.ImageDecoder;
import sparkconv.data.ImageEntry;
import sparkconv.data.ImageSet;
import sparkconv.data.ImageSources;
import sparkconv.data.QuarantineReason;
import sparkconv.spark.Fs;

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
    public static final StructType QUARANTINE_SCHEMA = new StructType()
            .add("path", DataTypes.StringType, false)
            .add("reason", DataTypes.StringType, false)
            .add("bytes", DataTypes.LongType, false)
            .add("detail", DataTypes.StringType, true);

    private ImagePreprocess() {
    }

    /**
     * @param validationFraction share of images (outside a named split) that go to validation, by path hash
     * @param testFraction       share that goes to test, by path hash (CIFAR: its test batch is the test split)
     */
    public record Request(String source, ImageSources.Format format, String dataset, ImageDecoder decoder, long maxEntryBytes,
                          double validationFraction, double testFraction, int batchSize, boolean overwrite) {
        public Request {
            if (validationFraction < 0 || testFraction < 0 || validationFraction + testFraction >= 1) {
                throw new SparkconvException("validation and test fractions must be >= 0 and leave a training share, got "
                        + validationFraction + " and " + testFraction);
            }
        }
    }

    /** The shards, and the quarantined inputs by reason (empty when the shards were already up to date). */
    public record Result(ShardWriter.Result shards, Map<String, Long> quarantined, String quarantineUri) {
    }

    public static Result run(SparkSession spark, Request r, String out) {
        var conf = spark.sparkContext().hadoopConfiguration();
        List<ImageSet.SourceFile> sources = ImageSources.fingerprint(spark, r.source(), r.format());
        ShardWriter.Options options = new ShardWriter.Options(r.dataset(), r.batchSize(), r.overwrite(), lineage(r));
        Manifest done = ShardWriter.completeFor(out, sources, options, conf);
        String quarantineUri = Fs.child(out, QUARANTINE).toString();
        if (done != null) {
            LOG.info("{} is complete for these inputs; nothing to do", out);
            return new Result(new ShardWriter.Result(done, true), Map.of(), quarantineUri);
        }

        List<String> cifarClasses = r.format() == ImageSources.Format.CIFAR ? CifarBatches.classNames(r.source(), conf) : null;
        double validation = r.validationFraction();
        double test = r.testFraction();
        // One pass: decoded pixels (C*H*W bytes each) and the quarantined inputs' rows come back together; the driver
        // needs the pixels anyway, for ShardWriter's normalisation and batching.
        List<DecodedImage> good = new ArrayList<>();
        List<Row> bad = new ArrayList<>();
        for (DecodedImage d : decode(spark, r, cifarClasses).map(d -> d.ok()
                ? new DecodedImage(null, d.key(), d.label(), split(d, validation, test), d.pixels(), d.bytes(), null, null)
                : new DecodedImage(d.path(), d.key(), null, null, null, d.bytes(), d.reason(), d.detail())).collect()) {
            if (d.ok()) {
                good.add(d);
            } else {
                bad.add(RowFactory.create(d.path(), d.reason(), d.bytes(), d.detail()));
            }
        }
        Map<String, Long> quarantined = new TreeMap<>();
        bad.forEach(row -> quarantined.merge(row.getString(1), 1L, Long::sum));
        if (good.isEmpty()) {
            throw new SparkconvException(r.source() + ": no usable images: all " + bad.size() + " inputs were quarantined " + quarantined);
        }
        good.sort(Comparator.comparing(DecodedImage::key));
        List<String> classes = cifarClasses != null ? cifarClasses : new ArrayList<>(new TreeSet<>(good.stream().map(DecodedImage::label).toList()));
        Map<String, ImageSet> splits = new LinkedHashMap<>();
        for (String split : List.of("train", "validation", "test")) {
            splits.put(split, imageSet(good, split, classes, r.decoder(), sources));
        }
        good.clear();
        ShardWriter.Result shards = ShardWriter.write(spark, splits, out, options);
        bad.sort(Comparator.comparing(row -> row.getString(0)));
        spark.createDataFrame(bad, QUARANTINE_SCHEMA).coalesce(1).write().mode(SaveMode.Overwrite).parquet(quarantineUri);
        return new Result(shards, quarantined, quarantineUri);
    }

    private static JavaRDD<DecodedImage> decode(SparkSession spark, Request r, List<String> cifarClasses) {
        ImageDecoder decoder = r.decoder();
        if (r.format() == ImageSources.Format.CIFAR) {
            return CifarBatches.read(spark, r.source(), cifarClasses, decoder);
        }
        return ImageSources.entries(spark, r.source(), r.format(), r.maxEntryBytes()).map(e -> e.ok() && e.label() == null
                ? DecodedImage.decode(ImageEntry.bad(e.path(), e.key(), e.bytes(), new BadImage(QuarantineReason.NO_CLASS_DIRECTORY,
                "file is not inside a class directory (<class>/<file>)")), decoder)
                : DecodedImage.decode(e, decoder));
    }

    private static ImageSet imageSet(List<DecodedImage> good, String split, List<String> classes, ImageDecoder decoder,
                                     List<ImageSet.SourceFile> sources) {
        List<DecodedImage> in = good.stream().filter(d -> d.split().equals(split)).toList();
        byte[] pixels = new byte[in.size() * decoder.imageBytes()];
        int[] labels = new int[in.size()];
        Map<String, Integer> index = new LinkedHashMap<>();
        for (int c = 0; c < classes.size(); c++) {
            index.put(classes.get(c), c);
        }
        for (int i = 0; i < in.size(); i++) {
            System.arraycopy(in.get(i).pixels(), 0, pixels, i * decoder.imageBytes(), decoder.imageBytes());
            labels[i] = index.get(in.get(i).label());
        }
        return new ImageSet(decoder.channels(), decoder.height(), decoder.width(), classes, pixels, labels, sources);
    }

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
        lineage.put("format", r.format().name().toLowerCase(java.util.Locale.ROOT));
        lineage.put("input", r.decoder().channels() + "x" + r.decoder().height() + "x" + r.decoder().width());
        lineage.put("resize", ImageDecoder.RESIZE);
        lineage.put("maxPixels", Long.toString(r.decoder().maxPixels()));
        lineage.put("maxEntryBytes", Long.toString(r.maxEntryBytes()));
        lineage.put("validationFraction", Double.toString(r.validationFraction()));
        lineage.put("testFraction", Double.toString(r.testFraction()));
        return lineage;
    }
}
