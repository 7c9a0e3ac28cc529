package sparkconv.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.LocalSpark;

/** The CLI contract: help works, and bad input gives one clear line naming the problem and a non-zero exit. */
class MainTest {
    @TempDir
    Path tmp;

    record Run(int code, String out, List<String> errors) {
    }

    static Run run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = Main.run(args);
            List<String> errors = err.toString(StandardCharsets.UTF_8).lines().filter(l -> l.startsWith("sparkconv: error:")).toList();
            return new Run(code, out.toString(StandardCharsets.UTF_8), errors);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    static void assertOneLineError(Run r, int code, String expected) {
        assertEquals(code, r.code(), "exit code; errors: " + r.errors());
        assertEquals(1, r.errors().size(), "exactly one error line: " + r.errors());
        assertTrue(r.errors().get(0).contains(expected), r.errors().get(0));
    }

    @Test
    void helpAndDescribe() {
        for (String cmd : List.of("quickstart", "preprocess", "train", "evaluate", "describe", "models", "report",
                "segment-preprocess", "segment-train", "models promote")) {
            Run r = run((cmd + " --help").split(" "));
            assertEquals(0, r.code(), cmd);
            assertTrue(r.out().contains("Usage: sparkconv " + cmd), cmd + ": " + r.out());
        }
        Run train = run("train", "--help");
        assertTrue(train.out().contains("training epochs (default 10)"), "defaults come from conf/defaults.properties: " + train.out());
        Run d = run("describe", "--model", "seed-trace");
        assertEquals(0, d.code());
        assertTrue(d.out().contains("total parameters: 7,146"), d.out());
        Run layer = run("describe", "--layer", "--input", "64x64x3", "--kernel", "5", "--filters", "32", "--padding", "same");
        assertTrue(layer.out().contains("64x64x32") && layer.out().contains("2,432"), layer.out());
    }

    @Test
    void usageErrors() {
        assertOneLineError(run(), 2, "a command is required");
        assertOneLineError(run("describe"), 2, "Error: Missing required argument");
        assertOneLineError(run("describe", "--model", "resnet"), 2, "unknown model 'resnet' (known: ");
        assertOneLineError(run("train", "--shards", "x", "--store", "y", "--epochs", "zero"), 2, "'zero' is not an int");
    }

    @Test
    void badDataIsOneClearLineAndNothingHalfWritten() throws Exception {
        LocalSpark.get();
        Path out = tmp.resolve("shards");
        Run missing = run("preprocess", "--data", tmp.resolve("nowhere").toString(), "--out", out.toString());
        assertOneLineError(missing, 2, "nowhere: data directory does not exist");

        Path bad = Files.createDirectories(tmp.resolve("bad"));
        for (String f : List.of("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")) {
            Files.write(bad.resolve(f), new byte[]{0x1f, 0x00, 0x08, 0x03, 0, 0, 0, 1});
        }
        Run magic = run("preprocess", "--data", bad.toString(), "--out", out.toString());
        assertOneLineError(magic, 2, "train-images-idx3-ubyte: wrong IDX magic number 0x1f000803");
        assertFalse(Files.exists(out), "nothing written after a failed preprocess");

        Run notShards = run("train", "--shards", tmp.toString(), "--store", tmp.resolve("store").toString());
        assertOneLineError(notShards, 2, "not a shard directory (no manifest.json; run preprocess first)");
        Run emptyStore = run("models", "list", "--store", tmp.resolve("store").toString());
        assertEquals(0, emptyStore.code());
        assertTrue(emptyStore.out().contains("no models in"), emptyStore.out());
    }
}
