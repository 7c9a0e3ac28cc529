package sparkconv.train;

import java.util.LinkedHashMap;
import java.util.Map;

import org.deeplearning4j.spark.api.stats.SparkTrainingStats;

/**
 * Spark training statistics as totals: for each event kind (e.g. ParameterAveragingMasterBroadcastTimesMs,
 * ParameterAveragingWorkerFitTimesMs, ...), the event count and summed milliseconds, over the master's and the
 * workers' nested statistics. This is the "where did the time go" table of the training report.
 */
public final class TrainingTimes {
    private TrainingTimes() {
    }

    public record Entry(String name, int events, long totalMs) {
    }

    public static Map<String, Entry> of(SparkTrainingStats stats) {
        Map<String, Entry> out = new LinkedHashMap<>();
        for (SparkTrainingStats s = stats; s != null; s = s.getNestedTrainingStats()) {
            for (String key : s.getKeySet()) {
                var events = s.getValue(key);
                if (events == null) {
                    continue;
                }
                long ms = events.stream().mapToLong(e -> e.getDurationMs()).sum();
                String name = s.getShortNameForKey(key);
                out.merge(name, new Entry(name, events.size(), ms),
                        (a, b) -> new Entry(name, a.events() + b.events(), a.totalMs() + b.totalMs()));
            }
        }
        return out;
    }
}
