package sparkconv.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;

import sparkconv.SparkconvException;

/** Shapes and parameter counts against the seed chapter's formulas and worked figures. */
class ModelZooTest {
    private static final Hyper HYPER = new Hyper("sgd", 0.01, 0, 0, 1);

    /** The chapter: output = floor((P + 2p - k) / s) + 1. */
    static int out(int p, int pad, int k, int s) {
        return Math.floorDiv(p + 2 * pad - k, s) + 1;
    }

    /** The chapter: params = F (k^2 C + 1). */
    static long params(int f, int k, int c) {
        return (long) f * (k * k * c + 1);
    }

    @Test
    void seedTraceMatchesTheChaptersTrace() {
        ModelSummary s = describe("seed-trace", ModelZoo.defaultInput("seed-trace"));
        List<ModelSummary.Row> r = s.rows();
        assertEquals("32x32x1", s.input());
        assertEquals(out(32, 0, 5, 1) + "x28x8", r.get(0).outputShape());
        assertEquals(208, r.get(0).params());
        assertEquals(params(8, 5, 1), r.get(0).params());
        assertEquals("14x14x8", r.get(1).outputShape());
        assertEquals("12x12x16", r.get(2).outputShape());
        assertEquals(1168, r.get(2).params());
        assertEquals(params(16, 3, 8), r.get(2).params());
        assertEquals("6x6x16", r.get(3).outputShape());
        assertEquals("6x6x16 -> flatten 576", r.get(4).inputShape());
        assertEquals(5770, r.get(4).params());
        assertEquals(7146, s.totalParams());
    }

    @Test
    void lenet5Has1998ShapesAtBoth32And28() {
        for (String in : List.of("32x32x1", "28x28x1")) {
            ModelSummary s = describe("lenet5", ModelZoo.Input.parse(in));
            List<ModelSummary.Row> r = s.rows();
            assertEquals("28x28x6", r.get(0).outputShape(), in);
            assertEquals(params(6, 5, 1), r.get(0).params());
            assertEquals("14x14x6", r.get(1).outputShape());
            assertEquals("10x10x16", r.get(2).outputShape());
            assertEquals(params(16, 5, 6), r.get(2).params());
            assertEquals("5x5x16", r.get(3).outputShape());
            assertEquals(400L * 120 + 120, r.get(4).params());
            assertEquals(120L * 84 + 84, r.get(5).params());
            assertEquals(84L * 10 + 10, r.get(6).params());
            assertEquals(61_706, s.totalParams());
        }
    }

    @Test
    void summaryCountsEqualTheBuiltNetwork() {
        for (String name : ModelZoo.NAMES) {
            if (ModelZoo.isGraph(name)) {
                continue; // ComputationGraphs: ZooAdditionsTest checks their summaries against the built graph
            }
            ModelZoo.Input in = ModelZoo.defaultInput(name);
            MultiLayerNetwork net = new MultiLayerNetwork(ModelZoo.build(name, in, 10, HYPER));
            net.init();
            assertEquals(net.numParams(), describe(name, in).totalParams(), name);
        }
    }

    @Test
    void singleLayersFromTheChapter() {
        // 3x3x32 filters on a 32x32x3 CIFAR image: 896 parameters
        ModelSummary cifar = ModelSummary.singleConv(ModelZoo.Input.parse("32x32x3"), 3, 32, 1, "valid");
        assertEquals(896, cifar.totalParams());
        assertEquals(params(32, 3, 3), cifar.totalParams());
        assertEquals("30x30x32", cifar.rows().get(0).outputShape());
        // 5x5x32 on 64x64x3, same padding: 64x64x32 and 2,432; valid padding: 60x60x32
        ModelSummary same = ModelSummary.singleConv(ModelZoo.Input.parse("64x64x3"), 5, 32, 1, "same");
        assertEquals("64x64x32", same.rows().get(0).outputShape());
        assertEquals(2432, same.totalParams());
        ModelSummary explicitPad = ModelSummary.singleConv(ModelZoo.Input.parse("64x64x3"), 5, 32, 1, "2");
        assertEquals(out(64, 2, 5, 1) + "x64x32", explicitPad.rows().get(0).outputShape());
        ModelSummary valid = ModelSummary.singleConv(ModelZoo.Input.parse("64x64x3"), 5, 32, 1, "valid");
        assertEquals("60x60x32", valid.rows().get(0).outputShape());
        ModelSummary strided = ModelSummary.singleConv(ModelZoo.Input.parse("32x32x3"), 3, 16, 2, "valid");
        assertEquals(out(32, 0, 3, 2) + "x" + out(32, 0, 3, 2) + "x16", strided.rows().get(0).outputShape());
    }

    /**
     * Multiply-adds from the shapes: a convolution's every output value sums kernel x input-channel products, a dense
     * layer's every output its inputs; a training step is three passes of them, less the first layer's input gradient.
     */
    @Test
    void arithmeticPerExampleCountsConvolutionsAndDenseLayers() {
        ModelSummary same = ModelSummary.singleConv(ModelZoo.Input.parse("64x64x3"), 5, 32, 1, "same");
        assertEquals(64L * 64 * 32 * 5 * 5 * 3, same.forwardMacs());
        assertEquals(2 * 2 * same.forwardMacs(), same.trainingFlops(), "one layer: forward and weight gradient only");
        ModelSummary alexnet = ModelZoo.describe("alexnet", ModelZoo.defaultInput("alexnet"), 1000);
        long conv = 55L * 55 * 96 * 11 * 11 * 3 + 27L * 27 * 256 * 5 * 5 * 96 + 13L * 13 * 384 * 3 * 3 * 256
                + 13L * 13 * 384 * 3 * 3 * 384 + 13L * 13 * 256 * 3 * 3 * 384;
        long dense = 6L * 6 * 256 * 4096 + 4096L * 4096 + 4096L * 1000;
        assertEquals(conv + dense, alexnet.forwardMacs(), "alexnet: five convolutions (no groups) and three dense layers");
        assertEquals(0, alexnet.rows().stream().filter(r -> r.kind().equals("pool") || r.kind().equals("lrn"))
                .mapToLong(ModelSummary.Row::macs).sum(), "pooling and normalisation count none");
    }

    @Test
    void unknownModelAndBadShapesAreClearErrors() {
        SparkconvException e = assertThrows(SparkconvException.class, () -> ModelZoo.build("resnet", new ModelZoo.Input(1, 28, 28), 10, HYPER));
        assertEquals("unknown model 'resnet' (known: " + String.join(", ", ModelZoo.NAMES) + ")", e.getMessage());
        assertThrows(SparkconvException.class, () -> ModelZoo.Input.parse("32by32"));
        assertThrows(SparkconvException.class, () -> ModelSummary.singleConv(ModelZoo.Input.parse("3x3x1"), 5, 4, 1, "valid"));
    }

    private static ModelSummary describe(String name, ModelZoo.Input in) {
        return ModelSummary.of(name, ModelZoo.build(name, in, 10, HYPER), in.inputType());
    }
}
