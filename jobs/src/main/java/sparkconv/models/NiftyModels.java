package sparkconv.models;

import java.util.List;

import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Models for chart windows (NIFTY and other daily OHLC series).
 * <ul>
 * <li>{@code candle-cnn-5/20/60}: Jiang, Kelly and Xiu (2023) image CNNs for 32x15, 64x60 and 96x180 charts: blocks of
 * 5x3 convolution (same padding; in the 20- and 60-day networks the first has vertical stride 3 and dilation 2, as in
 * the paper), batch normalisation, LeakyReLU (slope 0.01) and 2x1 max-pooling with 64, 128, 256 (and 512) filters;
 * Xavier initialisation; dropout 0.5 on the fully connected softmax output. Their training defaults are the paper's
 * ({@link TrainingDefaults}).</li>
 * <li>{@code candle-cnn-small}: the same blocks with 8, 16, 32 (64) filters, one block per halving of the height the
 * input allows (2 at 32 rows, 3 at 64, 4 at 96): trains on 2 CPU cores in minutes.</li>
 * <li>{@code conv1d}: convolutions over time on (C x 1 x W) return tensors. The first layer is linear with 1x3 kernels,
 * and its first filter starts as the chapter's [-1, 0, +1] ({@link ChapterFilterInit}).</li>
 * </ul>
 */
public final class NiftyModels {
    public static final List<String> NAMES = List.of("candle-cnn-5", "candle-cnn-20", "candle-cnn-60", "candle-cnn-small", "conv1d");

    private NiftyModels() {
    }

    static ModelZoo.Input defaultInput(String name) {
        return switch (name) {
            case "candle-cnn-5" -> new ModelZoo.Input(1, 32, 15);
            case "candle-cnn-20", "candle-cnn-small" -> new ModelZoo.Input(1, 64, 60);
            case "candle-cnn-60" -> new ModelZoo.Input(1, 96, 180);
            case "conv1d" -> new ModelZoo.Input(1, 1, 20);
            default -> throw ModelZoo.unknown(name);
        };
    }

    static void add(String name, NeuralNetConfiguration.ListBuilder list, ModelZoo.Input input, int numClasses) {
        switch (name) {
            case "candle-cnn-5" -> candleCnn(list, new int[]{64, 128}, false, numClasses);
            case "candle-cnn-20" -> candleCnn(list, new int[]{64, 128, 256}, true, numClasses);
            case "candle-cnn-60" -> candleCnn(list, new int[]{64, 128, 256, 512}, true, numClasses);
            case "candle-cnn-small" -> candleCnn(list, smallFilters(input), false, numClasses);
            case "conv1d" -> conv1d(list, numClasses);
            default -> throw ModelZoo.unknown(name);
        }
    }

    private static int[] smallFilters(ModelZoo.Input input) {
        int blocks = input.height() <= 32 ? 2 : input.height() <= 64 ? 3 : 4;
        int[] filters = new int[blocks];
        for (int b = 0; b < blocks; b++) {
            filters[b] = 8 << b;
        }
        return filters;
    }

    /**
     * {@code stridedFirst}: the paper's 20- and 60-day networks give their first convolution a vertical stride of 3 and
     * dilation of 2 (padding 12x1), which cuts the rows the later blocks see: 64 rows become 27, and the 20-day network
     * has the paper's 708,866 trainable parameters (DL4J also counts batch norm's running mean and variance).
     */
    private static void candleCnn(NeuralNetConfiguration.ListBuilder list, int[] filters, boolean stridedFirst, int numClasses) {
        for (int b = 0; b < filters.length; b++) {
            ConvolutionLayer.Builder conv = new ConvolutionLayer.Builder(5, 3).nOut(filters[b]).activation(Activation.IDENTITY)
                    .weightInit(WeightInit.XAVIER);
            if (b == 0 && stridedFirst) {
                conv.stride(3, 1).dilation(2, 1).padding(12, 1).convolutionMode(ConvolutionMode.Truncate);
            } else {
                conv.stride(1, 1).convolutionMode(ConvolutionMode.Same);
            }
            list.layer(b == 0 ? new InputConvolutionLayer(conv) : conv.build())
                    .layer(new VectorisedBatchNormalization())
                    .layer(new ActivationLayer.Builder().activation(new VectorisedLeakyReLU()).build())
                    .layer(new VectorisedMaxPooling(new int[] {2, 1}, new int[] {2, 1}));
        }
        list.layer(output(numClasses));
    }

    private static void conv1d(NeuralNetConfiguration.ListBuilder list, int numClasses) {
        list.layer(new ConvolutionLayer.Builder(1, 3).stride(1, 1).nOut(8).convolutionMode(ConvolutionMode.Truncate)
                        .activation(Activation.IDENTITY).weightInit(new ChapterFilterInit()).build())
                .layer(new ActivationLayer.Builder().activation(new VectorisedLeakyReLU()).build())
                .layer(new ConvolutionLayer.Builder(1, 3).stride(1, 1).nOut(16).convolutionMode(ConvolutionMode.Truncate)
                        .activation(new VectorisedLeakyReLU()).build())
                .layer(new VectorisedMaxPooling(new int[] {1, 2}, new int[] {1, 2}))
                .layer(new DenseLayer.Builder().nOut(32).activation(new VectorisedLeakyReLU()).build())
                .layer(output(numClasses));
    }

    private static OutputLayer output(int numClasses) {
        return new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(numClasses).dropOut(0.5)
                .activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER).build();
    }
}
