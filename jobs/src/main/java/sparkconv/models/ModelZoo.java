package sparkconv.models;

import java.util.List;

import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import sparkconv.SparkconvException;

/**
 * The seed chapter's networks as DL4J configurations. Shapes follow the chapter's
 * output = floor((P + 2p - k) / s) + 1 and params = F (k^2 C + 1); {@code ModelZooTest} checks both
 * against the chapter's worked figures.
 */
public final class ModelZoo {
    public static final List<String> NAMES = java.util.stream.Stream.concat(
            java.util.stream.Stream.of("seed-trace", "lenet5", "alexnet", "alexnet32", "fcn", "unet"), NiftyModels.NAMES.stream()).toList();
    /** Segmentation models: ComputationGraphs built by {@link #buildGraph}, with per-pixel labels. */
    public static final List<String> GRAPHS = List.of("fcn", "unet");

    private ModelZoo() {
    }

    /** Channel-first input shape (C, H, W) of a model. */
    public record Input(int channels, int height, int width) {
        public InputType inputType() {
            return InputType.convolutional(height, width, channels);
        }

        public static Input parse(String text) {
            String[] p = text.toLowerCase().split("[x×]");
            try {
                if (p.length == 3) {
                    return new Input(Integer.parseInt(p[2]), Integer.parseInt(p[0]), Integer.parseInt(p[1]));
                }
                if (p.length == 2) {
                    return new Input(1, Integer.parseInt(p[0]), Integer.parseInt(p[1]));
                }
            } catch (NumberFormatException e) {
                // fall through to the error below
            }
            throw new SparkconvException("input shape '" + text + "' is not HxW or HxWxC (e.g. 32x32x3)");
        }

        @Override
        public String toString() {
            return height + "x" + width + "x" + channels;
        }
    }

    /** The input a model was designed for (what {@code describe} shows by default). */
    public static Input defaultInput(String name) {
        return switch (name) {
            case "seed-trace", "lenet5" -> new Input(1, 32, 32);
            case "alexnet" -> new Input(3, 227, 227);
            case "alexnet32" -> new Input(3, 32, 32);
            case "fcn", "unet" -> new Input(1, 56, 56);
            default -> NiftyModels.defaultInput(name);
        };
    }

    /** The number of classes a model was designed for: ImageNet's 1000, background + 10 for segmentation, else 10. */
    public static int defaultClasses(String name) {
        return switch (name) {
            case "alexnet" -> 1000;
            case "fcn", "unet" -> 11;
            default -> 10;
        };
    }

    public static boolean isGraph(String name) {
        return GRAPHS.contains(name);
    }

    public static ComputationGraphConfiguration buildGraph(String name, Input input, int numClasses, Hyper hyper) {
        return switch (name) {
            case "fcn" -> Segmentation.fcn(input, numClasses, hyper);
            case "unet" -> Segmentation.unet(input, numClasses, hyper);
            default -> throw NAMES.contains(name)
                    ? new SparkconvException("model '" + name + "' is not a segmentation graph (graphs: " + String.join(", ", GRAPHS) + ")")
                    : unknown(name);
        };
    }

    /** The {@code describe} table of any zoo model, graph or layer stack. */
    public static ModelSummary describe(String name, Input input, int numClasses) {
        Hyper hyper = new Hyper("sgd", 0.01, 0, 0, 1);
        return isGraph(name)
                ? ModelSummary.of(name, buildGraph(name, input, numClasses, hyper), input.inputType())
                : ModelSummary.of(name, build(name, input, numClasses, hyper), input.inputType());
    }

    public static MultiLayerConfiguration build(String name, Input input, int numClasses, Hyper hyper) {
        NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder()
                .seed(hyper.seed())
                .updater(hyper.iupdater())
                .l2(hyper.l2())
                .weightInit(WeightInit.RELU)
                // Keep each convolution's pre-activation from the forward pass for its backward pass; with the default
                // (NONE) DL4J runs every convolution's forward pass a second time during backprop.
                .cacheMode(CacheMode.DEVICE)
                .list();
        switch (name) {
            case "seed-trace" -> seedTrace(list, numClasses);
            case "lenet5" -> lenet5(list, input, numClasses);
            case "alexnet" -> AlexNet.imagenet(list, numClasses);
            case "alexnet32" -> AlexNet.cifar(list, numClasses);
            default -> {
                if (isGraph(name)) {
                    throw new SparkconvException("model '" + name + "' is a ComputationGraph (segmentation): it trains with segment-train");
                }
                NiftyModels.add(name, list, input, numClasses);
            }
        }
        return list.setInputType(input.inputType()).build();
    }

    /** The chapter's traced CNN: conv5x5x8 - pool2 - conv3x3x16 - pool2 - flatten - dense 10 (7,146 params at 32x32x1). */
    private static void seedTrace(NeuralNetConfiguration.ListBuilder list, int numClasses) {
        list.layer(inputConv(5, 8, 0))
                .layer(maxPool(2))
                .layer(conv(3, 16, 0))
                .layer(maxPool(2))
                .layer(output(numClasses));
    }

    /**
     * LeNet-5 (LeCun et al. 1998): C1 conv5x5x6 - S2 avg-pool - C3 conv5x5x16 - S4 avg-pool - F5 120 - F6 84 - 10,
     * with ReLU instead of scaled tanh. Designed for 32x32; a 28x28 input is padded by 2 in C1 so every later
     * shape is the 1998 one.
     */
    private static void lenet5(NeuralNetConfiguration.ListBuilder list, Input input, int numClasses) {
        int pad = Math.max(0, (32 - Math.min(input.height(), input.width())) / 2);
        list.layer(inputConv(5, 6, pad))
                .layer(avgPool(2))
                .layer(conv(5, 16, 0))
                .layer(avgPool(2))
                .layer(new DenseLayer.Builder().nOut(120).activation(new VectorisedReLU()).build())
                .layer(new DenseLayer.Builder().nOut(84).activation(new VectorisedReLU()).build())
                .layer(output(numClasses));
    }

    public static ConvolutionLayer conv(int k, int filters, int padding) {
        return convBuilder(k, filters, padding).build();
    }

    /** {@link #conv} as a network's first layer: no gradient with respect to the input (see InputConvolutionLayer). */
    static ConvolutionLayer inputConv(int k, int filters, int padding) {
        return new InputConvolutionLayer(convBuilder(k, filters, padding));
    }

    private static ConvolutionLayer.Builder convBuilder(int k, int filters, int padding) {
        return new ConvolutionLayer.Builder(k, k).stride(1, 1).padding(padding, padding).nOut(filters)
                .convolutionMode(ConvolutionMode.Truncate).activation(new VectorisedReLU());
    }

    private static SubsamplingLayer maxPool(int k) {
        return new VectorisedMaxPooling(new int[] {k, k}, new int[] {k, k});
    }

    private static SubsamplingLayer avgPool(int k) {
        return new SubsamplingLayer.Builder(PoolingType.AVG).kernelSize(k, k).stride(k, k).build();
    }

    static OutputLayer output(int numClasses) {
        return new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(numClasses)
                .activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER).build();
    }

    static SparkconvException unknown(String name) {
        return new SparkconvException("unknown model '" + name + "' (known: " + String.join(", ", NAMES) + ")");
    }
}
