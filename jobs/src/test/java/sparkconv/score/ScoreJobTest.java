package sparkconv.score;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import sparkconv.LocalSpark;
import sparkconv.TestModels;
import sparkconv.SparkconvException;
import sparkconv.data.ImageDecoder;
import sparkconv.data.TestImages;
import sparkconv.models.ModelZoo;
import sparkconv.shards.Manifest;
import sparkconv.shards.ShardWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScoreJobTest {
    static final List<String> CLASSES = List.of("bird", "cat", "dog");
    static final Manifest.Normalisation NORM = new Manifest.Normalisation("standardise", 1 / 255.0, 0.45, 0.3);
    static SparkSession spark;
    static MultiLayerNetwork net;
    static String store;

    @TempDir
    static Path shared;

    @TempDir
    Path dir;

    /** An untrained seed-trace CNN with a fixed seed, stored as tiny v1 with the metadata sparkconv train writes. */
    @BeforeAll
    static void storeModel() {
        spark = LocalSpark.get();
        net = network(new ModelZoo.Input(1, 28, 28), CLASSES.size());
        store = shared.resolve("store").toString();
        publish("tiny", net, new ModelZoo.Input(1, 28, 28), CLASSES);
    }

    static MultiLayerNetwork network(ModelZoo.Input input, int classes) {
        return TestModels.untrained(input, classes);
    }

    static void publish(String name, MultiLayerNetwork network, ModelZoo.Input input, List<String> classes) {
        TestModels.publish(store, name, network, input, classes, NORM);
    }

    /** The single-JVM reference: one image, decoded and normalised the same way, through output(). */
    static double[] reference(byte[] encoded) {
        byte[] px = new ImageDecoder(1, 28, 28, ImageDecoder.DEFAULT_MAX_PIXELS).decode(encoded);
        INDArray f = ShardWriter.toDataSet(px, new int[1], 1, 28, 28, CLASSES.size(), NORM).getFeatures();
        return net.output(f, false).getRow(0).toDoubleVector();
    }

    static Map<String, byte[]> goodImages() {
        Map<String, byte[]> m = new LinkedHashMap<>();
        int seed = 100;
        for (String c : CLASSES) {
            for (int i = 0; i < 4; i++) {
                seed++;
                m.put(c + "/" + i + (i == 3 ? ".jpg" : ".png"), i == 3 ? TestImages.rgb(40, 30, seed, "jpeg") : TestImages.grey(28, 28, seed, "png"));
            }
        }
        return m;
    }

    @Test
    void aMixedArchiveIsScoredRowByRowAsSingleJvmOutputWould() throws Exception {
        Map<String, byte[]> good = goodImages();
        byte[] png = TestImages.grey(28, 28, 7, "png");
        List<TestImages.Entry> entries = new ArrayList<>();
        good.forEach((name, data) -> entries.add(TestImages.Entry.file(name, data)));
        entries.add(TestImages.Entry.file("cat/empty.png", new byte[0]));
        entries.add(TestImages.Entry.file("dog/cut.png", TestImages.truncated(png, png.length / 2)));
        entries.add(TestImages.Entry.file("bird/notes.txt", TestImages.text("not an image")));
        entries.add(TestImages.Entry.file("../escape/x.png", png));
        entries.add(TestImages.Entry.symlink("cat/link.png", "/etc/passwd"));
        entries.add(TestImages.Entry.file("dog/crc.png", TestImages.pngWithBadCrc(png, "IDAT")));
        Path zip = dir.resolve("mixed.zip");
        TestImages.zip(zip, entries.toArray(TestImages.Entry[]::new));
        String out = dir.resolve("scores").toString();

        int loadsBefore = ModelCache.loads(); // other test classes in this JVM load their own models
        ScoreJob.Result r = ScoreJob.run(spark, new ScoreJob.Request("tiny:latest", store, zip.toString(), null, out, 2, 5, true, false));

        assertEquals(good.size() + 6, r.images());
        assertEquals(6, r.errors());
        assertTrue(Files.exists(dir.resolve("scores/_SUCCESS")));
        Dataset<Row> df = spark.read().parquet(out);
        assertEquals(ScoreJob.OUTPUT_COLUMNS, List.of(df.columns()));
        Map<String, Row> byEntry = new LinkedHashMap<>();
        for (Row row : df.collectAsList()) {
            byEntry.put(row.getString(0).substring(row.getString(0).indexOf("!/") + 2), row);
        }
        assertEquals(good.size() + 6, byEntry.size());
        for (var e : good.entrySet()) {
            Row row = byEntry.get(e.getKey());
            double[] expected = reference(e.getValue());
            int best = 0;
            for (int c = 1; c < expected.length; c++) {
                best = expected[c] > expected[best] ? c : best;
            }
            assertNull(row.get(8), e.getKey());
            assertEquals(best, row.getInt(1), e.getKey());
            assertEquals(CLASSES.get(best), row.getString(2));
            assertEquals(expected[best], row.getDouble(3), 1e-5, e.getKey());
            List<Row> topK = row.getList(4);
            assertEquals(2, topK.size());
            assertEquals(best, topK.get(0).getInt(0));
            assertEquals(expected[topK.get(1).getInt(0)], topK.get(1).getDouble(2), 1e-5);
            assertTrue(topK.get(0).getDouble(2) >= topK.get(1).getDouble(2));
            assertEquals("tiny", row.getString(5));
            assertEquals("v1", row.getString(6));
            assertNotNull(row.getTimestamp(7));
        }
        Map<String, String> errorStarts = Map.of("cat/empty.png", "empty-file", "dog/cut.png", "corrupt-image",
                "bird/notes.txt", "not-an-image", "../escape/x.png", "unsafe-path", "cat/link.png", "symlink", "dog/crc.png", "checksum-mismatch: PNG: IDAT chunk");
        errorStarts.forEach((entry, reason) -> {
            Row row = byEntry.get(entry);
            assertTrue(row.getString(8).startsWith(reason), entry + ": " + row.getString(8));
            assertTrue(row.isNullAt(1) && row.isNullAt(2) && row.isNullAt(3) && row.isNullAt(4), entry + " has null scores");
        });
        assertEquals(good.size(), r.metrics().examples());
        assertTrue(ModelCache.loads() - loadsBefore <= 1, "the network is read once per executor JVM, not per task or record");
    }

    @Test
    void theTransformerAddsScoreColumnsToAUsersDataFrame() throws Exception {
        Map<String, byte[]> good = goodImages();
        for (var e : good.entrySet()) {
            TestImages.write(dir.resolve("imgs").resolve(e.getKey()), e.getValue());
        }
        Dataset<Row> files = spark.read().format("binaryFile").option("recursiveFileLookup", "true").load(dir.resolve("imgs").toString());
        ScoringModel model = ScoringModel.resolve("tiny", store, new Configuration());
        Dataset<Row> scored = new ImageScorer(model, 3, 4).transform(files, "content");
        assertEquals(List.of("path", "modificationTime", "length", "content", "predicted_class", "class_name", "probability",
                "top_k", "model_name", "model_version", "scored_at", "error"), List.of(scored.columns()));
        for (Row row : scored.select("path", "probability", "top_k", "error").collectAsList()) {
            String rel = row.getString(0).substring(row.getString(0).indexOf("/imgs/") + "/imgs/".length());
            assertNull(row.get(3));
            double[] expected = reference(good.get(rel));
            assertEquals(3, row.getList(2).size());
            assertEquals(java.util.Arrays.stream(expected).max().orElseThrow(), row.getDouble(1), 1e-5, rel);
        }
    }

    @Test
    void aModelThatDoesNotFitItsMetadataOrTheLabelsFailsAndWritesNothing() throws Exception {
        publish("wrong-classes", network(new ModelZoo.Input(1, 28, 28), 4), new ModelZoo.Input(1, 28, 28), CLASSES);
        publish("wrong-channels", network(new ModelZoo.Input(1, 28, 28), 3), new ModelZoo.Input(3, 28, 28), CLASSES);
        Path zip = dir.resolve("a.zip");
        TestImages.zip(zip, TestImages.Entry.file("cat/a.png", TestImages.grey(28, 28, 1, "png")),
                TestImages.Entry.file("zebra/b.png", TestImages.grey(28, 28, 2, "png")));
        String out = dir.resolve("scores").toString();
        SparkconvException classes = assertThrows(SparkconvException.class, () -> ScoreJob.run(spark,
                new ScoreJob.Request("wrong-classes", store, zip.toString(), null, out, 1, 8, false, false)));
        assertTrue(classes.getMessage().contains("metadata lists 3 classes"), classes.getMessage());
        SparkconvException channels = assertThrows(SparkconvException.class, () -> ScoreJob.run(spark,
                new ScoreJob.Request("wrong-channels", store, zip.toString(), null, out, 1, 8, false, false)));
        assertTrue(channels.getMessage().contains("does not accept 28x28x3 inputs"), channels.getMessage());
        SparkconvException labels = assertThrows(SparkconvException.class, () -> ScoreJob.run(spark,
                new ScoreJob.Request("tiny", store, zip.toString(), null, out, 1, 8, true, false)));
        assertTrue(labels.getMessage().contains("[zebra] are not classes of model tiny v1"), labels.getMessage());
        assertTrue(Files.notExists(dir.resolve("scores")), "nothing written");
    }

    @Test
    void aClassNameWithASlashIsLabelledByItsDirectoryNameWithAnUnderscore() throws Exception {
        List<String> classes = List.of("bird", "cat/kitten", "dog");
        publish("slash", net, new ModelZoo.Input(1, 28, 28), classes);
        List<TestImages.Entry> entries = new ArrayList<>();
        goodImages().forEach((name, data) -> entries.add(TestImages.Entry.file(name.replace("cat/", "cat_kitten/"), data)));
        Path zip = dir.resolve("slash.zip");
        TestImages.zip(zip, entries.toArray(TestImages.Entry[]::new));

        ScoreJob.Result r = ScoreJob.run(spark, new ScoreJob.Request("slash", store, zip.toString(), null,
                dir.resolve("slash-scores").toString(), 1, 8, true, false));

        assertEquals(entries.size(), r.metrics().examples());
        long[][] confusion = r.metrics().confusion();
        assertEquals(4, java.util.Arrays.stream(confusion[1]).sum(), "the 4 cat_kitten/ images are class 1, cat/kitten");
    }

    @Test
    void theExamplesOfAShardDirectoryAreScoredOnePassWithTheirOwnLabels() throws Exception {
        for (var e : goodImages().entrySet()) {
            TestImages.write(dir.resolve("imgs").resolve(e.getKey()), e.getValue());
        }
        String shards = dir.resolve("shards").toString();
        Manifest m = sparkconv.preprocess.ImagePreprocess.run(spark, new sparkconv.preprocess.ImagePreprocess.Request(dir.resolve("imgs").toString(),
                sparkconv.data.ImageReader.Format.FOLDER, "test", new ImageDecoder(1, 28, 28, ImageDecoder.DEFAULT_MAX_PIXELS),
                1 << 20, 0.0, 0.25, 5, false), shards).shards().manifest();
        String out = dir.resolve("scores").toString();
        ScoreJob.Result r = ScoreJob.run(spark, new ScoreJob.Request("tiny", store, shards, null, out, 3, 8, true, false));

        assertEquals(12, r.images());
        assertEquals(0, r.errors());
        assertEquals(12, r.metrics().examples());
        Map<String, Row> byPath = new LinkedHashMap<>();
        for (Row row : spark.read().parquet(out).collectAsList()) {
            byPath.put(row.getString(0), row);
        }
        Manifest.Normalisation n = m.normalisation();
        long[][] confusion = new long[CLASSES.size()][CLASSES.size()];
        for (String split : m.splits().keySet()) {
            for (String uri : m.shardUris(shards, split)) {
                org.nd4j.linalg.dataset.DataSet ds = new org.nd4j.linalg.dataset.DataSet();
                try (var in = Files.newInputStream(Path.of(uri.replace("file:", "")))) {
                    ds.load(in);
                }
                float[] f = ds.getFeatures().dup('c').data().asFloat();
                for (int i = 0; i < ds.numExamples(); i++) {
                    // the shard's pixels, back to bytes, then normalised as the model's metadata says
                    byte[] px = new byte[28 * 28];
                    for (int k = 0; k < px.length; k++) {
                        px[k] = (byte) Math.round((f[i * px.length + k] * n.std() + n.mean()) / n.scale());
                    }
                    double[] expected = net.output(ShardWriter.toDataSet(px, new int[1], 1, 28, 28, CLASSES.size(), NORM).getFeatures(), false)
                            .getRow(0).toDoubleVector();
                    Row row = byPath.get(uri + "#" + i);
                    int best = 0;
                    for (int c = 1; c < expected.length; c++) {
                        best = expected[c] > expected[best] ? c : best;
                    }
                    assertEquals(best, row.getInt(1), uri + "#" + i);
                    assertEquals(expected[best], row.getDouble(3), 1e-4, uri + "#" + i);
                    assertNull(row.get(8));
                    confusion[ds.getLabels().getRow(i).argMax().getInt(0)][best]++;
                }
            }
        }
        assertEquals(12, byPath.size());
        for (int a = 0; a < CLASSES.size(); a++) {
            assertEquals(java.util.Arrays.toString(confusion[a]), java.util.Arrays.toString(r.metrics().confusion()[a]));
        }
    }
}
