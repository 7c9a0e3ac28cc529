package sparkconv.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.LocalResponseNormalization;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The fused LRN layer computes DL4J's forward pass and the derivative of it (checked against finite differences of
 * DL4J's own forward pass in double precision), where DL4J's backward pass is an approximation.
 */
class FusedLocalResponseNormalizationTest {
    private static final long[] SHAPE = {3, 9, 4, 5};

    private static org.deeplearning4j.nn.api.Layer layer(LocalResponseNormalization conf, DataType type) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().dataType(type).list().layer(conf)
                .setInputType(InputType.convolutional(SHAPE[2], SHAPE[3], SHAPE[1])).build());
        net.init();
        return net.getLayer(0);
    }

    private static LocalResponseNormalization stock(double alpha, double beta) {
        return new LocalResponseNormalization.Builder().k(2).n(5).alpha(alpha).beta(beta).build();
    }

    private static INDArray output(org.deeplearning4j.nn.api.Layer layer, INDArray x) {
        layer.setInput(x, LayerWorkspaceMgr.noWorkspaces());
        return layer.activate(true, LayerWorkspaceMgr.noWorkspaces());
    }

    private static INDArray inputGradient(org.deeplearning4j.nn.api.Layer layer, INDArray x, INDArray g) {
        output(layer, x);
        return layer.backpropGradient(g, LayerWorkspaceMgr.noWorkspaces()).getSecond();
    }

    /** Inputs up to 30, as after a ReLU, so that the normalisation moves values (alpha's term is not negligible). */
    private static INDArray input(DataType type) {
        Nd4j.getRandom().setSeed(5);
        return Nd4j.rand(DataType.DOUBLE, SHAPE).muli(30).castTo(type);
    }

    private static double relativeError(INDArray actual, INDArray expected) {
        return actual.castTo(DataType.DOUBLE).sub(expected.castTo(DataType.DOUBLE)).amaxNumber().doubleValue()
                / expected.amaxNumber().doubleValue();
    }

    @ParameterizedTest
    @CsvSource({"1e-4, 0.75", "1e-2, 0.75", "1e-2, 0.6"})
    void forwardIsDl4jsAndBackwardIsTheDerivative(double alpha, double beta) {
        INDArray x = input(DataType.FLOAT);
        org.deeplearning4j.nn.api.Layer fused = layer(new FusedLocalResponseNormalization(2, 5, alpha, beta), DataType.FLOAT);
        assertInstanceOf(FusedLocalResponseNormalization.Fused.class, fused);
        org.deeplearning4j.nn.api.Layer stockFloat = layer(stock(alpha, beta), DataType.FLOAT);
        assertEquals(0, relativeError(output(fused, x), output(stockFloat, x)), 1e-6);

        // d(sum g*y)/dx by central differences of DL4J's own forward pass, in double.
        org.deeplearning4j.nn.api.Layer stockDouble = layer(stock(alpha, beta), DataType.DOUBLE);
        INDArray xd = x.castTo(DataType.DOUBLE);
        Nd4j.getRandom().setSeed(6);
        INDArray g = Nd4j.rand(DataType.DOUBLE, SHAPE).subi(0.5);
        INDArray numeric = Nd4j.create(DataType.DOUBLE, SHAPE);
        double h = 1e-4;
        for (long i = 0; i < xd.length(); i++) {
            double at = xd.getDouble(i);
            xd.putScalar(i, at + h);
            double plus = output(stockDouble, xd).mul(g).sumNumber().doubleValue();
            xd.putScalar(i, at - h);
            double minus = output(stockDouble, xd).mul(g).sumNumber().doubleValue();
            xd.putScalar(i, at);
            numeric.putScalar(i, (plus - minus) / (2 * h));
        }
        double fusedError = relativeError(inputGradient(fused, x, g.castTo(DataType.FLOAT)), numeric);
        double stockError = relativeError(inputGradient(stockDouble, xd, g), numeric);
        assertEquals(0, fusedError, 2e-5, "fused LRN's gradient against finite differences");
        // Why the layer exists besides speed: DL4J's gradient (in double, so no rounding hides it) is further off.
        assertTrue(stockError > 10 * fusedError, "DL4J's LRN gradient error " + stockError + " vs fused " + fusedError);
    }

    @Test
    void aDoubleNetworkGetsTheSameResultsThroughFloat() {
        INDArray x = input(DataType.DOUBLE);
        Nd4j.getRandom().setSeed(7);
        INDArray g = Nd4j.rand(DataType.DOUBLE, SHAPE);
        org.deeplearning4j.nn.api.Layer inDouble = layer(new FusedLocalResponseNormalization(2, 5, 1e-2, 0.75), DataType.DOUBLE);
        org.deeplearning4j.nn.api.Layer inFloat = layer(new FusedLocalResponseNormalization(2, 5, 1e-2, 0.75), DataType.FLOAT);
        INDArray y = output(inDouble, x);
        assertEquals(DataType.DOUBLE, y.dataType());
        assertEquals(0, relativeError(y, output(inFloat, x.castTo(DataType.FLOAT))), 0);
        INDArray dx = inputGradient(inDouble, x, g);
        assertEquals(DataType.DOUBLE, dx.dataType());
        assertEquals(0, relativeError(dx, inputGradient(inFloat, x.castTo(DataType.FLOAT), g.castTo(DataType.FLOAT))), 0);
    }

    @Test
    void alexNetUsesItAndItsJsonKeepsIt() {
        MultiLayerConfiguration conf = ModelZoo.build("alexnet32", new ModelZoo.Input(3, 32, 32), 10,
                new Hyper("nesterovs", 0.01, 0.9, 1e-4, 3));
        for (int i : new int[] {1, 4}) {
            FusedLocalResponseNormalization lrn = assertInstanceOf(FusedLocalResponseNormalization.class, conf.getConf(i).getLayer());
            assertEquals(2, lrn.getK());
            assertEquals(5, lrn.getN());
            assertEquals(1e-4, lrn.getAlpha());
            assertEquals(0.75, lrn.getBeta());
        }
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(conf.toJson());
        assertEquals(conf, back);
        assertInstanceOf(FusedLocalResponseNormalization.class, back.getConf(4).getLayer());
    }
}
