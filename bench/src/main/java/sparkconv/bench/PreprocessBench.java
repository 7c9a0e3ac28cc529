package sparkconv.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;

import org.apache.spark.sql.SparkSession;

import sparkconv.data.ImageDecoder;
import sparkconv.data.ImageReader;
import sparkconv.data.ImageSources;
import sparkconv.preprocess.ImagePreprocess;
import sparkconv.shards.Manifest;
import sparkconv.spark.SparkSessions;

/**
 * Preprocess throughput (images/s) from a folder of 28x28 PNGs, a zip and a tar.gz of them (made by MakeImages),
 * through ImagePreprocess.run: listing, reading, decoding, quarantine, shard writing. Each source runs as {@link Runs}
 * (warm-up runs, then the median of measured runs), each run into a fresh output directory. Reports wall-clock images/s and images per CPU-second of
 * the whole JVM (driver + executors), which is what two dedicated cores deliver at best when the machine is shared, and
 * the task CPU of each Spark stage (the rest of the JVM's CPU is the driver, JIT and GC). Usage:
 * bench/run preprocess (arguments: DATA_DIR [MASTER])
 */
public class PreprocessBench {
    public static void main(String[] args) throws Exception {
        Path data = Path.of(args[0]);
        String master = args.length > 1 ? args[1] : "local[2]";
        SparkSession spark = SparkSessions.getOrCreate(Map.of("spark.master", master, "spark.ui.enabled", "false",
                "spark.app.name", "preprocess-bench"));
        Path work = Files.createTempDirectory("preprocess-bench");
        try {
            for (String[] source : new String[][]{{"folder", "folder", "FOLDER"}, {"zip", "images.zip", "ZIP"}, {"tar.gz", "images.tar.gz", "TAR"}}) {
                run(spark, source[0], data.resolve(source[1]), ImageReader.Format.valueOf(source[2]), work);
            }
        } finally {
            try (var files = Files.walk(work)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
            spark.stop();
        }
    }

    /** {@link Runs} of preprocess from one source, each run into a fresh directory. */
    static void run(SparkSession spark, String name, Path source, ImageReader.Format format, Path work) throws Exception {
        StageCpu.runs(spark, name, pass -> {
            ImagePreprocess.Result r = ImagePreprocess.run(spark, new ImagePreprocess.Request(source.toString(), format, "bench",
                    new ImageDecoder(1, 28, 28, ImageDecoder.DEFAULT_MAX_PIXELS), ImageSources.DEFAULT_MAX_ENTRY_BYTES, 0.1, 0.1, 64, false),
                    work.resolve(name + "-" + pass.replace(' ', '-')).toString());
            return r.shards().manifest().splits().values().stream().mapToLong(Manifest.Split::examples).sum();
        });
    }
}
