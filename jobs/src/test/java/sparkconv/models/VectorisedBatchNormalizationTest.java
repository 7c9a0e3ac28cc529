package sparkconv.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNBatchNormHelper;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The Java batch normalisation is DL4J's with its oneDNN helper: the same network trained for a few steps from the same
 * start ends with the same parameters, running mean and variance included, and gives the same outputs in training and
 * inference, within float rounding (the sums run in another order); batch normalisation first (the input's own
 * array) and after a convolution (as in the chart CNNs), at a batch of one and of several.
 */
class VectorisedBatchNormalizationTest {
    @Test
    void trainsAsDl4jsBatchNormalisationWithTheOneDnnHelper() {
        for (boolean afterConvolution : new boolean[] {false, true}) {
            for (int batch : new int[] {1, 6}) {
                MultiLayerNetwork stock = network(new BatchNormalization.Builder().build(), afterConvolution);
                MultiLayerNetwork java = network(new VectorisedBatchNormalization(), afterConvolution);
                int bn = afterConvolution ? 1 : 0;
                assertInstanceOf(MKLDNNBatchNormHelper.class, helper(stock, bn), "the comparison is with oneDNN's helper");
                assertInstanceOf(VectorisedBatchNormalization.JavaHelper.class, helper(java, bn));
                java.setParams(stock.params().dup());
                Nd4j.getRandom().setSeed(7 + batch);
                INDArray x = Nd4j.randn(DataType.FLOAT, batch, 3, 11, 13).muli(2.5).addi(0.7);
                INDArray y = Nd4j.zeros(DataType.FLOAT, batch, 4);
                for (int i = 0; i < batch; i++) {
                    y.putScalar(i, i % 4, 1f);
                }
                String what = (afterConvolution ? "after a convolution" : "first") + ", batch " + batch;
                close(stock.output(x, true), java.output(x, true), what + ": training output");
                for (MultiLayerNetwork net : new MultiLayerNetwork[] {stock, java}) {
                    net.setInput(x);
                    net.setLabels(y);
                    net.computeGradientAndScore();
                }
                close(stock.gradient().gradient(), java.gradient().gradient(), what + ": gradient");
                for (int step = 0; step < 3; step++) {
                    stock.fit(new DataSet(x, y));
                    java.fit(new DataSet(x, y));
                }
                close(stock.getLayer(bn).getParam("mean"), java.getLayer(bn).getParam("mean"), what + ": running mean");
                close(stock.params(), java.params(), what + ": parameters after 3 steps");
                close(stock.output(x, false), java.output(x, false), what + ": inference output");
            }
        }
    }

    /**
     * DL4J's own convolution path (a dilated first layer, as in the chart CNNs) hands the next layer a permuted view
     * laid out [c][n][h][w]: its planes are read where they lie, not copied into the step's workspace.
     */
    @Test
    void readsPlanesOfAPermutedViewInPlace() {
        INDArray cnhw = Nd4j.linspace(DataType.FLOAT, 0, 2 * 3 * 4 * 5, 1).reshape('c', 3, 2, 4, 5);
        INDArray nchw = cnhw.permute(1, 0, 2, 3);
        assertTrue(FloatVectors.densePlanes(nchw) && !FloatVectors.dense(nchw));
        float[] plane = new float[20];
        FloatVectors.readPlane(nchw, 1, 2, plane, 0);
        org.junit.jupiter.api.Assertions.assertArrayEquals(nchw.get(org.nd4j.linalg.indexing.NDArrayIndex.point(1),
                org.nd4j.linalg.indexing.NDArrayIndex.point(2)).dup('c').ravel().toFloatVector(), plane, 0f);
        MultiLayerNetwork stock = network(new BatchNormalization.Builder().build(), false);
        MultiLayerNetwork java = network(new VectorisedBatchNormalization(), false);
        java.setParams(stock.params().dup());
        INDArray x = Nd4j.randn(DataType.FLOAT, 3, 6, 11, 13).permute(1, 0, 2, 3);
        close(stock.output(x, true), java.output(x, true), "a permuted input: training output");
        close(stock.output(x, false), java.output(x, false), "a permuted input: inference output");
    }

    /**
     * Equal within float rounding: 2e-4 of the largest magnitude. The steps are plain SGD: a convolution's bias before
     * batch normalisation has a gradient of zero up to rounding, which Adam would turn into full steps in either
     * direction (with DL4J's own helper too).
     */
    private static void close(INDArray expected, INDArray actual, String what) {
        double scale = Math.max(1e-3, expected.amax().getDouble(0));
        double difference = expected.castTo(DataType.DOUBLE).sub(actual.castTo(DataType.DOUBLE)).amax().getDouble(0);
        assertTrue(difference <= 2e-4 * scale, what + ": largest difference " + difference + " of " + scale);
        assertEquals(expected.length(), actual.length(), what);
    }

    private static Object helper(MultiLayerNetwork net, int index) {
        return ((org.deeplearning4j.nn.layers.normalization.BatchNormalization) net.getLayer(index)).getHelper();
    }

    private static MultiLayerNetwork network(Layer batchNorm, boolean afterConvolution) {
        var list = new NeuralNetConfiguration.Builder().seed(3).updater(new Sgd(0.1)).cacheMode(CacheMode.DEVICE).list();
        if (afterConvolution) {
            list.layer(new ConvolutionLayer.Builder(3, 3).nOut(5).activation(Activation.IDENTITY).build());
        }
        MultiLayerConfiguration conf = list.layer(batchNorm)
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(4).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(11, 13, 3)).build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }
}
