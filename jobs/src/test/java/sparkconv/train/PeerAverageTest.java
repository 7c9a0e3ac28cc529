package sparkconv.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.TestJvm;
import sparkconv.spark.SparkSessions;

/**
 * Five tasks of a barrier stage average their vectors through their block managers ({@link PeerAverage}): every task
 * gets the bits of a sum of whole vectors in task order divided by the number of tasks that sent one, whichever tasks
 * sit a round out, for a length that does not split evenly; a round that nobody sent to gives nothing; no block is
 * left behind. Five tasks need five slots at once, so the stage runs in a JVM of its own on {@code local[5]}.
 */
class PeerAverageTest {
    static final int TASKS = 5;
    static final int ROUNDS = 4;
    static final int LENGTH = 2_003;

    @TempDir
    Path tmp;

    @Test
    void tasksGetTheTaskOrderAverageOfWhoeverSentAVector() throws Exception {
        Process p = TestJvm.command(PeerAverageTest.class.getName(), tmp.toString()).redirectOutput(tmp.resolve("log").toFile()).start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
        }
        String out = Files.readString(tmp.resolve("log"));
        assertEquals(0, p.exitValue(), out);
        assertEquals("blocks left: 0", Files.readString(tmp.resolve("blocks-left")), "every task removed its blocks");
        for (int round = 0; round < ROUNDS; round++) {
            List<float[]> sent = new ArrayList<>();
            double scores = 0;
            for (int t = 0; t < TASKS; t++) {
                if (sends(t, round)) {
                    sent.add(vector(t, round));
                    scores += score(t, round);
                }
            }
            for (int t = 0; t < TASKS; t++) {
                Path result = tmp.resolve(t + "-" + round);
                if (sent.isEmpty()) {
                    assertFalse(Files.exists(result), "round " + round + " had no vector: no average");
                    continue;
                }
                try (DataInputStream in = new DataInputStream(Files.newInputStream(result))) {
                    assertEquals(scores / sent.size(), in.readDouble(), "round " + round + ", task " + t + ": the mean score");
                    float[] average = new float[in.readInt()];
                    for (int i = 0; i < average.length; i++) {
                        average[i] = in.readFloat();
                    }
                    assertArrayEquals(average(sent), average, "round " + round + ", task " + t);
                }
            }
            if (sent.size() > 2) { // the order of addition shows in these values' bits: the comparison above means something
                List<float[]> reversed = new ArrayList<>(sent);
                Collections.reverse(reversed);
                assertFalse(Arrays.equals(average(sent), average(reversed)), "round " + round + ": addition order is visible");
            }
        }
    }

    /** Which tasks send a vector in each round: all; all but 1 and 3; none; only 4. */
    static boolean sends(int task, int round) {
        return switch (round) {
            case 0 -> true;
            case 1 -> task != 1 && task != 3;
            case 2 -> false;
            default -> task == 4;
        };
    }

    /** Values over six orders of magnitude: float sums of them depend on the order of addition. */
    static float[] vector(int task, int round) {
        Random random = new Random(31L * task + round);
        float[] v = new float[LENGTH];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(6) - 3));
        }
        return v;
    }

    static double score(int task, int round) {
        return 0.1 * task + round + 1.0 / 3;
    }

    /** The sum of whole vectors in task order, divided by their number, in float. */
    private static float[] average(List<float[]> terms) {
        float[] sum = terms.get(0).clone();
        for (float[] t : terms.subList(1, terms.size())) {
            for (int i = 0; i < sum.length; i++) {
                sum[i] += t[i];
            }
        }
        for (int i = 0; i < sum.length; i++) {
            sum[i] /= terms.size();
        }
        return sum;
    }

    /** The stage, on {@code local[5]}: each task's average of each round into {@code DIR/TASK-ROUND}. */
    public static void main(String[] args) throws Exception {
        String dir = args[0];
        SparkSession spark = SparkSessions.getOrCreate(Map.of("spark.master", "local[" + TASKS + "]", "spark.ui.enabled", "false"));
        JavaSparkContext jsc = SparkSessions.javaContext(spark);
        var stage = jsc.parallelize(IntStream.range(0, TASKS).boxed().toList(), TASKS).rdd().barrier()
                .mapPartitions(new Task(dir), false, scala.reflect.ClassTag$.MODULE$.apply(Integer.class));
        long tasks = stage.count();
        var left = SparkEnv.get().blockManager().getMatchingBlockIds(new scala.runtime.AbstractFunction1<org.apache.spark.storage.BlockId, Object>() {
            @Override
            public Object apply(org.apache.spark.storage.BlockId id) {
                return id.name().startsWith("test_sparkconv-avg-");
            }
        });
        Files.writeString(Path.of(dir, "blocks-left"), "blocks left: " + left.size());
        spark.stop();
        // Spark's barrier task timer is not a daemon thread: without an exit this JVM would wait for it forever
        System.exit(tasks == TASKS ? 0 : 1);
    }

    private static final class Task extends scala.runtime.AbstractFunction1<scala.collection.Iterator<Integer>,
            scala.collection.Iterator<Integer>> implements java.io.Serializable {
        private final String dir;

        Task(String dir) {
            this.dir = dir;
        }

        @Override
        public scala.collection.Iterator<Integer> apply(scala.collection.Iterator<Integer> partition) {
            int task = partition.next();
            try (PeerAverage peers = new PeerAverage(new AllGather())) {
                for (int round = 0; round < ROUNDS; round++) {
                    boolean sends = sends(task, round);
                    PeerAverage.Average a = peers.average(sends ? vector(task, round) : null, sends ? score(task, round) : 0);
                    if (a != null) {
                        try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(Path.of(dir, task + "-" + round)))) {
                            out.writeDouble(a.score());
                            out.writeInt(a.values().length);
                            for (float v : a.values()) {
                                out.writeFloat(v);
                            }
                        }
                    }
                }
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
            Iterator<Integer> one = List.of(task).iterator();
            return scala.collection.JavaConverters.asScalaIterator(one);
        }
    }
}
