package sparkconv.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import sparkconv.jobs.Main;

class NiftyModelsTest {
    private static final Hyper HYPER = new Hyper("sgd", 0.01, 0, 0, 1);

    private static ModelSummary summary(String name) {
        ModelZoo.Input in = ModelZoo.defaultInput(name);
        return ModelSummary.of(name, ModelZoo.build(name, in, 2, HYPER), in.inputType());
    }

    @Test
    void jkxCandleCnnsHaveTheirBlocksAndShapes() {
        ModelSummary s20 = summary("candle-cnn-20");
        assertEquals("64x60x1", s20.input());
        assertEquals("conv", s20.rows().get(0).kind());
        assertEquals("5x3", s20.rows().get(0).kernel());
        assertEquals(5 * 3 * 64 + 64, s20.rows().get(0).params());
        assertEquals("64x60x64", s20.rows().get(0).outputShape());
        assertEquals("32x60x64", s20.rows().get(3).outputShape(), "2x1 max-pool halves the height only");
        assertEquals("8x60x256", s20.rows().get(11).outputShape());
        ModelSummary.Row out = s20.rows().get(s20.rows().size() - 1);
        assertEquals("output", out.kind());
        assertEquals(8 * 60 * 256 * 2 + 2, out.params());
        assertEquals("8x15x128", summary("candle-cnn-5").rows().get(7).outputShape());
        assertEquals("6x180x512", summary("candle-cnn-60").rows().get(15).outputShape());
        assertTrue(summary("candle-cnn-small").totalParams() < summary("candle-cnn-20").totalParams() / 20);
        for (String name : NiftyModels.NAMES) {
            assertTrue(ModelZoo.NAMES.contains(name));
        }
    }

    @Test
    void describeShowsThem() {
        for (String name : List.of("candle-cnn-5", "candle-cnn-20", "candle-cnn-60", "candle-cnn-small", "conv1d")) {
            assertEquals(0, Main.run("describe", "--model", name, "--classes", "2"), name);
        }
    }

    /** The chapter's filter w = [-1, 0, +1] on a known series gives the two-step return x(t+2) - x(t) at position t. */
    @Test
    void conv1dFirstFilterComputesTheTwoStepDifference() {
        MultiLayerConfiguration conf = ModelZoo.build("conv1d", new ModelZoo.Input(1, 1, 20), 2, HYPER);
        MultiLayerNetwork net = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(conf.toJson()));
        net.init();
        float[] x = new float[20];
        for (int t = 0; t < 20; t++) {
            x[t] = (float) (0.5 * t * t - 3 * Math.sin(t));
        }
        INDArray in = Nd4j.create(x, new long[]{1, 1, 1, 20}, 'c');
        INDArray first = net.feedForwardToLayer(0, in, false).get(1);
        assertEquals(List.of(1L, 8L, 1L, 18L), List.of(first.shape()[0], first.shape()[1], first.shape()[2], first.shape()[3]));
        for (int t = 0; t < 18; t++) {
            assertEquals(x[t + 2] - x[t], first.getDouble(0, 0, 0, t), 1e-4, "t=" + t);
        }
    }
}
