package sparkconv.score;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Networks on an executor: each model version is read from storage once per JVM, however many tasks and records
 * it scores. {@code MultiLayerNetwork.output} is synchronized, so each task thread gets its own in-memory clone
 * (parameters copied, nothing re-read): tasks on the cores of one executor then score in parallel.
 */
final class ModelCache {
    private static final Map<String, MultiLayerNetwork> LOADED = new ConcurrentHashMap<>();
    private static final ThreadLocal<Map<String, MultiLayerNetwork>> PER_THREAD = ThreadLocal.withInitial(HashMap::new);
    private static final AtomicInteger LOADS = new AtomicInteger();

    private ModelCache() {
    }

    static MultiLayerNetwork network(ScoringModel model) {
        return PER_THREAD.get().computeIfAbsent(model.uri(), uri -> LOADED.computeIfAbsent(uri, u -> {
            LOADS.incrementAndGet();
            return model.load(new Configuration());
        }).clone());
    }

    /** How many times this JVM has read a model from storage (for tests: once per version, not per task or record). */
    static int loads() {
        return LOADS.get();
    }
}
