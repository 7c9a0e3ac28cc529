package sparkconv.bench;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * One configuration of a throughput benchmark: warm-up runs, then measured runs, each timed in wall-clock and process
 * CPU; the figure is the median (and spread) of the measured runs. Warming up more than once matters on 2 cores: the JIT
 * compiles this large classpath (Spark, Parquet, DL4J) for several runs, and compiler threads take the same cores.
 */
final class Runs {
    static final int WARM_UP = Integer.getInteger("bench.warmup", 5);
    static final int MEASURED = Integer.getInteger("bench.measured", 3);
    static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    /** One run of the work; returns how many items it processed. */
    interface Work {
        long run(String pass) throws Exception;
    }

    private final String name;
    private final List<double[]> measured = new ArrayList<>(); // {items/s, items per CPU-second}

    private Runs(String name) {
        this.name = name;
    }

    /** Runs {@code work} WARM_UP + MEASURED times, printing a line per run and then the median line. */
    static Runs of(String name, Work work) throws Exception {
        Runs r = new Runs(name);
        for (int i = 0; i < WARM_UP + MEASURED; i++) {
            String pass = i < WARM_UP ? "warm-up " + (i + 1) : "run " + (i - WARM_UP + 1);
            long t0 = System.nanoTime();
            long cpu0 = OS.getProcessCpuTime();
            long n = work.run(pass);
            double s = (System.nanoTime() - t0) / 1e9;
            double cpu = (OS.getProcessCpuTime() - cpu0) / 1e9;
            System.out.printf("  %-58s %-9s %,7d in %6.2f s = %,8.0f /s; %6.2f CPU-s = %,8.0f per CPU-second (load %.1f)%n",
                    name, pass, n, s, n / s, cpu, n / cpu, OS.getSystemLoadAverage());
            if (i >= WARM_UP) {
                r.measured.add(new double[]{n / s, n / cpu});
            }
        }
        System.out.println(r.summary());
        return r;
    }

    double median() {
        return median(0);
    }

    String summary() {
        return String.format("%-60s %,8.0f /s (%,.0f-%,.0f, n=%d); %,8.0f per CPU-second", name, median(0), min(0), max(0),
                measured.size(), median(1));
    }

    private double median(int k) {
        double[] v = measured.stream().mapToDouble(m -> m[k]).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private double min(int k) {
        return measured.stream().mapToDouble(m -> m[k]).min().orElse(0);
    }

    private double max(int k) {
        return measured.stream().mapToDouble(m -> m[k]).max().orElse(0);
    }

    /** "X.XXx (goal >= G: met|NOT met)". */
    static String ratio(double x, double goal) {
        return String.format("%.2fx (goal >= %sx: %s)", x, goal, x >= goal ? "met" : "NOT met");
    }
}
