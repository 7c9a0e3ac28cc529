package sparkconv.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.SparkconvException;
import sparkconv.models.Hyper;
import sparkconv.models.ModelZoo;

class ModelStoreTest {
    @TempDir
    Path tmp;

    @Test
    void versionsAreOrderedNumericallyAndModelsMustFitTheirData() {
        ModelStore store = new ModelStore(tmp.toString(), new Configuration());
        MultiLayerNetwork net = new MultiLayerNetwork(ModelZoo.build("seed-trace", new ModelZoo.Input(1, 28, 28), 10,
                new Hyper("sgd", 0.01, 0, 0, 1)));
        net.init();
        Map<String, Object> meta = Map.of("input", Map.of("channels", 1, "height", 28, "width", 28),
                "classes", List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"));
        for (int i = 0; i < 10; i++) {
            store.publish("m", store.nextVersion("m"), net, meta, Map.of());
        }
        assertEquals("v10", store.versionNames("m").get(9));
        assertEquals("v10", store.get("m", "latest").version());
        assertEquals(List.of("m"), store.modelNames());

        ModelStore.Version v = store.get("m", "v3");
        v.requireFits("shards", 1, 28, 28, 10);
        SparkconvException shape = assertThrows(SparkconvException.class, () -> v.requireFits("shards", 3, 32, 32, 10));
        assertEquals("shards: images are 32x32x3 but m v3 takes 28x28x1", shape.getMessage());
        SparkconvException classes = assertThrows(SparkconvException.class, () -> v.requireFits("shards", 1, 28, 28, 2));
        assertEquals("shards: 2 classes but m v3 predicts 10", classes.getMessage());

        SparkconvException missing = assertThrows(SparkconvException.class, () -> store.get("m", "v99"));
        assertTrue(missing.getMessage().contains("no complete version 'v99'"), missing.getMessage());
        assertThrows(SparkconvException.class, () -> store.get("nothing", "latest"));
        assertThrows(SparkconvException.class, () -> store.publish("../escape", "v1", net, meta, Map.of()));

        SparkconvException noBest = assertThrows(SparkconvException.class, () -> store.get("m", "best"));
        assertTrue(noBest.getMessage().endsWith("no best version yet (run models promote)"), noBest.getMessage());
        new Promotion(store, new Configuration()).promote("m", "v4", null);
        assertEquals("v4", store.get("m", "best").version());
    }
}
