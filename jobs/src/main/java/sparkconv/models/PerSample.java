package sparkconv.models;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A layer pass written in Java over float arrays, one sample at a time: each sample's floats are copied out of the
 * input (and the gradient at the output, for a backward pass) in bulk, the pass computes that sample's result, and it
 * is copied into the result array. A sample's arrays stay in the cache between the copies and the arithmetic; every
 * other data type or layout goes through a dense float copy.
 */
final class PerSample {
    private PerSample() {
    }

    /** One sample's pass: {@code x} (and {@code g}, or null) in, {@code out} written whole. */
    interface Pass {
        void apply(float[] x, float[] g, float[] out);
    }

    /** {@code pass} over every sample (the first dimension) of {@code x} and {@code g} (may be null) into {@code result}. */
    static void run(INDArray x, INDArray g, INDArray result, Pass pass) {
        INDArray in = floats(x);
        INDArray grad = g == null ? null : floats(g);
        INDArray into = FloatVectors.dense(result) ? result : Nd4j.createUninitialized(DataType.FLOAT, result.shape());
        long samples = x.size(0);
        int xs = Math.toIntExact(x.length() / samples);
        int gs = g == null ? 0 : Math.toIntExact(g.length() / samples);
        int rs = Math.toIntExact(result.length() / samples);
        float[] xa = new float[xs];
        float[] ga = g == null ? null : new float[gs];
        float[] ra = new float[rs];
        for (long n = 0; n < samples; n++) {
            FloatVectors.readRange(in, n * xs, xa, 0, xs);
            if (grad != null) {
                FloatVectors.readRange(grad, n * gs, ga, 0, gs);
            }
            pass.apply(xa, ga, ra);
            FloatVectors.writeRange(ra, 0, into, n * rs, rs);
        }
        if (into != result) {
            result.assign(into);
        }
    }

    /** {@code array} as one dense run of floats: itself when it is one, else a float copy in C order. */
    private static INDArray floats(INDArray array) {
        return FloatVectors.dense(array) ? array : array.castTo(DataType.FLOAT).dup('c');
    }
}
