package sparkconv.preprocess;

import java.io.ByteArrayOutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import sparkconv.SparkconvException;
import sparkconv.data.Checksums;
import sparkconv.data.ImageSet;
import sparkconv.shards.Manifest;
import sparkconv.shards.ShardWriter;
import sparkconv.spark.Fs;
import sparkconv.spark.JobDescriptions;
import sparkconv.spark.SparkSessions;
import sparkconv.spark.StagedCommit;

/**
 * A real segmentation task from a classification set: each example is a 2x2 mosaic of items (56x56 for
 * Fashion-MNIST's 28x28), each quadrant holding a random item or left empty (1 in 8), with a per-pixel mask of
 * background (0) or the item's class + 1 wherever the item's own pixel is at least {@link #INK}. Shards hold
 * DataSets with features N x C x 56 x 56 (standardised) and one-hot labels N x (classes + 1) x 56 x 56, as DL4J's
 * per-pixel {@code CnnLossLayer} expects; the manifest's per-split class counts are pixel counts. Mosaics are drawn
 * on the driver from a fixed seed (cheap); a Spark job normalises, one-hot encodes and writes the shards, under a
 * staging directory renamed into place when complete, as {@link ShardWriter} does.
 */
public final class Mosaics {
    /** Pixel value from which an item pixel counts as the item (Fashion-MNIST backgrounds are 0; faint halo below). */
    public static final int INK = 32;
    static final double EMPTY_QUADRANT = 0.125;
    public static final String BACKGROUND = "background";

    private Mosaics() {
    }

    /** What segment-preprocess makes: mosaics per split, mosaics per shard and the seed of item choice and placement. */
    public record Params(int train, int validation, int test, int batchSize, long seed) {
        public Params {
            if (train < 1 || validation < 0 || test < 1) {
                throw new SparkconvException("--train " + train + ", --validation " + validation + ", --test " + test
                        + ": need at least 1 training and 1 test mosaic (validation may be 0)");
            }
            if (batchSize < 1) {
                throw new SparkconvException("--batch must be at least 1, got " + batchSize);
            }
        }

        public Map<String, Integer> sizes() {
            Map<String, Integer> sizes = new LinkedHashMap<>();
            sizes.put("train", train);
            sizes.put("validation", validation);
            sizes.put("test", test);
            return sizes;
        }
    }

    /** The mosaics of one split: pixels N x C x 2H x 2W and masks N x 2H x 2W (class index per pixel). */
    record Split(int count, byte[] pixels, byte[] masks) {
    }

    /**
     * @param sizes mosaics per split (e.g. train, validation, test); train and validation items come from
     *              {@code trainItems}, test items from {@code testItems}
     */
    public static ShardWriter.Result write(SparkSession spark, ImageSet trainItems, ImageSet testItems, Map<String, Integer> sizes,
                                           String out, int batchSize, long seed, boolean overwrite) {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        if (batchSize < 1) {
            throw new SparkconvException("--batch must be at least 1, got " + batchSize);
        }
        List<String> classes = new ArrayList<>();
        classes.add(BACKGROUND);
        classes.addAll(trainItems.classNames());
        int c = trainItems.channels();
        int h = trainItems.height() * 2;
        int w = trainItems.width() * 2;
        Map<String, String> lineage = new LinkedHashMap<>();
        lineage.put("job", "segment-preprocess");
        lineage.put("mosaic", "2x2");
        lineage.put("ink", Integer.toString(INK));
        lineage.put("seed", Long.toString(seed));
        lineage.put("batchSize", Integer.toString(batchSize));
        sizes.forEach((k, v) -> lineage.put("mosaics." + k, Integer.toString(v)));
        List<ImageSet.SourceFile> sources = new ArrayList<>(trainItems.sources());
        testItems.sources().stream().filter(s -> !sources.contains(s)).forEach(sources::add);

        Path target = Fs.path(out);
        if (Fs.exists(target, conf)) {
            Manifest existing = ShardWriter.completeManifest(out, conf);
            if (existing != null && existing.sources().equals(sources) && existing.lineage().equals(lineage)) {
                return new ShardWriter.Result(existing, true);
            }
            if (!overwrite) {
                throw new SparkconvException(out + ": already exists with other inputs or options (pass --overwrite to replace it)");
            }
        }

        Random rng = new Random(seed);
        Map<String, Split> splits = new LinkedHashMap<>();
        for (Map.Entry<String, Integer> e : sizes.entrySet()) {
            ImageSet items = e.getKey().equals("test") ? testItems : trainItems;
            splits.put(e.getKey(), draw(items, e.getValue(), rng));
        }
        Manifest.Normalisation norm = normalisation(splits.get("train").pixels());

        return StagedCommit.commit(target, conf, true, "mosaic shards", staging -> {
            List<MaskShardTask> tasks = new ArrayList<>();
            int plane = h * w;
            for (Map.Entry<String, Split> e : splits.entrySet()) {
                Split s = e.getValue();
                int index = 0;
                for (int from = 0; from < s.count(); from += batchSize) {
                    int to = Math.min(s.count(), from + batchSize);
                    tasks.add(new MaskShardTask(e.getKey(), index++, c, h, w, classes.size(),
                            java.util.Arrays.copyOfRange(s.pixels(), from * plane * c, to * plane * c),
                            java.util.Arrays.copyOfRange(s.masks(), from * plane, to * plane)));
                }
            }
            JavaSparkContext jsc = SparkSessions.javaContext(spark);
            String stagingUri = staging.toString();
            // one task per shard: a shard's mosaics and masks are ~200 KB, above that Spark warns about task size
            List<ShardWriter.WrittenShard> written = JobDescriptions.step(jsc.sc(), "write " + tasks.size() + " mosaic shards of " + out,
                    () -> jsc.parallelize(tasks, Math.max(1, tasks.size())).map(t -> t.write(stagingUri, norm)).collect());
            Map<String, Manifest.Split> meta = new LinkedHashMap<>();
            for (String split : splits.keySet()) {
                long[] counts = new long[classes.size()];
                List<Manifest.Shard> shards = new ArrayList<>();
                long examples = 0;
                for (ShardWriter.WrittenShard ws : written) {
                    if (ws.split().equals(split)) {
                        shards.add(ws.shard());
                        examples += ws.shard().examples();
                        for (int k = 0; k < counts.length; k++) {
                            counts[k] += ws.classCounts()[k];
                        }
                    }
                }
                meta.put(split, new Manifest.Split(examples, counts, shards));
            }
            Manifest manifest = new Manifest(Manifest.FORMAT, Manifest.VERSION, "fashion-mnist-mosaic", new Manifest.Shape(c, h, w),
                    classes, batchSize, norm, meta, sources, lineage);
            Fs.writeString(new Path(staging, Manifest.FILE), manifest.toJson(), conf);
            return new ShardWriter.Result(manifest, false);
        });
    }

    /** {@code count} mosaics of random items; quadrants are left empty with probability {@link #EMPTY_QUADRANT}. */
    static Split draw(ImageSet items, int count, Random rng) {
        if (items.size() == 0) {
            throw new SparkconvException("no item images to build mosaics from");
        }
        int c = items.channels();
        int ih = items.height();
        int iw = items.width();
        int h = ih * 2;
        int w = iw * 2;
        byte[] pixels = new byte[count * c * h * w];
        byte[] masks = new byte[count * h * w];
        byte[] src = items.pixels();
        for (int n = 0; n < count; n++) {
            for (int q = 0; q < 4; q++) {
                if (rng.nextDouble() < EMPTY_QUADRANT) {
                    continue;
                }
                int item = rng.nextInt(items.size());
                int label = items.labels()[item] + 1;
                int oy = (q / 2) * ih;
                int ox = (q % 2) * iw;
                for (int y = 0; y < ih; y++) {
                    for (int x = 0; x < iw; x++) {
                        int ink = 0;
                        for (int ch = 0; ch < c; ch++) {
                            byte v = src[((item * c + ch) * ih + y) * iw + x];
                            pixels[((n * c + ch) * h + oy + y) * w + ox + x] = v;
                            ink = Math.max(ink, v & 0xff);
                        }
                        if (ink >= INK) {
                            masks[(n * h + oy + y) * w + ox + x] = (byte) label;
                        }
                    }
                }
            }
        }
        return new Split(count, pixels, masks);
    }

    /** Mean and standard deviation of the training mosaics' scaled pixels. */
    static Manifest.Normalisation normalisation(byte[] pixels) {
        double sum = 0;
        double sumSq = 0;
        for (byte b : pixels) {
            double x = (b & 0xff) / 255.0;
            sum += x;
            sumSq += x * x;
        }
        double mean = sum / pixels.length;
        double std = Math.sqrt(Math.max(sumSq / pixels.length - mean * mean, 1e-12));
        return new Manifest.Normalisation("standardise", 1.0 / 255.0, Math.round(mean * 1e6) / 1e6, Math.round(std * 1e6) / 1e6);
    }

    /** Features and per-pixel one-hot labels (N x classes x H x W) for mosaics and their masks. */
    public static DataSet toDataSet(byte[] pixels, byte[] masks, int channels, int height, int width, int numClasses,
                                    Manifest.Normalisation norm) {
        int plane = height * width;
        int n = masks.length / plane;
        float[] features = new float[pixels.length];
        for (int i = 0; i < pixels.length; i++) {
            features[i] = (float) (((pixels[i] & 0xff) * norm.scale() - norm.mean()) / norm.std());
        }
        float[] labels = new float[n * numClasses * plane];
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < plane; p++) {
                labels[(i * numClasses + masks[i * plane + p]) * plane + p] = 1f;
            }
        }
        INDArray f = Nd4j.create(features, new long[]{n, channels, height, width}, 'c');
        INDArray l = Nd4j.create(labels, new long[]{n, numClasses, height, width}, 'c').castTo(DataType.FLOAT);
        return new DataSet(f, l);
    }

    record MaskShardTask(String split, int index, int channels, int height, int width, int numClasses, byte[] pixels,
                         byte[] masks) implements Serializable {
        ShardWriter.WrittenShard write(String stagingUri, Manifest.Normalisation norm) throws java.io.IOException {
            DataSet ds = toDataSet(pixels, masks, channels, height, width, numClasses, norm);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            ds.save(bytes);
            byte[] data = bytes.toByteArray();
            String file = split + "/shard-" + String.format("%05d", index) + ".bin";
            Fs.writeBytes(new Path(stagingUri + "/" + file), data, new Configuration());
            long[] counts = new long[numClasses];
            for (byte m : masks) {
                counts[m]++;
            }
            return new ShardWriter.WrittenShard(split, new Manifest.Shard(file, masks.length / (height * width),
                    Checksums.sha256(data)), counts);
        }
    }
}
