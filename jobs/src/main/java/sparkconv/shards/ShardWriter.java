package sparkconv.shards;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

import sparkconv.SparkconvException;
import sparkconv.data.Checksums;
import sparkconv.data.DecodedImage;
import sparkconv.data.FeatureSet;
import sparkconv.data.ImageSet;
import sparkconv.spark.FaultPoint;
import sparkconv.spark.Fs;
import sparkconv.spark.JobDescriptions;
import sparkconv.spark.SparkSessions;
import sparkconv.spark.StagedCommit;

/**
 * Writes named splits of an {@link ImageSet} (or a {@link FeatureSet}) as DL4J DataSet shards (one minibatch per file) plus
 * {@code manifest.json}, with a Spark job: each task normalises and serialises its minibatches and writes
 * them to a staging directory, which is renamed into place only when every shard and the manifest exist.
 * The same inputs and options always give byte-identical shards, so a re-run finds the output complete.
 */
public final class ShardWriter {
    private static final Logger LOG = LoggerFactory.getLogger(ShardWriter.class);

    private ShardWriter() {
    }

    /** What a caller asked for; it goes into the manifest's lineage, so a re-run with other options is not "complete". */
    public record Options(String dataset, int batchSize, boolean overwrite, Map<String, String> lineage) {
        public Options {
            if (batchSize < 1) {
                throw new SparkconvException("--batch must be at least 1, got " + batchSize);
            }
        }
    }

    /** Result: the manifest, and whether it was already there (nothing written). */
    public record Result(Manifest manifest, boolean upToDate) {
    }

    public static Result write(SparkSession spark, Map<String, ImageSet> splits, String out, Options options) {
        ImageSet train = splits.get("train");
        if (train == null || train.size() == 0) {
            throw new SparkconvException(out + ": no training images to shard");
        }
        List<ShardTask> tasks = new ArrayList<>();
        List<ImageSet.SourceFile> sources = new ArrayList<>();
        for (Map.Entry<String, ImageSet> e : splits.entrySet()) {
            ImageSet set = e.getValue();
            addSources(sources, set.sources());
            int index = 0;
            for (int from = 0; from < set.size(); from += options.batchSize()) {
                ImageSet batch = set.slice(from, Math.min(set.size(), from + options.batchSize()));
                tasks.add(new ShardTask(e.getKey(), index++, new PixelBatch(batch.pixels(), batch.labels())));
            }
        }
        Layout layout = new Layout(new Manifest.Shape(train.channels(), train.height(), train.width()), train.classNames(),
                normalisation(histogram(train.pixels())), List.copyOf(splits.keySet()));
        return writeTasks(spark, tasks, layout, sources, out, options);
    }

    /**
     * Writes real-valued examples (e.g. return tensors) in the same shard and manifest format as images; the
     * normalisation is {@code standardise} with scale 1 and the training split's mean and std.
     */
    public static Result writeFeatures(SparkSession spark, Map<String, FeatureSet> splits, String out, Options options) {
        FeatureSet train = splits.get("train");
        if (train == null || train.size() == 0) {
            throw new SparkconvException(out + ": no training examples to shard");
        }
        List<ShardTask> tasks = new ArrayList<>();
        List<ImageSet.SourceFile> sources = new ArrayList<>();
        for (Map.Entry<String, FeatureSet> e : splits.entrySet()) {
            FeatureSet set = e.getValue();
            addSources(sources, set.sources());
            int index = 0;
            for (int from = 0; from < set.size(); from += options.batchSize()) {
                FeatureSet batch = set.slice(from, Math.min(set.size(), from + options.batchSize()));
                tasks.add(new ShardTask(e.getKey(), index++, new FeatureBatch(batch.features(), batch.labels())));
            }
        }
        Layout layout = new Layout(new Manifest.Shape(train.channels(), train.height(), train.width()), train.classNames(),
                normalisation(train.features()), List.copyOf(splits.keySet()));
        return writeTasks(spark, tasks, layout, sources, out, options);
    }

    /**
     * Writes decoded images held by executors, never bringing pixels to the driver: the same shards, byte for byte, as
     * {@link #write(SparkSession, Map, String, Options)} of the same images in key order per split. {@code stats} are
     * those of {@code images} ({@link ImageStats#of}); quarantined images are left out. Shard boundaries come from a
     * sort of the keys alone; then one shuffle brings each shard's images, sorted, into the task that writes it. Only
     * per-shard metadata (file, count, checksum, class counts) comes back. Cache {@code images}: it is read 3 more times.
     *
     * @param classes the class names in label order, or null for the sorted labels of the images
     */
    public static Result write(SparkSession spark, JavaRDD<DecodedImage> images, ImageStats stats, Manifest.Shape shape,
                               List<String> classes, List<ImageSet.SourceFile> sources, String out, Options options) {
        return write(spark, images, stats, shape, classes, sources, out, options, 0);
    }

    /** @param writers writing (and key-sorting) tasks wanted; 0 for about twice the default parallelism, more for large inputs */
    static Result write(SparkSession spark, JavaRDD<DecodedImage> images, ImageStats stats, Manifest.Shape shape,
                        List<String> classes, List<ImageSet.SourceFile> sources, String out, Options options, int writers) {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Result done = upToDate(out, sources, options, conf);
        if (done != null) {
            return done;
        }
        if (stats.splitCounts[0] == 0) {
            throw new SparkconvException(out + ": no training images to shard");
        }
        List<String> splits = stats.splits();
        List<String> classNames = classes != null ? classes : List.copyOf(stats.labels);
        Layout layout = new Layout(shape, classNames, normalisation(stats.trainHistogram), splits);
        long imageBytes = (long) shape.channels() * shape.height() * shape.width();
        ShardPlan plan = ShardPlan.of(stats.splitCounts, options.batchSize(),
                writers > 0 ? writers : Math.max(2L * images.context().defaultParallelism(), stats.usable() * imageBytes / TASK_BYTES));
        JavaPairRDD<String, Tuple2<Integer, byte[]>> keyed = images.filter(DecodedImage::ok).mapToPair(d -> new Tuple2<>(
                ShardPlan.sortKey(splits.indexOf(d.split()), d.key(), d.path()), new Tuple2<>(classNames.indexOf(d.label()), d.pixels())));
        int sortTasks = writers > 0 ? writers : (int) Math.max(1, (stats.usable() + KEYS_PER_SORT_TASK - 1) / KEYS_PER_SORT_TASK);
        String[] boundaries = plan.partitions() == 1 ? new String[0] : JobDescriptions.step(images.context(),
                "sort " + stats.usable() + " image keys for the boundaries of " + plan.partitions() + " shard writers",
                () -> boundaryKeys(keyed.keys(), plan, sortTasks));
        return commit(spark, layout, sources, out, options, stats.quarantined(), stagingUri -> keyed
                .repartitionAndSortWithinPartitions(new ShardPlan.Partitioner(boundaries))
                .mapPartitionsWithIndex((p, records) -> plan.write(p, records, stagingUri, layout).iterator(), true)
                .collect());
    }

    /**
     * Pixels per writing task, at most: each task sorts its images in memory (spilling if it must), so more images make
     * more tasks, not larger ones.
     */
    private static final long TASK_BYTES = 4L << 20;

    /**
     * Keys (~100 bytes each) per key-sorting task, at most. One task needs no sampling pass (a range partitioner's) and
     * no counting pass (a multi-task zipWithIndex's), ~10% of a preprocess's CPU; past this many keys more tasks share
     * them, so a task's memory stays bounded as the images grow.
     */
    private static final long KEYS_PER_SORT_TASK = 100_000;

    /**
     * The sort key at which each writer partition after the first starts: keys alone are sorted (by {@code sortTasks}
     * tasks) and numbered, and the keys at the plan's partition starts (one per partition) come back to the driver.
     */
    private static String[] boundaryKeys(JavaRDD<String> keys, ShardPlan plan, int sortTasks) {
        java.util.Set<Long> starts = new java.util.HashSet<>();
        for (int p = 1; p < plan.partitions(); p++) {
            starts.add(plan.firstExample(p));
        }
        List<Tuple2<String, Long>> found = keys.sortBy(k -> k, true, sortTasks).zipWithIndex()
                .filter(t -> starts.contains(t._2())).collect();
        return found.stream().sorted(java.util.Comparator.comparing(Tuple2::_2)).map(Tuple2::_1).toArray(String[]::new);
    }

    private static Result writeTasks(SparkSession spark, List<ShardTask> tasks, Layout layout, List<ImageSet.SourceFile> sources,
                                     String out, Options options) {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Result done = upToDate(out, sources, options, conf);
        if (done != null) {
            return done;
        }
        JavaSparkContext jsc = SparkSessions.javaContext(spark);
        int slices = Math.max(1, Math.min(tasks.size(), jsc.defaultParallelism() * 4));
        return commit(spark, layout, sources, out, options, null, stagingUri -> jsc.parallelize(tasks, slices)
                .mapPartitions(part -> {
                    // one Configuration per task: each new one re-parses Hadoop's XML resources (~ms)
                    Configuration taskConf = new Configuration();
                    List<WrittenShard> shards = new ArrayList<>();
                    while (part.hasNext()) {
                        FaultPoint.reached();
                        shards.add(part.next().write(stagingUri, layout, taskConf));
                    }
                    return shards.iterator();
                })
                .collect());
    }

    /** What every shard of one output shares: written into the manifest, and needed by every writing task. */
    record Layout(Manifest.Shape shape, List<String> classNames, Manifest.Normalisation norm, List<String> splits)
            implements Serializable {
        int numClasses() {
            return classNames.size();
        }
    }

    /** The existing result when {@code out} is complete for these inputs; an error when it exists otherwise (no --overwrite). */
    private static Result upToDate(String out, List<ImageSet.SourceFile> sources, Options options, Configuration conf) {
        if (!Fs.exists(Fs.path(out), conf)) {
            return null;
        }
        Manifest existing = completeFor(out, sources, options, conf);
        if (existing != null) {
            LOG.info("{} is complete for these inputs; nothing to do", out);
            return new Result(existing, true);
        }
        if (!options.overwrite()) {
            throw new SparkconvException(out + ": already exists with other inputs or options (pass --overwrite to replace it)");
        }
        return null;
    }

    /**
     * Runs {@code writeShards} into a fresh staging directory, writes the manifest from the shards it reports, and
     * commits it ({@link StagedCommit}): readers see all shards or none.
     *
     * @param quarantined inputs left out by reason, for the manifest; null when the job quarantines nothing
     */
    private static Result commit(SparkSession spark, Layout layout, List<ImageSet.SourceFile> sources, String out, Options options,
                                 Map<String, Long> quarantined, java.util.function.Function<String, List<WrittenShard>> writeShards) {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        return StagedCommit.commit(Fs.path(out), conf, true, "shards", staging -> {
            List<WrittenShard> written = new ArrayList<>(JobDescriptions.step(spark.sparkContext(), "write shards of " + out,
                    () -> writeShards.apply(staging.toString())));
            // shard-00009 before shard-00010 before shard-100000: shorter names first, then by name
            written.sort(java.util.Comparator.comparingInt((WrittenShard w) -> w.shard().file().length()).thenComparing(w -> w.shard().file()));
            Map<String, Manifest.Split> splitMeta = new LinkedHashMap<>();
            for (String split : layout.splits()) {
                long[] classCounts = new long[layout.numClasses()];
                List<Manifest.Shard> shards = new ArrayList<>();
                long examples = 0;
                for (WrittenShard w : written) {
                    if (w.split().equals(split)) {
                        shards.add(w.shard());
                        examples += w.shard().examples();
                        for (int c = 0; c < classCounts.length; c++) {
                            classCounts[c] += w.classCounts()[c];
                        }
                    }
                }
                splitMeta.put(split, new Manifest.Split(examples, classCounts, shards));
            }
            Manifest manifest = new Manifest(Manifest.FORMAT, Manifest.VERSION, options.dataset(), layout.shape(), layout.classNames(),
                    options.batchSize(), layout.norm(), splitMeta, sources, lineage(options),
                    quarantined == null ? null : new java.util.TreeMap<>(quarantined));
            Fs.writeString(new Path(staging, Manifest.FILE), manifest.toJson(), conf);
            return new Result(manifest, false);
        });
    }

    /**
     * The manifest of {@code out} if it is complete and was made from these sources with these options, else null:
     * lets readers that decode their inputs (image folders, archives) skip before decoding anything.
     */
    public static Manifest completeFor(String out, List<ImageSet.SourceFile> sources, Options options, Configuration conf) {
        Manifest existing = completeManifest(out, conf);
        boolean same = existing != null && Objects.equals(existing.sources(), sources)
                && Objects.equals(existing.lineage(), lineage(options));
        return same ? existing : null;
    }

    private static Map<String, String> lineage(Options options) {
        Map<String, String> lineage = new LinkedHashMap<>(options.lineage());
        lineage.put("batchSize", Integer.toString(options.batchSize()));
        return lineage;
    }

    /** The manifest of {@code dir} if it is a complete shard directory ({@code _SUCCESS} present), else null. */
    public static Manifest completeManifest(String dir, Configuration conf) {
        if (!Fs.exists(Fs.child(dir, StagedCommit.SUCCESS), conf) || !Fs.exists(Fs.child(dir, Manifest.FILE), conf)) {
            return null;
        }
        return Manifest.read(dir, conf);
    }

    private static void addSources(List<ImageSet.SourceFile> out, List<ImageSet.SourceFile> files) {
        for (ImageSet.SourceFile f : files) {
            if (!out.contains(f)) {
                out.add(f);
            }
        }
    }

    static long[] histogram(byte[] pixels) {
        long[] histogram = new long[256];
        for (byte b : pixels) {
            histogram[b & 0xff]++;
        }
        return histogram;
    }

    /** Mean and standard deviation of the training split's scaled pixels, from their histogram (training split only: no leakage). */
    static Manifest.Normalisation normalisation(long[] histogram) {
        double scale = 1.0 / 255.0;
        double n = 0;
        double sum = 0;
        double sumSq = 0;
        for (int v = 0; v < 256; v++) {
            double x = v * scale;
            n += histogram[v];
            sum += histogram[v] * x;
            sumSq += histogram[v] * x * x;
        }
        double mean = sum / n;
        double std = Math.sqrt(Math.max(sumSq / n - mean * mean, 1e-12));
        return new Manifest.Normalisation("standardise", scale, round(mean), round(std));
    }

    /** Mean and standard deviation of the training split's features (scale 1; training split only). */
    static Manifest.Normalisation normalisation(float[] train) {
        double sum = 0;
        double sumSq = 0;
        for (float x : train) {
            sum += x;
            sumSq += (double) x * x;
        }
        double mean = sum / train.length;
        double std = Math.sqrt(Math.max(sumSq / train.length - mean * mean, 1e-12));
        return new Manifest.Normalisation("standardise", 1.0, mean, std);
    }

    private static double round(double v) {
        return Math.round(v * 1e6) / 1e6;
    }

    /** Normalised features (N, C, H, W) and one-hot labels for raw pixels: shared with scoring. */
    public static DataSet toDataSet(byte[] pixels, int[] labels, int channels, int height, int width, int numClasses,
                                    Manifest.Normalisation norm) {
        INDArray f = Nd4j.create(standardise(pixels, norm), new long[]{labels.length, channels, height, width}, 'c');
        return new DataSet(f, oneHot(labels, numClasses));
    }

    /** {@code (pixel * scale - mean) / std} in float arithmetic, looked up: a byte has only 256 values. */
    public static float[] standardise(byte[] pixels, Manifest.Normalisation norm) {
        float scale = (float) norm.scale();
        float mean = (float) norm.mean();
        float std = (float) norm.std();
        float[] table = new float[256];
        for (int v = 0; v < 256; v++) {
            table[v] = (v * scale - mean) / std;
        }
        float[] features = new float[pixels.length];
        for (int i = 0; i < pixels.length; i++) {
            features[i] = table[pixels[i] & 0xff];
        }
        return features;
    }

    private static INDArray oneHot(int[] labels, int numClasses) {
        INDArray l = Nd4j.zeros(DataType.FLOAT, labels.length, numClasses);
        for (int i = 0; i < labels.length; i++) {
            l.putScalar(i, labels[i], 1f);
        }
        return l;
    }

    /** One minibatch's raw examples: pixels (images) or real values (features). */
    sealed interface Batch extends Serializable permits PixelBatch, FeatureBatch {
        int[] labels();

        /** The shard file's bytes: what {@code DataSet.save} writes for the normalised features and one-hot labels. */
        byte[] toBytes(Layout layout);
    }

    record PixelBatch(byte[] pixels, int[] labels) implements Batch {
        @Override
        public byte[] toBytes(Layout layout) {
            Manifest.Shape s = layout.shape();
            return ShardBytes.dataSet(standardise(pixels, layout.norm()), new long[]{labels.length, s.channels(), s.height(), s.width()},
                    labels, layout.numClasses());
        }
    }

    record FeatureBatch(float[] features, int[] labels) implements Batch {
        @Override
        public byte[] toBytes(Layout layout) {
            float[] normalised = new float[features.length];
            Manifest.Normalisation norm = layout.norm();
            float scale = (float) norm.scale();
            float mean = (float) norm.mean();
            float std = (float) norm.std();
            for (int i = 0; i < features.length; i++) {
                normalised[i] = (features[i] * scale - mean) / std;
            }
            Manifest.Shape s = layout.shape();
            return ShardBytes.dataSet(normalised, new long[]{labels.length, s.channels(), s.height(), s.width()}, labels, layout.numClasses());
        }
    }

    record ShardTask(String split, int index, Batch batch) implements Serializable {
        WrittenShard write(String stagingUri, Layout layout, Configuration conf) {
            return writeShard(stagingUri, split, index, batch, layout, conf);
        }
    }

    /** Writes one shard file under the staging directory: the one place shard files are made. */
    static WrittenShard writeShard(String stagingUri, String split, int index, Batch batch, Layout layout, Configuration conf) {
        byte[] data = batch.toBytes(layout);
        String file = split + "/shard-" + String.format("%05d", index) + ".bin";
        Path path = new Path(stagingUri + "/" + file);
        if ("file".equals(path.toUri().getScheme())) {
            // Hadoop's local file system forks a chmod per file it creates (without its native library), which cost more
            // than making the shard; the staging directory is new, so no checksum file of Hadoop's can go stale
            try {
                java.nio.file.Path local = java.nio.file.Path.of(path.toUri());
                java.nio.file.Files.createDirectories(local.getParent());
                java.nio.file.Files.write(local, data);
            } catch (java.io.IOException e) {
                throw new SparkconvException(path + ": cannot write: " + e.getMessage(), e);
            }
        } else {
            Fs.writeBytes(path, data, conf);
        }
        long[] counts = new long[layout.numClasses()];
        for (int y : batch.labels()) {
            counts[y]++;
        }
        return new WrittenShard(split, new Manifest.Shard(file, batch.labels().length, Checksums.sha256(data)), counts);
    }

    public record WrittenShard(String split, Manifest.Shard shard, long[] classCounts) implements Serializable {
    }
}
