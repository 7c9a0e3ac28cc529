package sparkconv.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

import sparkconv.spark.SparkSessions;

/**
 * What a round in one Spark job costs besides the workers' arithmetic: W barrier tasks run rounds with nothing to fit,
 * first a bare barrier sync (the coordinator round trip bench/project.py calls t_sync), then whole {@link PeerAverage}
 * rounds of a vector of P floats (two syncs and the block exchange). It lives in the trainer's package because it
 * measures the trainer's own sync ({@link AllGather}) and exchange, which are not public. Median over the tasks of each
 * task's mean, in ms; one {@code BENCH} JSON line per kind. In local mode the coordinator is in the same JVM (no network
 * round trip) and every block is read in place: a floor for a cluster's per-round cost, not its value.
 */
public final class RoundOverheadBench {
    public static void main(String[] args) throws Exception {
        String master = args.length > 0 ? args[0] : "local[2]";
        int floats = args.length > 1 ? Integer.parseInt(args[1]) : 123_412; // LeNet-5: parameters + Nesterov state
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 400;
        SparkSession spark = SparkSessions.getOrCreate(Map.of("spark.master", master, "spark.ui.enabled", "false",
                "spark.app.name", "sparkconv round-overhead-bench"));
        JavaSparkContext jsc = SparkSessions.javaContext(spark);
        int tasks = jsc.defaultParallelism();
        for (String kind : new String[] {"sync", "peer-average"}) {
            List<Integer> ids = new ArrayList<>();
            for (int i = 0; i < tasks; i++) {
                ids.add(i);
            }
            List<Double> perTask = jsc.parallelize(ids, tasks).rdd().barrier().mapPartitions(new Task(kind, floats, rounds),
                    false, scala.reflect.ClassTag$.MODULE$.apply(Double.class)).toJavaRDD().collect();
            double[] ms = perTask.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            double median = ms[ms.length / 2];
            System.out.printf("  %s on %s, %d tasks%s: %.3f ms per round (tasks' means %s)%n", kind, master, tasks,
                    kind.equals("sync") ? "" : ", " + floats + " floats", median, Arrays.toString(ms));
            System.out.printf("BENCH {\"bench\":\"round-overhead\",\"label\":\"round-overhead\",\"kind\":\"%s\",\"master\":\"%s\","
                    + "\"tasks\":%d,\"floats\":%d,\"rounds\":%d,\"msPerRound\":%.4f}%n", kind, master, tasks,
                    kind.equals("sync") ? 0 : floats, rounds, median);
        }
        spark.stop();
        System.exit(0); // Spark's barrier timer thread is not a daemon: the JVM would not end
    }

    /** One barrier task: a warm-up of a quarter of the rounds, then the timed rounds; its mean ms per round. */
    private static final class Task extends scala.runtime.AbstractFunction1<scala.collection.Iterator<Integer>,
            scala.collection.Iterator<Double>> implements java.io.Serializable {
        private final String kind;
        private final int floats;
        private final int rounds;

        Task(String kind, int floats, int rounds) {
            this.kind = kind;
            this.floats = floats;
            this.rounds = rounds;
        }

        @Override
        public scala.collection.Iterator<Double> apply(scala.collection.Iterator<Integer> ignored) {
            try {
                AllGather sync = new AllGather();
                PeerAverage peers = kind.equals("sync") ? null : new PeerAverage(sync);
                float[] vector = new float[floats];
                Arrays.fill(vector, 1f);
                long start = 0;
                int warmUp = rounds / 4;
                for (int r = 0; r < warmUp + rounds; r++) {
                    if (r == warmUp) {
                        start = System.nanoTime();
                    }
                    if (peers == null) {
                        sync.exchange("");
                    } else {
                        peers.average(vector, 0);
                    }
                }
                double ms = (System.nanoTime() - start) / 1e6 / rounds;
                if (peers != null) {
                    peers.close();
                }
                return scala.collection.JavaConverters.asScalaIterator(List.of(ms).iterator());
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }
    }
}
