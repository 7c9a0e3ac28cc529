package sparkconv.cli;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.spark.SparkConf;

import sparkconv.SparkconvException;
import sparkconv.spark.WorkerThreads;
import sparkconv.models.ModelZoo;
import sparkconv.train.AveragingPolicy;
import sparkconv.train.WorkerMemory;

/**
 * {@link WorkerMemory}'s prediction in the CLI's words: the table {@code describe --batch} prints with the Spark settings
 * that hold it, and the check {@code train} runs before Spark starts against the memory the run is configured with.
 */
final class MemorySizing {
    /** What Spark's memory manager requires of a driver's or an executor's heap (1.5 x its 300 MiB reserve). */
    static final long MIN_HEAP = 450L << 20;
    /** Spark's default memoryOverhead: 10% of the executor memory, at least 384 MiB. */
    static final long MIN_OVERHEAD = 384L << 20;

    private MemorySizing() {
    }

    static String table(String model, WorkerMemory.Shape s, String updater, int batch, AveragingPolicy policy, int workers, int prefetch) {
        WorkerMemory.Need executor = WorkerMemory.need(s, updater, batch, policy, workers, prefetch, false);
        WorkerMemory.Need local = WorkerMemory.need(s, updater, batch, policy, workers, prefetch, true);
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "memory to train %s at batch %d (%s, averaging policy %s, %d minibatches read ahead), predicted "
                + "(docs/memory.md):%n", model, batch, updater, policy.kind(), prefetch));
        int m = executor.minibatch();
        b.append(String.format(Locale.ROOT, "  per worker: network %s (%,d parameters, %,d of updater state), training step %s "
                        + "at %d examples a step (DL4J's workspaces: activations kept for backprop %s, two gradient buffers %s, "
                        + "working memory %s), minibatches %s, evaluation %s, averaging copies %s (on an executor; none in local mode)%n",
                mib(executor.workerNetwork()), s.parameters(), s.updaterState(), mib(executor.workerStep()), m, mib(s.keptForBackprop(m)),
                mib(s.gradientBuffers(m)), mib(s.working(m)), mib(executor.workerData()), mib(executor.workerEvaluation()),
                mib(executor.workerExchange())));
        b.append(String.format(Locale.ROOT, "  per JVM: base %s (with its %d %s); the driver's copies %s%n",
                mib(local.baseOffHeap()), workers, workers == 1 ? "worker" : "workers", mib(local.driverOffHeap())));
        b.append(String.format(Locale.ROOT, "  %-32s %10s %10s %10s%n", "JVM", "heap", "off-heap", "total"));
        b.append(row("executor, " + workers + (workers == 1 ? " worker" : " workers"), executor));
        b.append(row("local[" + workers + "] (driver and workers)", local));
        b.append("Spark settings that hold it:\n");
        b.append(String.format(Locale.ROOT, "  cluster: --conf spark.executor.cores=%d --conf spark.executor.memory=%s "
                        + "--conf spark.executor.memoryOverhead=%s%n", workers, setting(heapSetting(executor)),
                setting(overheadSetting(executor))));
        b.append(String.format(Locale.ROOT, "  executor JVM flags: -Dorg.bytedeco.javacpp.maxphysicalbytes=%s -Dorg.bytedeco.javacpp.maxbytes=%s%n",
                setting(heapSetting(executor) + executor.offHeap()), setting(executor.nd4j())));
        b.append(String.format(Locale.ROOT, "  YARN container: %s per executor (memory + memoryOverhead)%n",
                mib(heapSetting(executor) + overheadSetting(executor))));
        b.append(String.format(Locale.ROOT, "  local[%d]: -Xmx%s -Dorg.bytedeco.javacpp.maxphysicalbytes=%s%n", workers,
                setting(heapSetting(local)), setting(heapSetting(local) + local.offHeap())));
        return b.toString();
    }

    private static String row(String what, WorkerMemory.Need n) {
        return String.format(Locale.ROOT, "  %-32s %10s %10s %10s%n", what, mib(n.heap()), mib(n.offHeap()), mib(n.total()));
    }

    /**
     * Refuses a training run whose predicted need exceeds what it is configured with: in local mode this JVM's heap and
     * {@code maxphysicalbytes} (without one, the machine's memory), on a cluster the executors' memory and memory overhead.
     */
    static void check(String model, WorkerMemory.Shape s, String updater, int batch, AveragingPolicy policy, int workers, int prefetch, SparkConf conf,
                      long jvmMaxHeap, String maxPhysical, long machineMemory) {
        String master = conf.get("spark.master", "local[*]");
        String what = String.format(Locale.ROOT, "%s at batch %d", model, batch);
        String hint = String.format(Locale.ROOT, " (sparkconv describe --model %s --batch %d --workers %d shows the sizes)", model, batch, workers > 0 ? workers : 1);
        if (master.startsWith("local")) {
            int w = workers > 0 ? workers : Math.max(1, WorkerThreads.localCores(master) / WorkerThreads.perWorker(conf));
            WorkerMemory.Need n = WorkerMemory.need(s, updater, batch, policy, w, prefetch, true);
            String who = String.format(Locale.ROOT, "%s with %d %s in this JVM", what, w, w == 1 ? "worker" : "workers");
            if (n.heap() > jvmMaxHeap) {
                throw new SparkconvException(String.format(Locale.ROOT, "%s needs %s of heap and the JVM has %s (-Xmx): raise -Xmx "
                        + "(SPARKCONV_JAVA_OPTS=-Xmx%s)%s", who, mib(n.heap()), mib(jvmMaxHeap), setting(n.heap()), hint));
            }
            long physical = maxPhysical == null ? 0 : parseBytes(maxPhysical);
            long total = n.total();
            if (physical > 0 && total > physical) {
                throw new SparkconvException(String.format(Locale.ROOT, "%s needs %s resident (heap %s + off-heap %s) and "
                                + "-Dorg.bytedeco.javacpp.maxphysicalbytes is %s: raise it to at least %s (conf/jvm.properties), or lower "
                                + "the batch or --workers%s", who, mib(total), mib(n.heap()), mib(n.offHeap()), mib(physical),
                        setting(total), hint));
            }
            if (physical <= 0 && total > machineMemory) {
                throw new SparkconvException(String.format(Locale.ROOT, "%s needs %s resident (heap %s + off-heap %s) and this "
                                + "machine has %s of memory: lower the batch or --workers, or train on a cluster%s", who, mib(total),
                        mib(n.heap()), mib(n.offHeap()), mib(machineMemory), hint));
            }
            return;
        }
        // an executor runs one worker per spark.task.cpus of its cores
        int slots = Math.max(1, conf.getInt("spark.executor.cores", 1) / WorkerThreads.perWorker(conf));
        int cores = workers > 0 ? Math.min(workers, slots) : slots;
        WorkerMemory.Need n = WorkerMemory.need(s, updater, batch, policy, cores, prefetch, false);
        long memory = conf.getSizeAsBytes("spark.executor.memory", "1g");
        String who = String.format(Locale.ROOT, "%s with %d %s per executor", what, cores, cores == 1 ? "worker" : "workers");
        if (n.heap() > memory) {
            throw new SparkconvException(String.format(Locale.ROOT, "%s needs %s of executor heap and spark.executor.memory is %s: "
                    + "raise spark.executor.memory to at least %s%s", who, mib(n.heap()), mib(memory), setting(n.heap()), hint));
        }
        long overhead = conf.contains("spark.executor.memoryOverhead") ? conf.getSizeAsMb("spark.executor.memoryOverhead", "0") << 20
                : Math.max(MIN_OVERHEAD, memory / 10);
        if (n.offHeap() > overhead) {
            throw new SparkconvException(String.format(Locale.ROOT, "%s needs %s off-heap per executor and spark.executor.memoryOverhead is %s: "
                    + "raise spark.executor.memoryOverhead to at least %s%s", who, mib(n.offHeap()), mib(overhead), setting(n.offHeap()), hint));
        }
    }

    static long heapSetting(WorkerMemory.Need n) {
        return Math.max(MIN_HEAP, n.heap());
    }

    static long overheadSetting(WorkerMemory.Need n) {
        return Math.max(MIN_OVERHEAD, n.offHeap());
    }

    /** JavaCPP's byte sizes: a number with an optional k, m, g or t (any case; a trailing b allowed). */
    static long parseBytes(String text) {
        Matcher m = Pattern.compile("(\\d+)\\s*([kmgt]?)b?", Pattern.CASE_INSENSITIVE).matcher(text.trim());
        if (!m.matches()) {
            throw new SparkconvException("-Dorg.bytedeco.javacpp.maxphysicalbytes=" + text + " is not a size (e.g. 12G)");
        }
        long v = Long.parseLong(m.group(1));
        return switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "k" -> v << 10;
            case "m" -> v << 20;
            case "g" -> v << 30;
            case "t" -> v << 40;
            default -> v;
        };
    }

    static String mib(long bytes) {
        return String.format(Locale.ROOT, "%,d MiB", (bytes + (1 << 20) - 1) >> 20);
    }

    /** A size as Spark and JavaCPP read it, rounded up to MiB. */
    static String setting(long bytes) {
        return ((bytes + (1 << 20) - 1) >> 20) + "m";
    }

    static WorkerMemory.Shape shape(String model, ModelZoo.Input input, int classes, String updater) {
        return WorkerMemory.shape(model, input, classes, updater);
    }
}
