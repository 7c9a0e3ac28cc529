package sparkconv.shards;

import java.io.ByteArrayOutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import sparkconv.SparkconvException;
import sparkconv.data.Checksums;
import sparkconv.data.FeatureSet;
import sparkconv.data.ImageSet;
import sparkconv.spark.Fs;
import sparkconv.spark.SparkSessions;

/**
 * Writes named splits of an {@link ImageSet} (or a {@link FeatureSet}) as DL4J DataSet shards (one minibatch per file) plus
 * {@code manifest.json}, with a Spark job: each task normalises and serialises its minibatches and writes
 * them to a staging directory, which is renamed into place only when every shard and the manifest exist.
 * The same inputs and options always give byte-identical shards, so a re-run finds the output complete.
 */
public final class ShardWriter {
    private static final Logger LOG = LoggerFactory.getLogger(ShardWriter.class);
    public static final String SUCCESS = "_SUCCESS";

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
        return writeTasks(spark, tasks, splits.keySet(), new Manifest.Shape(train.channels(), train.height(), train.width()),
                train.classNames(), normalisation(train), sources, out, options);
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
        return writeTasks(spark, tasks, splits.keySet(), new Manifest.Shape(train.channels(), train.height(), train.width()),
                train.classNames(), normalisation(train.features()), sources, out, options);
    }

    private static Result writeTasks(SparkSession spark, List<ShardTask> tasks, java.util.Collection<String> splitNames,
                                     Manifest.Shape shape, List<String> classNames, Manifest.Normalisation norm,
                                     List<ImageSet.SourceFile> sources, String out, Options options) {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Map<String, String> lineage = lineage(options);

        Path target = Fs.path(out);
        if (Fs.exists(target, conf)) {
            Manifest existing = completeFor(out, sources, options, conf);
            if (existing != null) {
                LOG.info("{} is complete for these inputs; nothing to do", out);
                return new Result(existing, true);
            }
            if (!options.overwrite()) {
                throw new SparkconvException(out + ": already exists with other inputs or options (pass --overwrite to replace it)");
            }
        }

        Path staging = new Path(target.getParent(), "." + target.getName() + ".staging-" + UUID.randomUUID());
        try {
            JavaSparkContext jsc = SparkSessions.javaContext(spark);
            String stagingUri = staging.toString();
            int numClasses = classNames.size();
            int slices = Math.max(1, Math.min(tasks.size(), jsc.defaultParallelism() * 4));
            List<WrittenShard> written = jsc.parallelize(tasks, slices)
                    .mapPartitions(part -> {
                        // one Configuration per task: each new one re-parses Hadoop's XML resources (~ms)
                        Configuration taskConf = new Configuration();
                        List<WrittenShard> shards = new ArrayList<>();
                        while (part.hasNext()) {
                            shards.add(part.next().write(stagingUri, shape, numClasses, norm, taskConf));
                        }
                        return shards.iterator();
                    })
                    .collect();

            Map<String, Manifest.Split> splitMeta = new LinkedHashMap<>();
            for (String split : splitNames) {
                long[] classCounts = new long[numClasses];
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
            Manifest manifest = new Manifest(Manifest.FORMAT, Manifest.VERSION, options.dataset(), shape, classNames,
                    options.batchSize(), norm, splitMeta, sources, lineage);
            Fs.writeString(new Path(staging, Manifest.FILE), manifest.toJson(), conf);
            Fs.writeString(new Path(staging, SUCCESS), "", conf);
            if (Fs.exists(target, conf)) {
                Fs.delete(target, conf);
            }
            Fs.rename(staging, target, conf);
            return new Result(manifest, false);
        } finally {
            if (Fs.exists(staging, conf)) {
                Fs.delete(staging, conf);
            }
        }
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
        if (!Fs.exists(Fs.child(dir, SUCCESS), conf) || !Fs.exists(Fs.child(dir, Manifest.FILE), conf)) {
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

    /** Mean and standard deviation of the training split's scaled pixels (training split only: no leakage). */
    static Manifest.Normalisation normalisation(ImageSet train) {
        double scale = 1.0 / 255.0;
        long[] histogram = new long[256];
        for (byte b : train.pixels()) {
            histogram[b & 0xff]++;
        }
        double n = train.pixels().length;
        double sum = 0;
        double sumSq = 0;
        for (int v = 0; v < 256; v++) {
            double x = v * scale;
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
        int n = labels.length;
        float[] features = new float[pixels.length];
        float scale = (float) norm.scale();
        float mean = (float) norm.mean();
        float std = (float) norm.std();
        for (int i = 0; i < pixels.length; i++) {
            features[i] = ((pixels[i] & 0xff) * scale - mean) / std;
        }
        INDArray f = Nd4j.create(features, new long[]{n, channels, height, width}, 'c');
        return new DataSet(f, oneHot(labels, numClasses));
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

        DataSet toDataSet(Manifest.Shape shape, int numClasses, Manifest.Normalisation norm);
    }

    record PixelBatch(byte[] pixels, int[] labels) implements Batch {
        @Override
        public DataSet toDataSet(Manifest.Shape shape, int numClasses, Manifest.Normalisation norm) {
            return ShardWriter.toDataSet(pixels, labels, shape.channels(), shape.height(), shape.width(), numClasses, norm);
        }
    }

    record FeatureBatch(float[] features, int[] labels) implements Batch {
        @Override
        public DataSet toDataSet(Manifest.Shape shape, int numClasses, Manifest.Normalisation norm) {
            float[] normalised = new float[features.length];
            float scale = (float) norm.scale();
            float mean = (float) norm.mean();
            float std = (float) norm.std();
            for (int i = 0; i < features.length; i++) {
                normalised[i] = (features[i] * scale - mean) / std;
            }
            INDArray f = Nd4j.create(normalised, new long[]{labels.length, shape.channels(), shape.height(), shape.width()}, 'c');
            return new DataSet(f, oneHot(labels, numClasses));
        }
    }

    record ShardTask(String split, int index, Batch batch) implements Serializable {
        WrittenShard write(String stagingUri, Manifest.Shape shape, int numClasses, Manifest.Normalisation norm,
                           Configuration conf) throws java.io.IOException {
            DataSet ds = batch.toDataSet(shape, numClasses, norm);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            ds.save(bytes);
            byte[] data = bytes.toByteArray();
            String file = split + "/shard-" + String.format("%05d", index) + ".bin";
            Fs.writeBytes(new Path(stagingUri + "/" + file), data, conf);
            long[] counts = new long[numClasses];
            for (int y : batch.labels()) {
                counts[y]++;
            }
            return new WrittenShard(split, new Manifest.Shard(file, batch.labels().length, Checksums.sha256(data)), counts);
        }
    }

    record WrittenShard(String split, Manifest.Shard shard, long[] classCounts) implements Serializable {
    }
}
