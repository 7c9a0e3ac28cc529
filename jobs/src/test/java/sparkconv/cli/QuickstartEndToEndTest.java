package sparkconv.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

import sparkconv.LocalSpark;
import sparkconv.SparkconvException;
import sparkconv.TestData;
import sparkconv.data.IdxDataset;
import sparkconv.eval.ClassificationMetrics;
import sparkconv.eval.SparkEvaluator;
import sparkconv.models.Hyper;
import sparkconv.shards.Manifest;
import sparkconv.preprocess.IdxPreprocess;
import sparkconv.shards.ShardWriter;
import sparkconv.spark.Fs;
import sparkconv.spark.SparkSessions;
import sparkconv.store.ModelStore;
import sparkconv.train.TrainOptions;
import sparkconv.train.TrainingRun;

/**
 * The walking skeleton on a real local SparkSession and real Fashion-MNIST: preprocess a subset to shards, train
 * with parameter averaging over 2 workers, evaluate on Spark, store, load back, identical predictions.
 */
class QuickstartEndToEndTest {
    @TempDir
    Path tmp;

    @Test
    void preprocessTrainEvaluateStoreLoad() throws Exception {
        String data = TestData.fashionMnist().toString();
        SparkSession spark = LocalSpark.get();
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        String shards = tmp.resolve("shards").toString();

        ShardWriter.Result first = IdxPreprocess.idx(spark, data, "fashion-mnist", IdxDataset.FASHION_CLASSES, shards, 32, 200, 2000, false);
        Manifest m = first.manifest();
        assertFalse(first.upToDate());
        assertEquals(1800, m.splits().get("train").examples());
        assertEquals(200, m.splits().get("validation").examples());
        assertEquals(333, m.splits().get("test").examples());
        assertEquals(57, m.splits().get("train").shards().size());
        assertEquals(1800, java.util.Arrays.stream(m.splits().get("train").classCounts()).sum());
        assertEquals(new Manifest.Shape(1, 28, 28), m.shape());
        assertEquals(4, m.sources().size());
        assertTrue(Files.exists(tmp.resolve("shards/_SUCCESS")));
        // normalisation comes from the training split: standardised training pixels have mean 0 and std 1
        DataSet shard0 = load(m.shardUris(shards, "train").get(0));
        assertEquals(0.0, shard0.getFeatures().meanNumber().doubleValue(), 0.1);
        assertEquals(1.0, shard0.getFeatures().stdNumber().doubleValue(), 0.1);
        assertEquals(32, shard0.numExamples());

        // same inputs: nothing rewritten, identical result; other options without --overwrite: refused
        ShardWriter.Result again = IdxPreprocess.idx(spark, data, "fashion-mnist", IdxDataset.FASHION_CLASSES, shards, 32, 200, 2000, false);
        assertTrue(again.upToDate());
        assertTrue(checksums(m).equals(checksums(again.manifest())), "re-run changed shard checksums");
        SparkconvException other = assertThrows(SparkconvException.class,
                () -> IdxPreprocess.idx(spark, data, "fashion-mnist", IdxDataset.FASHION_CLASSES, shards, 64, 200, 2000, false));
        assertTrue(other.getMessage().endsWith("already exists with other inputs or options (pass --overwrite to replace it)"));
        // a fresh run into another directory writes byte-identical shards
        String copy = tmp.resolve("shards-copy").toString();
        Manifest m2 = IdxPreprocess.idx(spark, data, "fashion-mnist", IdxDataset.FASHION_CLASSES, copy, 32, 200, 2000, false).manifest();
        assertTrue(checksums(m).equals(checksums(m2)), "a fresh run wrote different shard bytes");

        String store = tmp.resolve("store").toString();
        TrainOptions options = TrainOptions.builder("lenet5", new Hyper("nesterovs", 0.02, 0.9, 1e-4, 42))
                .workers(2).averagingFrequency(5).prefetch(2).collectStats(true).build();
        TrainingRun.Outcome o = TrainingRun.run(spark, shards, options, store, "fm", null, line -> { });
        assertEquals("v1", o.version().version());
        assertEquals(1, o.epochs().size());
        assertTrue(o.test().accuracy() > 0.5, "one epoch on 1,800 images should beat chance by far: " + o.test().accuracy());
        Path v1 = tmp.resolve("store/models/fm/v1");
        for (String f : List.of("model.zip", "metadata.json", "metrics.json", "_SUCCESS")) {
            assertTrue(Files.exists(v1.resolve(f)), f);
        }
        ModelStore modelStore = new ModelStore(store, conf);
        ModelStore.Version stored = modelStore.get("fm", "latest");
        assertEquals(2, ((Map<?, ?>) stored.metadata().get("training")).get("workers"));
        assertEquals(IdxDataset.FASHION_CLASSES, stored.metadata().get("classes"));
        assertEquals("3.5.6", ((Map<?, ?>) stored.metadata().get("versions")).get("spark"));

        // load back: identical predictions, identical Spark evaluation
        MultiLayerNetwork loaded = modelStore.load("fm", "v1");
        DataSet testShard = load(m.shardUris(shards, "test").get(0));
        INDArray expected = o.network().output(testShard.getFeatures());
        assertArrayEquals(sparkconv.store.ModelStoreHdfsTest.flat(expected), sparkconv.store.ModelStoreHdfsTest.flat(loaded.output(testShard.getFeatures())), 0f);
        ClassificationMetrics again2 = SparkEvaluator.evaluate(SparkSessions.javaContext(spark), loaded, shards, m, "test");
        assertEquals(o.test().accuracy(), again2.accuracy(), 1e-9);

        // the store refuses to overwrite a version, and nothing half-written is visible
        SparkconvException dup = assertThrows(SparkconvException.class,
                () -> modelStore.publish("fm", "v1", loaded, Map.of(), Map.of()));
        assertTrue(dup.getMessage().endsWith("the store already holds fm v1"), dup.getMessage());
        assertEquals(List.of("v1"), modelStore.versionNames("fm"));
        assertEquals("v2", modelStore.nextVersion("fm"));
    }

    /** The shipped defaults (conf/defaults.properties) through the real CLI: accuracy must rise, not fall, across epochs. */
    @Test
    void accuracyDoesNotFallAcrossEpochsWithTheDefaults() {
        String data = TestData.fashionMnist().toString();
        SparkSession spark = LocalSpark.get();
        String shards = tmp.resolve("shards").toString();
        String store = tmp.resolve("store").toString();
        IdxPreprocess.idx(spark, data, "fashion-mnist", IdxDataset.FASHION_CLASSES, shards, 64, 1000, 7000, false);
        assertEquals(0, Main.run("train", "--shards", shards, "--store", store, "--name", "fm", "--epochs", "4"));

        List<?> epochs = (List<?>) new ModelStore(store, spark.sparkContext().hadoopConfiguration()).get("fm", "v1").metrics().get("epochs");
        List<Double> acc = new ArrayList<>();
        for (Object e : epochs) {
            acc.add(((Number) ((Map<?, ?>) e).get("validationAccuracy")).doubleValue());
        }
        assertEquals(4, acc.size());
        for (int i = 1; i < acc.size(); i++) {
            assertTrue(acc.get(i) >= acc.get(i - 1) - 0.015, "validation accuracy fell across epochs: " + acc);
        }
        assertTrue(acc.get(acc.size() - 1) > acc.get(0), "no progress across epochs: " + acc);
    }

    private static DataSet load(String uri) throws java.io.IOException {
        DataSet ds = new DataSet();
        try (var in = Fs.fs(Fs.path(uri), new Configuration()).open(Fs.path(uri))) {
            ds.load(in);
        }
        return ds;
    }

    private static List<String> checksums(Manifest m) {
        List<String> out = new ArrayList<>();
        m.splits().forEach((k, s) -> s.shards().forEach(sh -> out.add(sh.file() + "=" + sh.sha256())));
        out.sort(null);
        return out;
    }
}
