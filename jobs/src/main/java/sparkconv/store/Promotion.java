package sparkconv.store;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import com.fasterxml.jackson.core.JsonProcessingException;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;

import sparkconv.SparkconvException;
import sparkconv.spark.FaultPoint;
import sparkconv.spark.Fs;

/**
 * Which version of a model is {@code best}: the pointer file {@code <store>/models/<name>/best.json}
 * ({@code {"version", "metric", "value", "promoted"}}). It is written to a hidden temporary file and renamed over the
 * old pointer ({@code Rename.OVERWRITE}, atomic on HDFS and local file systems), so readers see the old or the new
 * best, never a partial file. With a metric, a version is promoted only if it beats the current best on it (higher
 * is better, except for metrics whose name contains "loss"). Reading the current best, comparing and renaming happen
 * under the lock file {@code .best.json.lock} (created exclusively on the store's file system, see {@link Claim}),
 * so concurrent promoters are serialised and the pointer never ends on the worse of two candidates.
 */
public final class Promotion {
    public static final String POINTER = "best.json";
    /**
     * A promotion takes milliseconds: a lock this old was left by a killed promoter. The Hadoop setting
     * {@value #LOCK_STALE_SECONDS} (seconds) changes it.
     */
    private static final Duration LOCK_STALE_AFTER = Duration.ofMinutes(2);
    static final String LOCK_STALE_SECONDS = "sparkconv.store.lock-stale-seconds";
    private static final Duration LOCK_WAIT = Duration.ofMinutes(3);

    private final ModelStore store;
    private final Configuration conf;
    private final Duration lockStaleAfter;

    public Promotion(ModelStore store, Configuration conf) {
        this.store = store;
        this.conf = conf;
        this.lockStaleAfter = Duration.ofSeconds(conf.getLong(LOCK_STALE_SECONDS, LOCK_STALE_AFTER.toSeconds()));
        if (lockStaleAfter.toSeconds() < 1) {
            throw new SparkconvException(LOCK_STALE_SECONDS + " must be at least 1 second, got " + lockStaleAfter.toSeconds());
        }
    }

    public record Best(String version, String metric, Double value, String promoted) {
    }

    /** The outcome: promoted or not, with both sides of the comparison (previous null when there was no best). */
    public record Decision(boolean promoted, String name, String version, String previous, String metric,
                           Double candidateValue, Double previousValue) {
        public String describe() {
            String cmp = metric == null ? "" : String.format(" (%s %s vs %s)", metric, fmt(candidateValue), fmt(previousValue));
            return promoted
                    ? name + " " + version + " is now best" + (previous == null ? "" : ", was " + previous) + cmp
                    : "not promoted: " + name + " " + version + " is not better than best " + previous + cmp;
        }

        private static String fmt(Double v) {
            return v == null ? "-" : String.format("%.4f", v);
        }
    }

    public Optional<Best> best(String name) {
        Path p = new Path(store.modelDir(name), POINTER);
        if (!Fs.exists(p, conf)) {
            return Optional.empty();
        }
        try {
            return Optional.of(ModelStore.JSON.readValue(Fs.readString(p, conf), Best.class));
        } catch (JsonProcessingException e) {
            throw new SparkconvException(p + ": not a valid best pointer: " + e.getOriginalMessage());
        }
    }

    /**
     * Promotes {@code version} (or {@code latest}) once its files are checked against its metadata.json; with
     * {@code metric}, only if it beats the current best.
     */
    public Decision promote(String name, String version, String metric) {
        Path lock = new Path(store.modelDir(name), "." + POINTER + ".lock");
        ModelStore.Version candidate = store.get(name, version);
        // best is what score and evaluate load: a version whose files changed is never made it
        candidate.digests().verifyAll(conf);
        try (Claim held = Claim.acquire(lock, "promoting " + name + " " + candidate.version(), lockStaleAfter, LOCK_WAIT, conf)) {
            FaultPoint.reached();
            return promoteHoldingLock(name, candidate, metric);
        }
    }

    private Decision promoteHoldingLock(String name, ModelStore.Version candidate, String metric) {
        Optional<Best> current = best(name);
        Double candidateValue = metric == null ? null : metric(candidate, metric);
        Double previousValue = null;
        String previous = current.map(Best::version).orElse(null);
        if (metric != null && previous != null && store.versionNames(name).contains(previous)) {
            previousValue = metric(store.get(name, previous), metric);
            boolean lowerIsBetter = metric.toLowerCase().contains("loss");
            boolean better = lowerIsBetter ? candidateValue < previousValue : candidateValue > previousValue;
            if (!better) {
                return new Decision(false, name, candidate.version(), previous, metric, candidateValue, previousValue);
            }
        }
        write(name, new Best(candidate.version(), metric, candidateValue, Instant.now().toString()));
        return new Decision(true, name, candidate.version(), previous, metric, candidateValue, previousValue);
    }

    private void write(String name, Best best) {
        Path dir = store.modelDir(name);
        Path target = new Path(dir, POINTER);
        Path tmp = new Path(dir, "." + POINTER + "-" + UUID.randomUUID());
        try {
            Fs.writeString(tmp, ModelStore.json(best), conf);
            FileContext.getFileContext(tmp.toUri(), conf).rename(tmp, target, Options.Rename.OVERWRITE);
        } catch (IOException e) {
            Fs.delete(tmp, conf);
            throw new SparkconvException(target + ": could not move the best pointer: " + e.getMessage(), e);
        }
    }

    /**
     * A number from the version's metrics.json: a dotted path ({@code test.macroF1}) or a bare name looked up
     * under {@code test} ({@code accuracy}).
     */
    static double metric(ModelStore.Version v, String metric) {
        Object value = lookup(v.metrics(), metric.contains(".") ? metric : "test." + metric);
        if (!(value instanceof Number n)) {
            throw new SparkconvException(v.uri() + "/" + ModelStore.METRICS + ": no numeric metric '" + metric + "'");
        }
        return n.doubleValue();
    }

    private static Object lookup(Map<String, Object> map, String path) {
        Object cur = map;
        for (String part : path.split("\\.")) {
            if (!(cur instanceof Map<?, ?> m)) {
                return null;
            }
            cur = m.get(part);
        }
        return cur;
    }
}
