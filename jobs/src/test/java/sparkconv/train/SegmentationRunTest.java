package sparkconv.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.LocalSpark;
import sparkconv.SparkconvException;
import sparkconv.TestData;
import sparkconv.data.IdxDataset;
import sparkconv.eval.SegmentationMetrics;
import sparkconv.models.Hyper;
import sparkconv.shards.Manifest;
import sparkconv.preprocess.Mosaics;
import sparkconv.report.TrainingReport;
import sparkconv.shards.ShardWriter;
import sparkconv.store.ModelStore;

/** Mosaic shards from real Fashion-MNIST, then FCN and U-Net trained on Spark for one small epoch each. */
class SegmentationRunTest {
    @TempDir
    Path dir;

    @Test
    void mosaicShardsTrainFcnAndUnetOnSpark() throws java.io.IOException {
        var spark = LocalSpark.get();
        var items = IdxDataset.load(TestData.fashionMnist().toString(), IdxDataset.FASHION_CLASSES,
                spark.sparkContext().hadoopConfiguration());
        Map<String, Integer> sizes = new LinkedHashMap<>();
        sizes.put("train", 640);
        sizes.put("validation", 32);
        sizes.put("test", 64);
        String shards = dir.resolve("mosaics").toString();
        ShardWriter.Result r = Mosaics.write(spark, items.train().slice(0, 2000), items.test().slice(0, 500), sizes, shards, 16, 3, false);
        Manifest m = r.manifest();
        assertEquals(new Manifest.Shape(1, 56, 56), m.shape());
        assertEquals("background", m.classes().get(0));
        assertEquals(11, m.classes().size());
        assertEquals(640, m.splits().get("train").examples());
        assertEquals(40, m.splits().get("train").shards().size());
        long[] pixels = m.splits().get("train").classCounts();
        assertEquals(640L * 56 * 56, java.util.Arrays.stream(pixels).sum(), "class counts are pixel counts");
        assertTrue(pixels[0] > 0.3 * 640 * 56 * 56, "background is a large share");
        for (int c = 1; c < 11; c++) {
            assertTrue(pixels[c] > 0, "class " + m.classes().get(c) + " appears");
        }
        assertTrue(Mosaics.write(spark, items.train().slice(0, 2000), items.test().slice(0, 500), sizes, shards, 16, 3, false).upToDate(),
                "same inputs: nothing rewritten");

        String store = dir.resolve("store").toString();
        SparkconvException notSeg = assertThrows(SparkconvException.class, () -> SegmentationRun.run(spark, shards,
                TrainOptions.builder("lenet5", new Hyper("nesterovs", 0.02, 0.9, 1e-4, 1)).workers(2).averagingFrequency(2).prefetch(1).build(), store, "x", null, l -> { }));
        assertTrue(notSeg.getMessage().contains("not a segmentation model"));

        double backgroundShare = m.splits().get("test").classCounts()[0] / (double) (64 * 56 * 56);
        for (String model : new String[]{"fcn", "unet"}) {
            SegmentationRun.Outcome o = SegmentationRun.run(spark, shards,
                    TrainOptions.builder(model, new Hyper("adam", 0.003, 0, 1e-4, 1)).workers(2).averagingFrequency(2).prefetch(1).collectStats(true).build(), store,
                    "mosaic-" + model, null, l -> { });
            SegmentationMetrics t = o.test();
            System.out.printf("%s after 1 epoch of 640 mosaics: %s", model, t.summary());
            assertEquals(64, t.images());
            assertEquals(64L * 56 * 56, t.pixels());
            // The per-pixel loss sums over the image: ln(11) per pixel for an uninformed model.
            double uninformed = 56 * 56 * Math.log(11);
            assertTrue(o.epochs().get(0).validationLoss() < 0.75 * uninformed,
                    model + " learned: validation loss " + o.epochs().get(0).validationLoss() + " vs " + uninformed);
            assertTrue(t.pixelAccuracy() > backgroundShare - 0.05,
                    model + " pixel accuracy " + t.pixelAccuracy() + " vs all-background " + backgroundShare);
            assertTrue(t.meanIoU() > 0 && t.meanIoU() < 1);
            assertEquals("segmentation", o.version().metadata().get("task"));
            assertTrue(o.version().metrics().containsKey("timeSplit"));
            assertEquals(1, o.epochs().size());
            assertTrue(o.epochs().get(0).validationAccuracy() > 0, "pixel accuracy on validation");
            var conf = spark.sparkContext().hadoopConfiguration();
            TrainingReport.write(new ModelStore(store, conf), conf, o.version().name(), o.version().version());
            String html = Files.readString(dir.resolve("store/models/mosaic-" + model + "/v1/report.html"));
            assertTrue(html.contains("<th>boundary IoU</th>") && html.contains("test (segmentation)"), "segmentation tables");
            assertEquals(3 * (TrainingReport.SAMPLES / 3), html.split("<img alt='(mosaic|true mask|predicted mask)'", -1).length - 1,
                    "input, truth and prediction per sample mosaic");
        }
    }
}
