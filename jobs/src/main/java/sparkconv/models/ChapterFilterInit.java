package sparkconv.models;

import org.deeplearning4j.nn.weights.IWeightInit;
import org.deeplearning4j.nn.weights.WeightInitXavier;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Weight init of a (1 x 3) convolution over time whose first filter is the seed chapter's w = [-1, 0, +1] on the
 * first input channel (its output at t is x(t+2) - x(t), the two-step return); the other filters are Xavier.
 * A class with a no-argument constructor so DL4J can write and read it in the model's JSON configuration.
 */
public final class ChapterFilterInit implements IWeightInit {
    @Override
    public INDArray init(double fanIn, double fanOut, long[] shape, char order, INDArray paramView) {
        INDArray w = new WeightInitXavier().init(fanIn, fanOut, shape, order, paramView);
        w.get(NDArrayIndex.point(0)).assign(0);
        w.putScalar(new long[]{0, 0, 0, 0}, -1);
        w.putScalar(new long[]{0, 0, 0, 2}, 1);
        return w;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ChapterFilterInit;
    }

    @Override
    public int hashCode() {
        return ChapterFilterInit.class.hashCode();
    }
}
