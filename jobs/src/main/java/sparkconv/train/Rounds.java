package sparkconv.train;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingResult;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.LoggerFactory;

import sparkconv.shards.ShardFiles;
import sparkconv.spark.WorkerThreads;

/**
 * Where averaging rounds happen. A round: every worker starts from the driver's network ({@link DriverNetwork#roundStart}:
 * parameters, updater state, iteration and epoch counts, learning rates), fits its next {@code F} minibatches
 * ({@link RoundLayout#workerRound}), and the workers' parameters, updater state and score are averaged in worker order,
 * then the policy's outer step is taken ({@link RoundPlan}, {@link OuterMomentum}); the average is the next round's
 * start. Which minibatches make a round, and what the policy decides, never depend on how a round runs. It runs one of
 * three ways, chosen for each chunk of rounds (one {@code fitPaths} call) by {@link #choose}:
 * <ul>
 *   <li>{@link InBarrierStage}: the chunk's rounds in one Spark job, a barrier stage whose tasks average among
 *       themselves after each round ({@link KeptNetworkWorker#exchangedRounds}); the first task returns the last
 *       average ({@link PeerAverage}: through the tasks' own block managers, the driver only synchronising). The default
 *       where it can run ({@link #inOneJob}); Spark's job and task launch was ~15% of a LeNet-5 round on
 *       {@code local[2]} (bench/RESULTS.md, "rounds").</li>
 *   <li>{@link JobPerRound}: one Spark job per round ({@link KeptNetworkWorker#call}), the driver averaging the workers'
 *       results and taking the outer step: more workers than task slots, dynamic allocation, parameters other than floats.
 *       A round's exchange in a barrier stage moves in pieces ({@link #EXCHANGE_PIECE_BYTES}), so a model's size
 *       does not decide the way.</li>
 *   <li>{@link Dl4jWorkers}: dl4j-spark's own worker and split into rounds, with {@code --stats} (its per-event
 *       statistics are collected there only); the outer step follows its average ({@link AveragingMaster}).</li>
 * </ul>
 * Both of sparkconv's ways keep each worker's network between rounds ({@link KeptNetworkWorker}) and train the same
 * model from the same seed.
 */
sealed interface Rounds permits Rounds.InBarrierStage, Rounds.JobPerRound, Rounds.Dl4jWorkers {
    /** Runs {@code count} rounds, numbered from {@code firstRound} of the epoch's (for the Spark UI), on {@code paths}. */
    void run(DriverNetwork driver, JavaRDD<String> paths, int firstRound, int count);

    /**
     * The most parameters + updater state a barrier stage's round exchanges at once: a worker holds about four pieces on
     * the heap during an exchange (its piece, its slices as blocks, the fetched slices, the average), so 64 MiB keeps
     * that near 256 MiB whatever the model. LeNet-5 (0.9 MiB with Nesterov state) and candle-cnn-60 (~51 MiB) move in
     * one piece, AlexNet's 476 MiB in eight ({@link KeptNetworkWorker#exchange}).
     */
    long EXCHANGE_PIECE_BYTES = 64L << 20;

    /**
     * A thread-local Spark property (set on the driver's thread before training) that makes the pieces smaller, in
     * bytes: how the tests run a small model's exchange in many pieces.
     */
    String EXCHANGE_PIECE_PROPERTY = "sparkconv.exchange.pieceBytes";

    /**
     * How a chunk's rounds run: on dl4j-spark's workers ({@code dl4j}, given) with {@code --stats} or shards not read by
     * sparkconv's loader, else in a barrier stage (which falls back to a job per round where it cannot run).
     */
    static Rounds choose(AveragingMaster master, boolean ownRounds, Object loader, Runnable dl4j) {
        return ownRounds && loader instanceof ShardFiles.Loader shards ? new InBarrierStage(master, shards) : new Dl4jWorkers(dl4j);
    }

    /** The chunk's rounds in one barrier stage, its tasks averaging among themselves after each round. */
    record InBarrierStage(AveragingMaster master, ShardFiles.Loader loader) implements Rounds {
        @Override
        public void run(DriverNetwork driver, JavaRDD<String> paths, int firstRound, int count) {
            JavaSparkContext jsc = driver.jsc();
            for (int attempt = 1; ; attempt++) {
                if (!inOneJob(jsc, driver, paths.getNumPartitions())) {
                    new JobPerRound(master, loader).run(driver, paths, firstRound, count);
                    return;
                }
                master.describeJob(jsc, firstRound, count);
                try {
                    KeptNetworkWorker worker = master.keptNetworkWorker(driver, loader)
                            .exchanging(count, master.getAveragingFrequency(), master.clock(jsc), master.broadcastOuterStep(driver),
                                    pieceFloats(jsc));
                    var results = paths.rdd().barrier().mapPartitions(new Task(worker), false,
                            scala.reflect.ClassTag$.MODULE$.apply(KeptNetworkWorker.Exchanged.class));
                    List<KeptNetworkWorker.Exchanged> first = JavaRDD.fromRDD(results, results.elementClassTag()).collect();
                    if (first.size() != 1) {
                        throw new IllegalStateException("a barrier stage returned " + first.size() + " results, not 1");
                    }
                    master.adopt(driver, first.get(0));
                    return;
                } catch (Exception e) {
                    // A failed task (a lost executor) fails a barrier stage that returns results: Spark re-runs barrier
                    // stages only before a shuffle. The driver's state is untouched until the job succeeds, so the
                    // rounds run again from it, as often as Spark would re-run a failed task.
                    if (!(e instanceof SparkException) || String.valueOf(e.getMessage()).startsWith("Job cancelled")
                            || attempt >= maxTaskFailures(jsc)) {
                        throw e;
                    }
                    LoggerFactory.getLogger(Rounds.class).warn("{}: the job failed ({}); running its rounds again "
                            + "(attempt {} of {})", jsc.getLocalProperty(SparkTrainer.JOB_DESCRIPTION),
                            String.valueOf(e.getMessage()).lines().findFirst().orElse(""), attempt + 1, maxTaskFailures(jsc));
                } finally {
                    master.destroyBroadcasts();
                }
            }
        }

        /** A barrier stage's function: Scala's, as {@code RDDBarrier.mapPartitions} takes no Java function. */
        private static final class Task extends scala.runtime.AbstractFunction1<scala.collection.Iterator<String>,
                scala.collection.Iterator<KeptNetworkWorker.Exchanged>> implements java.io.Serializable {
            private final KeptNetworkWorker worker;

            Task(KeptNetworkWorker worker) {
                this.worker = worker;
            }

            @Override
            public scala.collection.Iterator<KeptNetworkWorker.Exchanged> apply(scala.collection.Iterator<String> paths) {
                try {
                    return scala.collection.JavaConverters.asScalaIterator(
                            worker.exchangedRounds(scala.collection.JavaConverters.asJavaIterator(paths)));
                } catch (RuntimeException e) {
                    throw e;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    /** One Spark job per round, the driver averaging the workers' results. */
    record JobPerRound(AveragingMaster master, ShardFiles.Loader loader) implements Rounds {
        @Override
        public void run(DriverNetwork driver, JavaRDD<String> paths, int firstRound, int count) {
            JavaSparkContext jsc = driver.jsc();
            int frequency = master.getAveragingFrequency();
            // A task per slot: each has a kept network of its own, which can hand Spark its arrays as the result.
            boolean inPlace = paths.getNumPartitions() <= WorkerThreads.slots(jsc);
            for (int r = 0; r < count; r++) {
                master.describeJob(jsc, firstRound + r, 1);
                int round = r;
                JavaRDD<String> mine = paths.mapPartitions(p -> {
                    List<String> partition = new ArrayList<>();
                    p.forEachRemaining(partition::add);
                    return RoundLayout.workerRound(partition, round, frequency).iterator();
                }, true);
                try {
                    KeptNetworkWorker worker = master.keptNetworkWorker(driver, loader);
                    averageInOrder(driver, mine.mapPartitions(inPlace ? worker.resultsInPlace() : worker));
                } finally {
                    master.destroyBroadcasts();
                }
            }
        }

        /**
         * The workers' results averaged on the driver in partition order ({@link #sum}), then the outer step.
         */
        private void averageInOrder(DriverNetwork driver, JavaRDD<ParameterAveragingTrainingResult> results) {
            Sum total = sum(results);
            if (total == null) {
                return; // no worker had minibatches: nothing moved
            }
            master.withOuterStep(driver, () -> driver.setAverage(total.params().divi(total.count()),
                    total.state() == null ? null : total.state().divi(total.count()), total.score() / total.count()));
        }

        /**
         * The sum of the workers' results (null: none had minibatches), always added in partition order. dl4j-spark's
         * {@code treeAggregate} added them in the order tasks ended, and float addition is not associative: with three
         * or more workers two runs of the same seed ended a round with different last bits, and then with different
         * models (seen on deploy/cluster with 4 workers). Up to {@link #TREE_FROM} − 1 workers send their results to the
         * driver; more are summed first in groups of ⌈√W⌉ consecutive partitions (a shuffle, sorted by partition), so
         * the driver receives about √W partial sums, as Spark's {@code treeAggregate} of depth 2 sends it.
         */
        static Sum sum(JavaRDD<ParameterAveragingTrainingResult> results) {
            int workers = results.getNumPartitions();
            List<Sum> parts;
            if (workers < TREE_FROM) {
                parts = results.map(Sum::of).collect();
            } else {
                int group = (int) Math.ceil(Math.sqrt(workers));
                parts = results.mapPartitionsWithIndex((i, rs) -> {
                            List<scala.Tuple2<Integer, Sum>> mine = new ArrayList<>();
                            rs.forEachRemaining(r -> mine.add(new scala.Tuple2<>(i, Sum.of(r))));
                            return mine.iterator();
                        }, true).mapToPair(t -> t)
                        .repartitionAndSortWithinPartitions(new Groups(group, (workers + group - 1) / group))
                        .mapPartitions(sorted -> {
                            Sum partial = null;
                            while (sorted.hasNext()) {
                                partial = Sum.add(partial, sorted.next()._2());
                            }
                            return partial == null ? java.util.Collections.emptyIterator() : List.of(partial).iterator();
                        }).collect();
            }
            Sum total = null;
            for (Sum part : parts) {
                total = Sum.add(total, part);
            }
            return total;
        }

        /** Partitions from this many workers on are summed in groups before the driver adds them. */
        static final int TREE_FROM = 6;

        /**
         * Workers' results added up: parameters, updater state (or null), score, and how many were added. A task's Sum
         * travels to the driver (or to its group's sum) through {@link SumKryo}: as a record it would take Java
         * serialization, which writes an INDArray one float at a time (AlexNet: ~9 of a round's 13.7 s on local[2]).
         */
        record Sum(INDArray params, INDArray state, double score, int count) implements java.io.Serializable {
            static Sum of(ParameterAveragingTrainingResult r) {
                return new Sum(r.getParameters(), r.getUpdaterState(), r.getScore(), 1);
            }

            /**
             * {@code a + b} in that order, into {@code a}'s arrays (null: nothing yet, {@code b} itself). Every term is a
             * result Spark deserialised for this sum alone, so the first one is the sum: copying it cost the driver one
             * more copy of the parameters and updater state per round (AlexNet with Nesterov: 476 MiB).
             */
            static Sum add(Sum a, Sum b) {
                if (a == null) {
                    return b;
                }
                a.params.addi(b.params);
                if (a.state != null) {
                    a.state.addi(b.state);
                }
                return new Sum(a.params, a.state, a.score + b.score, a.count + b.count);
            }
        }

        /** {@link Sum} in Kryo, its arrays by {@link sparkconv.spark.NdArraySerializer} (listed in META-INF/services). */
        public static final class SumKryo extends com.esotericsoftware.kryo.Serializer<Sum>
                implements sparkconv.spark.KryoRegistrator.Registration {
            @Override
            public void register(com.esotericsoftware.kryo.Kryo kryo) {
                kryo.register(Sum.class, this);
            }

            @Override
            public void write(com.esotericsoftware.kryo.Kryo kryo, com.esotericsoftware.kryo.io.Output out, Sum sum) {
                kryo.writeClassAndObject(out, sum.params());
                kryo.writeClassAndObject(out, sum.state());
                out.writeDouble(sum.score());
                out.writeInt(sum.count(), true);
            }

            @Override
            public Sum read(com.esotericsoftware.kryo.Kryo kryo, com.esotericsoftware.kryo.io.Input in, Class<Sum> type) {
                return new Sum((INDArray) kryo.readClassAndObject(in), (INDArray) kryo.readClassAndObject(in), in.readDouble(),
                        in.readInt(true));
            }
        }

        /** Partition {@code i} of the workers' results goes to group {@code i / size}. */
        private static final class Groups extends org.apache.spark.Partitioner {
            private final int size;
            private final int groups;

            Groups(int size, int groups) {
                this.size = size;
                this.groups = groups;
            }

            @Override
            public int numPartitions() {
                return groups;
            }

            @Override
            public int getPartition(Object partition) {
                return (Integer) partition / size;
            }

            @Override
            public boolean equals(Object o) {
                return o instanceof Groups g && g.size == size && g.groups == groups;
            }

            @Override
            public int hashCode() {
                return 31 * size + groups;
            }
        }
    }

    /**
     * dl4j-spark's own rounds ({@code fit}: its {@code executeTrainingPathsHelper}), each named and followed by the
     * outer step in {@link AveragingMaster}'s {@code doIterationPaths} and {@code processResults}.
     */
    record Dl4jWorkers(Runnable fit) implements Rounds {
        @Override
        public void run(DriverNetwork driver, JavaRDD<String> paths, int firstRound, int count) {
            fit.run();
        }
    }

    /**
     * Whether a chunk's rounds can run in one barrier stage: float parameters and updater state ({@link PeerAverage}
     * exchanges floats), a slot for every task at once, and no dynamic allocation (barrier stages refuse it).
     */
    private static boolean inOneJob(JavaSparkContext jsc, DriverNetwork driver, int tasks) {
        if (jsc.getConf().getBoolean("spark.dynamicAllocation.enabled", false) || tasks > WorkerThreads.slots(jsc)) {
            return false;
        }
        INDArray state = driver.updaterState();
        return driver.model().params().dataType() == DataType.FLOAT && (state == null || state.dataType() == DataType.FLOAT);
    }

    /** Floats per piece of a barrier round's exchange: {@link #EXCHANGE_PIECE_BYTES}, or the thread's property. */
    private static int pieceFloats(JavaSparkContext jsc) {
        String bytes = jsc.getLocalProperty(EXCHANGE_PIECE_PROPERTY);
        return (int) ((bytes == null ? EXCHANGE_PIECE_BYTES : Long.parseLong(bytes)) / Float.BYTES);
    }

    /** Attempts per task before Spark fails a job: {@code local[N, F]}'s F (1 for {@code local[N]}), else the setting. */
    private static int maxTaskFailures(JavaSparkContext jsc) {
        Matcher local = Pattern.compile("local\\[[^,\\]]+(?:,\\s*(\\d+))?]").matcher(jsc.master());
        if (jsc.master().equals("local") || local.matches()) {
            return local.matches() && local.group(1) != null ? Integer.parseInt(local.group(1)) : 1;
        }
        return jsc.getConf().getInt("spark.task.maxFailures", 4);
    }
}
