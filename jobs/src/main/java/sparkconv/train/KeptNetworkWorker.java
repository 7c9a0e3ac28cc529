package sparkconv.train;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Pattern;

import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.MultiLayerUpdater;
import org.deeplearning4j.nn.updater.graph.ComputationGraphUpdater;
import org.deeplearning4j.spark.api.worker.NetBroadcastTuple;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingResult;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import sparkconv.shards.ShardFiles;

/**
 * One averaging round on an executor, on a network kept in the executor JVM between rounds: the round assigns the
 * broadcast parameters, updater state and iteration/epoch counts to a kept network instead of building one from its
 * configuration (dl4j-spark's worker builds one per round, and starts and destroys a prefetch thread with its own
 * memory workspace per round). A kept network is reused only for the same configuration apart from its counters (a new
 * learning rate is a new configuration), and by one task at a time. Minibatches are read ahead ({@code --prefetch})
 * on a shared loader thread. The round's result is what dl4j-spark's worker returns (parameters, updater state,
 * score), so dl4j-spark's aggregation and driver update stay as they are.
 */
final class KeptNetworkWorker implements FlatMapFunction<Iterator<String>, ParameterAveragingTrainingResult> {
    private static final Pattern COUNTERS = Pattern.compile("\"(iterationCount|epochCount)\"\\s*:\\s*\\d+");
    private static final ExecutorService LOADER = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "sparkconv shard loader");
        t.setDaemon(true);
        return t;
    });
    /** Networks this JVM built for rounds (the rest of its rounds reused one): tests check that networks are kept. */
    static final java.util.concurrent.atomic.AtomicInteger BUILT = new java.util.concurrent.atomic.AtomicInteger();
    /** Networks not in use, by configuration; only the newest configuration's are kept. */
    private static final Map<String, Deque<Model>> KEPT = new HashMap<>();
    /**
     * Kept networks unused this long are dropped (an executor that outlives its training, e.g. in a pipeline's later
     * steps, would otherwise hold them: ~0.75 GB off-heap per task slot for AlexNet with its updater state).
     */
    private static final long IDLE_NANOS = java.util.concurrent.TimeUnit.MINUTES.toNanos(5);
    private static long lastUse;

    static {
        Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sparkconv kept-network expiry");
            t.setDaemon(true);
            return t;
        }).scheduleWithFixedDelay(() -> {
            synchronized (KEPT) {
                if (System.nanoTime() - lastUse > IDLE_NANOS) {
                    KEPT.clear();
                }
            }
        }, 1, 1, java.util.concurrent.TimeUnit.MINUTES);
    }

    private final Broadcast<NetBroadcastTuple> broadcast;
    private final String configuration;
    private final boolean graph;
    private final boolean saveUpdater;
    private final ShardFiles.Loader loader;
    private final int prefetch;

    KeptNetworkWorker(Broadcast<NetBroadcastTuple> broadcast, String configuration, boolean graph, boolean saveUpdater,
                      ShardFiles.Loader loader, int prefetch) {
        this.broadcast = broadcast;
        this.configuration = configuration;
        this.graph = graph;
        this.saveUpdater = saveUpdater;
        this.loader = loader;
        this.prefetch = prefetch;
    }

    /** A network configuration's JSON without its iteration and epoch counters: which kept networks fit a round. */
    static String configurationKey(String json) {
        return COUNTERS.matcher(json).replaceAll("");
    }

    @Override
    public Iterator<ParameterAveragingTrainingResult> call(Iterator<String> paths) throws Exception {
        if (!paths.hasNext()) {
            return Collections.emptyIterator(); // dl4j-spark's aggregation skips a partition without results
        }
        NetBroadcastTuple tuple = broadcast.getValue();
        Model net = borrow(tuple);
        try {
            // Up to `prefetch` minibatches read ahead on the loader thread while this one fits (0: read in turn).
            Deque<Future<DataSet>> ahead = new ArrayDeque<>();
            while (paths.hasNext() || !ahead.isEmpty()) {
                while (paths.hasNext() && ahead.size() <= prefetch) {
                    ahead.add(load(paths.next()));
                }
                DataSet minibatch = get(ahead.poll());
                if (graph) {
                    ((ComputationGraph) net).fit(minibatch);
                } else {
                    ((MultiLayerNetwork) net).fit(minibatch);
                }
            }
            Nd4j.getExecutioner().commit();
            INDArray state = saveUpdater ? updaterState(net) : null;
            // Copies: the kept network is the next round's, while Spark serialises this result.
            return List.of(new ParameterAveragingTrainingResult(net.params().dup(), state == null ? null : state.dup(),
                    net.score(), null, null, null)).iterator();
        } finally {
            giveBack(net);
        }
    }

    private Model borrow(NetBroadcastTuple tuple) {
        Model kept;
        synchronized (KEPT) {
            lastUse = System.nanoTime();
            KEPT.keySet().removeIf(key -> !key.equals(configuration));
            Deque<Model> free = KEPT.get(configuration);
            kept = free == null ? null : free.poll();
        }
        if (kept == null) {
            return build(tuple);
        }
        kept.params().assign(tuple.getParameters());
        INDArray state = updaterState(kept);
        if (tuple.getUpdaterState() != null && state != null) {
            state.assign(tuple.getUpdaterState());
        }
        if (graph) {
            var conf = tuple.getGraphConfiguration();
            ((ComputationGraph) kept).getConfiguration().setIterationCount(conf.getIterationCount());
            ((ComputationGraph) kept).getConfiguration().setEpochCount(conf.getEpochCount());
        } else {
            var conf = tuple.getConfiguration();
            ((MultiLayerNetwork) kept).setIterationCount(conf.getIterationCount());
            ((MultiLayerNetwork) kept).setEpochCount(conf.getEpochCount());
        }
        return kept;
    }

    /** What dl4j-spark's worker builds every round: the configuration's network on copies of the parameters and state. */
    private Model build(NetBroadcastTuple tuple) {
        BUILT.incrementAndGet();
        if (graph) {
            ComputationGraph net = new ComputationGraph(tuple.getGraphConfiguration().clone());
            net.init(tuple.getParameters().unsafeDuplication(), false);
            if (tuple.getUpdaterState() != null) {
                net.setUpdater(new ComputationGraphUpdater(net, tuple.getUpdaterState().unsafeDuplication()));
            }
            return net;
        }
        MultiLayerNetwork net = new MultiLayerNetwork(tuple.getConfiguration().clone());
        net.init(tuple.getParameters().unsafeDuplication(), false);
        if (tuple.getUpdaterState() != null) {
            net.setUpdater(new MultiLayerUpdater(net, tuple.getUpdaterState().unsafeDuplication()));
        }
        return net;
    }

    private void giveBack(Model net) {
        synchronized (KEPT) {
            lastUse = System.nanoTime();
            KEPT.computeIfAbsent(configuration, key -> new ArrayDeque<>()).push(net);
        }
    }

    /** Drops this JVM's kept networks (a training ended; in local mode the executors are the driver's JVM). */
    static void release() {
        synchronized (KEPT) {
            KEPT.clear();
        }
    }

    /** How many networks this JVM keeps for later rounds. */
    static int kept() {
        synchronized (KEPT) {
            return KEPT.values().stream().mapToInt(Deque::size).sum();
        }
    }

    private INDArray updaterState(Model net) {
        return graph ? ((ComputationGraph) net).getUpdater().getStateViewArray()
                : ((MultiLayerNetwork) net).getUpdater().getStateViewArray();
    }

    private Future<DataSet> load(String path) throws java.io.IOException {
        return prefetch > 0 ? LOADER.submit(() -> loader.load(path))
                : java.util.concurrent.CompletableFuture.completedFuture(loader.load(path));
    }

    private static DataSet get(Future<DataSet> minibatch) throws Exception {
        try {
            return minibatch.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }
}
