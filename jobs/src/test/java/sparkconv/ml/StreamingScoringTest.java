package sparkconv.ml;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.LocalSpark;
import sparkconv.TestModels;
import sparkconv.data.TestImages;
import sparkconv.models.ModelZoo;
import sparkconv.shards.Manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The same Transformer on a Structured Streaming source: images landing in a folder (binaryFile) are scored into a
 * Parquet sink with a checkpoint; a query restarted from its checkpoint scores only what arrived since, and a bad file
 * is an error row that does not stop the stream. (Not covered here: a query killed mid-batch.)
 */
class StreamingScoringTest {
    /** binaryFile's columns: a streaming file source takes its schema up front. */
    static final StructType BINARY_FILE = new StructType().add("path", DataTypes.StringType).add("modificationTime", DataTypes.TimestampType)
            .add("length", DataTypes.LongType).add("content", DataTypes.BinaryType);

    @TempDir
    Path dir;

    @Test
    void imagesArrivingInBatchesAreEachScoredOnceAcrossARestart() throws Exception {
        SparkSession spark = LocalSpark.get();
        String store = dir.resolve("store").toString();
        ModelZoo.Input input = new ModelZoo.Input(1, 28, 28);
        List<String> classes = List.of("a", "b", "c");
        TestModels.publish(store, "tiny", TestModels.untrained(input, classes.size()), input, classes,
                new Manifest.Normalisation("standardise", 1 / 255.0, 0.3, 0.35));
        CnnClassificationModel model = CnnClassificationModel.fromStore("tiny:latest", store).setFeaturesCol("content")
                .setHandleInvalid("keep");

        Path landing = Files.createDirectories(dir.resolve("landing"));
        for (int i = 0; i < 5; i++) {
            TestImages.write(landing.resolve("first-" + i + ".png"), TestImages.grey(28, 28, i, "png"));
        }
        TestImages.write(landing.resolve("first-broken.png"), TestImages.truncated(TestImages.grey(28, 28, 9, "png"), 50));
        String out = dir.resolve("scores").toString();
        String checkpoint = dir.resolve("checkpoint").toString();
        runUntilCaughtUp(spark, model, landing, out, checkpoint);
        assertEquals(6, spark.read().parquet(out).count(), "the first files, the broken one included");

        for (int i = 0; i < 4; i++) {
            TestImages.write(landing.resolve("second-" + i + ".png"), TestImages.grey(28, 28, 100 + i, "png"));
        }
        runUntilCaughtUp(spark, model, landing, out, checkpoint); // a new query from the same checkpoint

        List<Row> rows = spark.read().parquet(out).collectAsList();
        assertEquals(10, rows.size(), "rows = files");
        assertEquals(10, rows.stream().map(r -> r.getString(0)).distinct().count(), "no file scored twice");
        List<Row> errors = rows.stream().filter(r -> !r.isNullAt(3)).toList();
        assertEquals(1, errors.size());
        assertTrue(errors.get(0).getString(0).endsWith("first-broken.png") && errors.get(0).getString(3).startsWith("corrupt-image"),
                errors.get(0).toString());
    }

    /** One run of the query over what has landed (Trigger.AvailableNow), then stopped, as a restarted job would be. */
    private static void runUntilCaughtUp(SparkSession spark, CnnClassificationModel model, Path landing, String out, String checkpoint)
            throws Exception {
        StreamingQuery query = model.transform(spark.readStream().format("binaryFile").schema(BINARY_FILE).load(landing.toString()))
                .select("path", "prediction", "probability", "error")
                .writeStream().format("parquet").option("checkpointLocation", checkpoint).trigger(Trigger.AvailableNow()).start(out);
        query.awaitTermination();
    }
}
