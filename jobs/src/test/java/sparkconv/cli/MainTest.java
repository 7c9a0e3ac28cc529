package sparkconv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static sparkconv.cli.CommandHarness.assertOneLineError;
import static sparkconv.cli.CommandHarness.run;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.LocalSpark;

/** The CLI contract: usage and input errors are one clear line naming the problem, with a non-zero exit. */
class MainTest {
    @TempDir
    Path tmp;

    @Test
    void helpAndDescribe() { // --help of every command: CommandDefaultsTest
        CommandHarness.Result train = run("train", "--help");
        assertTrue(train.out().replaceAll("\\s+", " ").contains("training epochs (default: the model's, see describe; else 10)"), "defaults come from conf/defaults.properties: " + train.out());
        CommandHarness.Result d = run("describe", "--model", "seed-trace");
        assertEquals(0, d.code());
        assertTrue(d.out().contains("total parameters: 7,146"), d.out());
        CommandHarness.Result layer = run("describe", "--layer", "--input", "64x64x3", "--kernel", "5", "--filters", "32", "--padding", "same");
        assertTrue(layer.out().contains("64x64x32") && layer.out().contains("2,432"), layer.out());
    }

    @Test
    void usageErrors() {
        assertOneLineError(run(), 2, "a command is required");
        assertOneLineError(run("describe"), 2, "Error: Missing required argument");
        assertOneLineError(run("describe", "--model", "resnet"), 2, "unknown model 'resnet' (known: ");
        CommandHarness.Result badPolicy = run("describe", "--model", "lenet5", "--batch", "64", "--averaging-policy", "bogus");
        assertOneLineError(badPolicy, 2, "--averaging-policy 'bogus' is not local, ");
        assertEquals("", badPolicy.out(), "nothing printed before the error");
        assertOneLineError(run("train", "--shards", "x", "--store", "y", "--epochs", "zero"), 2, "'zero' is not an int");
    }

    /**
     * What deploy/submit checks before a cluster-mode submission (and every job before its Spark session starts): the
     * command line, the parameters and the inputs this JVM can reach, each one line with the job's exit code; valid
     * input checks out (0) without running the job.
     */
    @Test
    void theCheckBeforeSubmittingFindsBadInputAndRunsNothing() throws Exception {
        LocalSpark.get();
        String store = tmp.resolve("store").toString();
        assertOneLineError(CommandHarness.check("train", "--shards", "x", "--store", store, "--epochs", "zero"), 2, "'zero' is not an int");
        assertOneLineError(CommandHarness.check("train", "--shards", tmp.toString(), "--store", store), 2, "not a shard directory");
        assertOneLineError(CommandHarness.check("evaluate", "--shards", tmp.toString(), "--store", store, "--name", "m"), 2,
                "not a shard directory");
        assertOneLineError(CommandHarness.check("score", "--model", "m:v1", "--store", store, "--input", tmp.toString(),
                "--out", tmp.resolve("scores").toString()), 2, "no stored versions of model 'm'");
        assertOneLineError(CommandHarness.check("preprocess", "--data", tmp.resolve("nowhere").toString(), "--out",
                tmp.resolve("shards").toString()), 2, "nowhere: data directory does not exist");
        assertOneLineError(CommandHarness.check("preprocess", "--source", tmp.resolve("*.zip").toString(), "--out",
                tmp.resolve("shards").toString()), 2, "*.zip: no such file or directory (--source)");
        String nowhere = tmp.resolve("nowhere").toString();
        assertOneLineError(CommandHarness.check("nifty", "ingest", "--csv", nowhere + ".csv", "--out", tmp.resolve("ingested").toString()),
                2, "nowhere.csv: file not found");
        assertOneLineError(CommandHarness.check("nifty", "render", "--in", nowhere, "--out", tmp.resolve("charts").toString(),
                "--window", "5", "--horizon", "5"), 2, "nowhere: not a complete ingested OHLC directory");
        assertOneLineError(CommandHarness.check("nifty", "walk-forward", "--in", nowhere, "--out", tmp.resolve("wf").toString(),
                "--model", "candle-cnn-5", "--window", "5", "--horizon", "5"), 2, "nowhere: not a complete ingested OHLC directory");
        assertOneLineError(CommandHarness.check("nifty", "evaluate", "--shards", tmp.toString(), "--store", store, "--model", "m",
                "--out", tmp.resolve("figures").toString()), 2, "not a shard directory");
        assertOneLineError(CommandHarness.check("segment-preprocess", "--data", nowhere, "--out", tmp.resolve("mosaics").toString()),
                2, "nowhere: data directory does not exist");
        assertOneLineError(CommandHarness.check("segment-train", "--shards", tmp.toString(), "--store", store), 2, "not a shard directory");

        java.nio.file.Files.createDirectories(tmp.resolve("archives"));
        java.nio.file.Files.write(tmp.resolve("archives/a.zip"), new byte[0]);
        assertEquals(0, CommandHarness.check("preprocess", "--source", tmp.resolve("archives/*.zip").toString(), "--out",
                tmp.resolve("shards").toString()).code(), "a glob that matches checks out");
        assertEquals(0, CommandHarness.check("models", "list", "--store", store).code(), "a command without inputs to check");
        assertTrue(!java.nio.file.Files.exists(tmp.resolve("shards")), "the check ran no job");
    }

    @Test
    void badDataIsOneClearLine() {
        LocalSpark.get();
        CommandHarness.Result notShards = run("train", "--shards", tmp.toString(), "--store", tmp.resolve("store").toString());
        assertOneLineError(notShards, 2, "not a shard directory (no manifest.json; run preprocess first)");
        CommandHarness.Result emptyStore = run("models", "list", "--store", tmp.resolve("store").toString());
        assertEquals(0, emptyStore.code());
        assertTrue(emptyStore.out().contains("no models in"), emptyStore.out());
    }
}
