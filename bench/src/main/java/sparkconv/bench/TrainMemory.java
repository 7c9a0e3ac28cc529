package sparkconv.bench;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.apache.spark.sql.SparkSession;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.memory.enums.AllocationKind;

import sparkconv.data.ImageSet;
import sparkconv.models.ModelZoo;
import sparkconv.shards.ShardWriter;
import sparkconv.spark.SparkSessions;

/**
 * Peak memory of a short {@code train} run, measured in this JVM (in local mode the driver and every worker are this
 * one JVM): peak RSS (VmHWM), peak heap in use and peak live heap (after a full collection, every half second), and
 * the peaks of JavaCPP's {@code Pointer.totalBytes()} (off-heap bytes ND4J holds) and {@code Pointer.physicalBytes()}
 * (resident bytes, what {@code maxphysicalbytes} bounds), sampled every 10 ms. bench/run does not run it by default;
 * docs/memory.md has the commands and the figures.
 * <ul>
 * <li>{@code shards MODEL BATCH EXAMPLES DIR}: writes random images of the model's default input shape and classes as
 * shards (EXAMPLES training images, one batch each of validation and test); memory depends on shapes, not pixels.</li>
 * <li>{@code train ARGS...}: runs {@code sparkconv train ARGS...} in this JVM and prints one {@code MEMORY} line.</li>
 * </ul>
 */
public final class TrainMemory {
    private TrainMemory() {
    }

    public static void main(String[] args) throws Exception {
        if (args[0].equals("shards")) {
            shards(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]), args[4]);
            return;
        }
        Sampler sampler = new Sampler();
        sampler.start();
        MemoryBench.LiveHeap live = new MemoryBench.LiveHeap();
        live.start();
        long start = System.nanoTime();
        String[] train = java.util.Arrays.copyOfRange(args, 1, args.length);
        int code = sparkconv.cli.Main.run(train);
        sampler.interrupt();
        live.interrupt();
        sampler.join();
        System.out.printf("MEMORY %s: exit %d, %.0f s; peak RSS %,d MiB, peak heap used %,d MiB, peak live heap %,d MiB (-Xmx %,d MiB),"
                        + " peak heap committed %,d MiB, peak resident beyond the heap %,d MiB, peak ND4J allocated %,d MiB, peak JavaCPP totalBytes %,d MiB,"
                        + " peak physicalBytes %,d MiB; peak ND4J workspaces %,d MiB, peak ND4J other %,d MiB%n", String.join(" ", train), code,
                (System.nanoTime() - start) / 1e9, MemoryBench.peakRssKib() >> 10, sampler.heap >> 20, live.peak >> 20,
                Runtime.getRuntime().maxMemory() >> 20, sampler.heapCommitted >> 20, sampler.beyondHeap >> 20, sampler.nd4j >> 20,
                sampler.offHeap >> 20, sampler.physical >> 20, sampler.workspaces >> 20, sampler.general >> 20);
        System.exit(code);
    }

    private static void shards(String model, int batch, int examples, String dir) {
        ModelZoo.Input in = ModelZoo.defaultInput(model);
        int classes = ModelZoo.defaultClasses(model);
        List<String> names = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            names.add("c" + c);
        }
        Random random = new Random(42);
        SparkSession spark = SparkSessions.getOrCreate(Map.of("spark.master", "local[2]", "spark.ui.enabled", "false"));
        Map<String, ImageSet> splits = new java.util.LinkedHashMap<>();
        splits.put("train", images(in, names, examples, random));
        splits.put("validation", images(in, names, batch, random));
        splits.put("test", images(in, names, batch, random));
        ShardWriter.write(spark, splits, dir, new ShardWriter.Options("random-" + model, batch, true, Map.of()));
        spark.stop();
    }

    private static ImageSet images(ModelZoo.Input in, List<String> names, int n, Random random) {
        byte[] px = new byte[n * in.channels() * in.height() * in.width()];
        random.nextBytes(px);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % names.size();
        }
        return new ImageSet(in.channels(), in.height(), in.width(), names, px, labels, List.of());
    }

    /** Peaks of heap in use and JavaCPP's tracked and physical bytes, every 10 ms until interrupted. */
    static final class Sampler extends Thread {
        volatile long heap;
        volatile long offHeap;
        volatile long physical;
        /** Resident bytes beyond the committed heap: what an executor's memoryOverhead must hold. */
        volatile long beyondHeap;
        volatile long heapCommitted;
        /** ND4J's own count of the bytes it allocated (workspaces and buffers). */
        volatile long nd4j;
        /** ND4J's count split: workspace blocks (the training steps' and evaluations'), and everything else. */
        volatile long workspaces;
        volatile long general;

        Sampler() {
            setDaemon(true);
        }

        @Override
        public void run() {
            var memory = ManagementFactory.getMemoryMXBean();
            while (!isInterrupted()) {
                heap = Math.max(heap, memory.getHeapMemoryUsage().getUsed());
                offHeap = Math.max(offHeap, Pointer.totalBytes());
                long rss = Pointer.physicalBytes();
                long committed = memory.getHeapMemoryUsage().getCommitted();
                physical = Math.max(physical, rss);
                heapCommitted = Math.max(heapCommitted, committed);
                beyondHeap = Math.max(beyondHeap, rss - committed);
                try {
                    var tracker = org.nd4j.linalg.api.memory.AllocationsTracker.getInstance();
                    nd4j = Math.max(nd4j, tracker.bytesOnDevice(0));
                    workspaces = Math.max(workspaces, tracker.bytesOnDevice(AllocationKind.WORKSPACE, 0));
                    general = Math.max(general, tracker.bytesOnDevice(AllocationKind.GENERAL, 0));
                } catch (RuntimeException | LinkageError e) {
                    nd4j = -1;
                }
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }
}
