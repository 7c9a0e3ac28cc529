package sparkconv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Benchmarks are not tests, but they must keep working: run {@code bench/run --quick} (tiny sizes, one run of
 * each configuration, nothing appended to RESULTS.md) and check that every table came out. No timing is asserted.
 */
class BenchQuickTest {
    @Test
    void everyBenchmarkRunsAtATinySize() throws Exception {
        Assumptions.assumeTrue(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")),
                "SKIPPED: Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)");
        File root = new File(System.getProperty("sparkconv.root", "..")).getCanonicalFile();
        Process p = new ProcessBuilder("bench/run", "--quick", "train", "averaging", "scaling", "preprocess", "score", "render", "memory", "io", "layers", "tta", "workers")
                .directory(root).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(15, TimeUnit.MINUTES), "bench/run --quick did not finish");
        assertEquals(0, p.exitValue(), out);
        // CI installs PyTorch (./setup --ci): there a missing torch is a failure, not a skip.
        boolean ci = "true".equals(System.getenv("CI"));
        assertTrue(out.contains("### train: lenet5"), out);
        assertTrue(out.contains("### train: candle-cnn-20 on nifty-ohlc20-h5") || out.contains("SKIPPED candle-cnn-20"),
                "the compute-bound model's table: " + out);
        assertTrue(out.contains("| single single-jvm | 1 |"), out);
        assertTrue(out.contains("| spark local[2] x2 | 1 |"), out);
        // The LeNet-5 table's figures: every configuration trained (examples/s > 0) and learned (1,200 images, 2 epochs:
        // test accuracy well above the 0.10 of chance on 10 classes).
        List<String> lenet = section(out, "### train: lenet5").lines().filter(l -> l.matches("\\| (single|spark|pytorch) .*")).toList();
        long pytorch = lenet.stream().filter(l -> l.startsWith("| pytorch")).count();
        assertEquals(3, lenet.size() - pytorch, "LeNet-5 rows of single-JVM 1 and 2 threads and Spark local[2]: " + lenet);
        assertEquals(ci ? 2 : pytorch, pytorch, "LeNet-5 rows of PyTorch 1 and 2 threads: " + lenet);
        for (String row : lenet) {
            String[] cells = row.split("\\|");
            double examplesPerSecond = Double.parseDouble(cells[3].trim().split(" ")[0].replace(",", ""));
            double gflops = Double.parseDouble(cells[5].trim());
            double testAccuracy = Double.parseDouble(cells[cells.length - 1].trim());
            assertTrue(examplesPerSecond > 0, "examples/s: " + row);
            assertTrue(gflops > 0, "GFLOP/s from describe's count: " + row);
            assertTrue(testAccuracy > 0.3, "LeNet-5 learned (chance is 0.10): " + row);
        }
        assertTrue(out.contains("### gemm: ND4J's FP32 matrix multiply") && out.contains("| 1 | 256: "), "the gemm peak: " + out);
        assertTrue(lenet.stream().anyMatch(l -> l.contains("% of ")), "a fraction of the gemm peak: " + lenet);
        assertTrue(out.contains("Spark local[2] / single-JVM 1 thread: "), out);
        assertTrue(out.contains("### averaging frequency x updater"), out);
        assertTrue(out.contains("| nesterovs | 5 |"), "the averaging table's quick cell (--quick: the default updater only): " + out);
        assertTrue(out.contains("2 workers / 1 worker: "), out);
        assertTrue(out.contains("data 2x: epoch time"), out);
        for (String source : List.of("folder", "zip", "tar.gz")) {
            assertTrue(out.lines().anyMatch(l -> l.startsWith(source + " ") && l.contains("per CPU-second")),
                    "preprocess " + source + " median line: " + out);
        }
        assertTrue(out.contains("task CPU of the last run's stages:"), "stage CPU of Spark runs: " + out);
        assertTrue(out.contains("Spark score / single-JVM decode + output(): "), "score vs single-JVM ratio: " + out);
        assertTrue(out.lines().filter(l -> l.contains("peak live heap")).count() >= 4, "memory rows: " + out);
        assertTrue(out.contains("windows/s") || out.contains("SKIPPED render"), "render benchmark table: " + out);
        assertTrue(out.contains("### layers: lenet5") && out.contains("| 2 | conv | 10x10x16 | MKLDNNConvHelper | ")
                && out.contains("layers' sum "), "the per-layer profile, its second convolution on oneDNN: " + out);
        assertTrue(out.contains("| read one shard (") && out.contains("| Kryo round trip, LeNet-5"), "io benchmark table: " + out);
        assertTrue(out.contains("| per CPU-second |"), "train tables carry examples per CPU-second: " + out);
        assertTrue(out.contains("### tta: time to 0.50 test accuracy"), "tta table: " + out);
        for (String row : List.of("| Spark local[2] x2 workers |", "| single-JVM 1 thread(s) |", "(tta-scaling)", "(tta-ceiling)")) {
            assertTrue(out.contains(row), "tta row " + row + ": " + out);
        }
        assertTrue(out.lines().anyMatch(l -> l.startsWith("| PyTorch 2 thread(s) |")) || (!ci && out.contains("SKIPPED PyTorch")),
                "PyTorch's tta rows" + (ci ? " (CI=true: PyTorch must be installed)" : "") + ": " + out);
        assertTrue(out.contains("Spark 2 workers / single-JVM 1 thread, wall to target (medians): "), out);
        assertTrue(out.contains("Spark 2 workers / PyTorch 2 threads, wall to target (medians): "), out);
        // The grid runs at the first seed; each configuration's best setting runs again at the second.
        assertTrue(out.contains("median wall seconds over seeds 42, 7: "), "tta medians over seeds: " + out);
        assertTrue(out.lines().filter(l -> l.startsWith("| Spark local[2] x2 workers | ") && l.contains(" | 7 | ")).count() == 1,
                "Spark's best setting at the second seed: " + out);
        assertTrue(out.contains("two-process ceiling"), "scaling against the two-process ceiling: " + out);
        // Epochs to the target per averaging policy and number of workers: one JVM (W=1) under every policy, and W=2
        // under each, every cell a figure (the quick target, 0.30 within 2 epochs of 1,200 images, is low enough for W = 2), and the goals against W=1.
        assertTrue(out.contains("### workers: epochs to 0.30 test accuracy"), "workers table: " + out);
        for (String policy : List.of("local", "linear:2")) {
            assertTrue(out.lines().anyMatch(l -> l.matches("\\| " + policy + " \\| \\d+\\.\\d\\d \\(.*\\) \\| \\d+\\.\\d\\d \\(.*\\) \\|")),
                    "workers row of " + policy + " with epochs at W=1 and W=2: " + out);
            assertTrue(out.contains(policy + ", W=2: "), "goal line of " + policy + ": " + out);
        }
    }

    /** The text of a benchmark's table: from its heading to the next heading. */
    static String section(String out, String heading) {
        int start = out.indexOf(heading);
        assertTrue(start >= 0, "no table '" + heading + "': " + out);
        int end = out.indexOf("\n### ", start + heading.length());
        return out.substring(start, end < 0 ? out.length() : end);
    }
}
