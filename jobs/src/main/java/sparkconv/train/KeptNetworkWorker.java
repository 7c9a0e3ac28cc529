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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.MultiLayerUpdater;
import org.deeplearning4j.nn.updater.graph.ComputationGraphUpdater;
import org.deeplearning4j.spark.api.worker.NetBroadcastTuple;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingResult;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;

import sparkconv.models.FloatVectors;
import sparkconv.shards.ShardFiles;

/**
 * One averaging round on an executor, on a network kept in the executor JVM between rounds: the round assigns the
 * broadcast parameters, updater state and iteration/epoch counts to a kept network instead of building one from its
 * configuration (dl4j-spark's worker builds one per round, and starts and destroys a prefetch thread with its own
 * memory workspace per round). A kept network is reused only for the same configuration apart from its counters and
 * learning rates (the round assigns the broadcast rates too: a schedule or an averaging policy changes them every
 * epoch or half epoch, and rebuilding W networks and threads for each change was churn a long run could not afford),
 * and by one task at a time. Minibatches are read ahead ({@code --prefetch})
 * on a shared loader thread. A round's result is what dl4j-spark's worker returns (parameters, updater state,
 * score), for the driver to average ({@link Rounds.JobPerRound}); in a barrier stage the tasks average among
 * themselves ({@link #exchanging}). {@link Rounds} says which runs when.
 * <p>
 * Each kept network is built, assigned and fitted on a thread of its own: ND4J's memory workspaces belong to the thread
 * that uses them and stay allocated while it lives, and Spark runs tasks on pooled threads, so a network fitted on
 * whichever task thread ran its round left a training workspace in every such thread (for {@code candle-cnn-60} at
 * batch 128, GBs each: its second epoch ran out of off-heap memory). A dropped network's thread frees its workspaces.
 */
final class KeptNetworkWorker implements FlatMapFunction<Iterator<String>, ParameterAveragingTrainingResult> {
    private static final Pattern COUNTERS = Pattern.compile("\"(iterationCount|epochCount)\"\\s*:\\s*\\d+");
    /**
     * An updater's plain learning rate (a schedule is a {@code learningRateSchedule} entry of its own, which stays in the
     * key; sparkconv sets plain rates: {@link SparkModel#setRate}).
     */
    private static final Pattern RATE = Pattern.compile("\"learningRate\"\\s*:\\s*[-+0-9.eE]+");
    private static final ExecutorService LOADER = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "sparkconv shard loader");
        t.setDaemon(true);
        return t;
    });
    /** Networks this JVM built for rounds (the rest of its rounds reused one): tests check that networks are kept. */
    static final AtomicInteger BUILT = new AtomicInteger();
    /** Networks not in use, by configuration; only the newest configuration's are kept. */
    private static final Map<String, Deque<Kept>> KEPT = new HashMap<>();
    private static final AtomicInteger THREADS = new AtomicInteger();

    /** A kept network (built by its first round) and the one thread it is built, assigned and fitted on. */
    private static final class Kept {
        final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "sparkconv training " + THREADS.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        Model net;
        /**
         * The stage attempt whose task returned this network's own arrays as its result ({@link #resultsInPlace}), or
         * null: Spark serialises a task's result after the task gave the network back, so no other task of that stage
         * may take it meanwhile.
         */
        String resultOf;

        /** Frees the thread's workspaces (the network's training memory) and ends the thread. */
        void retire() {
            thread.execute(() -> Nd4j.getWorkspaceManager().destroyAllWorkspacesForCurrentThread());
            thread.shutdown();
        }
    }
    /**
     * Kept networks unused this long are dropped (an executor that outlives its training, e.g. in a pipeline's later
     * steps, would otherwise hold them: ~0.75 GB off-heap per task slot for AlexNet with its updater state).
     */
    private static final long IDLE_NANOS = TimeUnit.MINUTES.toNanos(5);
    private static long lastUse;

    static {
        Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sparkconv kept-network expiry");
            t.setDaemon(true);
            return t;
        }).scheduleWithFixedDelay(() -> {
            synchronized (KEPT) {
                if (System.nanoTime() - lastUse > IDLE_NANOS) {
                    retireAll();
                }
            }
        }, 1, 1, TimeUnit.MINUTES);
    }

    private final RoundStart broadcast;
    private final String configuration;
    private final boolean graph;
    private final boolean saveUpdater;
    private final ShardFiles.Loader loader;
    private final int prefetch;
    /** Rounds of {@code frequency} minibatches this task runs, averaging with the other tasks after each (0: one round). */
    private final int rounds;
    private final int frequency;
    /** Where those rounds' time goes (null: one round). */
    private final RoundClock clock;
    /** The outer step after each of those rounds' averages, with the driver's velocity (null: none). */
    private final Broadcast<OuterMomentum> outer;
    /** Whether a round's result is the kept network's own parameters and updater state rather than copies. */
    private final boolean inPlace;
    /** The most floats of parameters and updater state one exchange of those rounds moves ({@link #exchange}). */
    private final int pieceFloats;

    KeptNetworkWorker(RoundStart broadcast, String configuration, boolean graph, boolean saveUpdater,
                      ShardFiles.Loader loader, int prefetch) {
        this(broadcast, configuration, graph, saveUpdater, loader, prefetch, 0, 0, null, null, false, 0);
    }

    private KeptNetworkWorker(RoundStart broadcast, String configuration, boolean graph, boolean saveUpdater,
                              ShardFiles.Loader loader, int prefetch, int rounds, int frequency, RoundClock clock,
                              Broadcast<OuterMomentum> outer, boolean inPlace, int pieceFloats) {
        this.broadcast = broadcast;
        this.configuration = configuration;
        this.graph = graph;
        this.saveUpdater = saveUpdater;
        this.loader = loader;
        this.prefetch = prefetch;
        this.rounds = rounds;
        this.frequency = frequency;
        this.clock = clock;
        this.outer = outer;
        this.inPlace = inPlace;
        this.pieceFloats = pieceFloats;
    }

    /**
     * This worker as one task of a barrier stage that runs {@code rounds} averaging rounds of {@code frequency}
     * minibatches: after each round the tasks average their parameters, updater state and score
     * ({@link PeerAverage}) and every task continues from the average, so a chunk of rounds costs
     * one Spark job instead of one per round. In round {@code r} each task fits its partition's minibatches
     * {@code r*F..(r+1)*F-1}; the first task returns the last average (the others return nothing) with the outer
     * step's velocity, if {@code outer} is given (every task takes the same step after each average). The average moves
     * at most {@code pieceFloats} floats at a time ({@link #exchange}). Each round's time goes to {@code clock}.
     */
    KeptNetworkWorker exchanging(int rounds, int frequency, RoundClock clock, Broadcast<OuterMomentum> outer, int pieceFloats) {
        return new KeptNetworkWorker(broadcast, configuration, graph, saveUpdater, loader, prefetch, rounds, frequency, clock,
                outer, false, pieceFloats);
    }

    /**
     * This worker (a job per round) returning the kept network's own parameters and updater state as its result instead
     * of copies (for AlexNet with Nesterov 476 MiB per worker, beside the network and the bytes Spark serialises them
     * to): for a stage with no more tasks than task slots, where every task has a network of its own. A network whose
     * result Spark may still be serialising is not lent to another task of its stage ({@link Kept#resultOf}); with more
     * tasks than slots later tasks would build networks instead, so those results stay copies.
     */
    KeptNetworkWorker resultsInPlace() {
        return new KeptNetworkWorker(broadcast, configuration, graph, saveUpdater, loader, prefetch, rounds, frequency, clock,
                outer, true, pieceFloats);
    }

    /**
     * What the first task of a barrier stage returns: the last round's average (parameters, updater state or null), its
     * score and the outer step's velocity (or null).
     */
    sealed interface Exchanged extends java.io.Serializable permits Copied, InThisJvm {
        double score();

        float[] velocity();

        /** The average's parameters and updater state (null: not averaged), for the driver to copy into its network. */
        INDArray[] take();
    }

    /** From an executor: copies of the kept network's arrays, which Spark sends to the driver. */
    record Copied(float[] params, float[] updaterState, double score, float[] velocity) implements Exchanged {
        @Override
        public INDArray[] take() {
            return new INDArray[] {FloatVectors.vector(params), updaterState == null ? null : FloatVectors.vector(updaterState)};
        }
    }

    /**
     * In local mode (the tasks run in the driver's JVM): the kept network's own arrays, found by id as a round's start is
     * ({@link RoundStart.Local}). The network stays unused until the driver's next stage, which starts after the driver
     * copied them. Copies returned as a task result sat on the heap three times (the copy, Spark's serialised result,
     * the driver's deserialised copy: 476 MiB each for AlexNet with Nesterov state).
     */
    record InThisJvm(long id, double score, float[] velocity) implements Exchanged {
        private static final Map<Long, INDArray[]> ARRAYS = new java.util.concurrent.ConcurrentHashMap<>();
        private static final AtomicInteger IDS = new AtomicInteger();

        static InThisJvm of(INDArray params, INDArray updaterState, double score, float[] velocity) {
            InThisJvm handed = new InThisJvm(IDS.incrementAndGet(), score, velocity);
            ARRAYS.put(handed.id, new INDArray[] {params, updaterState});
            return handed;
        }

        @Override
        public INDArray[] take() {
            INDArray[] arrays = ARRAYS.remove(id);
            if (arrays == null) {
                throw new IllegalStateException("a barrier stage's average " + id + " was taken twice");
            }
            return arrays;
        }
    }

    /**
     * A network configuration's JSON without its iteration and epoch counters and its plain learning rates: which kept
     * networks fit a round ({@link #assign} sets those three).
     */
    static String configurationKey(String json) {
        return RATE.matcher(COUNTERS.matcher(json).replaceAll("")).replaceAll("");
    }

    /** One round (a job per round): this task's fitted parameters, updater state and score, for the driver to average. */
    @Override
    public Iterator<ParameterAveragingTrainingResult> call(Iterator<String> paths) throws Exception {
        List<String> round = new java.util.ArrayList<>();
        paths.forEachRemaining(round::add);
        if (round.isEmpty()) {
            return Collections.emptyIterator(); // dl4j-spark's aggregation skips a partition without results
        }
        NetBroadcastTuple tuple = broadcast.get();
        int worker = TaskContext.getPartitionId();
        Kept kept = borrow();
        try {
            // One round at a time per kept network: its thread runs them in turn, even after a cancelled task.
            return List.of(onThread(kept, () -> fitRound(kept, tuple, worker, round))).iterator();
        } finally {
            kept.resultOf = inPlace ? stageAttempt() : null;
            giveBack(kept);
        }
    }

    /**
     * A barrier stage's task ({@link #exchanging}): {@code rounds} rounds on this task's minibatches, averaged with the
     * other tasks' after each.
     */
    Iterator<Exchanged> exchangedRounds(Iterator<String> paths) throws Exception {
        List<String> all = new java.util.ArrayList<>();
        paths.forEachRemaining(all::add);
        if (all.isEmpty()) {
            return Collections.emptyIterator();
        }
        NetBroadcastTuple tuple = broadcast.get();
        int worker = TaskContext.getPartitionId();
        // Tasks in one JVM share the broadcast value: each steps its own copy of the velocity.
        OuterMomentum step = outer == null ? null : new OuterMomentum(outer.getValue().beta(), outer.getValue().rate(),
                outer.getValue().velocity().clone(), outer.getValue().resetLocal());
        float[] roundStart = step == null ? null : FloatVectors.copy(tuple.getParameters(), 0);
        Kept kept = borrow();
        ReusedFloats pieces = new ReusedFloats();
        PeerAverage peers = null;
        try {
            peers = new PeerAverage(new AllGather());
            double score = Double.NaN;
            long[] lengths = {-1, -1}; // parameters, averaged updater state: known once the network is
            for (int r = 0; r < rounds; r++) {
                List<String> mine = RoundLayout.workerRound(all, r, frequency);
                boolean first = r == 0;
                long start = System.nanoTime();
                // the first piece is read out on the same trip to the network's thread as the fit (a trip costs a
                // wake-up, and a LeNet-5 round is ~10 ms)
                Fitted fitted = onThread(kept, () -> {
                    Model net = first ? start(kept, tuple) : kept.net;
                    if (lengths[0] < 0) {
                        INDArray state = saveUpdater ? updaterState(net) : null;
                        lengths[0] = net.params().length();
                        lengths[1] = state == null ? 0 : state.length();
                    }
                    Double fittedScore = fitted(net, worker, mine);
                    return new Fitted(fittedScore, fittedScore == null ? null
                            : piece(net, 0, pieces.of((int) Math.min(pieceFloats, lengths[0] + lengths[1]))));
                });
                long[] spent = new long[2];
                score = exchange(kept, fitted, lengths, peers, pieces, step, roundStart, spent);
                clock.add(System.nanoTime() - start - spent[0] - spent[1], spent[0], spent[1]);
            }
            PeerAverage done = peers;
            peers = null;
            done.close();
            if (worker != 0) {
                return Collections.emptyIterator();
            }
            double lastScore = score;
            float[] velocity = step == null ? null : step.velocity();
            return List.<Exchanged>of(onThread(kept, () -> {
                INDArray state = saveUpdater ? updaterState(kept.net) : null;
                return broadcast instanceof RoundStart.Local
                        ? InThisJvm.of(kept.net.params(), state, lastScore, velocity)
                        : new Copied(FloatVectors.copy(kept.net.params(), 0), state == null ? null : FloatVectors.copy(state, 0),
                                lastScore, velocity);
            })).iterator();
        } finally {
            if (peers != null) {
                peers.abandon();
            }
            giveBack(kept);
        }
    }

    /**
     * A round's end on a task: its score (null: it had no minibatches this round and sends nothing) and the first piece
     * of what it sends.
     */
    private record Fitted(Double score, float[] firstPiece) {
    }

    /** Elements {@code offset ..} of the network's parameters followed by its averaged updater state, into {@code piece}. */
    private float[] piece(Model net, long offset, float[] piece) {
        visit(net, offset, piece.length, (array, first, count, at, state) -> FloatVectors.readRange(array, first, piece, at, count));
        return piece;
    }

    /** A round's minibatches fitted: the network's score, or null when this task has no more minibatches. */
    private Double fitted(Model net, int worker, List<String> minibatches) throws Exception {
        if (minibatches.isEmpty()) {
            return null;
        }
        fit(net, worker, minibatches);
        return net.score();
    }

    /**
     * The tasks' average of their parameters then updater state ({@link PeerAverage}: in task order, so every task has
     * the same floats) assigned to this task's network, after the outer step on the parameters if {@code step} is given
     * (from {@code roundStart}, which becomes the next round's start); {@code fitted} is this task's round,
     * {@code lengths} the network's parameters and averaged updater state. Returns the average score, NaN when no task had minibatches (nothing moved).
     * <p>
     * The vector moves in pieces of at most {@link #pieceFloats}, each read out of the network, averaged and written
     * back before the next: a worker holds a few pieces on the heap (its piece, its slices as blocks, the fetched
     * slices, the average; reused from piece to piece, {@code pieces} and {@link PeerAverage}'s) rather than as many
     * copies of the model (AlexNet with Nesterov state: 476 MiB). Every
     * element's average and outer step are computed as for the whole vector, so the pieces give the same floats. Time
     * waiting for the others goes to {@code spent[0]}, assigning to {@code spent[1]}.
     */
    private double exchange(Kept kept, Fitted fitted, long[] lengths, PeerAverage peers, ReusedFloats pieces, OuterMomentum step,
                            float[] roundStart, long[] spent) throws Exception {
        Double score = fitted.score();
        long p = lengths[0];
        long total = p + lengths[1];
        double averageScore = Double.NaN;
        for (long from = 0; from < total; from += pieceFloats) {
            long offset = from;
            int n = (int) Math.min(pieceFloats, total - from);
            float[] mine = score == null ? null
                    : offset == 0 ? fitted.firstPiece() : onThread(kept, () -> piece(kept.net, offset, pieces.of(n)));
            long waiting = System.nanoTime();
            PeerAverage.Average average = peers.average(mine, score == null ? 0 : score);
            long assigning = System.nanoTime();
            spent[0] += assigning - waiting;
            if (average == null) {
                return Double.NaN; // no task had minibatches: every task gets null for every piece
            }
            onThread(kept, () -> {
                float[] piece = average.values();
                if (step != null && offset < p) {
                    step.step(roundStart, piece, offset);
                    System.arraycopy(piece, 0, roundStart, (int) offset, (int) Math.min(n, p - offset));
                }
                boolean resetState = step != null && step.resetLocal();
                visit(kept.net, offset, n, (array, first, count, at, state) -> {
                    if (state && resetState) {
                        java.util.Arrays.fill(piece, at, at + count, 0f); // the workers' state restarts from zero
                    }
                    FloatVectors.writeRange(piece, at, array, first, count);
                });
                return null;
            });
            spent[1] += System.nanoTime() - assigning;
            averageScore = average.score();
        }
        return averageScore;
    }

    /**
     * What {@link #visit} gives for each array a piece covers: the array, the first of its elements and how many the piece
     * covers, where they start in the piece, and whether the array is updater state (else parameters).
     */
    private interface PieceRange {
        void accept(INDArray array, long from, int count, int at, boolean state);
    }

    /**
     * The parts of the network's parameter vector followed by its updater state (when averaged) that elements
     * {@code offset} to {@code offset + n} of their concatenation cover, in order.
     */
    private void visit(Model net, long offset, int n, PieceRange action) {
        INDArray params = net.params();
        long p = params.length();
        if (offset < p) {
            action.accept(params, offset, (int) Math.min(n, p - offset), 0, false);
        }
        if (offset + n > p) {
            long from = Math.max(0, offset - p);
            action.accept(updaterState(net), from, (int) (offset + n - p - from), (int) (p + from - offset), true);
        }
    }

    /** Runs {@code work} on the kept network's thread and waits for it (one thing at a time per kept network). */
    private static <T> T onThread(Kept kept, java.util.concurrent.Callable<T> work) throws Exception {
        Future<T> result = kept.thread.submit(work);
        try {
            return get(result);
        } catch (InterruptedException e) {
            result.cancel(true);
            throw e;
        }
    }

    /** On the kept network's own thread: the broadcast state in, the round's minibatches fitted, the result out. */
    private ParameterAveragingTrainingResult fitRound(Kept kept, NetBroadcastTuple tuple, int worker, List<String> paths)
            throws Exception {
        Model net = start(kept, tuple);
        fit(net, worker, paths);
        return result(net, net.score());
    }

    /**
     * What the driver's sum takes from a worker: the kept network's arrays ({@link #resultsInPlace}), else copies, as the
     * network may be another task's before Spark serialises this result.
     */
    private ParameterAveragingTrainingResult result(Model net, double score) {
        INDArray params = inPlace ? net.params() : net.params().dup();
        INDArray state = saveUpdater ? updaterState(net) : null;
        return new ParameterAveragingTrainingResult(params, state == null || inPlace ? state : state.dup(), score,
                null, null, null);
    }

    /** The kept network with the broadcast state: built by its first round, assigned in later ones. */
    private Model start(Kept kept, NetBroadcastTuple tuple) {
        return kept.net == null ? (kept.net = build(tuple)) : assign(kept.net, tuple);
    }

    /** One round's minibatches, fitted in order on the kept network's thread. */
    private void fit(Model net, int worker, List<String> paths) throws Exception {
        // Dropout draws from this thread's generator, which ND4J seeds from the clock: same seed, same model needs it
        // seeded by the network's seed, the round (its starting iteration) and the worker.
        Nd4j.getRandom().setSeed(roundSeed(net.conf().getSeed(), iterationCount(net), worker));
        // Up to `prefetch` minibatches read ahead on the loader thread while this one fits (0: read in turn).
        Deque<Future<DataSet>> ahead = new ArrayDeque<>();
        Iterator<String> next = paths.iterator();
        while (next.hasNext() || !ahead.isEmpty()) {
            while (next.hasNext() && ahead.size() <= prefetch) {
                ahead.add(load(next.next()));
            }
            DataSet minibatch = get(ahead.poll());
            if (Thread.interrupted()) {
                throw new InterruptedException("the round's task was cancelled");
            }
            if (graph) {
                ((ComputationGraph) net).fit(minibatch);
            } else {
                ((MultiLayerNetwork) net).fit(minibatch);
            }
        }
        Nd4j.getExecutioner().commit();
    }

    private Kept borrow() {
        synchronized (KEPT) {
            lastUse = System.nanoTime();
            KEPT.entrySet().removeIf(e -> {
                boolean stale = !e.getKey().equals(configuration);
                if (stale) {
                    e.getValue().forEach(Kept::retire);
                }
                return stale;
            });
            Deque<Kept> free = KEPT.get(configuration);
            String stage = stageAttempt();
            if (free != null) {
                for (Iterator<Kept> k = free.iterator(); k.hasNext(); ) {
                    Kept kept = k.next();
                    if (!stage.equals(kept.resultOf)) {
                        k.remove();
                        return kept;
                    }
                }
            }
            return new Kept();
        }
    }

    /** The broadcast parameters, updater state and iteration/epoch counts, assigned to a kept network. */
    private Model assign(Model kept, NetBroadcastTuple tuple) {
        kept.params().assign(tuple.getParameters());
        INDArray state = updaterState(kept);
        if (tuple.getUpdaterState() != null && state != null) {
            state.assign(tuple.getUpdaterState());
        }
        if (graph) {
            var conf = tuple.getGraphConfiguration();
            var keptConf = ((ComputationGraph) kept).getConfiguration();
            keptConf.setIterationCount(conf.getIterationCount());
            keptConf.setEpochCount(conf.getEpochCount());
            for (var vertex : conf.getVertices().entrySet()) {
                if (vertex.getValue() instanceof LayerVertex from) {
                    assignRates(from.getLayerConf(), ((LayerVertex) keptConf.getVertices().get(vertex.getKey())).getLayerConf());
                }
            }
        } else {
            var conf = tuple.getConfiguration();
            ((MultiLayerNetwork) kept).setIterationCount(conf.getIterationCount());
            ((MultiLayerNetwork) kept).setEpochCount(conf.getEpochCount());
            for (int i = 0; i < conf.getConfs().size(); i++) {
                assignRates(conf.getConf(i), ((MultiLayerNetwork) kept).getLayerWiseConfigurations().getConf(i));
            }
        }
        return kept;
    }

    /**
     * A layer's broadcast learning rates (weights and bias) into the kept layer's updater configuration, which its
     * updater reads at every step. Under a schedule (the same in both: it is part of the key) the rates agree and are
     * left alone.
     */
    private static void assignRates(NeuralNetConfiguration from, NeuralNetConfiguration to) {
        if (from.getLayer() instanceof BaseLayer source && to.getLayer() instanceof BaseLayer target) {
            assignRate(source.getIUpdater(), target.getIUpdater());
            assignRate(source.getBiasUpdater(), target.getBiasUpdater());
        }
    }

    private static void assignRate(IUpdater from, IUpdater to) {
        if (from != null && to != null && from.hasLearningRate() && from.getLearningRate(0, 0) != to.getLearningRate(0, 0)) {
            to.setLrAndSchedule(from.getLearningRate(0, 0), null);
        }
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

    private void giveBack(Kept kept) {
        synchronized (KEPT) {
            lastUse = System.nanoTime();
            if (configuration.equals(KEPT.keySet().stream().findFirst().orElse(configuration))) {
                KEPT.computeIfAbsent(configuration, key -> new ArrayDeque<>()).push(kept);
            } else {
                kept.retire(); // a newer configuration's round started meanwhile
            }
        }
    }

    /** Drops this JVM's kept networks (a training ended; in local mode the executors are the driver's JVM). */
    static void release() {
        synchronized (KEPT) {
            retireAll();
        }
    }

    private static void retireAll() {
        KEPT.values().forEach(free -> free.forEach(Kept::retire));
        KEPT.clear();
    }

    /** How many networks this JVM keeps for later rounds. */
    static int kept() {
        synchronized (KEPT) {
            return KEPT.values().stream().mapToInt(Deque::size).sum();
        }
    }

    /** The running task's stage and attempt ({@link Kept#resultOf}). */
    private static String stageAttempt() {
        TaskContext task = TaskContext.get();
        return task.stageId() + "." + task.stageAttemptNumber();
    }

    /** A round's dropout seed: distinct per worker and per round, the same in every run with the same seed. */
    static long roundSeed(long seed, long iteration, int worker) {
        return seed ^ iteration * 0x9E3779B97F4A7C15L ^ (worker + 1L) * 0xC2B2AE3D27D4EB4FL;
    }

    private long iterationCount(Model net) {
        return graph ? ((ComputationGraph) net).getConfiguration().getIterationCount()
                : ((MultiLayerNetwork) net).getIterationCount();
    }

    private INDArray updaterState(Model net) {
        return graph ? ((ComputationGraph) net).getUpdater().getStateViewArray()
                : ((MultiLayerNetwork) net).getUpdater().getStateViewArray();
    }

    private Future<DataSet> load(String path) throws java.io.IOException {
        return prefetch > 0 ? LOADER.submit(() -> loader.load(path))
                : java.util.concurrent.CompletableFuture.completedFuture(loader.load(path));
    }

    private static <T> T get(Future<T> value) throws Exception {
        try {
            return value.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }
}
