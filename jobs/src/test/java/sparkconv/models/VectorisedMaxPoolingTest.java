package sparkconv.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The Java max pooling gives DL4J's stock layer's outputs and input gradients, bit for bit, on every zoo shape. */
class VectorisedMaxPoolingTest {
    private static org.deeplearning4j.nn.api.Layer layer(Layer conf, long[] shape) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().list().layer(conf)
                .setInputType(InputType.convolutional(shape[2], shape[3], shape[1])).build());
        net.init();
        return net.getLayer(0);
    }

    @ParameterizedTest
    @CsvSource({"2, 1, 2, 1, 38, 18", "1, 2, 1, 2, 1, 9", "3, 3, 2, 2, 27, 27", "2, 2, 2, 2, 14, 14", "2, 2, 2, 2, 15, 13"})
    void outputsAndGradientsAreTheStockLayers(int kh, int kw, int sh, int sw, int h, int w) {
        long[] shape = {3, 5, h, w};
        org.deeplearning4j.nn.api.Layer java = layer(new VectorisedMaxPooling(new int[] {kh, kw}, new int[] {sh, sw}), shape);
        assertInstanceOf(VectorisedMaxPooling.Pooling.class, java);
        assertNull(java.getHelper(), "the oneDNN helper is not used");
        org.deeplearning4j.nn.api.Layer stock = layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(kh, kw)
                .stride(sh, sw).build(), shape);
        Nd4j.getRandom().setSeed(3);
        // After a ReLU: a third of the inputs are zero, so windows tie (their gradient goes to the first zero in both)
        INDArray x = Nd4j.rand(DataType.FLOAT, shape).subi(0.33).muli(4);
        x = x.mul(x.gt(0).castTo(DataType.FLOAT));
        INDArray[] out = new INDArray[2];
        INDArray[] grad = new INDArray[2];
        org.deeplearning4j.nn.api.Layer[] layers = {java, stock};
        INDArray g = null;
        for (int i = 0; i < 2; i++) {
            layers[i].setInput(x, LayerWorkspaceMgr.noWorkspaces());
            out[i] = layers[i].activate(true, LayerWorkspaceMgr.noWorkspaces());
            if (g == null) {
                g = Nd4j.rand(DataType.FLOAT, out[i].shape());
            }
            grad[i] = layers[i].backpropGradient(g, LayerWorkspaceMgr.noWorkspaces()).getSecond();
        }
        assertEquals(out[1], out[0], "outputs");
        assertEquals(grad[1], grad[0], "input gradients");
    }

    @Test
    void theZooBuildsItsMaxPoolingWithIt() {
        MultiLayerConfiguration conf = ModelZoo.build("alexnet32", new ModelZoo.Input(3, 32, 32), 10,
                new Hyper("nesterovs", 0.01, 0.9, 1e-4, 3));
        VectorisedMaxPooling pool = assertInstanceOf(VectorisedMaxPooling.class, conf.getConf(2).getLayer());
        assertEquals(org.deeplearning4j.nn.conf.layers.PoolingType.MAX, pool.getPoolingType());
        assertEquals(MultiLayerConfiguration.fromJson(conf.toJson()), conf);
    }
}
