package sparkconv.models;

import java.lang.reflect.Field;
import java.util.Collection;
import java.util.Map;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNBatchNormHelper;
import org.deeplearning4j.nn.layers.normalization.BatchNormalizationHelper;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import sparkconv.SparkconvException;

/**
 * DL4J's batch normalisation (same configuration, parameters, running statistics and gradients) with the oneDNN
 * helper's arithmetic on NCHW float activations done in Java, one channel plane at a time: the batch's mean and
 * (biased) variance per channel in one pass with double sums, the normalisation as one multiply-add per element, and
 * the backward pass as two passes (the channel's sums of the gradient and of the gradient times the normalised input,
 * then the input gradient). DL4J's layer keeps doing everything else (the running mean and variance from the helper's
 * batch statistics, inference with them).
 *
 * <p>Why: DL4J M2.1's oneDNN helper takes the batch mean and variance with ND4J reductions over three of four
 * dimensions and runs oneDNN 2.3's batch norm on a plain NCHW array: `LayerProfile candle-cnn-60 32` measured
 * 90-260 ms forward and 80-620 ms backward per layer, 35% of a training step on an AVX-512 EPYC (19% on an AVX2 one),
 * 12-45 ns an element where a pass over memory costs about one.
 *
 * <p>Only where DL4J would use the oneDNN helper (CPU): with cuDNN (the {@code cuda} profile) or no helper, the layer is
 * DL4J's own. Anything but rank-4 NCHW float input goes to the oneDNN helper.
 */
public class VectorisedBatchNormalization extends BatchNormalization {
    private static final Field HELPER;

    static {
        try {
            HELPER = org.deeplearning4j.nn.layers.normalization.BatchNormalization.class.getDeclaredField("helper");
            HELPER.setAccessible(true);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** DL4J's defaults (decay 0.9, eps 1e-5, learned gamma and beta), as {@code new BatchNormalization.Builder().build()}. */
    public VectorisedBatchNormalization() {
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int layerIndex,
            INDArray layerParamsView, boolean initializeParams, DataType networkDataType) {
        Layer layer = super.instantiate(conf, listeners, layerIndex, layerParamsView, initializeParams, networkDataType);
        try {
            if (HELPER.get(layer) instanceof MKLDNNBatchNormHelper oneDnn) {
                HELPER.set(layer, new JavaHelper(oneDnn));
            }
        } catch (IllegalAccessException e) {
            throw new SparkconvException("cannot set the batch normalisation helper: " + e.getMessage());
        }
        return layer;
    }

    /** The helper DL4J's layer calls: Java for NCHW floats, the oneDNN helper for anything else. */
    public static final class JavaHelper implements BatchNormalizationHelper {
        private final MKLDNNBatchNormHelper oneDnn;
        /** This helper's batch statistics (outside any workspace: the layer reads them after the pass). */
        private INDArray meanCache;
        private INDArray varCache;
        /** Whether the last training pass was this helper's (else the oneDNN helper's caches are the batch's). */
        private boolean java;

        JavaHelper(MKLDNNBatchNormHelper oneDnn) {
            this.oneDnn = oneDnn;
        }

        private static boolean plain(INDArray x, CNN2DFormat format) {
            return x.rank() == 4 && format == CNN2DFormat.NCHW && x.dataType() == DataType.FLOAT;
        }

        @Override
        public boolean checkSupported() {
            return oneDnn.checkSupported();
        }

        @Override
        public boolean checkSupported(double eps, boolean fixedGammaBeta) {
            return oneDnn.checkSupported(eps, fixedGammaBeta);
        }

        @Override
        public INDArray preOutput(INDArray x, boolean training, long[] shape, INDArray gamma, INDArray beta, INDArray mean,
                INDArray var, double decay, double eps, CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
            if (!plain(x, format) || gamma == null || beta == null) {
                java = false;
                return oneDnn.preOutput(x, training, shape, gamma, beta, mean, var, decay, eps, format, workspaceMgr);
            }
            Planes p = new Planes(x);
            float[] m;
            float[] v;
            if (training) {
                float[][] stats = p.meanAndVariance();
                m = stats[0];
                v = stats[1];
                if (meanCache == null || meanCache.length() != p.channels) {
                    try (MemoryWorkspace ws = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                        meanCache = Nd4j.createUninitialized(DataType.FLOAT, p.channels);
                        varCache = Nd4j.createUninitialized(DataType.FLOAT, p.channels);
                    }
                }
                FloatVectors.write(m, 0, meanCache);
                FloatVectors.write(v, 0, varCache);
                java = true;
            } else {
                m = floats(mean);
                v = floats(var);
            }
            float[] g = floats(gamma);
            float[] b = floats(beta);
            float[] scale = new float[p.channels];
            float[] shift = new float[p.channels];
            for (int c = 0; c < p.channels; c++) {
                scale[c] = (float) (g[c] / Math.sqrt((double) v[c] + eps));
                shift[c] = b[c] - m[c] * scale[c];
            }
            INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, x.shape(), 'c');
            p.normalise(scale, shift, out);
            return out;
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray input, INDArray epsilon, long[] shape, INDArray gamma,
                INDArray beta, INDArray dGammaView, INDArray dBetaView, double eps, CNN2DFormat format,
                LayerWorkspaceMgr workspaceMgr) {
            if (!java || !plain(input, format) || gamma == null || dGammaView == null) {
                return oneDnn.backpropGradient(input, epsilon, shape, gamma, beta, dGammaView, dBetaView, eps, format, workspaceMgr);
            }
            Planes p = new Planes(input);
            float[] m = floats(meanCache);
            float[] v = floats(varCache);
            float[] g = floats(gamma);
            float[] invStd = new float[p.channels];
            for (int c = 0; c < p.channels; c++) {
                invStd[c] = (float) (1 / Math.sqrt((double) v[c] + eps));
            }
            INDArray gradient = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, input.shape(), 'c');
            float[][] sums = p.gradientSums(epsilon, m, invStd);
            p.inputGradient(epsilon, m, invStd, g, sums[0], sums[1], gradient);
            FloatVectors.write(sums[1], 0, dGammaView);
            FloatVectors.write(sums[0], 0, dBetaView);
            Gradient result = new DefaultGradient();
            result.setGradientFor(BatchNormalizationParamInitializer.GAMMA, dGammaView);
            result.setGradientFor(BatchNormalizationParamInitializer.BETA, dBetaView);
            return new Pair<>(result, gradient);
        }

        @Override
        public INDArray getMeanCache(DataType dataType) {
            return java ? meanCache : oneDnn.getMeanCache(dataType);
        }

        @Override
        public INDArray getVarCache(DataType dataType) {
            return java ? varCache : oneDnn.getVarCache(dataType);
        }

        @Override
        public Map<String, Long> helperMemoryUse() {
            return oneDnn.helperMemoryUse();
        }

        private static float[] floats(INDArray vector) {
            return FloatVectors.copy(vector, 0);
        }
    }

    /**
     * An NCHW float array read and written a sample at a time: {@code channels} planes of {@code plane} floats each. The
     * arrays read may be views whose planes are dense (DL4J's own convolution returns [c][n][h][w] memory as NCHW): they
     * are read plane by plane in place, where a copy would add a layer's output to the step's workspace.
     */
    static final class Planes {
        private final INDArray x;
        private final long samples;
        final int channels;
        private final int plane;

        Planes(INDArray x) {
            this.x = readable(x);
            this.samples = x.size(0);
            this.channels = Math.toIntExact(x.size(1));
            this.plane = Math.toIntExact(x.size(2) * x.size(3));
        }

        private static INDArray readable(INDArray a) {
            return FloatVectors.dense(a) || FloatVectors.densePlanes(a) ? a : a.dup('c');
        }

        private int sampleLength() {
            return channels * plane;
        }

        /** Sample {@code s} of {@code a} (this shape) into {@code into}. */
        private void read(INDArray a, long s, float[] into) {
            if (FloatVectors.dense(a)) {
                FloatVectors.readRange(a, s * sampleLength(), into, 0, sampleLength());
            } else {
                for (int c = 0; c < channels; c++) {
                    FloatVectors.readPlane(a, s, c, into, c * plane);
                }
            }
        }

        /** Per channel: the mean and the biased variance over the batch and the plane (double sums, two passes). */
        float[][] meanAndVariance() {
            int n = sampleLength();
            float[] xs = new float[n];
            double[] sum = new double[channels];
            for (long s = 0; s < samples; s++) {
                read(x, s, xs);
                for (int c = 0; c < channels; c++) {
                    sum[c] += sum(xs, c * plane, plane);
                }
            }
            double count = (double) samples * plane;
            float[] mean = new float[channels];
            double[] squares = new double[channels];
            for (int c = 0; c < channels; c++) {
                mean[c] = (float) (sum[c] / count);
            }
            for (long s = 0; s < samples; s++) {
                read(x, s, xs);
                for (int c = 0; c < channels; c++) {
                    squares[c] += squaredDeviations(xs, c * plane, plane, mean[c]);
                }
            }
            float[] variance = new float[channels];
            for (int c = 0; c < channels; c++) {
                variance[c] = (float) (squares[c] / count);
            }
            return new float[][] {mean, variance};
        }

        /** {@code out = x * scale[c] + shift[c]}. */
        void normalise(float[] scale, float[] shift, INDArray out) {
            int n = sampleLength();
            float[] xs = new float[n];
            for (long s = 0; s < samples; s++) {
                read(x, s, xs);
                for (int c = 0; c < channels; c++) {
                    float a = scale[c];
                    float b = shift[c];
                    for (int i = c * plane, end = i + plane; i < end; i++) {
                        xs[i] = xs[i] * a + b;
                    }
                }
                FloatVectors.writeRange(xs, 0, out, s * n, n);
            }
        }

        /** Per channel: the sum of the output gradient, and of the output gradient times the normalised input. */
        float[][] gradientSums(INDArray epsilon, float[] mean, float[] invStd) {
            INDArray dy = readable(epsilon);
            int n = sampleLength();
            float[] xs = new float[n];
            float[] gs = new float[n];
            double[] sumDy = new double[channels];
            double[] sumDyXhat = new double[channels];
            for (long s = 0; s < samples; s++) {
                read(x, s, xs);
                read(dy, s, gs);
                for (int c = 0; c < channels; c++) {
                    int from = c * plane;
                    sumDy[c] += sum(gs, from, plane);
                    sumDyXhat[c] += dot(gs, xs, from, plane, mean[c]) * invStd[c];
                }
            }
            float[] dBeta = new float[channels];
            float[] dGamma = new float[channels];
            for (int c = 0; c < channels; c++) {
                dBeta[c] = (float) sumDy[c];
                dGamma[c] = (float) sumDyXhat[c];
            }
            return new float[][] {dBeta, dGamma};
        }

        /**
         * {@code dx = gamma invStd (dy - dBeta / M - xhat dGamma / M)} with {@code xhat = (x - mean) invStd} and M the
         * examples times the plane: the derivative of the normalisation with the batch's own statistics.
         */
        void inputGradient(INDArray epsilon, float[] mean, float[] invStd, float[] gamma, float[] dBeta, float[] dGamma,
                INDArray out) {
            INDArray dy = readable(epsilon);
            int n = sampleLength();
            float[] xs = new float[n];
            float[] gs = new float[n];
            double count = (double) samples * plane;
            for (long s = 0; s < samples; s++) {
                read(x, s, xs);
                read(dy, s, gs);
                for (int c = 0; c < channels; c++) {
                    // dx = a dy + b x + d, per channel
                    float a = gamma[c] * invStd[c];
                    float b = (float) (-a * invStd[c] * dGamma[c] / count);
                    float d = (float) (-a * dBeta[c] / count - b * mean[c]);
                    for (int i = c * plane, end = i + plane; i < end; i++) {
                        xs[i] = a * gs[i] + b * xs[i] + d;
                    }
                }
                FloatVectors.writeRange(xs, 0, out, s * n, n);
            }
        }

        /** A float sum in eight lanes (so the JIT keeps it in registers), returned as double. */
        private static double sum(float[] a, int from, int n) {
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
            int i = from;
            int end = from + n;
            for (; i + 8 <= end; i += 8) {
                s0 += a[i];
                s1 += a[i + 1];
                s2 += a[i + 2];
                s3 += a[i + 3];
                s4 += a[i + 4];
                s5 += a[i + 5];
                s6 += a[i + 6];
                s7 += a[i + 7];
            }
            double s = (double) s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7;
            for (; i < end; i++) {
                s += a[i];
            }
            return s;
        }

        private static double squaredDeviations(float[] a, int from, int n, float mean) {
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            int i = from;
            int end = from + n;
            for (; i + 4 <= end; i += 4) {
                float d0 = a[i] - mean;
                float d1 = a[i + 1] - mean;
                float d2 = a[i + 2] - mean;
                float d3 = a[i + 3] - mean;
                s0 += d0 * d0;
                s1 += d1 * d1;
                s2 += d2 * d2;
                s3 += d3 * d3;
            }
            double s = (double) s0 + s1 + s2 + s3;
            for (; i < end; i++) {
                float d = a[i] - mean;
                s += d * d;
            }
            return s;
        }

        /** {@code sum of g (x - mean)} over a plane. */
        private static double dot(float[] g, float[] x, int from, int n, float mean) {
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            int i = from;
            int end = from + n;
            for (; i + 4 <= end; i += 4) {
                s0 += g[i] * (x[i] - mean);
                s1 += g[i + 1] * (x[i + 1] - mean);
                s2 += g[i + 2] * (x[i + 2] - mean);
                s3 += g[i + 3] * (x[i + 3] - mean);
            }
            double s = (double) s0 + s1 + s2 + s3;
            for (; i < end; i++) {
                s += g[i] * (x[i] - mean);
            }
            return s;
        }
    }
}
