package sparkconv.ml;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkException;
import org.apache.spark.ml.attribute.NominalAttribute;
import org.apache.spark.ml.image.ImageSchema;
import org.apache.spark.ml.linalg.Vector;
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
import sparkconv.store.ModelStore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static sparkconv.jobs.CommandHarness.ok;

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
        for (Row r : spark.read().parquet(scores).where("error is null").collectAsList()) {
            double[] p = new double[10];
            for (Row top : r.<Row>getList(r.fieldIndex("top_k"))) {
                p[top.getInt(0)] = top.getDouble(2);
            }
            byScore.put(Path.of(r.getString(r.fieldIndex("path"))).getFileName().toString(), p);
        }
        assertEquals(12, byScore.size());

        Dataset<Row> files = spark.read().format("binaryFile").load(folder.toString());
        List<Row> kept = fitted.copy(new org.apache.spark.ml.param.ParamMap()).setFeaturesCol("content").setHandleInvalid("keep")
                .transform(files).collectAsList();
        assertEquals(13, kept.size(), "keep: every row");
        for (Row r : kept) {
            String name = Path.of(new java.net.URI(r.getString(r.fieldIndex("path")))).getFileName().toString();
            if (name.equals("broken.png")) {
                assertTrue(r.isNullAt(r.fieldIndex("prediction")) && r.isNullAt(r.fieldIndex("probability")), "null scores");
                assertTrue(r.getString(r.fieldIndex("error")).startsWith("corrupt-image"), r.getString(r.fieldIndex("error")));
                continue;
            }
            double[] p = r.<Vector>getAs("probability").toArray();
            assertArrayEquals(byScore.get(name), p, 0.0, name + ": transform's probabilities are score's");
            assertEquals(r.<Vector>getAs("probability").argmax(), r.getDouble(r.fieldIndex("prediction")));
            assertNull(r.get(r.fieldIndex("error")));
        }

        CnnClassificationModel onContent = fitted.copy(new org.apache.spark.ml.param.ParamMap()).setFeaturesCol("content");
        assertEquals(12, onContent.setHandleInvalid("skip").transform(files).count(), "skip: the broken file is dropped");
        assertTrue(!Arrays.asList(onContent.transform(files).columns()).contains("error"), "no error column unless keep");
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

    @Test
    void badInputFailsBeforeTrainingInOneMessage() {
        CnnClassifier classifier = new CnnClassifier().setEpochs(1).setWorkDir(dir.resolve("bad").toString());
        Dataset<Row> good = images(0, 8);
        assertMessage("features column 'pixels' does not exist", () -> classifier.copy(new org.apache.spark.ml.param.ParamMap())
                .setFeaturesCol("pixels").fit(good));
        assertMessage("features column 'origin' is string", () -> classifier.copy(new org.apache.spark.ml.param.ParamMap())
                .setFeaturesCol("origin").fit(good.selectExpr("image.origin as origin", "label")));
        assertMessage("label column 'label' is string, not numeric", () -> classifier.fit(good.selectExpr("image", "'shirt' as label")));
        assertMessage("the DataFrame has no rows (0 rows)", () -> classifier.fit(good.limit(0)));
        assertMessage("label column 'label': 1 of 8 rows are not class indices", () -> classifier.fit(
                good.selectExpr("image", "case when image.origin like '%/3' then 2.5 else label end as label")));

        StructType arrays = new StructType().add("pixels", DataTypes.createArrayType(DataTypes.DoubleType)).add("label", DataTypes.DoubleType);
        Dataset<Row> wrongSize = spark.createDataFrame(List.of(RowFactory.create(new double[100], 0.0), RowFactory.create(new double[784], 1.0)), arrays);
        assertMessage("features column 'pixels': 1 of 2 rows cannot be used {wrong-size=1}; row 0: 100 values, expected 784 for input 28x28x1",
                () -> classifier.copy(new org.apache.spark.ml.param.ParamMap()).setFeaturesCol("pixels").fit(wrongSize));
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
