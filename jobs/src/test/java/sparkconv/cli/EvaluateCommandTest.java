package sparkconv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static sparkconv.cli.CommandHarness.assertOneLineError;
import static sparkconv.cli.CommandHarness.ok;
import static sparkconv.cli.CommandHarness.run;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.LocalSpark;
import sparkconv.Tampering;
import sparkconv.TestData;
import sparkconv.store.ModelStore;

/**
 * {@code sparkconv evaluate} from the command line: a stored version on a split of a shard directory reproduces the
 * test accuracy that training recorded, writes its metrics JSON, and refuses what cannot be evaluated in one line.
 */
class EvaluateCommandTest {
    @TempDir
    Path tmp;

    @Test
    void reproducesTheRecordedAccuracyAndRefusesWhatDoesNotFit() throws Exception {
        LocalSpark.get();
        String shards = tmp.resolve("shards").toString();
        String store = tmp.resolve("store").toString();
        ok("preprocess", "--data", TestData.fashionMnist().toString(), "--out", shards, "--limit", "600", "--validation", "100");
        ok("train", "--shards", shards, "--store", store, "--name", "fm", "--epochs", "1");
        double recorded = ((Number) ((Map<?, ?>) new ModelStore(store, new Configuration()).get("fm", "v1").metrics()
                .get("test")).get("accuracy")).doubleValue();

        Path metrics = tmp.resolve("eval/metrics.json");
        CommandHarness.Result r = ok("evaluate", "--store", store, "--name", "fm", "--shards", shards, "--out", metrics.toString());
        assertTrue(r.out().contains("fm v1 on ") && r.out().contains("/test"), r.out());
        Map<?, ?> written = new ObjectMapper().readValue(Files.readString(metrics), Map.class);
        assertEquals(recorded, ((Number) written.get("accuracy")).doubleValue(), 1e-9, "the latest version on the test split");
        ok("evaluate", "--store", store, "--name", "fm", "--version", "v1", "--shards", shards, "--split", "validation");

        assertOneLineError(run("evaluate", "--store", store, "--name", "fm", "--shards", shards, "--split", "holdout"), 2,
                "--split must be one of train, validation, test, got 'holdout'");
        assertOneLineError(run("evaluate", "--store", store, "--name", "nosuch", "--shards", shards), 2, "nosuch");
        assertOneLineError(run("evaluate", "--store", store, "--name", "fm", "--shards", tmp.resolve("none").toString()), 2,
                "not a shard directory");
        String cifarShaped = tmp.resolve("rgb").toString();
        Path folder = tmp.resolve("images");
        for (String c : new String[] {"cat", "dog"}) {
            Files.createDirectories(folder.resolve(c));
            for (int i = 0; i < 12; i++) {
                java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(8, 8, java.awt.image.BufferedImage.TYPE_INT_RGB);
                img.setRGB(i % 8, i / 8, 0xff0000 + i * 16);
                javax.imageio.ImageIO.write(img, "png", folder.resolve(c).resolve(i + ".png").toFile());
            }
        }
        ok("preprocess", "--source", folder.toString(), "--format", "folder", "--size", "8x8", "--channels", "3", "--out", cifarShaped);
        assertOneLineError(run("evaluate", "--store", store, "--name", "fm", "--shards", cifarShaped), 2, "but fm v1 takes");

        // Files changed after they were written: the evaluated split's shards are checked, and the model (also by report).
        Tampering.flipOneBit(tmp.resolve("shards/validation/shard-00001.bin"));
        assertOneLineError(run("evaluate", "--store", store, "--name", "fm", "--shards", shards, "--split", "validation"), 2,
                "/shards/validation/shard-00001.bin: sha256 ");
        Tampering.flipOneWeightBit(tmp.resolve("store/models/fm/v1/model.zip"));
        assertOneLineError(run("evaluate", "--store", store, "--name", "fm", "--shards", shards), 2, "/models/fm/v1/model.zip: sha256 ");
        Path report = tmp.resolve("store/models/fm/v1/report.html"); // train wrote it
        Files.delete(report);
        assertOneLineError(run("report", "--store", store, "--name", "fm"), 2, "/models/fm/v1/model.zip: sha256 ");
        assertTrue(Files.notExists(report), "no report of a changed model");
    }
}
