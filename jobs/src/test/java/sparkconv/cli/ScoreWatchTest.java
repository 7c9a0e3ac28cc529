package sparkconv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static sparkconv.cli.CommandHarness.assertOneLineError;
import static sparkconv.cli.CommandHarness.ok;
import static sparkconv.cli.CommandHarness.run;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.LocalSpark;
import sparkconv.TestModels;
import sparkconv.data.TestImages;
import sparkconv.ml.WatchJob;
import sparkconv.models.ModelZoo;
import sparkconv.shards.Manifest;
import sparkconv.spark.ParquetSchemas;

/**
 * {@code score --watch --once} in this JVM: files landing in two waves are each scored once, into score's own table
 * (the same rows and probabilities as {@code score} of the same files), a broken file as an error row; bad input is one
 * line. The real kill of a watching process is {@link ScoreWatchKillTest}'s.
 */
class ScoreWatchTest {
    static final List<String> CLASSES = List.of("bird", "cat", "dog");

    @TempDir
    Path tmp;

    static String publishTiny(Path tmp) {
        String store = tmp.resolve("store").toString();
        ModelZoo.Input input = new ModelZoo.Input(1, 28, 28);
        TestModels.publish(store, "tiny", TestModels.untrained(input, CLASSES.size()), input, CLASSES,
                new Manifest.Normalisation("standardise", 1 / 255.0, 0.45, 0.3));
        return store;
    }

    /** Written beside the folder under a hidden name, then renamed in: a file source must never see half a file. */
    static void land(Path landing, String name, byte[] data) throws Exception {
        Path hidden = landing.resolve("." + name + ".tmp");
        TestImages.write(hidden, data);
        Files.move(hidden, landing.resolve(name), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    @Test
    void filesLandingInTwoWavesAreEachScoredOnceIntoScoresTable() throws Exception {
        String store = publishTiny(tmp);
        Path landing = Files.createDirectories(tmp.resolve("landing"));
        for (int i = 0; i < 3; i++) {
            land(landing, "a-" + i + ".png", TestImages.grey(28, 28, i, "png"));
        }
        land(landing, "a-broken.png", TestImages.truncated(TestImages.grey(28, 28, 9, "png"), 50));
        String out = tmp.resolve("watched").toString();
        String[] watch = {"score", "--watch", "--once", "--model", "tiny:latest", "--store", store, "--input", landing.toString(),
                "--out", out, "--top-k", "2", "--max-files-per-trigger", "2"};

        CommandHarness.Result first = ok(watch);
        List<String> lines = first.out().lines().toList();
        assertEquals(4, lines.size(), first.out());
        assertTrue(lines.get(0).startsWith("watching file:///") && lines.get(0).contains("with tiny v1 (28x28x1): scores to file:///")
                && lines.get(0).contains("/watched, checkpoint file:///") && lines.get(0).endsWith("/watched/_checkpoint; what has landed, then stop"),
                lines.get(0));
        assertTrue(lines.get(1).matches("batch 0: 2 images, [01] with errors in [0-9.]+ s, [0-9.,]+ images/s"), lines.get(1));
        assertTrue(lines.get(2).matches("batch 1: 2 images, [01] with errors in [0-9.]+ s, [0-9.,]+ images/s"), lines.get(2));
        assertTrue(lines.get(3).startsWith("caught up: 2 batches, 4 images, 1 with errors; scores in file:"), lines.get(3));
        assertTrue(lines.get(3).contains("scores in file:///") && lines.get(3).contains("(checkpoint file:///")
                && lines.get(3).endsWith("/watched/_checkpoint)"), lines.get(3));

        for (int i = 0; i < 2; i++) {
            land(landing, "b-" + i + ".png", TestImages.grey(28, 28, 100 + i, "png"));
        }
        CommandHarness.Result second = ok(watch); // the same query again, from its checkpoint: only the new files
        assertTrue(second.out().contains("\nbatch 2: 2 images, 0 with errors in ")
                && second.out().contains("caught up: 1 batch, 2 images, 0 with errors;"), second.out());
        CommandHarness.Result idle = ok(watch);
        assertTrue(idle.out().contains("caught up: 0 batches, 0 images, 0 with errors;"), idle.out());
        assertEquals("batch 3: 1 image, 1 with errors in 2.00 s, 0.5 images/s", new WatchJob.Batch(3, 1, 1, 2.0).line());

        // score's own table, and score's own results for the same files
        SparkSession spark = LocalSpark.get();
        String scored = tmp.resolve("scored").toString();
        ok("score", "--model", "tiny:latest", "--store", store, "--input", landing.toString(), "--out", scored, "--top-k", "2");
        assertEquals(ParquetSchemas.SCORES.type(), spark.read().parquet(out).schema());
        assertEquals(footerSchema(Path.of(scored)), footerSchema(Path.of(out)), "the same Parquet schema as score's files");
        List<Row> rows = spark.read().parquet(out).orderBy("path").collectAsList();
        List<Row> expected = spark.read().parquet(scored).orderBy("path").collectAsList();
        assertEquals(6, rows.size(), "rows = files");
        assertEquals(6, rows.stream().map(r -> r.getString(0)).distinct().count(), "no file twice");
        for (int i = 0; i < rows.size(); i++) {
            Row w = rows.get(i);
            Row s = expected.get(i);
            assertEquals(s.getString(0), w.getString(0));
            for (String c : List.of("predicted_class", "class_name", "model_name", "model_version", "error")) {
                assertEquals(s.get(s.fieldIndex(c)), w.get(w.fieldIndex(c)), c + " of " + w.getString(0));
            }
            if (w.isNullAt(w.fieldIndex("error"))) {
                // a forward pass's float rounding depends on its batch (docs/spark-ml.md): equal up to that
                assertEquals(s.getDouble(s.fieldIndex("probability")), w.getDouble(w.fieldIndex("probability")), 1e-6);
                assertEquals(s.getList(s.fieldIndex("top_k")).stream().map(e -> ((Row) e).getInt(0)).toList(),
                        w.getList(w.fieldIndex("top_k")).stream().map(e -> ((Row) e).getInt(0)).toList());
            }
        }
        Row broken = rows.stream().filter(r -> r.getString(0).endsWith("a-broken.png")).findFirst().orElseThrow();
        assertTrue(broken.getString(broken.fieldIndex("error")).startsWith("corrupt-image: "), broken.toString());
        var perBatch = rows.stream().collect(java.util.stream.Collectors.groupingBy(r -> r.getTimestamp(r.fieldIndex("scored_at")),
                java.util.stream.Collectors.counting()));
        assertEquals(List.of(2L, 2L, 2L), List.copyOf(perBatch.values()), "scored_at is each micro-batch's time: " + perBatch);
    }

    /** The Parquet schema in the footer of the directory's first data file. */
    static org.apache.parquet.schema.MessageType footerSchema(Path dir) throws Exception {
        Path file;
        try (var files = Files.list(dir)) {
            file = files.filter(f -> f.getFileName().toString().matches("part-.*\\.parquet")).sorted().findFirst().orElseThrow();
        }
        try (var reader = org.apache.parquet.hadoop.ParquetFileReader.open(org.apache.parquet.hadoop.util.HadoopInputFile.fromPath(
                new org.apache.hadoop.fs.Path(file.toUri()), new org.apache.hadoop.conf.Configuration()))) {
            return reader.getFooter().getFileMetaData().getSchema();
        }
    }

    @Test
    void badInputIsOneLine() throws Exception {
        String store = publishTiny(tmp);
        String missing = tmp.resolve("nowhere").toString();
        String out = tmp.resolve("out").toString();
        assertOneLineError(run("score", "--watch", "--model", "tiny", "--store", store, "--input", missing, "--out", out), 2,
                missing + ": no such directory to watch");
        Path file = tmp.resolve("one.png");
        TestImages.write(file, TestImages.grey(28, 28, 1, "png"));
        assertOneLineError(run("score", "--watch", "--model", "tiny", "--store", store, "--input", file.toString(), "--out", out), 2,
                "is a file; --watch watches a directory");
        assertOneLineError(run("score", "--watch", "--model", "tiny", "--store", store, "--input", tmp.toString(), "--out", out,
                "--trigger-interval", "often"), 2, "--trigger-interval often: not an interval");
        assertOneLineError(run("score", "--watch", "--labels", "--model", "tiny", "--store", store, "--input", tmp.toString(), "--out", out),
                2, "--labels does not apply to --watch");
        assertOneLineError(run("score", "--once", "--model", "tiny", "--store", store, "--input", tmp.toString(), "--out", out), 2,
                "--once needs --watch");
        Files.createDirectories(tmp.resolve("batch"));
        Files.createFile(tmp.resolve("batch/_SUCCESS"));
        assertOneLineError(run("score", "--watch", "--model", "tiny", "--store", store, "--input", tmp.toString(), "--out",
                tmp.resolve("batch").toString()), 2, "holds the output of score without --watch");
        Files.createDirectories(tmp.resolve("orphan/_spark_metadata"));
        assertOneLineError(run("score", "--watch", "--model", "tiny", "--store", store, "--input", tmp.toString(), "--out",
                tmp.resolve("orphan").toString()), 2, "holds a watch's scores but its checkpoint");
        assertEquals(0, run("score", "--help").code());
    }
}
