package sparkconv.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sparkconv.LocalSpark;
import sparkconv.SparkconvException;
import sparkconv.Tampering;
import sparkconv.TestData;
import sparkconv.data.IdxDataset;
import sparkconv.models.Hyper;
import sparkconv.models.ModelZoo;
import sparkconv.preprocess.IdxPreprocess;
import sparkconv.store.ModelStore;

/** Checkpoints and resume, early stopping and learning-rate schedules on real Fashion-MNIST shards (1,000 images). */
class TrainControlTest {
    @TempDir
    static Path dir;
    static String shards;
    static SparkSession spark;

    @BeforeAll
    static void shards() {
        spark = LocalSpark.get();
        shards = dir.resolve("shards").toString();
        IdxPreprocess.idx(spark, TestData.fashionMnist().toString(), "fashion-mnist", IdxDataset.FASHION_CLASSES, shards,
                32, 100, 1000, false);
    }

    /** Two workers averaging every 2 minibatches; {@code stats}: dl4j-spark's worker and its statistics (--stats). */
    private static TrainOptions options(int epochs, String updater, TrainControl control, boolean stats) {
        return TrainOptions.builder("seed-trace", new Hyper(updater, 0.02, 0.9, 1e-4, 11))
                .epochs(epochs).workers(2).averagingFrequency(2).prefetch(1).collectStats(stats).control(control).build();
    }

    /** Simulates a crash: the driver dies right after the checkpoint of {@code epoch} is written. */
    private static Consumer<String> crashAfterCheckpoint(int epoch, List<String> log) {
        return line -> {
            log.add(line);
            if (line.startsWith("checkpoint epoch " + epoch + " ")) {
                throw new IllegalStateException("simulated driver crash");
            }
        };
    }

    @Test
    void resumedRunMatchesAnUninterruptedOne() {
        String store = dir.resolve("store-resume").toString();
        TrainingRun.Outcome straight = TrainingRun.run(spark, shards, options(3, "nesterovs", TrainControl.DEFAULT, false), store,
                "straight", null, line -> { });

        List<String> log = new ArrayList<>();
        assertThrows(IllegalStateException.class, () -> TrainingRun.run(spark, shards,
                options(3, "nesterovs", TrainControl.DEFAULT, false), store, "resumed", null, crashAfterCheckpoint(2, log)));
        ModelStore modelStore = new ModelStore(store, spark.sparkContext().hadoopConfiguration());
        assertTrue(modelStore.versionNames("resumed").isEmpty(), "nothing published by the crashed run");
        Path run = dir.resolve("store-resume/checkpoints/resumed-v1");
        assertTrue(Files.exists(run.resolve("epoch-0002/_SUCCESS")), "epoch 2 checkpoint is complete");
        assertTrue(Files.exists(run.resolve("epoch-0002/model.zip")));
        assertFalse(Files.exists(run.resolve("epoch-0001")), "older checkpoints are pruned");

        SparkconvException refused = assertThrows(SparkconvException.class, () -> TrainingRun.run(spark, shards,
                options(3, "nesterovs", TrainControl.DEFAULT, false), store, "resumed", null, line -> { }));
        assertTrue(refused.getMessage().contains("--resume"), refused.getMessage());

        List<String> resumedLog = new ArrayList<>();
        TrainingRun.Outcome resumed = TrainingRun.run(spark, shards,
                options(3, "nesterovs", new TrainControl(LrSchedule.CONSTANT, 0, true), false), store, "resumed", null, resumedLog::add);
        assertTrue(resumedLog.get(0).startsWith("parameter averaging: 2 workers"), resumedLog.get(0));
        assertTrue(resumedLog.get(1).startsWith("resuming at epoch 3/3"), resumedLog.get(1));
        assertEquals(1, resumedLog.stream().filter(l -> l.contains(" done: ")).count(), "only epoch 3 was trained");
        assertEquals(3, resumed.epochs().size(), "history carries epochs 1-2 from the checkpoint");
        assertEquals(List.of(1, 2, 3), resumed.epochs().stream().map(EpochStats::epoch).toList());
        assertFalse(Files.exists(run), "a published run's checkpoints are removed");
        @SuppressWarnings("unchecked")
        Map<String, Object> training = (Map<String, Object>) resumed.version().metadata().get("training");
        assertEquals(3, training.get("resumedAtEpoch"));

        // The checkpoint holds the parameters and the updater state, the shard order is replayed and every round's
        // dropout seed follows from the seed, the round and the worker: the resumed run trains the same model.
        for (int e = 0; e < 3; e++) { // epochs 1-2 come from the crashed run's checkpoint, epoch 3 was trained again
            assertEquals(straight.epochs().get(e).validationAccuracy(), resumed.epochs().get(e).validationAccuracy(), "epoch " + (e + 1));
            // the mean loss is a sum over the validation split's Spark tasks, reduced in the order they end: last bits
            assertEquals(straight.epochs().get(e).validationLoss(), resumed.epochs().get(e).validationLoss(), 1e-12, "epoch " + (e + 1));
        }
        assertArrayEquals(straight.network().params().toFloatVector(), resumed.network().params().toFloatVector(),
                "resuming at epoch 3 trains the parameters of the uninterrupted run");
        assertArrayEquals(straight.network().getUpdater().getStateViewArray().toFloatVector(),
                resumed.network().getUpdater().getStateViewArray().toFloatVector(), "and the same updater state");
        assertEquals(straight.test().accuracy(), resumed.test().accuracy());
    }

    @Test
    void earlyStoppingKeepsTheBestEpochAndTheScheduleSetsTheRate() {
        String store = dir.resolve("store-early").toString();
        // Plain SGD whose rate drops by 1e-9 after epoch 1: the model cannot improve, so patience 1 stops after epoch 2.
        TrainControl control = new TrainControl(LrSchedule.parse("step:1:1e-9"), 1, false);
        List<String> log = new ArrayList<>();
        TrainingRun.Outcome o = TrainingRun.run(spark, shards, options(5, "sgd", control, true), store, "early", null, log::add);
        assertEquals(2, o.epochs().size(), String.join("\n", log));
        assertEquals(0.02, o.epochs().get(0).learningRate(), 1e-12);
        assertEquals(0.02e-9, o.epochs().get(1).learningRate(), 1e-15);
        assertTrue(log.stream().anyMatch(l -> l.startsWith("early stopping after epoch 2")), String.join("\n", log));
        @SuppressWarnings("unchecked")
        Map<String, Object> training = (Map<String, Object>) o.version().metadata().get("training");
        assertEquals(true, training.get("stoppedEarly"));
        assertEquals(1, training.get("bestEpoch"));
        assertEquals("step:1:1.0E-9", training.get("lrSchedule"));
        assertNotNull(o.version().metrics().get("timeSplit"), "Spark training stats were collected");
        EpochStats first = o.epochs().get(0);
        assertTrue(first.trainAccuracy() > 0.3 && first.validationLoss() > 0, first.toString());
    }

    /** The paper's criterion: the validation loss. The same frozen model stops after epoch 2 watching the loss. */
    @Test
    void earlyStoppingOnValidationLoss() {
        String store = dir.resolve("store-early-loss").toString();
        TrainControl control = new TrainControl(LrSchedule.parse("step:1:1e-9"), 1, false, "loss");
        List<String> log = new ArrayList<>();
        TrainingRun.Outcome o = TrainingRun.run(spark, shards, options(5, "sgd", control, true), store, "early-loss", null, log::add);
        assertEquals(2, o.epochs().size(), String.join("\n", log));
        assertTrue(log.stream().anyMatch(l -> l.startsWith("early stopping after epoch 2: no better validation loss")), String.join("\n", log));
        @SuppressWarnings("unchecked")
        Map<String, Object> training = (Map<String, Object>) o.version().metadata().get("training");
        assertEquals(1, training.get("bestEpoch"));
        assertEquals("loss", training.get("stopOn"));
        assertThrows(SparkconvException.class, () -> new TrainControl(LrSchedule.CONSTANT, 1, false, "auc"));
    }

    @Test
    void earlyStoppingNeedsValidationAndSchedulesParse() {
        assertEquals(0.25, LrSchedule.parse("step:2:0.5").rate(1.0, 5, 10), 1e-12);
        assertEquals(0.81, LrSchedule.parse("exp:0.9").rate(1.0, 3, 10), 1e-12);
        LrSchedule cosine = LrSchedule.parse("cosine");
        assertEquals(1.0, cosine.rate(1.0, 1, 5), 1e-12);
        assertEquals(0.01, cosine.rate(1.0, 5, 5), 1e-12);
        assertEquals(0.505, cosine.rate(1.0, 3, 5), 1e-12);
        assertEquals(0.3, LrSchedule.CONSTANT.rate(0.3, 7, 9));
        for (String bad : List.of("step:0:0.5", "exp", "linear", "exp:-1", "step:2:x")) {
            SparkconvException e = assertThrows(SparkconvException.class, () -> LrSchedule.parse(bad), bad);
            assertTrue(e.getMessage().contains("--lr-schedule"), e.getMessage());
        }
        assertThrows(SparkconvException.class, () -> new TrainControl(LrSchedule.CONSTANT, -1, false));
    }

    /**
     * A checkpoint loads only as it was written (checkpoint.json records its model's sha256); one written before the
     * checksums were recorded still loads (docs/security.md).
     */
    @Test
    void aCheckpointLoadsOnlyAsWritten() throws Exception {
        Checkpoints checkpoints = new Checkpoints(dir.resolve("store-checked").toString(), "m-v1", spark.sparkContext().hadoopConfiguration());
        MultiLayerNetwork net = new MultiLayerNetwork(ModelZoo.build("seed-trace", new ModelZoo.Input(1, 28, 28), 10,
                new Hyper("nesterovs", 0.02, 0.9, 0, 11)));
        net.init();
        checkpoints.save(new Checkpoints.State("m-v1", "seed-trace", 11, 1, List.of(), 0, 0), net);
        assertArrayEquals(net.params().toFloatVector(), checkpoints.load(1, MultiLayerNetwork.class).params().toFloatVector());

        Path epoch = dir.resolve("store-checked/checkpoints/m-v1/epoch-0001");
        Tampering.flipOneWeightBit(epoch.resolve(Checkpoints.MODEL));
        SparkconvException changed = assertThrows(SparkconvException.class, () -> checkpoints.load(1, MultiLayerNetwork.class));
        assertTrue(changed.getMessage().contains("epoch-0001/model.zip: sha256 ")
                && changed.getMessage().contains("checkpoint.json records for checkpoint epoch 1 of m-v1"), changed.getMessage());

        Tampering.dropChecksums(epoch.resolve(Checkpoints.STATE));
        assertEquals(1, checkpoints.latest().orElseThrow().epoch());
        MultiLayerNetwork old = checkpoints.load(1, MultiLayerNetwork.class);
        assertEquals(net.params().length(), old.params().length(), "an unchecked checkpoint still loads");
    }
}
