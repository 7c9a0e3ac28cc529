package sparkconv.score;

import java.util.Map;
import java.util.TreeMap;

import org.apache.spark.util.AccumulatorV2;

/**
 * How often each labelled class (by name, known to the model or not) was predicted as each class index: filled by the
 * scoring tasks as they write, so {@code --labels} costs no second pass over the images. Small: labels x classes.
 * Exact under task retries and speculation: it is filled in the Parquet write's result stage (nothing scored is cached or
 * shuffled), and Spark's DAGScheduler merges a result task's accumulator updates once per partition, dropping those of
 * failed, killed and duplicate attempts (user accumulators do not count failed values).
 */
final class LabelTally extends AccumulatorV2<LabelTally.Scored, Map<String, long[]>> {
    record Scored(String label, int predicted) {
    }

    private final int classes;
    private final TreeMap<String, long[]> counts = new TreeMap<>();

    LabelTally(int classes) {
        this.classes = classes;
    }

    @Override
    public boolean isZero() {
        return counts.isEmpty();
    }

    @Override
    public LabelTally copy() {
        LabelTally c = new LabelTally(classes);
        c.merge(this);
        return c;
    }

    @Override
    public void reset() {
        counts.clear();
    }

    @Override
    public void add(Scored s) {
        counts.computeIfAbsent(s.label(), l -> new long[classes])[s.predicted()]++;
    }

    @Override
    public void merge(AccumulatorV2<Scored, Map<String, long[]>> other) {
        other.value().forEach((label, n) -> {
            long[] mine = counts.computeIfAbsent(label, l -> new long[classes]);
            for (int c = 0; c < classes; c++) {
                mine[c] += n[c];
            }
        });
    }

    @Override
    public Map<String, long[]> value() {
        return counts;
    }
}
