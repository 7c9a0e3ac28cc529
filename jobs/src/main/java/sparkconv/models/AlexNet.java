package sparkconv.models;

import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;

/**
 * AlexNet (Krizhevsky, Sutskever, Hinton 2012): five convolutional and three fully connected layers, ReLU,
 * local response normalisation after conv1 and conv2, overlapping 3x3 stride-2 max pooling, dropout 0.5 in the
 * fully connected layers. The ImageNet layout (227x227x3, 1000 classes) has 62.4M parameters; conv2, conv4 and
 * conv5 are written ungrouped (the paper split them over two GPUs), which is the usual single-device form.
 * {@link #cifar} keeps the same eight-layer shape scaled for 32x32 inputs (5.9M parameters), which is what trains
 * on this project's CPUs. ReLU is {@link VectorisedReLU} (DL4J's result bit for bit, its backward pass in place: DL4J's
 * allocates a copy of each layer's output per step, conv1's 35 MiB at batch 32).
 */
final class AlexNet {
    /** Dropout in DL4J is a retain probability: 0.5 either way. */
    private static final double DROPOUT = 0.5;

    private AlexNet() {
    }

    static void imagenet(NeuralNetConfiguration.ListBuilder list, int numClasses) {
        list.layer(conv(11, 4, 0, 96))
                .layer(lrn())
                .layer(overlappingPool())
                .layer(conv(5, 1, 2, 256))
                .layer(lrn())
                .layer(overlappingPool())
                .layer(conv(3, 1, 1, 384))
                .layer(conv(3, 1, 1, 384))
                .layer(conv(3, 1, 1, 256))
                .layer(overlappingPool())
                .layer(dense(4096))
                .layer(dense(4096))
                .layer(ModelZoo.output(numClasses));
    }

    /** The 32x32 variant: 5x5 then 3x3 kernels at stride 1, the same pooling and LRN, 1024-wide dense layers. */
    static void cifar(NeuralNetConfiguration.ListBuilder list, int numClasses) {
        list.layer(conv(5, 1, 2, 64))
                .layer(lrn())
                .layer(overlappingPool())
                .layer(conv(5, 1, 2, 192))
                .layer(lrn())
                .layer(overlappingPool())
                .layer(conv(3, 1, 1, 384))
                .layer(conv(3, 1, 1, 256))
                .layer(conv(3, 1, 1, 256))
                .layer(overlappingPool())
                .layer(dense(1024))
                .layer(dense(1024))
                .layer(ModelZoo.output(numClasses));
    }

    private static ConvolutionLayer conv(int k, int stride, int padding, int filters) {
        return new ConvolutionLayer.Builder(k, k).stride(stride, stride).padding(padding, padding).nOut(filters)
                .convolutionMode(ConvolutionMode.Truncate).activation(new VectorisedReLU()).build();
    }

    /** The paper's k=2, n=5, alpha=1e-4, beta=0.75 (DL4J's defaults), fused and with the exact gradient. */
    private static FusedLocalResponseNormalization lrn() {
        return new FusedLocalResponseNormalization(2, 5, 1e-4, 0.75);
    }

    private static SubsamplingLayer overlappingPool() {
        return new VectorisedMaxPooling(new int[] {3, 3}, new int[] {2, 2});
    }

    private static DenseLayer dense(int units) {
        return new DenseLayer.Builder().nOut(units).activation(new VectorisedReLU()).dropOut(DROPOUT).build();
    }
}
