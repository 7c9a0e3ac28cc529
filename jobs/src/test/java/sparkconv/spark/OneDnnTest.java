package sparkconv.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.layers.LayerHelper;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNSubsamplingHelper;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import sparkconv.models.Hyper;
import sparkconv.models.InputConvolutionLayer;
import sparkconv.models.ModelZoo;
import sparkconv.models.VectorisedBatchNormalization;
import sparkconv.models.VectorisedMaxPooling;

/**
 * The fast configuration is the default, so a version change must never silently lose it: every convolution and
 * average pooling layer of a built network runs with its oneDNN helper (max pooling is sparkconv's own Java pass),
 * through a forward and backward pass, without the helper failing over to DL4J's slow im2col path.
 */
class OneDnnTest {
    @ParameterizedTest
    @ValueSource(strings = {"seed-trace", "lenet5"})
    void convolutionAndPoolingRunWithOneDnnHelpers(String model) throws Exception {
        assertEquals("false", System.getProperty("org.eclipse.deeplearning4j.helpers.disable"),
                "conf/jvm.properties must enable DL4J's layer helpers");
        ModelZoo.Input input = new ModelZoo.Input(1, 28, 28);
        MultiLayerNetwork net = new MultiLayerNetwork(ModelZoo.build(model, input, 10, new Hyper("nesterovs", 0.01, 0.9, 0, 7)));
        net.init();
        DataSet batch = new DataSet(Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 8, 1, 28, 28),
                Nd4j.eye(10).getRows(0, 1, 2, 3, 4, 5, 6, 7).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT));
        net.fit(batch);
        net.output(batch.getFeatures());

        int conv = 0;
        int pool = 0;
        for (Layer layer : net.getLayers()) {
            if (layer instanceof ConvolutionLayer c) {
                LayerHelper helper = c.getHelper() instanceof InputConvolutionLayer.WeightGradientsOnly first ? first.wrapped() : c.getHelper();
                assertInstanceOf(MKLDNNConvHelper.class, helper, model + " layer " + layer.getIndex());
                assertEquals(0, failures(c, ConvolutionLayer.class), "oneDNN conv helper failed over to the slow path");
                conv++;
            } else if (layer instanceof SubsamplingLayer s) {
                if (layer.conf().getLayer() instanceof VectorisedMaxPooling) {
                    // max pooling runs in Java by design (oneDNN 2.3's pooling of plain NCHW arrays is its reference
                    // kernel on CPUs without AVX-512): no helper, so none to fail over
                    assertNull(s.getHelper(), model + " layer " + layer.getIndex());
                } else {
                    assertInstanceOf(MKLDNNSubsamplingHelper.class, s.getHelper(), model + " layer " + layer.getIndex());
                }
                assertEquals(0, failures(s, SubsamplingLayer.class), "oneDNN pooling helper failed over to the slow path");
                pool++;
            }
        }
        assertTrue(conv == 2 && pool == 2, "expected 2 conv and 2 pooling layers, found " + conv + " and " + pool);
    }

    /**
     * The 20- and 60-day chart CNNs' first convolution is dilated, which DL4J M2.1 cannot hand to oneDNN: that layer
     * runs DL4J's built-in convolution from the start (no failed attempt, no logged stack trace per network instance),
     * every other convolution keeps its oneDNN helper, each batch normalisation runs sparkconv's Java helper, and no
     * helper fails over.
     */
    @ParameterizedTest
    @ValueSource(strings = {"candle-cnn-20", "candle-cnn-5"})
    void chartCnnsFirstLayerRunsWithoutAFailingHelperWhenDilated(String model) throws Exception {
        ModelZoo.Input input = ModelZoo.defaultInput(model);
        MultiLayerNetwork net = new MultiLayerNetwork(ModelZoo.build(model, input, 2, new Hyper("adam", 1e-3, 0.9, 0, 7)));
        net.init();
        DataSet batch = new DataSet(Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 4, 1, input.height(), input.width()),
                Nd4j.eye(2).getRows(0, 1, 0, 1).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT));
        net.fit(batch);
        net.output(batch.getFeatures());
        boolean dilated = model.equals("candle-cnn-20");
        int conv = 0;
        int norms = 0;
        for (Layer layer : net.getLayers()) {
            if (layer instanceof ConvolutionLayer c) {
                LayerHelper helper = c.getHelper() instanceof InputConvolutionLayer.WeightGradientsOnly first ? first.wrapped() : c.getHelper();
                if (layer.getIndex() == 0 && dilated) {
                    assertEquals(null, helper, "the dilated first layer runs DL4J's own convolution");
                } else {
                    assertInstanceOf(MKLDNNConvHelper.class, helper, model + " layer " + layer.getIndex());
                }
                assertEquals(0, failures(c, ConvolutionLayer.class), model + " layer " + layer.getIndex() + " failed over");
                conv++;
            }
            if (layer instanceof org.deeplearning4j.nn.layers.normalization.BatchNormalization b) {
                // the oneDNN helper's place is taken by sparkconv's Java pass (VectorisedBatchNormalization), on CPU only
                assertInstanceOf(VectorisedBatchNormalization.JavaHelper.class, b.getHelper(), model + " layer " + layer.getIndex());
                assertEquals(0, failures(b, org.deeplearning4j.nn.layers.normalization.BatchNormalization.class));
                norms++;
            }
        }
        assertTrue(conv >= 2 && norms == conv, model + ": convolutions found " + conv + ", batch normalisations " + norms);
    }

    private static int failures(Object layer, Class<?> type) throws Exception {
        Field f = type.getDeclaredField("helperCountFail");
        f.setAccessible(true);
        return f.getInt(layer);
    }
}
