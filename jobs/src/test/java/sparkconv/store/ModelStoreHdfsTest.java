package sparkconv.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import sparkconv.SparkconvException;
import sparkconv.models.Hyper;
import sparkconv.models.ModelZoo;
import sparkconv.spark.Fs;

/** The model store against a real HDFS (MiniDFSCluster: NameNode + DataNode in this JVM) through an hdfs:// URI. */
class ModelStoreHdfsTest {
    @TempDir
    static Path base;
    static MiniDFSCluster hdfs;

    @BeforeAll
    static void startHdfs() throws Exception {
        Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.resolve("hdfs").toString());
        hdfs = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
        hdfs.waitActive();
    }

    @AfterAll
    static void stopHdfs() {
        if (hdfs != null) {
            hdfs.shutdown(true);
        }
    }

    @Test
    void storesListsAndLoadsBackAVersionOverHdfs() throws Exception {
        String root = "hdfs://127.0.0.1:" + hdfs.getNameNodePort() + "/stores/main";
        // a client configuration that knows nothing of the cluster: the URI alone must be enough
        ModelStore store = new ModelStore(root, new Configuration());
        MultiLayerNetwork net = new MultiLayerNetwork(ModelZoo.build("seed-trace", new ModelZoo.Input(1, 28, 28), 10,
                new Hyper("nesterovs", 0.02, 0.9, 1e-4, 7)));
        net.init();

        ModelStore.Version v1 = store.publish("fm-seed", store.nextVersion("fm-seed"), net,
                Map.of("model", "seed-trace"), Map.of("test", Map.of("accuracy", 0.5)));

        assertEquals("v1", v1.version());
        assertTrue(v1.uri().startsWith("hdfs://"), v1.uri());
        assertEquals(List.of("fm-seed"), store.modelNames());
        assertEquals(List.of("v1"), store.versionNames("fm-seed"));
        assertEquals("v2", store.nextVersion("fm-seed"));
        assertEquals("seed-trace", store.get("fm-seed", "latest").metadata().get("model"));
        var conf = hdfs.getConfiguration(0);
        FileStatus[] files = Fs.fs(Fs.path(v1.uri()), conf).listStatus(Fs.path(v1.uri()));
        assertEquals(4, files.length, "model.zip, metadata.json, metrics.json, _SUCCESS");
        FileStatus[] siblings = Fs.fs(store.modelDir("fm-seed"), conf).listStatus(store.modelDir("fm-seed"));
        assertEquals(1, siblings.length, "no staging directory left behind");

        MultiLayerNetwork loaded = store.load("fm-seed", "v1");
        Nd4j.getRandom().setSeed(3);
        INDArray input = Nd4j.rand(5, 1, 28, 28);
        assertArrayEquals(net.output(input).toFloatMatrix(), loaded.output(input).toFloatMatrix());
        assertEquals(net.params(), loaded.params());
    }

    /** The DataNode dies while a version is being written: a clear failure, nothing visible, and a retry succeeds. */
    @Test
    void aVersionWrittenWhileTheDataNodeIsDownFailsCleanlyAndARetrySucceeds() throws Exception {
        String root = "hdfs://127.0.0.1:" + hdfs.getNameNodePort() + "/stores/fault";
        ModelStore store = new ModelStore(root, new Configuration());
        MultiLayerNetwork net = new MultiLayerNetwork(ModelZoo.build("seed-trace", new ModelZoo.Input(1, 28, 28), 10,
                new Hyper("nesterovs", 0.02, 0.9, 1e-4, 7)));
        net.init();

        // the NameNode still accepts the staging directory and file; the model's bytes have nowhere to go
        MiniDFSCluster.DataNodeProperties dataNode = hdfs.stopDataNode(0);
        SparkconvException failure;
        try {
            failure = assertThrows(SparkconvException.class,
                    () -> store.publish("fm-fault", "v1", net, Map.of(), Map.of()));
        } finally {
            hdfs.restartDataNode(dataNode, true);
            hdfs.waitActive();
        }
        assertTrue(failure.getMessage().startsWith(root + "/models/fm-fault/v1: could not write model version: "), failure.getMessage());
        assertEquals(List.of(), store.versionNames("fm-fault"), "no version visible");
        var modelDir = store.modelDir("fm-fault");
        var fs = Fs.fs(modelDir, new Configuration());
        assertEquals(0, fs.exists(modelDir) ? fs.listStatus(modelDir).length : 0, "no staging directory left behind");

        ModelStore.Version retried = store.publish("fm-fault", "v1", net, Map.of(), Map.of());
        assertEquals(List.of("v1"), store.versionNames("fm-fault"));
        assertEquals(net.params(), store.load("fm-fault", retried.version()).params());
    }
}
