package sparkconv;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import sparkconv.spark.JvmFlags;

/**
 * A test's JVM of its own: the test's classpath and the product's JVM flags, for what cannot run in the shared one (a
 * process to kill, a master other than {@link LocalSpark}'s {@code local[2]}, another OpenMP setting).
 */
public final class TestJvm {
    private TestJvm() {
    }

    /** {@code java ... mainClass args}, one OpenMP thread unless the caller sets another, output and errors merged. */
    public static ProcessBuilder command(String mainClass, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g"));
        cmd.addAll(List.of(JvmFlags.flags().trim().split("\\s+")));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("OMP_NUM_THREADS", "1");
        return pb;
    }
}
