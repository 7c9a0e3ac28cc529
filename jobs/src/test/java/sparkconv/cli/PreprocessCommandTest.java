package sparkconv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static sparkconv.cli.CommandHarness.assertOneLineError;
import static sparkconv.cli.CommandHarness.ok;
import static sparkconv.cli.CommandHarness.run;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.LocalSpark;
import sparkconv.TestData;
import sparkconv.data.TestImages;
import sparkconv.shards.Manifest;

/** {@code sparkconv preprocess}: image folders and IDX data from the command line, and its one-line errors. */
class PreprocessCommandTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void spark() {
        LocalSpark.get();
    }

    @Test
    void anImageFolderBecomesShardsOfTheRequestedShape() throws Exception {
        Path folder = tmp.resolve("folder");
        int seed = 0;
        for (String c : List.of("bird", "cat", "dog")) {
            for (int i = 0; i < 6; i++) {
                TestImages.write(folder.resolve(c + "/img" + i + ".png"), TestImages.grey(28, 28, ++seed, "png"));
            }
        }
        ok("preprocess", "--source", folder.toString(), "--out", tmp.resolve("img-shards").toString(),
                "--size", "16x16", "--channels", "3", "--batch", "8");
        Manifest m = Manifest.read(tmp.resolve("img-shards").toString(), new Configuration());
        assertEquals(new Manifest.Shape(3, 16, 16), m.shape());
        assertEquals("folder", m.lineage().get("format"));
        assertEquals(List.of("bird", "cat", "dog"), m.classes());
        assertEquals(2, run("preprocess", "--source", tmp.resolve("nothing-here").toString(), "--out", tmp.resolve("x").toString()).code());
    }

    @Test
    void idxDataWithALimitAndAValidationHoldOut() {
        Path idx = TestData.fashionMnist();
        ok("preprocess", "--data", idx.toString(), "--out", tmp.resolve("idx-shards").toString(), "--limit", "300", "--validation", "60");
        Manifest m = Manifest.read(tmp.resolve("idx-shards").toString(), new Configuration());
        assertEquals(240, m.splits().get("train").examples());
        assertEquals(60, m.splits().get("validation").examples());
        assertEquals("idx", m.lineage().get("format"));
        assertEquals(64, m.batchSize(), "preprocess.batch from conf/defaults.properties");
    }

    @Test
    void badIdxDataIsOneClearLineAndNothingIsWritten() throws Exception {
        Path out = tmp.resolve("shards");
        assertOneLineError(run("preprocess", "--data", tmp.resolve("nowhere").toString(), "--out", out.toString()), 2,
                "nowhere: data directory does not exist");
        Path bad = Files.createDirectories(tmp.resolve("bad"));
        for (String f : List.of("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")) {
            Files.write(bad.resolve(f), new byte[]{0x1f, 0x00, 0x08, 0x03, 0, 0, 0, 1});
        }
        assertOneLineError(run("preprocess", "--data", bad.toString(), "--out", out.toString()), 2,
                "train-images-idx3-ubyte: wrong IDX magic number 0x1f000803");
        assertFalse(Files.exists(out), "nothing written after a failed preprocess");
    }

    @Test
    void paramsTheJobRefusesAreOneClearLineAndNothingIsWritten() {
        Path out = tmp.resolve("refused");
        assertOneLineError(run("preprocess", "--out", out.toString(), "--validation-fraction", "0.6", "--test-fraction", "0.5"), 2,
                "validation and test fractions must be >= 0 and leave a training share, got 0.6 and 0.5");
        assertOneLineError(run("preprocess", "--out", out.toString(), "--dataset", "cifar"), 2,
                "unknown --dataset 'cifar' (fashion-mnist or mnist)");
        assertOneLineError(run("preprocess", "--out", out.toString(), "--source", tmp.toString(), "--format", "png"), 2,
                "unknown --format 'png' (auto, idx, cifar, folder, zip, tar)");
        assertFalse(Files.exists(out));
    }
}
