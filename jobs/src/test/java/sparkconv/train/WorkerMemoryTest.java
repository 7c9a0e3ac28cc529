package sparkconv.train;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import org.junit.jupiter.api.Test;

import sparkconv.SparkconvException;
import sparkconv.models.Hyper;
import sparkconv.models.ModelZoo;

/** The memory prediction is a deterministic function of the layer shapes: LeNet-5's counts by hand. */
class WorkerMemoryTest {
    /** train's default policy: each shard cut among the JVM's workers (pieces of at least 8 examples). */
    private static final AveragingPolicy SYNC = AveragingPolicy.parse("sync");

    /**
     * LeNet-5 at 32x32x1, 10 classes. Outputs per example: C1 28x28x6 = 4,704, S2 14x14x6 = 1,176, C3 10x10x16 = 1,600,
     * S4 5x5x16 = 400, F5 120, F6 84, output 10: 8,094. Parameters 6(25+1) + 16(150+1) + 400*120+120 + 120*84+84 + 84*10+10
     * = 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706; Nesterov keeps one value per parameter. Kept for backprop beyond the
     * outputs: the two convolutions' pre-activations (4,704 + 1,600) and F5's flattened copy of S4 (400). The gradients
     * with respect to the inputs of layers 0, 2, 4, 6 (1,024, 1,176, 400, 84) share one buffer, those of layers 1, 3, 5
     * (4,704, 1,600, 120) the other. The largest working memory is F5's backward pass, 2 x 120: its recomputed
     * pre-activation and gradient (the convolutions' ReLU works in place, and neither is dilated, so no im2col buffer).
     */
    @Test
    void lenet5CountsAreTheHandComputedOnes() {
        WorkerMemory.Shape s = WorkerMemory.shape("lenet5", new ModelZoo.Input(1, 32, 32), 10, "nesterovs");
        assertEquals(new WorkerMemory.Shape("lenet5", "32x32x1", 10, 61_706, 61_706, 1_024, 8_094, 6_704, 1_176, 4_704, 240), s);
        assertEquals((long) Math.ceil(1.05 * 4 * 64 * (8_094 + 6_704)), s.keptForBackprop(64), "5% over what a cycle held");
        assertEquals((long) Math.ceil(1.02 * 4 * 64 * 1_176) + (long) Math.ceil(1.02 * 4 * 64 * 4_704), s.gradientBuffers(64));
        assertEquals((long) Math.ceil(1.02 * 4 * 64 * 240), s.working(64));
        assertEquals(2 * 61_706, WorkerMemory.shape("lenet5", new ModelZoo.Input(1, 32, 32), 10, "adam").updaterState());
        assertEquals(0, WorkerMemory.shape("lenet5", new ModelZoo.Input(1, 32, 32), 10, "sgd").updaterState());

        WorkerMemory.Need n = WorkerMemory.need(s, "nesterovs", 64, AveragingPolicy.LOCAL, 1, 2, false);
        assertEquals(4L * 3 * 61_706, n.workerNetwork(), "parameters, gradients, momentum");
        assertEquals(s.keptForBackprop(64) + s.gradientBuffers(64) + s.working(64), n.workerStep(), "the four workspaces");
        assertEquals(4L * 4 * 64 * (1_024 + 10), n.workerData(), "2 read ahead, 1 in use, 1 being read");
        assertEquals(4L * 2 * 61_706, n.workerExchange(), "the round's start deserialised from its broadcast");
        assertEquals(0, n.driverOffHeap());
        assertEquals((long) Math.ceil(1.02 * 4 * 64 * 4_704), n.workerEvaluation(), "evaluating: the largest layer input at the batch");
        assertEquals(n.workerNetwork() + n.workerStep() + n.workerData() + n.workerExchange() + n.workerEvaluation(), n.nd4j());
        assertEquals(n.nd4j() + WorkerMemory.BASE_OFF_HEAP + WorkerMemory.WORKER_OFF_HEAP, n.offHeap());
        assertEquals(WorkerMemory.BASE_HEAP + 4L * (4 + 3) * 2 * 61_706, n.liveHeap(),
                "the exchange's four copies (one piece: the whole vector), the broadcast's blocks, the stage's average twice");

        WorkerMemory.Need local = WorkerMemory.need(s, "nesterovs", 64, AveragingPolicy.LOCAL, 2, 2, true);
        assertEquals(2 * (n.nd4j() - n.workerExchange()) + (long) Math.ceil(WorkerMemory.DRIVER_COPIES * 4 * 2 * 61_706), local.nd4j(),
                "two workers without a broadcast start (local mode) and the driver's copies");
        assertEquals(WorkerMemory.BASE_HEAP + 4L * (2 * 4 + 1) * 2 * 61_706, local.liveHeap(),
                "two workers' exchanges and the driver's serialised copy");
        WorkerMemory.Shape alexnet = WorkerMemory.shape("alexnet", new ModelZoo.Input(3, 227, 227), 1000, "nesterovs");
        assertEquals(WorkerMemory.BASE_HEAP + 2 * 4 * Rounds.EXCHANGE_PIECE_BYTES + (long) Math.ceil(4.0 * 2 * 62_378_344),
                WorkerMemory.need(alexnet, "nesterovs", 32, AveragingPolicy.LOCAL, 2, 2, true).liveHeap(), "AlexNet's exchange: four pieces of 64 MiB");
        WorkerMemory.Need synced = WorkerMemory.need(s, "nesterovs", 64, SYNC, 2, 2, true);
        assertEquals(32, synced.minibatch(), "sync cuts each shard of 64 between the two workers");
        assertEquals(s.step(32), synced.workerStep());
        assertEquals(local.workerData(), synced.workerData(), "the workers read whole shards");
        assertEquals(12, WorkerMemory.need(s, "nesterovs", 12, SYNC, 2, 2, true).minibatch(), "pieces of 6 are below sync's 8");
        assertThrows(SparkconvException.class, () -> WorkerMemory.need(s, "nesterovs", 0, AveragingPolicy.LOCAL, 1, 2, false));
    }

    /**
     * The training step's term is DL4J's own workspaces, not a fit: after a few real training steps on a fresh thread, each
     * of the thread's four workspaces is the block the shape predicts (a few KiB of alignment and small arrays aside), for
     * a plain stack (LeNet-5), one with LRN, dropout and dense layers (alexnet32), and a chart CNN whose first convolution is
     * dilated (DL4J's own path, keeping its im2col buffer) followed by batch normalisation and Java layers.
     */
    @Test
    void stepPredictionIsDl4jsOwnWorkspaces() throws Exception {
        record Case(String model, String updater, int batch) {
        }
        for (Case c : List.of(new Case("lenet5", "nesterovs", 16), new Case("alexnet32", "nesterovs", 8),
                new Case("candle-cnn-20", "adam", 8))) {
            ModelZoo.Input input = ModelZoo.defaultInput(c.model());
            WorkerMemory.Shape s = WorkerMemory.shape(c.model(), input, 10, c.updater());
            Map<String, Long> blocks = new TreeMap<>();
            Thread t = new Thread(() -> {
                MultiLayerNetwork net = new MultiLayerNetwork(ModelZoo.build(c.model(), input, 10, new Hyper(c.updater(), 1e-4, 0.9, 0, 1)));
                net.init();
                INDArray x = Nd4j.rand(DataType.FLOAT, c.batch(), input.channels(), input.height(), input.width());
                INDArray y = Nd4j.zeros(DataType.FLOAT, c.batch(), 10);
                for (int i = 0; i < c.batch(); i++) {
                    y.putScalar(i, i % 10, 1f);
                }
                for (int i = 0; i < 3; i++) {
                    net.fit(new DataSet(x, y));
                }
                for (MemoryWorkspace w : Nd4j.getWorkspaceManager().getAllWorkspacesForCurrentThread()) {
                    blocks.put(w.getId(), w.getCurrentSize());
                }
                Nd4j.getWorkspaceManager().destroyAllWorkspacesForCurrentThread();
            });
            t.start();
            t.join();
            Map<String, Long> predicted = new TreeMap<>(Map.of("WS_ALL_LAYERS_ACT", s.keptForBackprop(c.batch()),
                    "WS_LAYER_ACT_1", s.evenGradients(c.batch()), "WS_LAYER_ACT_2", s.oddGradients(c.batch()),
                    "WS_LAYER_WORKING_MEM", s.working(c.batch())));
            assertEquals(predicted.keySet(), blocks.keySet(), c.model());
            for (var e : predicted.entrySet()) {
                long actual = blocks.get(e.getKey());
                assertEquals(e.getValue(), actual, 0.01 * actual + (64 << 10), c + " " + e.getKey() + ": predicted " + e.getValue()
                        + " bytes, DL4J holds " + actual);
            }
        }
    }

    /**
     * The off-heap prediction against docs/memory.md's peaks (session 12: {@code bench/memory-train MODEL BATCH W}, local
     * mode under train's default {@code sync}, MiB resident beyond the heap): within 10% for every measured large-model
     * row (the issue asks 15%; the rows were within 3.5% when measured, and two of the constants, the driver's copies
     * and each worker's native memory, are fitted to them).
     */
    @Test
    void offHeapPredictionIsWithin15PercentOfTheMeasuredPeaks() {
        record Row(String model, ModelZoo.Input input, int classes, String updater, int batch, int workers, long measuredMiB) {
        }
        ModelZoo.Input candle20 = new ModelZoo.Input(1, 64, 60);
        ModelZoo.Input candle60 = new ModelZoo.Input(1, 96, 180);
        ModelZoo.Input alexnet = new ModelZoo.Input(3, 227, 227);
        List<Row> rows = List.of(new Row("candle-cnn-20", candle20, 10, "adam", 64, 1, 735),
                new Row("candle-cnn-20", candle20, 10, "adam", 128, 1, 1_237),
                new Row("candle-cnn-20", candle20, 10, "adam", 64, 2, 862),
                new Row("candle-cnn-20", candle20, 10, "adam", 128, 2, 1_372),
                new Row("candle-cnn-60", candle60, 10, "adam", 64, 1, 2_995),
                new Row("candle-cnn-60", candle60, 10, "adam", 64, 2, 3_260),
                new Row("alexnet", alexnet, 1000, "nesterovs", 32, 1, 2_690),
                new Row("alexnet", alexnet, 1000, "nesterovs", 32, 2, 3_617));
        List<org.junit.jupiter.api.function.Executable> errors = new java.util.ArrayList<>();
        for (Row r : rows) {
            WorkerMemory.Shape s = WorkerMemory.shape(r.model(), r.input(), r.classes(), r.updater());
            double predicted = WorkerMemory.need(s, r.updater(), r.batch(), SYNC, r.workers(), 2, true).offHeap() / (double) (1 << 20);
            System.out.printf("%s %d/%d: predicted %.0f MiB, measured %d (%+.1f%%)%n", r.model(), r.batch(), r.workers(), predicted,
                    r.measuredMiB(), 100 * (predicted / r.measuredMiB() - 1));
            errors.add(() -> assertEquals(1.0, predicted / r.measuredMiB(), 0.10, r + ": predicted " + Math.round(predicted) + " MiB"));
        }
        assertAll(errors);
    }

    /** BatchNormalization's running mean and variance are parameters without updater state. */
    @Test
    void batchNormStatisticsHaveNoUpdaterState() {
        WorkerMemory.Shape s = WorkerMemory.shape("candle-cnn-20", new ModelZoo.Input(1, 64, 60), 2, "adam");
        assertEquals(708_866 + 2 * (64 + 128 + 256), s.parameters(), "the paper's 708,866 trainable plus the running statistics");
        assertEquals(2 * 708_866, s.updaterState());
    }
}
