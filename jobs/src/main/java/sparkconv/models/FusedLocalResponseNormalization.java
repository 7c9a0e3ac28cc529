package sparkconv.models;

import java.util.Collection;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.LocalResponseNormalization;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Local response normalisation across channels (Krizhevsky et al. 2012), DL4J's configuration and forward pass,
 * {@code y_c = x_c / (k + alpha * sum_{j=c-n/2..c+n/2} x_j^2)^beta}, computed in one Java pass per sample over its
 * floats, with the exact gradient.
 *
 * <p>Why: DL4J M2.1 computes LRN on CPU with a dozen ND4J ops over channel views (each {@code put} a copy) and
 * recomputes the forward pass in backprop; its oneDNN helper is disabled on CPU (eclipse/deeplearning4j#7272). On
 * AlexNet (one thread, batch 32) the two LRN layers took 47% of a training step (`bench/run layers`). Its backward
 * pass is also not the gradient of its forward pass: it divides the neighbours' sum by the element's own scale instead
 * of each neighbour's, {@code dx_i = g_i s_i^-beta - 2 alpha beta x_i / s_i * sum_j g_j y_j} where the derivative has
 * {@code sum_j g_j y_j / s_j}; this layer computes the derivative (FusedLocalResponseNormalizationTest checks both against
 * finite differences). libnd4j's own {@code lrn_bp} is further off, so it is not used either.
 *
 * <p>NCHW only (the zoo's layout); an NHWC configuration takes DL4J's stock path. Other data types are computed in
 * float and cast back.
 */
public class FusedLocalResponseNormalization extends LocalResponseNormalization {
    /** For JSON deserialisation (stored models). */
    public FusedLocalResponseNormalization() {
    }

    /** DL4J's parameters: {@code k}, the window of {@code n} channels, {@code alpha}, {@code beta}. */
    public FusedLocalResponseNormalization(double k, double n, double alpha, double beta) {
        setK(k);
        setN(n);
        setAlpha(alpha);
        setBeta(beta);
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int layerIndex,
            INDArray layerParamsView, boolean initializeParams, DataType networkDataType) {
        return ZooLayers.wired(new Fused(conf, networkDataType), conf, listeners, layerIndex, layerParamsView,
                initializeParams);
    }

    /** The layer: DL4J's, with both passes replaced for NCHW input. */
    static final class Fused extends org.deeplearning4j.nn.layers.normalization.LocalResponseNormalization {
        Fused(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        @Override
        public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
            assertInputSet(false);
            if (layerConf().getDataFormat() != CNN2DFormat.NCHW) {
                return super.activate(training, workspaceMgr);
            }
            INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, input.dataType(), input.shape(), 'c');
            Kernel kernel = kernel();
            PerSample.run(input, null, out, (x, g, y) -> kernel.forward(x, y));
            return out;
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
            assertInputSet(true);
            if (layerConf().getDataFormat() != CNN2DFormat.NCHW) {
                return super.backpropGradient(epsilon, workspaceMgr);
            }
            INDArray gradient = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, input.dataType(), input.shape(), 'c');
            PerSample.run(input, epsilon, gradient, kernel()::backward);
            return new Pair<>(new DefaultGradient(), gradient);
        }

        private Kernel kernel() {
            return new Kernel(layerConf(), Math.toIntExact(input.size(1)), Math.toIntExact(input.size(2) * input.size(3)));
        }
    }

    /** One sample's arithmetic, on arrays of {@code channels} planes of {@code plane} floats (NCHW, C order). */
    static final class Kernel {
        private final float k;
        private final float alpha;
        private final double beta;
        private final int half;
        private final int channels;
        private final int plane;
        /** One channel plane: the window's sum of squares, then its scale {@code s^-beta}. */
        private final float[] sum;
        /** Backward: {@code s^-beta} per element, and {@code g y / s} per element. */
        private float[] scale;
        private float[] weighted;

        Kernel(LocalResponseNormalization conf, int channels, int plane) {
            this.k = (float) conf.getK();
            this.alpha = (float) conf.getAlpha();
            this.beta = conf.getBeta();
            this.half = (int) conf.getN() / 2;
            this.channels = channels;
            this.plane = plane;
            this.sum = new float[plane];
        }

        /** {@code y = x * s^-beta}, {@code s = k + alpha * (window's sum of squares)}. */
        void forward(float[] x, float[] y) {
            for (int c = 0; c < channels; c++) {
                windowSumOfSquares(x, c);
                powers(sum);
                int at = c * plane;
                for (int p = 0; p < plane; p++) {
                    y[at + p] = x[at + p] * sum[p];
                }
            }
        }

        /**
         * The gradient at the input from the gradient {@code g} at the output:
         * {@code dx_i = g_i s_i^-beta - 2 alpha beta x_i sum_{j: i in window(j)} g_j y_j / s_j} (the window is symmetric,
         * so the sum runs over i's own window).
         */
        void backward(float[] x, float[] g, float[] dx) {
            if (scale == null) {
                scale = new float[x.length];
                weighted = new float[x.length];
            }
            for (int c = 0; c < channels; c++) {
                windowSumOfSquares(x, c);
                int at = c * plane;
                for (int p = 0; p < plane; p++) {
                    weighted[at + p] = g[at + p] * x[at + p] / (sum[p] * alpha + k);
                }
                powers(sum);
                System.arraycopy(sum, 0, scale, at, plane);
                for (int p = 0; p < plane; p++) {
                    weighted[at + p] *= sum[p];
                }
            }
            float factor = (float) (2 * alpha * beta);
            for (int c = 0; c < channels; c++) {
                int lo = Math.max(0, c - half);
                int hi = Math.min(channels - 1, c + half);
                java.util.Arrays.fill(sum, 0f);
                for (int j = lo; j <= hi; j++) {
                    int from = j * plane;
                    for (int p = 0; p < plane; p++) {
                        sum[p] += weighted[from + p];
                    }
                }
                int at = c * plane;
                for (int p = 0; p < plane; p++) {
                    dx[at + p] = g[at + p] * scale[at + p] - factor * x[at + p] * sum[p];
                }
            }
        }

        /** {@link #sum} = channel c's window of squares, added in DL4J's order (c, c-1, c+1, c-2, c+2, ...). */
        private void windowSumOfSquares(float[] x, int c) {
            int at = c * plane;
            for (int p = 0; p < plane; p++) {
                sum[p] = x[at + p] * x[at + p];
            }
            for (int i = 1; i <= half; i++) {
                if (c - i >= 0) {
                    addSquares(x, (c - i) * plane);
                }
                if (c + i < channels) {
                    addSquares(x, (c + i) * plane);
                }
            }
        }

        private void addSquares(float[] x, int from) {
            for (int p = 0; p < plane; p++) {
                sum[p] += x[from + p] * x[from + p];
            }
        }

        /**
         * {@code v = (k + alpha v)^-beta} in place (a window's sum of squares becomes its scale); for the paper's beta = 0.75
         * as {@code 1 / sqrt(s sqrt(s))}, a loop the JIT vectorises (Math.pow is a call per element).
         */
        private void powers(float[] v) {
            if (beta == 0.75) {
                for (int p = 0; p < v.length; p++) {
                    float s = v[p] * alpha + k;
                    v[p] = 1f / (float) Math.sqrt(s * (float) Math.sqrt(s));
                }
            } else {
                for (int p = 0; p < v.length; p++) {
                    v[p] = (float) Math.pow(v[p] * alpha + k, -beta);
                }
            }
        }
    }
}
