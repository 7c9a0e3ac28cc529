package sparkconv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.LocalSpark;
import sparkconv.TestJvm;
import sparkconv.data.TestImages;

/**
 * Exactly once with a real kill: {@code score --watch} runs as its own process ({@code sparkconv.cli.Main}, as
 * {@code ./sparkconv} runs it), is paused inside a micro-batch by {@link sparkconv.spark.FaultPoint} (one of the batch's
 * two tasks has written its Parquet file, the other waits) and killed with SIGKILL; restarted from its checkpoint
 * while more files land, it scores every file exactly once (rows = files, no path twice, the killed attempt's file
 * never read), the broken file as one error row, and stops cleanly on SIGTERM.
 */
class ScoreWatchKillTest {
    @TempDir
    Path tmp;

    @Test
    void aWatchKilledMidBatchScoresEveryFileExactlyOnceAfterRestartingFromItsCheckpoint() throws Exception {
        String store = ScoreWatchTest.publishTiny(tmp);
        Path landing = Files.createDirectories(tmp.resolve("landing"));
        // wave 1, before the first start: 2 files a micro-batch, so batch 0 = 2 files, batch 1 = 2 files
        for (int i = 0; i < 3; i++) {
            ScoreWatchTest.land(landing, "a-" + i + ".png", TestImages.grey(28, 28, i, "png"));
        }
        ScoreWatchTest.land(landing, "a-broken.png", TestImages.truncated(TestImages.grey(28, 28, 9, "png"), 50));
        Path out = tmp.resolve("scores");
        Path pause = Files.createDirectories(tmp.resolve("pause"));

        // 1. paused at the third scoring task it starts: batch 1's (each file of a 2-file batch is a task of its own:
        //    Spark packs two files into two tasks, whatever openCostInBytes, on local[2]); batch 1's other task writes its file meanwhile
        Path log1 = tmp.resolve("watch-1.log");
        Process killed = watch(landing, store, out, log1, pause);
        try {
            waitFor(() -> Files.exists(pause.resolve("paused")), killed, log1, "the watch pauses inside batch 1");
            waitFor(() -> unlogged(out).stream().anyMatch(f -> complete(out.resolve(f))), killed, log1,
                    "batch 1's other task wrote its whole file (Parquet footer and all), which the sink's log does not list");
            assertTrue(read(log1).contains("batch 0: 2 images"), read(log1));
            assertFalse(read(log1).contains("batch 1:"), read(log1));
            assertTrue(Files.exists(out.resolve("_checkpoint/offsets/1")) && !Files.exists(out.resolve("_checkpoint/commits/1")),
                    "batch 1 is planned in the offset log, not committed");
        } finally {
            killed.destroyForcibly(); // SIGKILL: no shutdown hook, no stop
        }
        assertEquals(137, killed.waitFor(), "killed by SIGKILL");
        List<String> orphans = unlogged(out);
        assertEquals(1, orphans.size(), "the killed batch's file, written but never committed: " + orphans);
        assertTrue(complete(out.resolve(orphans.get(0))), orphans.get(0));

        // wave 2 lands while nothing watches
        for (int i = 0; i < 3; i++) {
            ScoreWatchTest.land(landing, "b-" + i + ".png", TestImages.grey(28, 28, 100 + i, "png"));
        }
        // 2. restarted from the checkpoint (no pause): batch 1 again with the same files, then the new ones
        Path log2 = tmp.resolve("watch-2.log");
        Process restarted = watch(landing, store, out, log2, null);
        SparkSession spark = LocalSpark.get();
        try {
            waitFor(() -> read(log2).contains("\nbatch 1: 2 images"), restarted, log2, "batch 1 runs again");
            // wave 3 lands while it watches
            for (int i = 0; i < 2; i++) {
                ScoreWatchTest.land(landing, "c-" + i + ".png", TestImages.grey(28, 28, 200 + i, "png"));
            }
            waitFor(() -> scoredImages(read(log2)) == 7, restarted, log2, "the 7 files since the kill are scored");
        } finally {
            restarted.destroy(); // SIGTERM: a clean stop
        }
        assertEquals(143, restarted.waitFor(), "ended by SIGTERM");
        String second = read(log2);
        assertTrue(second.lines().anyMatch(l -> l.matches("stopped: \\d+ batch(es)?, 7 images, [01] with errors; scores in .*")),
                second);
        assertFalse(second.contains("Exception") || second.contains("\tat "), "no stack trace: " + second);

        List<Row> rows = spark.read().parquet(out.toString()).collectAsList();
        assertEquals(9, rows.size(), "rows = files");
        assertEquals(9, rows.stream().map(r -> r.getString(0)).distinct().count(), "no file scored twice");
        List<Row> errors = rows.stream().filter(r -> !r.isNullAt(r.fieldIndex("error"))).toList();
        assertEquals(1, errors.size(), errors.toString());
        assertTrue(errors.get(0).getString(0).endsWith("a-broken.png") && errors.get(0).getString(errors.get(0).fieldIndex("error"))
                .startsWith("corrupt-image: "), errors.get(0).toString());
        // the files of the killed attempt are still there: only the sink's log keeps them out
        assertEquals(10, spark.read().parquet(out.resolve("part-*.parquet").toString()).count(),
                "read past the sink's log, the killed attempt's row shows up twice");
    }

    /** {@code sparkconv.cli.Main score --watch ...} in a JVM of its own, with the test's classpath and the product's JVM flags. */
    private static Process watch(Path landing, String store, Path out, Path log, Path pause) throws Exception {
        ProcessBuilder pb = TestJvm.command("sparkconv.cli.Main", "score", "--watch", "--model", "tiny:latest", "--store", store,
                "--input", landing.toString(), "--out", out.toString(), "--max-files-per-trigger", "2", "--trigger-interval", "200ms",
                "--master", "local[2]", "--conf", "spark.ui.enabled=false").redirectOutput(log.toFile());
        if (pause != null) {
            pb.environment().put("SPARKCONV_FAULT_PAUSE_DIR", pause.toString());
            pb.environment().put("SPARKCONV_FAULT_PAUSE_AT", "3");
        }
        return pb.start();
    }

    private static void waitFor(BooleanSupplier condition, Process p, Path log, String what) throws Exception {
        long deadline = System.nanoTime() + 180_000_000_000L;
        while (!condition.getAsBoolean()) {
            assertTrue(p.isAlive() && System.nanoTime() < deadline, what + ":\n" + read(log));
            Thread.sleep(100);
        }
        System.out.printf("%s: after %.1f s%n", what, (System.nanoTime() - START) / 1e9);
    }

    private static final long START = System.nanoTime();

    private static long scoredImages(String log) {
        return log.lines().filter(l -> l.matches("batch \\d+: .*")).mapToLong(l -> Long.parseLong(l.replaceFirst("batch \\d+: (\\d+) images?, .*", "$1")))
                .sum();
    }

    private static String read(Path log) {
        try {
            return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The Parquet files in the sink's directory that its log does not list. */
    private static List<String> unlogged(Path out) {
        List<String> files = new ArrayList<>(partFiles(out));
        files.removeAll(loggedFiles(out));
        return files;
    }

    /** A whole Parquet file: it ends with its footer's magic, written when the file is closed. */
    private static boolean complete(Path file) {
        try {
            byte[] bytes = Files.readAllBytes(file);
            return bytes.length > 8 && new String(bytes, bytes.length - 4, 4, StandardCharsets.US_ASCII).equals("PAR1");
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /** The Parquet files in the sink's directory. */
    private static List<String> partFiles(Path out) {
        if (!Files.isDirectory(out)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(out)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("part-") && n.endsWith(".parquet")).sorted().toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The files the sink's log ({@code _spark_metadata/<batch>}) lists as committed. */
    private static List<String> loggedFiles(Path out) {
        Path logDir = out.resolve("_spark_metadata");
        if (!Files.isDirectory(logDir)) {
            return List.of();
        }
        List<String> files = new ArrayList<>();
        try (Stream<Path> s = Files.list(logDir)) {
            for (Path batch : s.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                for (String line : Files.readAllLines(batch)) {
                    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"path\":\"[^\"]*/(part-[^\"/]+)\"").matcher(line);
                    if (m.find()) {
                        files.add(m.group(1));
                    }
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return files;
    }
}
