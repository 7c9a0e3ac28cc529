package sparkconv.models;

import java.util.Collection;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Max pooling without padding (DL4J's {@link SubsamplingLayer}: same configuration, output and gradient) computed in
 * Java over each sample's floats, a row of windows at a time. The backward pass finds each window's maximum again in
 * the input the layer keeps and sends the window's gradient to its first element equal to it.
 *
 * <p>Why: on a CPU without AVX-512, oneDNN 2.3 (ND4J M2.1's) pools a plain NCHW array with its reference
 * implementation ({@code simple_nchw}, `DNNL_VERBOSE=1`): 160-230 ms forward and 290-350 ms backward per pooling layer of
 * candle-cnn-60 at batch 32, 22% of a training step, where the AVX-512 machine's JIT kernel took 9 ms. Here a pooling
 * layer's pass is a few ms on either.
 *
 * <p>Max pooling in NCHW with Truncate or Strict mode, no padding and no dilation; anything else takes DL4J's path.
 */
public class VectorisedMaxPooling extends SubsamplingLayer {
    /** For JSON deserialisation (stored models). */
    public VectorisedMaxPooling() {
    }

    /** {@code kernel} rows x columns, moving by {@code stride} rows x columns. */
    public VectorisedMaxPooling(int[] kernel, int[] stride) {
        super(new SubsamplingLayer.Builder(org.deeplearning4j.nn.conf.layers.PoolingType.MAX).kernelSize(kernel).stride(stride)
                .convolutionMode(ConvolutionMode.Truncate));
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int layerIndex,
            INDArray layerParamsView, boolean initializeParams, DataType networkDataType) {
        return ZooLayers.wired(new Pooling(conf, networkDataType), conf, listeners, layerIndex, layerParamsView,
                initializeParams);
    }

    /** The layer: DL4J's, with both passes replaced where the configuration is plain max pooling. */
    static final class Pooling extends org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer {
        Pooling(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
            helper = null; // both passes are this class's or DL4J's own built-in path, never the oneDNN helper's
        }

        private boolean plain() {
            SubsamplingLayer c = layerConf();
            return c.getPoolingType() == org.deeplearning4j.nn.conf.layers.PoolingType.MAX && c.getCnn2dDataFormat() == CNN2DFormat.NCHW
                    && (c.getConvolutionMode() == ConvolutionMode.Truncate || c.getConvolutionMode() == ConvolutionMode.Strict)
                    && c.getPadding()[0] == 0 && c.getPadding()[1] == 0 && c.getDilation()[0] == 1 && c.getDilation()[1] == 1 && input != null && input.rank() == 4;
        }

        @Override
        public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
            assertInputSet(false);
            if (!plain()) {
                return super.activate(training, workspaceMgr);
            }
            Windows w = windows();
            INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, input.dataType(),
                    new long[] {input.size(0), input.size(1), w.outH, w.outW}, 'c');
            PerSample.run(input, null, out, (x, g, y) -> w.forward(x, y));
            return out;
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
            assertInputSet(true);
            if (!plain()) {
                return super.backpropGradient(epsilon, workspaceMgr);
            }
            INDArray gradient = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, input.dataType(), input.shape(), 'c');
            PerSample.run(input, epsilon, gradient, windows()::backward);
            return new Pair<>(new DefaultGradient(), gradient);
        }

        private Windows windows() {
            SubsamplingLayer c = layerConf();
            int h = Math.toIntExact(input.size(2));
            int w = Math.toIntExact(input.size(3));
            return new Windows(Math.toIntExact(input.size(1)), h, w, c.getKernelSize(), c.getStride());
        }
    }

    /** One sample's pooling windows: {@code channels} planes of {@code h x w} floats. */
    static final class Windows {
        private final int channels;
        private final int h;
        private final int w;
        private final int kh;
        private final int kw;
        private final int sh;
        private final int sw;
        final int outH;
        final int outW;

        Windows(int channels, int h, int w, int[] kernel, int[] stride) {
            this.channels = channels;
            this.h = h;
            this.w = w;
            this.kh = kernel[0];
            this.kw = kernel[1];
            this.sh = stride[0];
            this.sw = stride[1];
            this.outH = (h - kh) / sh + 1;
            this.outW = (w - kw) / sw + 1;
        }

        void forward(float[] x, float[] y) {
            for (int c = 0; c < channels; c++) {
                for (int oh = 0; oh < outH; oh++) {
                    rowMax(x, c * h * w + oh * sh * w, y, (c * outH + oh) * outW);
                }
            }
        }

        /**
         * The gradient at the input: each window's output gradient added at the window's maximum (its first, on a tie),
         * zero elsewhere.
         */
        void backward(float[] x, float[] g, float[] dx) {
            java.util.Arrays.fill(dx, 0f);
            float[] max = new float[outW];
            int[] best = new int[outW];
            for (int c = 0; c < channels; c++) {
                for (int oh = 0; oh < outH; oh++) {
                    int corner = c * h * w + oh * sh * w;
                    for (int ow = 0; ow < outW; ow++) {
                        best[ow] = corner + ow * sw;
                        max[ow] = x[best[ow]];
                    }
                    for (int i = 0; i < kh; i++) {
                        for (int j = i == 0 ? 1 : 0; j < kw; j++) {
                            int from = corner + i * w + j;
                            for (int ow = 0; ow < outW; ow++) {
                                int at = from + ow * sw;
                                float v = x[at];
                                boolean above = v > max[ow] || (v != v && max[ow] == max[ow]); // NaN wins, as in rowMax
                                max[ow] = above ? v : max[ow];
                                best[ow] = above ? at : best[ow];
                            }
                        }
                    }
                    int out = (c * outH + oh) * outW;
                    for (int ow = 0; ow < outW; ow++) {
                        dx[best[ow]] += g[out + ow];
                    }
                }
            }
        }

        /**
         * One row of windows: {@code y[at + ow]} = the maximum of the window whose top-left is {@code corner + ow * sw}.
         * Element by element across the row's windows (branch-free, contiguous when the stride is 1, so the JIT
         * vectorises it); a NaN in a window makes its maximum NaN, as the stock layer's.
         */
        private void rowMax(float[] x, int corner, float[] y, int at) {
            for (int ow = 0; ow < outW; ow++) {
                y[at + ow] = x[corner + ow * sw];
            }
            for (int i = 0; i < kh; i++) {
                for (int j = i == 0 ? 1 : 0; j < kw; j++) {
                    int from = corner + i * w + j;
                    for (int ow = 0; ow < outW; ow++) {
                        y[at + ow] = Math.max(y[at + ow], x[from + ow * sw]);
                    }
                }
            }
        }
    }
}
