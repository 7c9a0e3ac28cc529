package sparkconv.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.SparkconvException;
import sparkconv.data.Checksums;
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

    /**
     * metadata.json records the sha256 of the version's other files, as written; the store's directories and the
     * version's files are kept from other users whatever the umask (0750 / 0640).
     */
    @Test
    void aVersionRecordsItsChecksumsAndIsPrivateToItsGroup() throws Exception {
        ModelStore store = new ModelStore(tmp.resolve("store").toString(), new Configuration());
        MultiLayerNetwork net = new MultiLayerNetwork(ModelZoo.build("seed-trace", new ModelZoo.Input(1, 28, 28), 10,
                new Hyper("sgd", 0.01, 0, 0, 1)));
        net.init();
        ModelStore.Version v = store.publish("m", "v1", net, Map.of("created", "now"), Map.of("test", Map.of("accuracy", 0.5)));

        Path dir = tmp.resolve("store/models/m/v1");
        Map<String, String> recorded = v.digests().sha256();
        assertEquals(List.of("metrics.json", "model.zip"), List.copyOf(recorded.keySet()), "every file but metadata.json and _SUCCESS");
        for (String file : recorded.keySet()) {
            assertEquals(Checksums.sha256(Files.readAllBytes(dir.resolve(file))), recorded.get(file), file);
        }
        v.digests().verifyAll(new Configuration());

        for (Path d : List.of(tmp.resolve("store"), tmp.resolve("store/models"), tmp.resolve("store/models/m"), dir)) {
            assertEquals("rwxr-x---", PosixFilePermissions.toString(Files.getPosixFilePermissions(d)), d.toString());
        }
        for (String file : List.of("model.zip", "metadata.json", "metrics.json")) {
            assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(file))), file);
        }
    }
}
