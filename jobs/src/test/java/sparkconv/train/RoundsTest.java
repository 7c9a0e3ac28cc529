package sparkconv.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.factory.Nd4j;

import sparkconv.LocalSpark;
import sparkconv.spark.SparkSessions;

/**
 * A job per round adds the workers' results in partition order, whichever task ends first, directly on the driver or
 * through groups of ⌈√W⌉ partitions: the same round gives the same bits (dl4j-spark's treeAggregate did not); a
 * worker's sum travels by Kryo with its arrays in blocks.
 */
class RoundsTest {
    private static final int PARAMETERS = 2_000;

    @ParameterizedTest
    @ValueSource(ints = {4, 7, 10})
    void workersResultsAddUpInPartitionOrderWhicheverTaskEndsFirst(int workers) {
        JavaSparkContext jsc = SparkSessions.javaContext(LocalSpark.get());
        Rounds.JobPerRound.Sum first = Rounds.JobPerRound.sum(results(jsc, workers, false));
        Rounds.JobPerRound.Sum second = Rounds.JobPerRound.sum(results(jsc, workers, true));

        assertEquals(workers - 1, first.count(), "worker 1 had no minibatches and sent nothing");
        assertArrayEquals(expected(workers).params().toFloatVector(), first.params().toFloatVector(),
                "partition order (in groups of ceil(sqrt(W)) from " + Rounds.JobPerRound.TREE_FROM + " workers)");
        assertArrayEquals(first.params().toFloatVector(), second.params().toFloatVector(), "tasks ending in reverse");
        assertArrayEquals(first.state().toFloatVector(), second.state().toFloatVector());
        assertEquals(first.score(), second.score());
        // The values are such that the order of addition shows in the bits, so the comparisons above mean something.
        List<float[]> reversed = new ArrayList<>(IntStream.range(0, workers).filter(w -> w != 1).mapToObj(RoundsTest::params).toList());
        Collections.reverse(reversed);
        assertFalse(Arrays.equals(first.params().toFloatVector(), sequential(reversed)), "addition order is visible");
    }

    /** One result per worker but worker 1, from tasks that end in partition order or in its reverse. */
    private static JavaRDD<ParameterAveragingTrainingResult> results(JavaSparkContext jsc, int workers, boolean reverse) {
        return jsc.parallelize(IntStream.range(0, workers).boxed().toList(), workers).mapPartitions(ids -> {
            int w = ids.next();
            Thread.sleep(30L * (reverse ? workers - w : w));
            return w == 1 ? Collections.emptyIterator() : List.of(new ParameterAveragingTrainingResult(
                    Nd4j.createFromArray(params(w)), Nd4j.createFromArray(params(w + 100)), w * 0.1, null, null, null)).iterator();
        });
    }

    /** Values over six orders of magnitude: float sums of them depend on the order of addition. */
    private static float[] params(int worker) {
        Random random = new Random(worker);
        float[] p = new float[PARAMETERS];
        for (int i = 0; i < p.length; i++) {
            p[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(6) - 3));
        }
        return p;
    }

    /** The sum as it must be: in partition order, or group by group of ⌈√W⌉ consecutive partitions. */
    private static Rounds.JobPerRound.Sum expected(int workers) {
        int group = workers < Rounds.JobPerRound.TREE_FROM ? workers : (int) Math.ceil(Math.sqrt(workers));
        List<float[]> partials = new ArrayList<>();
        for (int g = 0; g < workers; g += group) {
            partials.add(sequential(IntStream.range(g, Math.min(workers, g + group)).filter(w -> w != 1)
                    .mapToObj(RoundsTest::params).toList()));
        }
        return new Rounds.JobPerRound.Sum(Nd4j.createFromArray(sequential(partials)), null, 0, workers - 1);
    }

    private static float[] sequential(List<float[]> terms) {
        float[] sum = terms.get(0).clone();
        for (float[] t : terms.subList(1, terms.size())) {
            for (int i = 0; i < sum.length; i++) {
                sum[i] += t[i];
            }
        }
        return sum;
    }

    /**
     * A worker's Sum crosses to the driver through its own Kryo serializer, its arrays in one block each
     * ({@code NdArraySerializer}): as a record it took Java serialization, one float at a time.
     */
    @Test
    void aSumTravelsByKryoWithItsArraysInBlocks() {
        var conf = new org.apache.spark.SparkConf(false).set("spark.kryo.registrator", sparkconv.spark.KryoRegistrator.class.getName());
        var kryo = new org.apache.spark.serializer.KryoSerializer(conf).newKryo();
        assertInstanceOf(Rounds.JobPerRound.SumKryo.class, kryo.getRegistration(Rounds.JobPerRound.Sum.class).getSerializer());
        Rounds.JobPerRound.Sum sum = new Rounds.JobPerRound.Sum(Nd4j.rand(1, PARAMETERS), null, 1.5, 3);
        var out = new com.esotericsoftware.kryo.io.Output(1 << 12, -1);
        kryo.writeClassAndObject(out, sum);
        assertTrue(out.total() < 4L * PARAMETERS + 200, "about 4 bytes a float, got " + out.total());
        var back = (Rounds.JobPerRound.Sum) kryo.readClassAndObject(new com.esotericsoftware.kryo.io.Input(out.toBytes()));
        assertArrayEquals(sum.params().toFloatVector(), back.params().toFloatVector());
        assertNull(back.state());
        assertEquals(1.5, back.score());
        assertEquals(3, back.count());
    }
}
