package sparkconv.ml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarFile;

import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.LocalSpark;
import sparkconv.data.IdxDataset;
import sparkconv.data.TestImages;
import sparkconv.store.ModelStore;

/**
 * docs/spark-ml.md's Scala example runs, as written, in spark-shell's own REPL ({@code org.apache.spark.repl.SparkILoop},
 * spark-repl_2.12 with scala-compiler 2.12.18, the shell's line-by-line reading and its {@code spark} binding) on this
 * JVM's local session; only its two paths ({@code images}, {@code work}) point at this test's directory.
 */
class SparkMlScalaExampleTest {
    @TempDir
    Path dir;

    /** The doc's first ```scala block. */
    static String script() throws Exception {
        String doc = Files.readString(Path.of("../docs/spark-ml.md"));
        int start = doc.indexOf("```scala\n");
        assertTrue(start >= 0, "docs/spark-ml.md has a ```scala block");
        start += "```scala\n".length();
        return doc.substring(start, doc.indexOf("```", start));
    }

    @Test
    void theScalaExampleRunsInSparkShellsRepl() throws Exception {
        SparkSession spark = LocalSpark.get();
        Path images = dir.resolve("images");
        int n = 160;
        for (int i = 0; i < n; i++) {
            String label = IdxDataset.FASHION_CLASSES.get(CnnClassifierTest.fashion().labels()[i]).replace('/', '_');
            TestImages.write(images.resolve(label).resolve(String.format("%05d.png", i)), CnnClassifierTest.png(i));
        }
        String work = dir.resolve("work").toString();
        String script = script();
        for (String line : List.of("val images = \"images\"", "val work = \"work\"")) {
            assertTrue(script.contains(line + " "), "the example starts from " + line);
        }
        script = script.replace("val images = \"images\"", "val images = \"" + images + "\"").replace("val work = \"work\"",
                "val work = \"" + work + "\"");

        scala.tools.nsc.Settings settings = new scala.tools.nsc.Settings();
        settings.classpath().value_$eq(classpath());
        String openCost = spark.conf().get("spark.sql.files.openCostInBytes");
        String output;
        try {
            org.apache.spark.repl.Main.sparkSession_$eq(spark); // what spark-shell binds as `spark`
            output = org.apache.spark.repl.SparkILoop.run(script, settings);
        } finally {
            org.apache.spark.repl.Main.sparkSession_$eq(null);
            spark.conf().set("spark.sql.files.openCostInBytes", openCost); // the session is shared with other tests
        }
        assertFalse(output.contains("error:") || output.contains("Exception"), output);
        assertTrue(output.contains("|origin"), "show(5, false) printed the table: " + output);
        assertEquals(n, spark.read().parquet(work + "/predictions").count(), output);
        assertEquals(List.of("example"), new ModelStore(work + "/store", spark.sparkContext().hadoopConfiguration()).modelNames());
    }

    /** This JVM's classpath for the compiler: surefire's booter jar names the real one in its manifest. */
    static String classpath() throws Exception {
        List<String> entries = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            entries.add(entry);
            if (entry.endsWith(".jar") && new File(entry).getName().startsWith("surefirebooter")) {
                try (JarFile jar = new JarFile(entry)) {
                    String listed = jar.getManifest().getMainAttributes().getValue("Class-Path");
                    for (String url : listed == null ? new String[0] : listed.trim().split("\\s+")) {
                        entries.add(new File(new java.net.URI(url)).getPath());
                    }
                }
            }
        }
        return String.join(File.pathSeparator, entries);
    }
}
