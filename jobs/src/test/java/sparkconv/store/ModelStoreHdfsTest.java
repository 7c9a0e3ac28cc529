package sparkconv.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import sparkconv.LocalSpark;
import sparkconv.MiniHdfs;
import sparkconv.SparkconvException;
import sparkconv.Tampering;
import sparkconv.TestData;
import sparkconv.data.IdxDataset;
import sparkconv.models.Hyper;
import sparkconv.preprocess.IdxPreprocess;
import sparkconv.train.TrainOptions;
import sparkconv.train.TrainingRun;

/** The model store and the whole preprocess -> train -> store path against a real HDFS (MiniDFSCluster) via hdfs:// URIs. */
public class ModelStoreHdfsTest {
    private static MiniHdfs hdfs;
    private static String root;

    @BeforeAll
    static void startHdfs() throws Exception {
        hdfs = MiniHdfs.start();
        root = hdfs.uri();
    }

    @AfterAll
    static void stopHdfs() {
        if (hdfs != null) {
            hdfs.close();
        }
    }

    @Test
    void publishListLoadOnHdfs() throws Exception {
        Configuration conf = new Configuration();
        ModelStore store = new ModelStore(root + "/stores/unit", conf);
        MultiLayerNetwork net = new MultiLayerNetwork(sparkconv.models.ModelZoo.build("seed-trace",
                new sparkconv.models.ModelZoo.Input(1, 28, 28), 10, new Hyper("sgd", 0.01, 0, 0, 3)));
        net.init();
        ModelStore.Version v = store.publish("tiny", store.nextVersion("tiny"), net, Map.of("model", "seed-trace"),
                Map.of("test", Map.of("accuracy", 0.5)));
        assertEquals("v1", v.version());
        assertTrue(v.uri().startsWith(root + "/stores/unit/models/tiny/v1"), v.uri());
        assertEquals("seed-trace", v.metadata().get("model"));

        FileSystem fs = FileSystem.get(java.net.URI.create(root), conf);
        FileStatus[] entries = fs.listStatus(new Path(root + "/stores/unit/models/tiny"));
        assertEquals(List.of("v1"), Arrays.stream(entries).map(s -> s.getPath().getName()).toList(), "no staging left behind");
        assertEquals(List.of("model.zip", "metadata.json", "metrics.json", "_SUCCESS").stream().sorted().toList(),
                Arrays.stream(fs.listStatus(new Path(v.uri()))).map(s -> s.getPath().getName()).sorted().toList());

        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 1, 28, 28);
        assertArrayEquals(flat(net.output(x)), flat(store.load("tiny", "latest").output(x)), 0f);
        assertThrows(SparkconvException.class, () -> store.publish("tiny", "v1", net, Map.of(), Map.of()));

        // a version directory without _SUCCESS (a crashed writer) is invisible to readers
        fs.mkdirs(new Path(root + "/stores/unit/models/tiny/v2"));
        assertEquals(List.of("v1"), store.versionNames("tiny"));
        assertFalse(store.versionNames("tiny").contains("v2"));

        // HDFS applies its umask (022) to what a client creates: the store sets its modes itself
        for (String dir : List.of("/stores/unit", "/stores/unit/models", "/stores/unit/models/tiny", "/stores/unit/models/tiny/v1")) {
            assertEquals(StoreModes.DIR, fs.getFileStatus(new Path(root + dir)).getPermission(), dir);
        }
        for (String file : List.of("model.zip", "metadata.json", "metrics.json")) {
            assertEquals(StoreModes.FILE, fs.getFileStatus(new Path(v.uri(), file)).getPermission(), file);
        }
        // a model.zip rewritten through HDFS (block checksums recomputed, as for any writer) is refused
        Tampering.flipOneWeightBit(java.net.URI.create(v.uri() + "/model.zip"));
        SparkconvException changed = assertThrows(SparkconvException.class, () -> store.load("tiny", "v1"));
        assertTrue(changed.getMessage().startsWith(v.uri() + "/model.zip: sha256 "), changed.getMessage());
    }

    @Test
    void racingPromotersLeaveTheBestVersionOnHdfs() throws Exception {
        Configuration conf = new Configuration();
        ModelStore store = ConcurrentWritersTest.storeWithVersions(root + "/stores/race", conf, 4);
        ConcurrentWritersTest.racePromoters(store, conf, 4, 10);
        FileSystem fs = FileSystem.get(java.net.URI.create(root), conf);
        assertEquals(List.of(), Arrays.stream(fs.listStatus(new Path(root + "/stores/race/models/m")))
                .map(s -> s.getPath().getName()).filter(n -> n.startsWith(".")).toList(), "no lock or temporary pointer left");
    }

    @Test
    void preprocessTrainAndStoreThroughHdfsUris() {
        String data = TestData.fashionMnist().toString();
        SparkSession spark = LocalSpark.get();
        String shards = root + "/shards/fm";
        IdxPreprocess.idx(spark, data, "fashion-mnist", IdxDataset.FASHION_CLASSES, shards, 32, 100, 800, false);
        TrainOptions options = TrainOptions.builder("seed-trace", new Hyper("nesterovs", 0.02, 0.9, 0, 5)).workers(2).averagingFrequency(2).prefetch(1).build();
        TrainingRun.Outcome o = TrainingRun.run(spark, shards, options, root + "/store", "fm", null, line -> { });
        assertEquals(root + "/store/models/fm/v1", o.version().uri());
        ModelStore store = new ModelStore(root + "/store", spark.sparkContext().hadoopConfiguration());
        assertEquals(List.of("v1"), store.versionNames("fm"));
        assertEquals(o.test().accuracy(), ((Number) ((Map<?, ?>) store.get("fm", "v1").metrics().get("test")).get("accuracy")).doubleValue(), 1e-12);
    }

    /**
     * The DataNode dies while a version's model.zip is being written to it (the fault runs inside the write, once the
     * file's first bytes are synced to the DataNode): a clear failure, nothing visible, and a retry succeeds.
     */
    @Test
    void theDataNodeLostDuringTheModelWriteFailsCleanlyAndARetrySucceeds() throws Exception {
        String storeRoot = root + "/stores/fault";
        MultiLayerNetwork net = new MultiLayerNetwork(sparkconv.models.ModelZoo.build("seed-trace",
                new sparkconv.models.ModelZoo.Input(1, 28, 28), 10, new Hyper("sgd", 0.01, 0, 0, 3)));
        net.init();

        long[] bytesOnDataNode = {-1};
        MiniDFSCluster.DataNodeProperties[] stopped = new MiniDFSCluster.DataNodeProperties[1];
        DataNodeStoppingFileSystem.fault = (file, bytes) -> {
            bytesOnDataNode[0] = bytes;
            stopped[0] = hdfs.cluster().stopDataNode(0);
        };
        ModelStore store = new ModelStore(storeRoot, DataNodeStoppingFileSystem.configuration());
        SparkconvException failure;
        try {
            failure = assertThrows(SparkconvException.class, () -> store.publish("fm-fault", "v1", net, Map.of(), Map.of()));
        } finally {
            DataNodeStoppingFileSystem.fault = null;
            if (stopped[0] != null) {
                hdfs.cluster().restartDataNode(stopped[0], true);
                hdfs.cluster().waitActive();
            }
        }
        assertTrue(stopped[0] != null && bytesOnDataNode[0] >= DataNodeStoppingFileSystem.AFTER_BYTES,
                "the DataNode was stopped inside the write, with the file's first bytes on it: " + bytesOnDataNode[0]);
        assertTrue(failure.getMessage().startsWith(storeRoot + "/models/fm-fault/v1: could not write model version: "), failure.getMessage());
        assertEquals(List.of(), store.versionNames("fm-fault"), "no version visible");
        FileSystem fs = FileSystem.get(java.net.URI.create(root), new Configuration());
        Path modelDir = new Path(storeRoot + "/models/fm-fault");
        assertEquals(0, fs.exists(modelDir) ? fs.listStatus(modelDir).length : 0, "no staging directory left behind");

        store.publish("fm-fault", "v1", net, Map.of(), Map.of());
        assertEquals(List.of("v1"), store.versionNames("fm-fault"));
        assertEquals(net.params(), store.load("fm-fault", "v1").params());
    }

    public static float[] flat(INDArray a) {
        return a.dup().reshape(a.length()).toFloatVector();
    }
}
