package sparkconv.models;

import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Leaky ReLU (DL4J's {@link ActivationLReLU}, the same results bit for bit) computed in Java over the array's floats,
 * a block at a time, in place as DL4J's: {@code max(x, alpha x)} forward, {@code g * (x < 0 ? alpha : 1)} backward.
 *
 * <p>Why: ND4J M2.1's {@code leakyrelu} and {@code leakyrelu_bp} took ~6 ns an element on one thread: the four
 * activation layers of candle-cnn-60 were 11% of a training step (`bench/run layers`, batch 32). Arrays that are not
 * one dense run of floats take DL4J's path.
 */
public class VectorisedLeakyReLU extends ActivationLReLU {
    /** Floats per block: small enough to stay in the cache between the copy out, the arithmetic and the copy back. */
    private static final int BLOCK = 1 << 14;

    public VectorisedLeakyReLU() {
    }

    public VectorisedLeakyReLU(double alpha) {
        super(alpha);
    }

    @Override
    public INDArray getActivation(INDArray in, boolean training) {
        if (!FloatVectors.dense(in)) {
            return super.getActivation(in, training);
        }
        float a = (float) getAlpha();
        float[] x = new float[(int) Math.min(BLOCK, in.length())];
        for (long from = 0; from < in.length(); from += BLOCK) {
            int n = (int) Math.min(BLOCK, in.length() - from);
            FloatVectors.readRange(in, from, x, 0, n);
            for (int i = 0; i < n; i++) {
                x[i] = Math.max(x[i], x[i] * a);
            }
            FloatVectors.writeRange(x, 0, in, from, n);
        }
        return in;
    }

    @Override
    public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
        assertShape(in, epsilon);
        if (!FloatVectors.dense(in) || !FloatVectors.dense(epsilon)) {
            return super.backprop(in, epsilon);
        }
        float a = (float) getAlpha();
        int size = (int) Math.min(BLOCK, in.length());
        float[] x = new float[size];
        float[] g = new float[size];
        for (long from = 0; from < in.length(); from += BLOCK) {
            int n = (int) Math.min(BLOCK, in.length() - from);
            FloatVectors.readRange(in, from, x, 0, n);
            FloatVectors.readRange(epsilon, from, g, 0, n);
            for (int i = 0; i < n; i++) {
                x[i] = g[i] * (x[i] < 0 ? a : 1f);
            }
            FloatVectors.writeRange(x, 0, in, from, n);
        }
        return new Pair<>(in, null);
    }
}
