package sparkconv.bench;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;

import com.sun.management.GarbageCollectionNotificationInfo;

import org.apache.spark.sql.SparkSession;

import sparkconv.data.ImageDecoder;
import sparkconv.data.ImageSources;
import sparkconv.score.ScoreJob;
import sparkconv.shards.ImagePreprocess;
import sparkconv.spark.SparkSessions;

/**
 * Peak memory of one preprocess or score job over a folder of images (made by MakeImages), in a JVM of its own with a
 * fixed -Xmx: in local mode the driver and the executor are this one JVM, so its figures bound both. Peak heap is the
 * largest heap in use just after any garbage collection (what survives: the live set, plus old garbage not yet
 * collected), from GC notifications; peak RSS is the kernel's high-water mark (VmHWM) of the whole process, ND4J's
 * off-heap buffers included. bench/run memory runs it at 1x and 10x the images. Arguments: preprocess|score DATA_DIR [MASTER]
 */
public class MemoryBench {
    public static void main(String[] args) throws Exception {
        String job = args[0];
        Path data = Path.of(args[1]);
        String master = args.length > 2 ? args[2] : "local[2]";
        AtomicLong peakAfterGc = watchHeapAfterGc();
        SparkSession spark = SparkSessions.getOrCreate(Map.of("spark.master", master, "spark.ui.enabled", "false",
                "spark.app.name", "memory-bench"));
        Path work = Files.createTempDirectory("memory-bench");
        long images;
        long start = System.nanoTime();
        long cpu0 = ScoreBench.OS.getProcessCpuTime();
        try {
            if (job.equals("preprocess")) {
                ImagePreprocess.Result r = ImagePreprocess.run(spark, new ImagePreprocess.Request(data.resolve("folder").toString(),
                        ImageSources.Format.FOLDER, "bench", new ImageDecoder(1, 28, 28, ImageDecoder.DEFAULT_MAX_PIXELS),
                        ImageSources.DEFAULT_MAX_ENTRY_BYTES, 0.1, 0.1, 64, false), work.resolve("shards").toString());
                images = r.shards().manifest().splits().values().stream().mapToLong(s -> s.examples()).sum();
            } else {
                String store = work.resolve("store").toString();
                ScoreBench.publishModel(store);
                images = ScoreJob.run(spark, new ScoreJob.Request("bench", store, data.resolve("folder").toString(), null,
                        work.resolve("scores").toString(), 5, 64, true, false)).images();
            }
        } finally {
            try (var files = Files.walk(work)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double cpu = (ScoreBench.OS.getProcessCpuTime() - cpu0) / 1e9;
        System.out.printf("%-10s %,8d images: peak heap after GC %,6d MiB (-Xmx %,d MiB), peak RSS %,6d MiB; %5.1f s wall, %5.1f CPU-s"
                        + " (master %s, load %.1f)%n", job, images, peakAfterGc.get() >> 20, Runtime.getRuntime().maxMemory() >> 20,
                peakRssKib() >> 10, seconds, cpu, master, ScoreBench.OS.getSystemLoadAverage());
        spark.stop();
    }

    /** The largest heap use seen right after a collection, updated by every collector's notifications. */
    static AtomicLong watchHeapAfterGc() {
        AtomicLong peak = new AtomicLong();
        java.util.Set<String> heapPools = new java.util.HashSet<>();
        ManagementFactory.getMemoryPoolMXBeans().stream().filter(p -> p.getType() == MemoryType.HEAP).forEach(p -> heapPools.add(p.getName()));
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            ((NotificationEmitter) gc).addNotificationListener((n, handback) -> {
                if (!n.getType().equals(GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION)) {
                    return;
                }
                var info = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
                long used = 0;
                for (Map.Entry<String, MemoryUsage> e : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
                    if (heapPools.contains(e.getKey())) {
                        used += e.getValue().getUsed();
                    }
                }
                peak.accumulateAndGet(used, Math::max);
            }, null, null);
        }
        return peak;
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
