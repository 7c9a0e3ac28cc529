package sparkconv.ml;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.apache.spark.ml.PipelineModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.LocalSpark;
import sparkconv.data.IdxDataset;
import sparkconv.data.TestImages;
import sparkconv.store.ModelStore;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.regexp_extract;
import static org.apache.spark.sql.functions.url_decode;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * docs/spark-ml.md's Java program is {@link SparkMlExample}, word for word, and it runs: StringIndexer, CnnClassifier and
 * IndexToString in one Pipeline on Spark's image data source, and the saved pipeline, loaded back, predicts what the
 * fitted one did.
 */
class SparkMlExampleTest {
    @TempDir
    Path dir;

    @Test
    void theDocumentedProgramIsThisOne() throws Exception {
        String doc = Files.readString(Path.of("../docs/spark-ml.md"));
        String source = Files.readString(Path.of("src/test/java/sparkconv/ml/SparkMlExample.java"));
        String program = source.substring(source.indexOf("import "));
        assertTrue(doc.contains(program), "docs/spark-ml.md shows SparkMlExample.java from its imports on, unchanged");
    }

    @Test
    void thePipelineTrainsScoresAndRoundTripsWithIdenticalPredictions() throws Exception {
        SparkSession spark = LocalSpark.get();
        Path images = dir.resolve("images");
        // 320 Fashion-MNIST images in class directories ('/' cannot be in a directory name: T-shirt_top)
        for (int i = 0; i < 320; i++) {
            String label = IdxDataset.FASHION_CLASSES.get(CnnClassifierTest.fashion().labels()[i]).replace('/', '_');
            Path file = images.resolve(label).resolve(String.format("%05d.png", i));
            Files.createDirectories(file.getParent());
            TestImages.write(file, CnnClassifierTest.png(i));
        }
        String work = dir.resolve("work").toString();

        // The program packs small files into tasks; the same conf reads them back in the same partitions, so the
        // reloaded pipeline scores the same batches (a forward pass's floats can depend on what else is in its batch)
        String openCost = spark.conf().get("spark.sql.files.openCostInBytes");
        List<Row> reloaded;
        try {
            SparkMlExample.main(new String[]{images.toString(), work});
            Dataset<Row> df = spark.read().format("image").option("recursiveFileLookup", "true").load(images.toString())
                    .withColumn("class", regexp_extract(url_decode(col("image.origin")), "([^/]+)/[^/]+$", 1));
            reloaded = PipelineModel.load(work + "/pipeline").transform(df)
                    .select("image.origin", "class", "predictedClass", "probability").orderBy("origin").collectAsList();
        } finally {
            spark.conf().set("spark.sql.files.openCostInBytes", openCost); // the session is shared with other tests
        }
        List<Row> fitted = spark.read().parquet(work + "/predictions").orderBy("origin").collectAsList();
        assertEquals(320, fitted.size());
        assertEquals(fitted, reloaded, "the saved and reloaded pipeline predicts exactly what the fitted one did");
        java.util.Set<String> directories = new java.util.HashSet<>();
        IdxDataset.FASHION_CLASSES.forEach(c -> directories.add(c.replace('/', '_')));
        java.util.Set<String> predicted = new java.util.HashSet<>();
        fitted.forEach(r -> predicted.add(r.getString(r.fieldIndex("predictedClass"))));
        assertTrue(directories.containsAll(predicted), "IndexToString names each prediction by a class directory: " + predicted);
        assertEquals(List.of("example"), new ModelStore(work + "/store", spark.sparkContext().hadoopConfiguration()).modelNames(),
                "fit published the version to the store (models list sees it)");
    }
}
