package sparkconv.spark;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SparkSessionsTest {
    @TempDir
    Path dir;

    /** A real JVM with too little heap for Spark: one line saying what to raise, no stack trace, a failing exit code. */
    @Test
    void aHeapTooSmallForSparkIsOneClearLine() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"), "sparkconv.cli.Main",
                "preprocess", "--source", dir.toString(), "--out", dir.resolve("out").toString())
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertEquals(2, p.waitFor(), output);
        List<String> lines = output.lines().filter(l -> !l.isBlank()).toList();
        assertEquals(1, lines.size(), output);
        assertTrue(lines.get(0).startsWith("sparkconv: error: the JVM has ") && lines.get(0).contains("Spark needs at least 450 MiB")
                && lines.get(0).contains("SPARKCONV_JAVA_OPTS=-Xmx2g"), lines.get(0));
        assertFalse(output.contains("\tat "), output);
    }
}
