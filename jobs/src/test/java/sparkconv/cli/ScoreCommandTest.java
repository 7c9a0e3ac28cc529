package sparkconv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static sparkconv.cli.CommandHarness.assertOneLineError;
import static sparkconv.cli.CommandHarness.ok;
import static sparkconv.cli.CommandHarness.run;

import java.nio.file.Path;
import java.util.List;

import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.LocalSpark;
import sparkconv.TestModels;
import sparkconv.data.TestImages;
import sparkconv.models.ModelZoo;
import sparkconv.shards.Manifest;

/** {@code sparkconv score} from the command line on a local Spark session (the cluster run is ClusterEndToEndIT's). */
class ScoreCommandTest {
    static final List<String> CLASSES = List.of("bird", "cat", "dog");

    @TempDir
    Path tmp;

    @Test
    void aLabelledFolderIsScoredIntoParquetWithAccuracy() throws Exception {
        String store = tmp.resolve("store").toString();
        ModelZoo.Input input = new ModelZoo.Input(1, 28, 28);
        TestModels.publish(store, "tiny", TestModels.untrained(input, CLASSES.size()), input, CLASSES,
                new Manifest.Normalisation("standardise", 1 / 255.0, 0.45, 0.3));
        Path images = tmp.resolve("images");
        int seed = 0;
        for (String c : CLASSES) {
            for (int i = 0; i < 4; i++) {
                TestImages.write(images.resolve(c + "/" + i + ".png"), TestImages.grey(28, 28, ++seed, "png"));
            }
        }
        TestImages.write(images.resolve("cat/broken.png"), new byte[]{(byte) 0x89, 'P', 'N', 'G'});
        String out = tmp.resolve("scores").toString();

        CommandHarness.Result r = ok("score", "--model", "tiny:latest", "--store", store, "--input", images.toString(), "--out", out,
                "--top-k", "2", "--labels");
        assertTrue(r.out().contains("scored 13 images with tiny v1") && r.out().contains("1 with errors"), r.out());
        assertTrue(r.out().contains("confusion matrix"), r.out());
        List<Row> rows = LocalSpark.get().read().parquet(out).collectAsList();
        assertEquals(13, rows.size());
        for (Row row : rows) {
            boolean broken = row.getString(0).endsWith("broken.png");
            assertEquals(broken, !row.isNullAt(row.fieldIndex("error")), row.toString());
            assertEquals(broken ? 0 : 2, row.isNullAt(row.fieldIndex("top_k")) ? 0 : row.getList(row.fieldIndex("top_k")).size());
        }

        assertOneLineError(run("score", "--model", "tiny", "--store", store, "--input", images.toString(), "--out", out), 2,
                "already exists (pass --overwrite to replace it)");
        assertOneLineError(run("score", "--store", store, "--input", images.toString(), "--out", out), 2,
                "Missing required option: '--model=<model>'");
    }
}
