package sparkconv.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.junit.jupiter.api.Test;

import sparkconv.SparkconvException;
import sparkconv.models.ModelZoo;

/** The memory prediction is a deterministic function of the layer shapes: LeNet-5's counts by hand. */
class WorkerMemoryTest {
    /**
     * LeNet-5 at 32x32x1, 10 classes. Outputs per example: C1 28x28x6 = 4,704, S2 14x14x6 = 1,176, C3 10x10x16 = 1,600,
     * S4 5x5x16 = 400, F5 120, F6 84, output 10: 8,094. Parameters 6(25+1) + 16(150+1) + 400*120+120 + 120*84+84 + 84*10+10
     * = 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706; Nesterov keeps one value per parameter. The two convolutions'
     * outputs are cached (4,704 + 1,600); the largest buffer a step's gradient alternates through is C1's 4,704 (above the
     * 1,024 input); C1's working buffer is 5*5*1 per output position, 25 * 28*28 = 19,600 (C3's: 25*6 * 10*10 = 15,000).
     */
    @Test
    void lenet5CountsAreTheHandComputedOnes() {
        WorkerMemory.Shape s = WorkerMemory.shape("lenet5", new ModelZoo.Input(1, 32, 32), 10, "nesterovs");
        assertEquals(new WorkerMemory.Shape("lenet5", "32x32x1", 10, 61_706, 61_706, 1_024, 8_094, 6_304, 4_704, 19_600), s);
        assertEquals(1_024 + 8_094 + 6_304 + 2 * 4_704 + 19_600, s.stepPerExample());
        assertEquals(2 * 61_706, WorkerMemory.shape("lenet5", new ModelZoo.Input(1, 32, 32), 10, "adam").updaterState());
        assertEquals(0, WorkerMemory.shape("lenet5", new ModelZoo.Input(1, 32, 32), 10, "sgd").updaterState());

        WorkerMemory.Need n = WorkerMemory.need(s, "nesterovs", 64, 1, 2, false);
        assertEquals(4L * 3 * 61_706, n.workerNetwork(), "parameters, gradients, momentum");
        assertEquals((long) Math.ceil(WorkerMemory.STEP_FACTOR * 4 * 64 * 44_430), n.workerStep());
        assertEquals(4L * 4 * 64 * (1_024 + 10), n.workerData(), "2 read ahead, 1 in use, 1 being read");
        assertEquals(4L * 2 * 61_706, n.workerExchange(), "the round's start deserialised from its broadcast");
        assertEquals(0, n.driverOffHeap());
        assertEquals(n.workerNetwork() + n.workerStep() + n.workerData() + n.workerExchange(), n.nd4j());
        assertEquals(n.nd4j() + WorkerMemory.BASE_OFF_HEAP, n.offHeap());
        assertEquals(WorkerMemory.BASE_HEAP + 4L * (4 + 3) * 2 * 61_706, n.liveHeap(),
                "the exchange's four copies (one piece: the whole vector), the broadcast's blocks, the stage's average twice");

        WorkerMemory.Need local = WorkerMemory.need(s, "nesterovs", 64, 2, 2, true);
        assertEquals(2 * (n.nd4j() - n.workerExchange()) + (long) Math.ceil(WorkerMemory.DRIVER_COPIES * 4 * 2 * 61_706), local.nd4j(),
                "two workers without a broadcast start (local mode) and the driver's copies");
        assertEquals(WorkerMemory.BASE_HEAP + 4L * (2 * 4 + 1) * 2 * 61_706, local.liveHeap(),
                "two workers' exchanges and the driver's serialised copy");
        WorkerMemory.Shape alexnet = WorkerMemory.shape("alexnet", new ModelZoo.Input(3, 227, 227), 1000, "nesterovs");
        assertEquals(WorkerMemory.BASE_HEAP + 2 * 4 * Rounds.EXCHANGE_PIECE_BYTES + (long) Math.ceil(4.0 * 2 * 62_378_344),
                WorkerMemory.need(alexnet, "nesterovs", 32, 2, 2, true).liveHeap(), "AlexNet's exchange: four pieces of 64 MiB");
        assertThrows(SparkconvException.class, () -> WorkerMemory.need(s, "nesterovs", 0, 1, 2, false));
    }

    /**
     * The off-heap prediction against docs/memory.md's peaks measured with the fixed mmap threshold (local mode, MiB
     * resident beyond the heap; candle-cnn-60 at the shipped thresholds after the round's copies were cut, alexnet after
     * its rounds moved to barrier stages and their average reached the driver inside the JVM):
     * within the 15% for every measured large-model row.
     */
    @Test
    void offHeapPredictionIsWithin15PercentOfTheMeasuredPeaks() {
        record Row(String model, ModelZoo.Input input, int classes, String updater, int batch, int workers, long measuredMiB) {
        }
        ModelZoo.Input candle20 = new ModelZoo.Input(1, 64, 60);
        List<Row> rows = List.of(new Row("candle-cnn-20", candle20, 10, "adam", 64, 1, 685),
                new Row("candle-cnn-20", candle20, 10, "adam", 64, 1, 729), // at the shipped thresholds, session 10
                new Row("candle-cnn-20", candle20, 10, "adam", 128, 1, 1_214),
                new Row("candle-cnn-20", candle20, 10, "adam", 64, 2, 1_116),
                new Row("candle-cnn-20", candle20, 10, "adam", 128, 2, 2_175),
                new Row("candle-cnn-60", new ModelZoo.Input(1, 96, 180), 10, "adam", 64, 1, 2_968),
                new Row("alexnet", new ModelZoo.Input(3, 227, 227), 1000, "nesterovs", 32, 1, 2_797), // session 11: fused LRN
                new Row("alexnet", new ModelZoo.Input(3, 227, 227), 1000, "nesterovs", 32, 2, 3_693));
        for (Row r : rows) {
            WorkerMemory.Shape s = WorkerMemory.shape(r.model(), r.input(), r.classes(), r.updater());
            double predicted = WorkerMemory.need(s, r.updater(), r.batch(), r.workers(), 2, true).offHeap() / (double) (1 << 20);
            assertEquals(1.0, predicted / r.measuredMiB(), 0.15, r + ": predicted " + Math.round(predicted) + " MiB");
        }
    }

    /** BatchNormalization's running mean and variance are parameters without updater state. */
    @Test
    void batchNormStatisticsHaveNoUpdaterState() {
        WorkerMemory.Shape s = WorkerMemory.shape("candle-cnn-20", new ModelZoo.Input(1, 64, 60), 2, "adam");
        assertEquals(708_866 + 2 * (64 + 128 + 256), s.parameters(), "the paper's 708,866 trainable plus the running statistics");
        assertEquals(2 * 708_866, s.updaterState());
    }
}
