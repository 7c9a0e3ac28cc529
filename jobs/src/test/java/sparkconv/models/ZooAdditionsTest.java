package sparkconv.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import sparkconv.SparkconvException;

/** AlexNet, its 32x32 variant, FCN and U-Net: shapes and parameter counts against the chapter's formulas. */
class ZooAdditionsTest {
    private static final Hyper HYPER = new Hyper("sgd", 0.01, 0, 0, 7);

    /** F (k^2 C + 1) for a convolution (C from the row's input shape), F (inputs + 1) for a dense layer. */
    private static long formula(ModelSummary.Row r) {
        String[] out = r.outputShape().split("x");
        if (r.kind().endsWith("conv")) {
            String[] in = r.inputShape().replaceAll("^.* ", "").split("x");
            int k = Integer.parseInt(r.kernel().split("x")[0]);
            long c = Long.parseLong(in[2]);
            return Long.parseLong(out[2]) * (k * k * c + 1);
        }
        if (r.kind().equals("dense") || r.kind().equals("output")) {
            String in = r.inputShape().replaceAll("^.* ", "");
            return Long.parseLong(out[0]) * (Long.parseLong(in) + 1);
        }
        return 0;
    }

    @Test
    void alexnetIsThe2012LayoutWithAbout60MillionParameters() {
        ModelSummary s = ModelZoo.describe("alexnet", ModelZoo.defaultInput("alexnet"), ModelZoo.defaultClasses("alexnet"));
        assertEquals("227x227x3", s.input());
        assertEquals(5, s.rows().stream().filter(r -> r.kind().equals("conv")).count(), "five convolutional layers");
        assertEquals(3, s.rows().stream().filter(r -> r.kind().equals("dense") || r.kind().equals("output")).count(),
                "three fully connected layers");
        assertEquals("55x55x96", s.rows().get(0).outputShape(), "conv1: floor((227 - 11) / 4) + 1 = 55");
        assertEquals("6x6x256", s.rows().get(9).outputShape());
        long sum = 0;
        for (ModelSummary.Row r : s.rows()) {
            assertEquals(formula(r), r.params(), "layer " + r.index() + " " + r.kind());
            sum += r.params();
        }
        assertEquals(sum, s.totalParams());
        assertTrue(s.totalParams() > 58_000_000 && s.totalParams() < 64_000_000, "about 60M: " + s.totalParams());
        assertTrue(s.table().contains("62,378,344"), s.table());
    }

    @Test
    void alexnet32TrainsOnSmallImages() {
        ModelZoo.Input in = ModelZoo.defaultInput("alexnet32");
        ModelSummary s = ModelZoo.describe("alexnet32", in, 10);
        s.rows().forEach(r -> assertEquals(formula(r), r.params(), "layer " + r.index()));
        MultiLayerNetwork net = new MultiLayerNetwork(ModelZoo.build("alexnet32", in, 10, HYPER));
        net.init();
        assertEquals(s.totalParams(), net.numParams());
        INDArray x = Nd4j.rand(2, 3, 32, 32);
        INDArray y = Nd4j.eye(10).getRows(3, 8);
        net.fit(new DataSet(x, y));
        assertArrayEquals(new long[]{2, 10}, net.output(x).shape());
        assertTrue(Double.isFinite(net.score()));
    }

    @Test
    void segmentationGraphsPredictEveryPixel() {
        ModelZoo.Input in = ModelZoo.defaultInput("unet");
        for (String name : List.of("fcn", "unet")) {
            ModelSummary s = ModelZoo.describe(name, in, 11);
            s.rows().forEach(r -> assertEquals(formula(r), r.params(), name + " " + r.kind()));
            ComputationGraph g = new ComputationGraph(ModelZoo.buildGraph(name, in, 11, HYPER));
            g.init();
            assertEquals(s.totalParams(), g.numParams(), name);
            INDArray x = Nd4j.rand(2, 1, 56, 56);
            INDArray labels = Nd4j.zeros(2, 11, 56, 56);
            labels.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.point(0)).assign(1);
            g.fit(new DataSet(x, labels));
            INDArray out = g.outputSingle(x);
            assertArrayEquals(new long[]{2, 11, 56, 56}, out.shape(), name);
            assertEquals(1.0, out.sum(1).meanNumber().doubleValue(), 1e-4, name + ": softmax over classes at each pixel");
        }
        ModelSummary unet = ModelZoo.describe("unet", in, 11);
        assertTrue(unet.rows().stream().anyMatch(r -> r.kind().equals("skip2 concat")
                && r.inputShape().equals("enc2 28x28x32 + up2 28x28x32") && r.outputShape().equals("28x28x64")), unet.table());
        assertTrue(ModelZoo.describe("fcn", in, 11).rows().stream().noneMatch(r -> r.kind().contains("concat")));
    }

    @Test
    void graphAndLayerStackBuildersRejectEachOther() {
        assertThrows(SparkconvException.class, () -> ModelZoo.build("unet", new ModelZoo.Input(1, 56, 56), 11, HYPER));
        assertThrows(SparkconvException.class, () -> ModelZoo.buildGraph("lenet5", new ModelZoo.Input(1, 32, 32), 10, HYPER));
        SparkconvException e = assertThrows(SparkconvException.class,
                () -> ModelZoo.buildGraph("fcn", new ModelZoo.Input(1, 30, 30), 11, HYPER));
        assertTrue(e.getMessage().contains("multiples of 4"), e.getMessage());
    }
}
