package sparkconv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static sparkconv.cli.CommandHarness.assertOneLineError;
import static sparkconv.cli.CommandHarness.ok;
import static sparkconv.cli.CommandHarness.run;

import java.nio.file.Path;
import java.util.Map;

import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.LocalSpark;
import sparkconv.TestData;
import sparkconv.store.ModelStore;

/**
 * {@code sparkconv train} from the command line: the version it publishes carries the conf/ defaults (train.*) and the
 * name {@code <dataset>-<model>}; bad values and a taken version are one-line errors. (Accuracy across epochs with
 * the defaults: QuickstartEndToEndTest.)
 */
class TrainCommandTest {
    @TempDir
    Path tmp;

    @Test
    void trainsWithTheConfDefaultsAndPublishesANamedVersion() {
        LocalSpark.get();
        String shards = tmp.resolve("shards").toString();
        String store = tmp.resolve("store").toString();
        ok("preprocess", "--data", TestData.fashionMnist().toString(), "--out", shards, "--limit", "600", "--validation", "100");

        CommandHarness.Result r = ok("train", "--shards", shards, "--store", store, "--epochs", "1");
        assertTrue(r.out().contains("model fashion-mnist-lenet5 v1 stored at"), r.out());
        ModelStore.Version v = new ModelStore(store, new Configuration()).get("fashion-mnist-lenet5", "v1");
        Map<?, ?> hyper = (Map<?, ?>) v.metadata().get("hyperParameters");
        assertEquals("nesterovs", hyper.get("updater"), "train.updater");
        assertEquals(0.05, ((Number) hyper.get("learningRate")).doubleValue(), 1e-12, "train.lr");
        assertEquals(0.9, ((Number) hyper.get("momentum")).doubleValue(), 1e-12, "train.momentum");
        Map<?, ?> training = (Map<?, ?>) v.metadata().get("training");
        assertEquals(5, ((Number) training.get("averagingFrequency")).intValue(), "train.averaging-frequency");
        assertEquals(64, ((Number) training.get("batchSizePerWorker")).intValue(), "preprocess.batch");

        assertOneLineError(run("train", "--shards", shards, "--store", store, "--version", "v1", "--epochs", "1"), 2,
                "the store already holds fashion-mnist-lenet5 v1");
        assertOneLineError(run("train", "--shards", shards, "--store", store, "--lr", "0"), 2, "--lr must be a positive number, got 0.0");
        assertOneLineError(run("train", "--shards", shards, "--store", store, "--updater", "rmsprop"), 2, "unknown updater 'rmsprop'");
    }
}
