package sparkconv;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

import sparkconv.models.Hyper;
import sparkconv.models.ModelZoo;
import sparkconv.shards.Manifest;
import sparkconv.store.ModelStore;

/** Stored models for tests that score or evaluate without training: real DL4J networks with a fixed seed. */
public final class TestModels {
    private TestModels() {
    }

    /** An untrained seed-trace CNN with a fixed seed. */
    public static MultiLayerNetwork untrained(ModelZoo.Input input, int classes) {
        MultiLayerNetwork n = new MultiLayerNetwork(ModelZoo.build("seed-trace", input, classes, new Hyper("adam", 1e-3, 0.9, 0, 42)));
        n.init();
        return n;
    }

    /** Publishes {@code network} as {@code name} v1 with the metadata sparkconv train writes (input, classes, normalisation). */
    public static void publish(String store, String name, MultiLayerNetwork network, ModelZoo.Input input, List<String> classes,
                               Manifest.Normalisation norm) {
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("name", name);
        meta.put("version", "v1");
        meta.put("input", Map.of("channels", input.channels(), "height", input.height(), "width", input.width()));
        meta.put("classes", classes);
        meta.put("normalisation", norm);
        new ModelStore(store, new Configuration()).publish(name, "v1", network, meta, Map.of());
    }
}
