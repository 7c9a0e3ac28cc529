package sparkconv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static sparkconv.cli.CommandHarness.assertOneLineError;
import static sparkconv.cli.CommandHarness.ok;
import static sparkconv.cli.CommandHarness.run;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.LocalSpark;
import sparkconv.Tampering;
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

    /**
     * Issue 27's scenario: a published model.zip rewritten with one bit of one weight flipped (a valid zip, its .crc
     * rewritten as any writer's would be) is refused in one line before anything is scored, by name or by directory.
     * A version written before checksums were recorded still scores, after a one-line warning (docs/security.md).
     */
    @Test
    void aModelChangedAfterPublishingIsRefusedAndNothingIsScored() throws Exception {
        String store = tmp.resolve("store").toString();
        ModelZoo.Input input = new ModelZoo.Input(1, 28, 28);
        Manifest.Normalisation norm = new Manifest.Normalisation("standardise", 1 / 255.0, 0.45, 0.3);
        TestModels.publish(store, "tiny", TestModels.untrained(input, CLASSES.size()), input, CLASSES, norm);
        TestModels.publish(store, "old", TestModels.untrained(input, CLASSES.size()), input, CLASSES, norm);
        Path images = tmp.resolve("images");
        for (int i = 0; i < 3; i++) {
            TestImages.write(images.resolve("cat/" + i + ".png"), TestImages.grey(28, 28, i, "png"));
        }
        Path version = tmp.resolve("store/models/tiny/v1");
        Tampering.flipOneWeightBit(version.resolve("model.zip"));

        Path out = tmp.resolve("scores");
        for (String model : List.of("tiny", version.toString())) {
            CommandHarness.Result r = run("score", "--model", model, "--store", store, "--input", images.toString(), "--out", out.toString());
            assertOneLineError(r, 2, "/models/tiny/v1/model.zip: sha256 ");
            assertTrue(r.errors().get(0).contains("metadata.json records for tiny v1"), r.errors().get(0));
            try (var left = Files.list(tmp)) {
                assertEquals(List.of(), left.map(p -> p.getFileName().toString()).filter(n -> n.contains("scores")).toList(),
                        "nothing scored, nothing staged");
            }
        }

        Tampering.dropChecksums(tmp.resolve("store/models/old/v1/metadata.json"));
        CommandHarness.Result old = ok("score", "--model", "old", "--store", store, "--input", images.toString(), "--out", out.toString());
        assertTrue(old.out().contains("scored 3 images with old v1"), old.out());
        assertEquals(1, old.warnings().size(), old.warnings().toString());
        assertTrue(old.warnings().get(0).contains("/models/old/v1: metadata.json of old v1 records no checksums"), old.warnings().get(0));
    }
}
