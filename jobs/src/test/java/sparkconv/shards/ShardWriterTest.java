package sparkconv.shards;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;

import sparkconv.LocalSpark;
import sparkconv.data.DecodedImage;
import sparkconv.data.ImageSet;
import sparkconv.spark.SparkSessions;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class ShardWriterTest {
    static final List<String> CLASSES = List.of("ant", "bee", "cow");
    static final List<String> SPLITS = List.of("train", "validation", "test");
    static SparkSession spark;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        spark = LocalSpark.get();
    }

    /** Images of 1x3x5 random pixels with random classes; keys chosen so that some are prefixes of others. */
    static List<DecodedImage> images(String split, int n, long seed) {
        Random rng = new Random(seed);
        List<DecodedImage> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] px = new byte[15];
            rng.nextBytes(px);
            String label = CLASSES.get(rng.nextInt(CLASSES.size()));
            String key = label + "/" + Integer.toString(rng.nextInt(1_000_000), 36) + (i % 3 == 0 ? "" : ".png");
            out.add(new DecodedImage("file:/src/" + key + "#" + i, key, label, split, px, 20, null, null));
        }
        return out;
    }

    /** The in-memory writer's input: each split's images in key order (then path), as an ImageSet. */
    static ImageSet imageSet(List<DecodedImage> images) {
        List<DecodedImage> sorted = new ArrayList<>(images);
        sorted.sort((a, b) -> ShardPlan.sortKey(0, a.key(), a.path()).compareTo(ShardPlan.sortKey(0, b.key(), b.path())));
        byte[] px = new byte[sorted.size() * 15];
        int[] labels = new int[sorted.size()];
        for (int i = 0; i < sorted.size(); i++) {
            System.arraycopy(sorted.get(i).pixels(), 0, px, i * 15, 15);
            labels[i] = CLASSES.indexOf(sorted.get(i).label());
        }
        return new ImageSet(1, 3, 5, CLASSES, px, labels, List.of());
    }

    static ShardWriter.Options options(int batch) {
        return new ShardWriter.Options("test", batch, false, Map.of("job", "test"));
    }

    @Test
    void theDistributedWriterWritesTheSameShardsAsTheInMemoryOneWhateverThePartitioning() throws Exception {
        List<DecodedImage> train = images("train", 103, 1);
        List<DecodedImage> test = images("test", 37, 2);
        Map<String, ImageSet> splits = new LinkedHashMap<>();
        splits.put("train", imageSet(train));
        splits.put("validation", imageSet(List.of()));
        splits.put("test", imageSet(test));
        String inMemoryOut = dir.resolve("in-memory").toString();
        Manifest expected = ShardWriter.write(spark, splits, inMemoryOut, options(8)).manifest();

        List<DecodedImage> all = new ArrayList<>(train);
        all.addAll(test);
        Collections.shuffle(all, new Random(3));
        JavaRDD<DecodedImage> rdd = SparkSessions.javaContext(spark).parallelize(all, 7);
        for (int writers : new int[]{1, 3, 1000}) {
            String out = dir.resolve("rdd-" + writers).toString();
            Manifest actual = ShardWriter.write(spark, rdd, ImageStats.of(rdd, SPLITS), new Manifest.Shape(1, 3, 5), null, List.of(), out,
                    options(8), writers).manifest();
            // The distributed writer also records what it quarantined (nothing here); everything else is the same.
            assertEquals(Map.of(), actual.quarantined(), writers + " writers: nothing quarantined");
            Manifest withoutCounts = new Manifest(actual.format(), actual.version(), actual.dataset(), actual.shape(), actual.classes(),
                    actual.batchSize(), actual.normalisation(), actual.splits(), actual.sources(), actual.lineage());
            assertEquals(expected.toJson(), withoutCounts.toJson(), writers + " writers: same manifest, shard checksums included");
            for (String split : SPLITS) {
                List<String> a = expected.shardUris(inMemoryOut, split);
                List<String> b = actual.shardUris(out, split);
                for (int i = 0; i < a.size(); i++) {
                    assertArrayEquals(Files.readAllBytes(Path.of(a.get(i).replace("file:", ""))),
                            Files.readAllBytes(Path.of(b.get(i).replace("file:", ""))), split + " shard " + i);
                }
            }
        }
        assertEquals(13, expected.splits().get("train").shards().size());
        assertEquals(7, expected.splits().get("train").shards().get(12).examples());
        assertEquals(0, expected.splits().get("validation").examples());
    }

    @Test
    void normalisationFromTheHistogramIsTheMeanAndStdOfThePixels() {
        byte[] px = new byte[1000];
        new Random(4).nextBytes(px);
        double sum = 0;
        double sumSq = 0;
        for (byte b : px) {
            sum += (b & 0xff) / 255.0;
            sumSq += Math.pow((b & 0xff) / 255.0, 2);
        }
        double mean = sum / px.length;
        Manifest.Normalisation n = ShardWriter.normalisation(ShardWriter.histogram(px));
        assertEquals(mean, n.mean(), 1e-6);
        assertEquals(Math.sqrt(sumSq / px.length - mean * mean), n.std(), 1e-6);
    }

    @Test
    void shardBytesAreWhatDataSetSaveWritesAndDataSetLoadReadsThem() throws Exception {
        byte[] px = new byte[5 * 3 * 4 * 2];
        new Random(5).nextBytes(px);
        int[] labels = {2, 0, 1, 1, 3};
        Manifest.Normalisation norm = new Manifest.Normalisation("standardise", 1 / 255.0, 0.4, 0.25);
        DataSet ds = ShardWriter.toDataSet(px, labels, 3, 4, 2, 4, norm);
        ByteArrayOutputStream saved = new ByteArrayOutputStream();
        ds.save(saved);
        byte[] fast = ShardBytes.dataSet(ShardWriter.standardise(px, norm), new long[]{5, 3, 4, 2}, labels, 4);
        assertArrayEquals(saved.toByteArray(), fast);

        float[] values = {1.5f, -2f, 0f, 3.25f, 7f, -0.5f};
        float[] soft = {0.1f, 0.9f, 0.7f, 0.3f};
        ByteArrayOutputStream saved2 = new ByteArrayOutputStream();
        new DataSet(org.nd4j.linalg.factory.Nd4j.create(values, new long[]{2, 3}, 'c'),
                org.nd4j.linalg.factory.Nd4j.create(soft, new long[]{2, 2}, 'c')).save(saved2);
        assertArrayEquals(saved2.toByteArray(), ShardBytes.dataSet(values, new long[]{2, 3}, soft, new long[]{2, 2}));

        DataSet loaded = new DataSet();
        loaded.load(new ByteArrayInputStream(fast));
        assertEquals(ds.getFeatures(), loaded.getFeatures());
        assertEquals(ds.getLabels(), loaded.getLabels());
        assertArrayEquals(new long[]{5, 3, 4, 2}, loaded.getFeatures().shape());
        assertEquals(Arrays.stream(labels).boxed().toList(),
                Arrays.stream(loaded.getLabels().argMax(1).toIntVector()).boxed().toList());
    }
}
