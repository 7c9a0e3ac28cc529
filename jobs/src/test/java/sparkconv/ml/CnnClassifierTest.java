package sparkconv.ml;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkException;
import org.apache.spark.ml.attribute.NominalAttribute;
import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator;
import org.apache.spark.ml.image.ImageSchema;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.tuning.ParamGridBuilder;
import org.apache.spark.ml.tuning.TrainValidationSplit;
import org.apache.spark.ml.tuning.TrainValidationSplitModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.LocalSpark;
import sparkconv.TestData;
import sparkconv.data.IdxDataset;
import sparkconv.data.IdxReader;
import sparkconv.data.ImageSet;
import sparkconv.data.TestImages;
import sparkconv.shards.Manifest;
import sparkconv.store.ModelStore;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.regexp_extract;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static sparkconv.cli.CommandHarness.ok;

/**
 * The Estimator and its Model against the product's own commands on real Fashion-MNIST images: {@code fit} is
 * {@code preprocess} + {@code train} (the same parameters, bit for bit), {@code transform} is {@code score} (the same
 * probabilities), and bad input fails before any training in one message that names what is wrong.
 */
class CnnClassifierTest {
    /** 576 training and 64 validation images in shards of 32: 18 minibatches, a partial last averaging round of 2 workers. */
    static final int IMAGES = 640;
    static final int HELD_OUT = 64;
    static final int BATCH = 32;

    @TempDir
    static Path dir;

    static SparkSession spark;
    private static ImageSet fashion;
    static String store;
    static CnnClassificationModel fitted;

    @BeforeAll
    static void fit() {
        spark = LocalSpark.get();
        store = dir.resolve("store").toString();
        fitted = new CnnClassifier().setEpochs(1).setBatchSize(BATCH).setValidationFraction(HELD_OUT / (double) IMAGES)
                .setWorkDir(dir.resolve("work").toString()).setStore(store).setModelName("fm-ml")
                .fit(images(0, IMAGES));
    }

    /** Fashion-MNIST's training images, read once. */
    static synchronized ImageSet fashion() {
        if (fashion == null) {
            fashion = new IdxReader(TestData.fashionMnist().toString(), null).load(IdxDataset.FASHION_CLASSES, new Configuration()).train();
        }
        return fashion;
    }

    /**
     * {@code n} training images from {@code from} as the image data source gives them (one grey channel),
     * with their class index as a label that carries the class names (as StringIndexer's output does).
     */
    static Dataset<Row> images(int from, int n) {
        List<Row> rows = new ArrayList<>();
        int size = fashion().imageBytes();
        for (int i = from; i < from + n; i++) {
            byte[] pixels = Arrays.copyOfRange(fashion().pixels(), i * size, (i + 1) * size);
            rows.add(RowFactory.create(RowFactory.create("fashion-mnist/train/" + i, 28, 28, 1, 0, pixels), (double) fashion().labels()[i]));
        }
        StructType schema = new StructType().add("image", ImageSchema.columnSchema())
                .add(NominalAttribute.defaultAttr().withName("label").withValues(IdxDataset.FASHION_CLASSES.toArray(String[]::new)).toStructField());
        return spark.createDataFrame(rows, schema);
    }

    @Test
    void fitTrainsTheSameParametersAsPreprocessAndTrainOnTheSameImages() {
        String shards = dir.resolve("cli-shards").toString();
        ok("preprocess", "--data", TestData.fashionMnist().toString(), "--out", shards, "--limit", "" + IMAGES,
                "--validation", "" + HELD_OUT, "--batch", "" + BATCH);
        ok("train", "--shards", shards, "--store", store, "--name", "fm-cli", "--epochs", "1");

        ModelStore models = new ModelStore(store, new Configuration());
        float[] cli = models.load("fm-cli", "v1").params().data().asFloat();
        float[] ml = models.load("fm-ml", "v1").params().data().asFloat();
        assertEquals(models.get("fm-cli", "v1").metadata().get("normalisation"), models.get("fm-ml", "v1").metadata().get("normalisation"));
        assertArrayEquals(cli, ml, "fit on the DataFrame trains bit-identical parameters to preprocess + train (lenet5, train's defaults)");
        assertEquals(IdxDataset.FASHION_CLASSES, fitted.classes());
    }

    @Test
    void transformGivesScoresProbabilitiesAndHandlesInvalidRowsAsSparkDoes() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("to-score"));
        for (int i = 0; i < 12; i++) {
            TestImages.write(folder.resolve(String.format("img-%02d.png", i)), png(IMAGES + i));
        }
        TestImages.write(folder.resolve("broken.png"), TestImages.truncated(png(0), 60));
        String scores = dir.resolve("scores").toString();
        ok("score", "--model", "fm-ml:v1", "--store", store, "--input", folder.toString(), "--out", scores, "--top-k", "10");
        Map<String, double[]> byScore = new HashMap<>();
        Map<String, List<Row>> top3ByScore = new HashMap<>();
        for (Row r : spark.read().parquet(scores).where("error is null").collectAsList()) {
            double[] p = new double[10];
            for (Row top : r.<Row>getList(r.fieldIndex("top_k"))) {
                p[top.getInt(0)] = top.getDouble(2);
            }
            String name = Path.of(r.getString(r.fieldIndex("path"))).getFileName().toString();
            byScore.put(name, p);
            top3ByScore.put(name, r.<Row>getList(r.fieldIndex("top_k")).subList(0, 3));
        }
        assertEquals(12, byScore.size());

        Dataset<Row> files = spark.read().format("binaryFile").load(folder.toString());
        List<Row> kept = fitted.copy(new ParamMap()).setFeaturesCol("content").setHandleInvalid("keep")
                .setTopK(3).transform(files).collectAsList();
        assertEquals(13, kept.size(), "keep: every row");
        for (Row r : kept) {
            String name = Path.of(new java.net.URI(r.getString(r.fieldIndex("path")))).getFileName().toString();
            if (name.equals("broken.png")) {
                assertTrue(r.isNullAt(r.fieldIndex("prediction")) && r.isNullAt(r.fieldIndex("probability")) && r.isNullAt(r.fieldIndex("topK")),
                        "null scores");
                assertTrue(r.getString(r.fieldIndex("error")).startsWith("corrupt-image"), r.getString(r.fieldIndex("error")));
                continue;
            }
            double[] p = r.<Vector>getAs("probability").toArray();
            assertArrayEquals(byScore.get(name), p, 0.0, name + ": transform's probabilities are score's");
            assertEquals(top3ByScore.get(name), r.<Row>getList(r.fieldIndex("topK")), name + ": score's top 3");
            assertEquals(r.<Vector>getAs("probability").argmax(), r.getDouble(r.fieldIndex("prediction")));
            assertNull(r.get(r.fieldIndex("error")));
        }

        CnnClassificationModel onContent = fitted.copy(new ParamMap()).setFeaturesCol("content");
        assertEquals(12, onContent.setHandleInvalid("skip").transform(files).count(), "skip: the broken file is dropped");
        assertEquals(List.of("path", "modificationTime", "length", "content", "prediction", "probability"),
                Arrays.asList(onContent.transform(files).columns()), "no error column unless keep, no top-k unless asked");
        SparkException e = assertThrows(SparkException.class, () -> onContent.setHandleInvalid("error").transform(files).collect());
        assertTrue(e.getMessage().contains("broken.png") && e.getMessage().contains("corrupt-image"), e.getMessage());
    }

    /** Fashion-MNIST training image {@code i} as a grey PNG file's bytes. */
    static byte[] png(int i) {
        BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        img.getRaster().setDataElements(0, 0, 28, 28, Arrays.copyOfRange(fashion().pixels(), i * 784, (i + 1) * 784));
        return TestImages.encode(img, "png");
    }

    @Test
    void aSavedModelAndOneFromTheStoreScoreAsTheFittedOne() throws Exception {
        Dataset<Row> some = images(IMAGES, 40);
        List<Row> expected = fitted.transform(some).select("prediction", "probability").collectAsList();
        String path = dir.resolve("saved-model").toString();
        fitted.write().save(path);
        CnnClassificationModel loaded = CnnClassificationModel.load(path);
        assertEquals(fitted.uid(), loaded.uid());
        assertEquals(expected, loaded.transform(some).select("prediction", "probability").collectAsList());
        assertEquals(expected, CnnClassificationModel.fromStore("fm-ml:latest", store).transform(some)
                .select("prediction", "probability").collectAsList());
        assertEquals(IdxDataset.FASHION_CLASSES, loaded.classes());
    }

    /**
     * Why transform equals score exactly only over the same batches: a forward pass's float rounding depends on what else
     * is in its batch (oneDNN picks kernels by batch size). Measured here: batch 1 against 64 moved 632 of 1,000
     * probabilities, by at most 1.8e-7.
     */
    @Test
    void theBatchChangesProbabilitiesOnlyByFloatRounding() {
        Dataset<Row> some = images(IMAGES, 100);
        double[] batched = probabilities(fitted.copy(new ParamMap()).setBatchSize(64).transform(some));
        assertArrayEquals(batched, probabilities(fitted.copy(new ParamMap()).setBatchSize(64).transform(some)), 0.0,
                "the same batches give the same probabilities");
        assertArrayEquals(batched, probabilities(fitted.copy(new ParamMap()).setBatchSize(1).transform(some)), 1e-6,
                "one image per forward pass: the same probabilities up to float rounding");
    }

    private static double[] probabilities(Dataset<Row> scored) {
        return scored.select("probability").collectAsList().stream().flatMapToDouble(r -> Arrays.stream(r.<Vector>getAs(0).toArray())).toArray();
    }

    @Test
    void fitFailsOnACorruptFileUnderErrorAndTrainsWithoutItUnderSkip() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("to-fit"));
        for (int i = 0; i < 40; i++) {
            TestImages.write(folder.resolve(String.format("img-%d-%02d.png", fashion().labels()[i], i)), png(i));
        }
        TestImages.write(folder.resolve("img-0-broken.png"), TestImages.truncated(png(0), 60));
        Dataset<Row> files = spark.read().format("binaryFile").load(folder.toString())
                .withColumn("label", regexp_extract(col("path"), "img-(\\d)-", 1).cast("double"));
        String work = dir.resolve("work-skip").toString();
        CnnClassifier cnn = new CnnClassifier().setFeaturesCol("content").setModel("seed-trace").setEpochs(1).setBatchSize(16)
                .setWorkDir(work);

        assertMessage("features column 'content': 1 of 41 rows cannot be used {corrupt-image=1}", () -> cnn.fit(files));
        CnnClassificationModel model = cnn.setHandleInvalid("skip").fit(files);

        Path run;
        try (var runs = Files.list(Path.of(work))) {
            run = runs.filter(p -> p.getFileName().toString().startsWith("fit-")).findFirst().orElseThrow();
        }
        Manifest manifest = Manifest.read(run.resolve("shards").toString(), new Configuration());
        assertEquals(41 - 1, manifest.splits().get("train").examples() + manifest.splits().get("validation").examples());
        assertEquals(Map.of("corrupt-image", 1L), manifest.quarantined());
        Row quarantined = spark.read().parquet(run.resolve("quarantine").toString()).first();
        assertTrue(quarantined.getString(0).endsWith("img-0-broken.png") && quarantined.getString(1).equals("corrupt-image"), quarantined.toString());
        assertEquals(40, model.setHandleInvalid("skip").transform(files).count());
    }

    /**
     * A DataFrame read by Spark's image source is fitted through {@link SparkImageSource}'s reader; the same rows collected into
     * a DataFrame in memory (which has no image source to read) take the path every other DataFrame takes. Both write
     * byte-identical shards and quarantine and train bit-identical parameters, over grey and RGB PNGs and a file the
     * source cannot decode.
     */
    @Test
    void aFitFromTheImageSourceIsTheFitOfTheSameRowsInMemory() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("image-source"));
        for (int i = 0; i < 60; i++) {
            TestImages.write(folder.resolve(String.format("img-%d-%02d.png", fashion().labels()[i], i)), png(i));
        }
        TestImages.write(folder.resolve("img-3-rgb.png"), TestImages.rgb(40, 30, 5, "png"));
        TestImages.write(folder.resolve("img-4-notes.png"), TestImages.text("not an image"));
        Dataset<Row> images = spark.read().format("image").load(folder.toString())
                .withColumn("label", regexp_extract(col("image.origin"), "img-(\\d)-", 1).cast("double"));
        Dataset<Row> inMemory = spark.createDataFrame(images.collectAsList(), images.schema());
        assertEquals(1, SparkImageSourceTest.scans(SparkImageSource.of(images)), "the image source is read by SparkImageSource's reader");
        assertSame(inMemory.queryExecution().analyzed(), SparkImageSource.of(inMemory).queryExecution().analyzed(), "rows in memory: as they are");

        ModelStore models = new ModelStore(store, new Configuration());
        Map<String, Path> runs = new HashMap<>();
        for (var input : Map.of("fm-image-source", images, "fm-in-memory", inMemory).entrySet()) {
            Path work = dir.resolve("work-" + input.getKey());
            new CnnClassifier().setModel("seed-trace").setEpochs(1).setBatchSize(16).setHandleInvalid("skip").setWorkDir(work.toString())
                    .setStore(store).setModelName(input.getKey()).fit(input.getValue());
            runs.put(input.getKey(), work.resolve("fit-" + input.getKey() + "-v1"));
        }
        Path fast = runs.get("fm-image-source");
        Path generic = runs.get("fm-in-memory");
        Manifest manifest = Manifest.read(fast.resolve("shards").toString(), new Configuration());
        assertEquals(Map.of("corrupt-image", 1L), manifest.quarantined());
        assertEquals(manifest.lineage().get("rows"), Manifest.read(generic.resolve("shards").toString(), new Configuration()).lineage().get("rows"));
        for (String split : List.of("train", "validation")) {
            try (var shards = Files.list(fast.resolve("shards").resolve(split))) {
                for (Path shard : shards.sorted().toList()) {
                    assertArrayEquals(Files.readAllBytes(shard), Files.readAllBytes(generic.resolve("shards").resolve(split).resolve(shard.getFileName())),
                            split + "/" + shard.getFileName());
                }
            }
        }
        assertEquals(spark.read().parquet(generic.resolve("quarantine").toString()).collectAsList(),
                spark.read().parquet(fast.resolve("quarantine").toString()).collectAsList());
        assertArrayEquals(models.load("fm-in-memory", "v1").params().data().asFloat(), models.load("fm-image-source", "v1").params().data().asFloat());
    }

    /**
     * A fit stopped right after its epoch-1 checkpoint (as the trainer's own resume test stops a run) and fitted again
     * with resume trains bit-identical parameters to the uninterrupted fit with the same seed, from epoch 2 and on the
     * shards the first attempt wrote (not written again); an unfinished fit without resume, and a resume on other rows,
     * are refused in one message.
     */
    @Test
    void aResumedFitTrainsWhatTheUninterruptedOneTrains() throws Exception {
        Dataset<Row> data = images(0, 256);
        String work = dir.resolve("work-resume").toString();
        CnnClassifier cnn = new CnnClassifier().setModel("seed-trace").setEpochs(2).setBatchSize(32).setWorkDir(work).setStore(store);
        cnn.copy(ParamMap.empty()).setModelName("fm-whole").fit(data);

        CnnClassifier interrupted = cnn.copy(ParamMap.empty()).setModelName("fm-resumed");
        interrupted.progress = line -> {
            if (line.startsWith("checkpoint epoch 1 ")) {
                throw new Interrupted();
            }
        };
        assertThrows(Interrupted.class, () -> interrupted.fit(data));
        Path manifest = Path.of(work, "fit-fm-resumed-v1", "shards", Manifest.FILE);
        Object written = Files.readAttributes(manifest, BasicFileAttributes.class).fileKey();

        CnnClassifier again = cnn.copy(ParamMap.empty()).setModelName("fm-resumed");
        assertMessage("/checkpoints/fm-resumed-v1: an unfinished fit of fm-resumed v1 has checkpoints up to epoch 1; setResume(true) "
                + "continues it", () -> again.fit(data));
        assertMessage("were trained on shards of other rows than this fit's", () -> again.setResume(true).fit(images(1, 256)));
        again.fit(data);

        ModelStore models = new ModelStore(store, new Configuration());
        assertEquals(2, ((Map<?, ?>) models.get("fm-resumed", "v1").metadata().get("training")).get("resumedAtEpoch"),
                "the second fit continued from the checkpoint");
        assertEquals(written, Files.readAttributes(manifest, BasicFileAttributes.class).fileKey(),
                "the resumed fit trained on the shards the interrupted one wrote");
        assertArrayEquals(models.load("fm-whole", "v1").params().data().asFloat(), models.load("fm-resumed", "v1").params().data().asFloat(),
                "interrupted after epoch 1 and resumed: the uninterrupted fit's parameters, bit for bit");
    }

    private static final class Interrupted extends RuntimeException {
    }

    /**
     * Model selection inside Spark ML: TrainValidationSplit over the learning rate, scored by Spark's evaluator, picks
     * the same model with the same figures when run again (fit is deterministic per seed and row order).
     */
    @Test
    void trainValidationSplitPicksTheSameModelOnARerun() {
        Dataset<Row> data = images(0, 256);
        CnnClassifier cnn = new CnnClassifier().setModel("seed-trace").setEpochs(1).setBatchSize(32)
                .setWorkDir(dir.resolve("work-tvs").toString());
        TrainValidationSplit split = new TrainValidationSplit().setEstimator(cnn)
                .setEstimatorParamMaps(new ParamGridBuilder().addGrid(cnn.learningRate(), new double[]{0.01, 0.05}).build())
                .setEvaluator(new MulticlassClassificationEvaluator().setMetricName("accuracy")).setTrainRatio(0.75).setSeed(7);
        TrainValidationSplitModel first = split.fit(data);
        TrainValidationSplitModel again = split.fit(data);
        assertArrayEquals(first.validationMetrics(), again.validationMetrics(), 0.0, "the same accuracy for each learning rate");
        Dataset<Row> some = images(IMAGES, 40);
        assertArrayEquals(probabilities(first.bestModel().transform(some)), probabilities(again.bestModel().transform(some)), 0.0,
                "the same best model");
    }

    @Test
    void badInputFailsBeforeTrainingInOneMessage() {
        CnnClassifier classifier = new CnnClassifier().setEpochs(1).setWorkDir(dir.resolve("bad").toString());
        Dataset<Row> good = images(0, 8);
        assertMessage("features column 'pixels' does not exist", () -> classifier.copy(new ParamMap())
                .setFeaturesCol("pixels").fit(good));
        assertMessage("features column 'origin' is string", () -> classifier.copy(new ParamMap())
                .setFeaturesCol("origin").fit(good.selectExpr("image.origin as origin", "label")));
        assertMessage("label column 'label' is string, not numeric", () -> classifier.fit(good.selectExpr("image", "'shirt' as label")));
        assertMessage("the DataFrame has no rows (0 rows)", () -> classifier.fit(good.limit(0)));
        assertMessage("model seed-trace does not take inputShape 4x4x1", () -> classifier.copy(new ParamMap()).setModel("seed-trace")
                .setInputShape("4x4x1").fit(good));
        assertMessage("model fm-ml v1 takes inputShape 28x28x1 (its metadata), not 32x32x1",
                () -> fitted.copy(new ParamMap()).setInputShape("32x32x1").transform(good));
        assertMessage("label column 'label': 1 of 8 rows are not class indices", () -> classifier.fit(
                good.selectExpr("image", "case when image.origin like '%/3' then 2.5 else label end as label")));

        StructType arrays = new StructType().add("pixels", DataTypes.createArrayType(DataTypes.DoubleType)).add("label", DataTypes.DoubleType);
        Dataset<Row> wrongSize = spark.createDataFrame(List.of(RowFactory.create(new double[100], 0.0), RowFactory.create(new double[784], 1.0)), arrays);
        assertMessage("features column 'pixels': 1 of 2 rows cannot be used {wrong-size=1}; row 0: 100 values, expected 784 for input 28x28x1",
                () -> classifier.copy(new ParamMap()).setFeaturesCol("pixels").fit(wrongSize));
        assertEquals(0, dir.resolve("bad").toFile().list() == null ? 0 : countShards(dir.resolve("bad")), "nothing written or trained");
    }

    private static long countShards(Path p) {
        try (var files = Files.walk(p)) {
            return files.filter(f -> f.getFileName().toString().startsWith("shard-")).count();
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static void assertMessage(String expected, org.junit.jupiter.api.function.Executable fit) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, fit);
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertNotNull(e.getMessage());
    }
}
