package sparkconv.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import sparkconv.cli.Main;

class NiftyModelsTest {
    private static final Hyper HYPER = new Hyper("sgd", 0.01, 0, 0, 1);

    private static ModelSummary summary(String name) {
        ModelZoo.Input in = ModelZoo.defaultInput(name);
        return ModelSummary.of(name, ModelZoo.build(name, in, 2, HYPER), in.inputType());
    }

    /** Trainable parameters: DL4J counts batch norm's running mean and variance as parameters too (2 of its 4 per channel). */
    private static long trainable(ModelSummary s) {
        return s.totalParams() - s.rows().stream().filter(r -> r.kind().equals("bnorm")).mapToLong(r -> r.params() / 2).sum();
    }

    @Test
    void jkxCandleCnnsHaveTheirBlocksShapesAndThePapersParameterCounts() {
        ModelSummary s20 = summary("candle-cnn-20");
        assertEquals("64x60x1", s20.input());
        assertEquals("conv", s20.rows().get(0).kind());
        assertEquals("5x3", s20.rows().get(0).kernel());
        assertEquals(5 * 3 * 64 + 64, s20.rows().get(0).params());
        assertEquals("27x60x64", s20.rows().get(0).outputShape(), "first layer: vertical stride 3, dilation 2, padding 12");
        assertEquals("13x60x64", s20.rows().get(3).outputShape(), "2x1 max-pool halves the height only");
        assertEquals("3x60x256", s20.rows().get(11).outputShape());
        ModelSummary.Row out = s20.rows().get(s20.rows().size() - 1);
        assertEquals("output", out.kind());
        assertEquals(46080 * 2 + 2, out.params());
        assertEquals("8x15x128", summary("candle-cnn-5").rows().get(7).outputShape());
        assertEquals("2x180x512", summary("candle-cnn-60").rows().get(15).outputShape());
        // Jiang, Kelly and Xiu (2023): 155,138 / 708,866 / 2,952,962 parameters for the 5 / 20 / 60-day networks.
        assertEquals(155_138, trainable(summary("candle-cnn-5")));
        assertEquals(708_866, trainable(s20));
        assertEquals(2_952_962, trainable(summary("candle-cnn-60")));
        assertTrue(summary("candle-cnn-small").totalParams() < summary("candle-cnn-20").totalParams() / 10);
        for (String name : NiftyModels.NAMES) {
            assertTrue(ModelZoo.NAMES.contains(name));
        }
    }

    @Test
    void papersNetworksCarryThePapersTrainingDefaults() {
        for (String name : List.of("candle-cnn-5", "candle-cnn-20", "candle-cnn-60")) {
            TrainingDefaults d = TrainingDefaults.of(name);
            assertEquals("adam", d.updater());
            assertEquals(1e-5, d.learningRate());
            assertEquals(128, d.batch());
            assertEquals(2, d.patience());
            assertEquals("loss", d.stopOn());
        }
        assertEquals(TrainingDefaults.NONE, TrainingDefaults.of("lenet5"));
        var conf = ModelZoo.build("candle-cnn-20", ModelZoo.defaultInput("candle-cnn-20"), 2, HYPER);
        String json = conf.toJson();
        assertTrue(json.contains("WeightInitXavier"), "Xavier initialisation");
        assertTrue(json.contains("\"dilation\" : [ 2, 1 ]"), "first-layer dilation");
        org.deeplearning4j.nn.conf.layers.OutputLayer fc = (org.deeplearning4j.nn.conf.layers.OutputLayer)
                conf.getConf(conf.getConfs().size() - 1).getLayer();
        assertEquals(0.5, ((org.deeplearning4j.nn.conf.dropout.Dropout) fc.getIDropout()).getP(), 1e-12, "dropout 0.5 on the FC layer");
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
