package sparkconv.models;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.layers.CnnLossLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Deconvolution2D;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import sparkconv.SparkconvException;

/**
 * The chapter's two segmentation networks as ComputationGraphs with the same encoder (conv 16 - pool - conv 32 -
 * pool - conv 64, 3x3 same-padded, ReLU) and a per-pixel softmax loss ({@link CnnLossLayer}: softmax over the
 * channel axis at every pixel, labels one-hot N x classes x H x W). They differ only in how they get back to full
 * resolution, which is what the comparison measures:
 * <ul>
 *   <li>{@code fcn}: a 1x1 convolution classifier on the quarter-resolution features, then one learned 4x4
 *       stride-4 transposed convolution to full resolution (FCN-32s style: no skips).</li>
 *   <li>{@code unet}: two 2x2 stride-2 transposed convolutions, each followed by concatenating the encoder's
 *       feature map of the same resolution (the skip connection) and a 3x3 convolution, then the 1x1 classifier.</li>
 * </ul>
 */
final class Segmentation {
    static final String INPUT = "input";
    static final String OUTPUT = "output";

    private Segmentation() {
    }

    static ComputationGraphConfiguration fcn(ModelZoo.Input input, int numClasses, Hyper hyper) {
        checkDivisible(input, "fcn");
        ComputationGraphConfiguration.GraphBuilder g = encoder(input, hyper);
        g.addLayer("score", classifier(numClasses), "enc3")
                .addLayer("upsample", deconv(4, numClasses), "score")
                .addLayer(OUTPUT, loss(), "upsample");
        return g.setOutputs(OUTPUT).build();
    }

    static ComputationGraphConfiguration unet(ModelZoo.Input input, int numClasses, Hyper hyper) {
        checkDivisible(input, "unet");
        ComputationGraphConfiguration.GraphBuilder g = encoder(input, hyper);
        g.addLayer("up2", deconv(2, 32), "enc3")
                .addVertex("skip2", new MergeVertex(), "enc2", "up2")
                .addLayer("dec2", sameConv(32), "skip2")
                .addLayer("up1", deconv(2, 16), "dec2")
                .addVertex("skip1", new MergeVertex(), "enc1", "up1")
                .addLayer("dec1", sameConv(16), "skip1")
                .addLayer("score", classifier(numClasses), "dec1")
                .addLayer(OUTPUT, loss(), "score");
        return g.setOutputs(OUTPUT).build();
    }

    private static ComputationGraphConfiguration.GraphBuilder encoder(ModelZoo.Input input, Hyper hyper) {
        return new NeuralNetConfiguration.Builder()
                .seed(hyper.seed())
                .updater(hyper.iupdater())
                .l2(hyper.l2())
                .weightInit(WeightInit.RELU)
                .graphBuilder()
                .addInputs(INPUT)
                .setInputTypes(input.inputType())
                .addLayer("enc1", sameConv(16), INPUT)
                .addLayer("pool1", pool(), "enc1")
                .addLayer("enc2", sameConv(32), "pool1")
                .addLayer("pool2", pool(), "enc2")
                .addLayer("enc3", sameConv(64), "pool2");
    }

    private static void checkDivisible(ModelZoo.Input input, String model) {
        if (input.height() % 4 != 0 || input.width() % 4 != 0) {
            throw new SparkconvException(model + " needs an input whose height and width are multiples of 4 (two 2x2 poolings), got " + input);
        }
    }

    private static ConvolutionLayer sameConv(int filters) {
        return new ConvolutionLayer.Builder(3, 3).stride(1, 1).nOut(filters).convolutionMode(ConvolutionMode.Same)
                .activation(Activation.RELU).build();
    }

    private static ConvolutionLayer classifier(int numClasses) {
        return new ConvolutionLayer.Builder(1, 1).stride(1, 1).nOut(numClasses).convolutionMode(ConvolutionMode.Same)
                .activation(Activation.IDENTITY).weightInit(WeightInit.XAVIER).build();
    }

    /** k x k transposed convolution at stride k: exactly k times the resolution. */
    private static Deconvolution2D deconv(int k, int filters) {
        return new Deconvolution2D.Builder(k, k).stride(k, k).nOut(filters).convolutionMode(ConvolutionMode.Truncate)
                .activation(Activation.IDENTITY).weightInit(WeightInit.XAVIER).build();
    }

    private static SubsamplingLayer pool() {
        return new VectorisedMaxPooling(new int[] {2, 2}, new int[] {2, 2});
    }

    private static CnnLossLayer loss() {
        return new CnnLossLayer.Builder(LossFunctions.LossFunction.MCXENT).activation(Activation.SOFTMAX).build();
    }
}
