package sparkconv.bench;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import org.apache.spark.sql.SparkSession;

import sparkconv.data.ImageDecoder;
import sparkconv.data.ImageReader;
import sparkconv.data.ImageSources;
import sparkconv.score.ScoreJob;
import sparkconv.preprocess.ImagePreprocess;
import sparkconv.spark.SparkSessions;

/**
 * Peak memory of one preprocess or score job over a folder, a zip or a tar.gz of images (made by MakeImages), in a JVM of its own
 * with a fixed -Xmx: in local mode the driver and the executor are this one JVM, so its figures bound both. Peak live
 * heap: every half second a full collection runs and the heap still in use is sampled (without it, heap figures count
 * garbage the collector has not yet looked at); peak RSS is the kernel's high-water mark (VmHWM) of the whole process,
 * ND4J's off-heap buffers included. bench/run memory runs it at 1x and 10x the images.
 * Arguments: preprocess|score folder|zip|tar DATA_DIR [MASTER]
 */
public class MemoryBench {
    public static void main(String[] args) throws Exception {
        String job = args[0];
        String input = args[1];
        Path data = Path.of(args[2]);
        String master = args.length > 3 ? args[3] : "local[2]";
        ImageReader.Format format = ImageReader.Format.parse(input);
        Path source = data.resolve(switch (format) {
            case ZIP -> "images.zip";
            case TAR -> "images.tar.gz";
            default -> "folder";
        });
        SparkSession spark = SparkSessions.getOrCreate(Map.of("spark.master", master, "spark.ui.enabled", "false",
                "spark.app.name", "memory-bench"));
        Path work = Files.createTempDirectory("memory-bench");
        long images;
        long start = System.nanoTime();
        long cpu0 = Runs.OS.getProcessCpuTime();
        LiveHeap live = new LiveHeap();
        live.start();
        try {
            if (job.equals("preprocess")) {
                ImagePreprocess.Result r = ImagePreprocess.run(spark, new ImagePreprocess.Request(source.toString(),
                        format, "bench",
                        new ImageDecoder(1, 28, 28, ImageDecoder.DEFAULT_MAX_PIXELS),
                        ImageSources.DEFAULT_MAX_ENTRY_BYTES, 0.1, 0.1, 64, false), work.resolve("shards").toString());
                images = r.shards().manifest().splits().values().stream().mapToLong(s -> s.examples()).sum();
            } else {
                String store = work.resolve("store").toString();
                ScoreBench.publishModel(store);
                images = ScoreJob.run(spark, new ScoreJob.Request("bench", store, source.toString(), null,
                        work.resolve("scores").toString(), 5, 64, true, false)).images();
            }
        } finally {
            live.interrupt();
            live.join();
            try (var files = Files.walk(work)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double cpu = (Runs.OS.getProcessCpuTime() - cpu0) / 1e9;
        System.out.printf("%-10s %-6s %,7d images: peak live heap %,5d MiB (-Xmx %,d MiB), peak RSS %,6d MiB; %5.1f s wall, %5.1f CPU-s"
                        + " incl. GCs (master %s, load %.1f)%n", job, input, images, live.peak >> 20, Runtime.getRuntime().maxMemory() >> 20,
                peakRssKib() >> 10, seconds, cpu, master, Runs.OS.getSystemLoadAverage());
        spark.stop();
    }

    /**
     * Samples the heap in use after a full collection, twice a second, until interrupted. A sample counts only if the
     * full collection really ran: System.gc() returns without collecting while a thread holds the GC locker (JNI critical
     * code such as zip inflation), and the heap then still holds garbage (seen: 106 MiB "live" next to 63 MiB).
     */
    static final class LiveHeap extends Thread {
        private static final List<GarbageCollectorMXBean> FULL = ManagementFactory.getGarbageCollectorMXBeans().stream()
                .filter(b -> b.getName().contains("Old") || b.getName().contains("MarkSweep")).toList();
        volatile long peak;

        LiveHeap() {
            setDaemon(true);
        }

        @Override
        public void run() {
            while (!isInterrupted()) {
                long before = fullCollections();
                System.gc();
                if (fullCollections() > before) {
                    peak = Math.max(peak, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
                }
                try {
                    Thread.sleep(500);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        private static long fullCollections() {
            return FULL.stream().mapToLong(GarbageCollectorMXBean::getCollectionCount).sum();
        }
    }

    /** VmHWM: the most resident memory this process has had, in KiB (Linux). */
    static long peakRssKib() throws java.io.IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
