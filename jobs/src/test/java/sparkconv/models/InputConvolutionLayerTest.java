package sparkconv.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;

import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The zoo's training path (first convolution without an input gradient, vectorised ReLU backprop, Java max pooling, cached
 * pre-activations) must give DL4J's stock gradients, and the network must stay an ordinary NCHW network (JSON, stored
 * zips, outputs).
 */
class InputConvolutionLayerTest {
    private static final ModelZoo.Input MNIST = new ModelZoo.Input(1, 28, 28);

    private static MultiLayerNetwork zooNet(String model) {
        MultiLayerNetwork net = new MultiLayerNetwork(ModelZoo.build(model, MNIST, 10, new Hyper("nesterovs", 0.01, 0.9, 1e-4, 3)));
        net.init();
        return net;
    }

    @ParameterizedTest
    @ValueSource(strings = {"seed-trace", "lenet5"})
    void gradientsEqualTheStockLayersAndTheFastPathRuns(String model) {
        MultiLayerNetwork fast = zooNet(model);
        assertInstanceOf(InputConvolutionLayer.class, fast.getLayerWiseConfigurations().getConf(0).getLayer());
        assertEquals(CacheMode.DEVICE, fast.getLayerWiseConfigurations().getCacheMode());
        InputConvolutionLayer.WeightGradientsOnly helper = assertInstanceOf(InputConvolutionLayer.WeightGradientsOnly.class,
                ((org.deeplearning4j.nn.layers.convolution.ConvolutionLayer) fast.getLayer(0)).getHelper());
        assertInstanceOf(MKLDNNConvHelper.class, helper.wrapped());

        // The same network with DL4J's own ConvolutionLayer first and its own ReLU, and the same parameters.
        String json = fast.getLayerWiseConfigurations().toJson();
        assertTrue(json.contains(VectorisedReLU.class.getName()));
        MultiLayerNetwork stock = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(json
                .replace(InputConvolutionLayer.class.getName(), ConvolutionLayer.class.getName())
                .replace(VectorisedReLU.class.getName(), ActivationReLU.class.getName())
                .replace(VectorisedMaxPooling.class.getName(), SubsamplingLayer.class.getName())));
        stock.init(fast.params().dup(), false);
        assertEquals(ConvolutionLayer.class, stock.getLayerWiseConfigurations().getConf(0).getLayer().getClass());
        assertFalse(stock.getLayerWiseConfigurations().toJson().contains("sparkconv"));

        Nd4j.getRandom().setSeed(11);
        INDArray features = Nd4j.rand(DataType.FLOAT, 32, 1, 28, 28);
        INDArray labels = Nd4j.eye(10).castTo(DataType.FLOAT).getRows(java.util.stream.IntStream.range(0, 32).map(i -> i % 10).toArray());
        for (MultiLayerNetwork net : new MultiLayerNetwork[] {fast, stock}) {
            net.setInput(features);
            net.setLabels(labels);
            net.computeGradientAndScore();
        }
        assertEquals(stock.score(), fast.score(), 1e-6);
        INDArray expected = stock.gradient().gradient();
        INDArray actual = fast.gradient().gradient();
        double scale = expected.amaxNumber().doubleValue();
        assertTrue(scale > 0);
        assertEquals(0, actual.sub(expected).amaxNumber().doubleValue() / scale, 1e-5, model + ": gradients differ");
        INDArray firstWeights = fast.gradient().getGradientFor("0_W");
        assertNotEquals(0.0, firstWeights.amaxNumber().doubleValue(), "layer 0 weight gradient was not computed");
    }

    @ParameterizedTest
    @ValueSource(strings = {"seed-trace", "lenet5"})
    void jsonAndStoredModelsKeepTheLayerAndTheOutputs(String model) throws Exception {
        MultiLayerNetwork net = zooNet(model);
        Nd4j.getRandom().setSeed(5);
        INDArray features = Nd4j.rand(DataType.FLOAT, 16, 1, 28, 28);
        INDArray labels = Nd4j.eye(10).castTo(DataType.FLOAT).getRows(java.util.stream.IntStream.range(0, 16).map(i -> i % 10).toArray());
        net.fit(features, labels);

        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(net.getLayerWiseConfigurations().toJson());
        assertEquals(net.getLayerWiseConfigurations(), back);
        assertInstanceOf(InputConvolutionLayer.class, back.getConf(0).getLayer());

        ByteArrayOutputStream zip = new ByteArrayOutputStream();
        ModelSerializer.writeModel(net, zip, true);
        MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(zip.toByteArray()), true);
        assertInstanceOf(InputConvolutionLayer.class, restored.getLayerWiseConfigurations().getConf(0).getLayer());
        assertArrayEquals(net.output(features).ravel().toFloatVector(), restored.output(features).ravel().toFloatVector(), 1e-6f);
        restored.fit(features, labels); // a stored model goes on training (updater state restored)
    }
}
