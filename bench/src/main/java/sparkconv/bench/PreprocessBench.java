package sparkconv.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;

import org.apache.spark.sql.SparkSession;

import sparkconv.data.ImageDecoder;
import sparkconv.data.ImageSources;
import sparkconv.shards.ImagePreprocess;
import sparkconv.shards.Manifest;
import sparkconv.spark.SparkSessions;

/**
 * Preprocess throughput (images/s) from a folder of 28x28 PNGs, a zip and a tar.gz of them (made by MakeImages),
 * through ImagePreprocess.run: listing, reading, decoding, quarantine, shard writing. A first folder run warms the
 * JIT; each measured run writes a fresh output directory. Reports wall-clock images/s and images per CPU-second of
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
            run(spark, "warm-up (folder)", data.resolve("folder"), ImageSources.Format.FOLDER, work.resolve("warm"));
            run(spark, "folder", data.resolve("folder"), ImageSources.Format.FOLDER, work.resolve("folder"));
            run(spark, "zip", data.resolve("images.zip"), ImageSources.Format.ZIP, work.resolve("zip"));
            run(spark, "tar.gz", data.resolve("images.tar.gz"), ImageSources.Format.TAR, work.resolve("tar"));
        } finally {
            try (var files = Files.walk(work)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
            spark.stop();
        }
    }

    static void run(SparkSession spark, String name, Path source, ImageSources.Format format, Path out) {
        StageCpu stages = StageCpu.register(spark);
        double gc0 = StageCpu.gcSeconds();
        double[] driver0 = StageCpu.driverAndJit();
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long cpu0 = os.getProcessCpuTime();
        long start = System.nanoTime();
        ImagePreprocess.Result r = ImagePreprocess.run(spark, new ImagePreprocess.Request(source.toString(), format, "bench",
                new ImageDecoder(1, 28, 28, ImageDecoder.DEFAULT_MAX_PIXELS), ImageSources.DEFAULT_MAX_ENTRY_BYTES, 0.1, 0.1, 64, false),
                out.toString());
        double s = (System.nanoTime() - start) / 1e9;
        double cpu = (os.getProcessCpuTime() - cpu0) / 1e9;
        long n = r.shards().manifest().splits().values().stream().mapToLong(Manifest.Split::examples).sum();
        System.out.printf("%-18s %,7d images in %6.2f s wall = %,8.0f images/s; %6.2f CPU-s = %,8.0f images per CPU-second (master %s, load %.1f)%n",
                name, n, s, n / s, cpu, n / cpu, spark.sparkContext().master(), os.getSystemLoadAverage());
        System.out.print(stages.report("    "));
        double[] driver = StageCpu.driverAndJit();
        System.out.printf("    %6.2f s in garbage collection, %.2f CPU-s on the driver thread, %.2f s compiling (JIT)%n",
                StageCpu.gcSeconds() - gc0, driver[0] - driver0[0], driver[1] - driver0[1]);
        spark.sparkContext().removeSparkListener(stages);
    }
}
