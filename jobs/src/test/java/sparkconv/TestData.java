package sparkconv;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Assumptions;

/** Real data used by tests when present: Debian's Fashion-MNIST and the shared NIFTY-50 CSV. Tests skip clearly when absent. */
public final class TestData {
    private TestData() {
    }

    public static Path fashionMnist() {
        Path p = Path.of("/usr/share/datasets/fashion-mnist");
        Assumptions.assumeTrue(Files.isRegularFile(p.resolve("train-images-idx3-ubyte.gz")),
                "SKIPPED: Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)");
        return p;
    }

    /** {@code ../shared} beside the repository (set by surefire as sparkconv.shared). */
    public static Path shared() {
        return Path.of(System.getProperty("sparkconv.shared", "../../shared")).toAbsolutePath().normalize();
    }

    public static Path niftyCsv() {
        Path p = shared().resolve("data/nifty/NIFTY50.csv");
        Assumptions.assumeTrue(Files.isRegularFile(p), "SKIPPED: " + p + " is absent (real NIFTY-50 data lives in ../shared/data/nifty)");
        return p;
    }

    /** A command line with more arguments after it. */
    public static String[] concat(String[] args, String... more) {
        return java.util.stream.Stream.concat(java.util.Arrays.stream(args), java.util.Arrays.stream(more)).toArray(String[]::new);
    }
}
