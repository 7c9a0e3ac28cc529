package sparkconv.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class VectorisedLeakyReLUTest {
    @Test
    void forwardAndBackwardEqualDl4jsLeakyReLUInPlace() {
        Nd4j.getRandom().setSeed(4);
        // more elements than one block, and not a multiple of it
        INDArray z = Nd4j.randn(DataType.FLOAT, 3, 7, 41, 29);
        z.putScalar(new long[] {0, 0, 0, 0}, 0f); // the kink
        z.putScalar(new long[] {0, 0, 0, 1}, -0f);
        INDArray eps = Nd4j.randn(DataType.FLOAT, 3, 7, 41, 29);
        ActivationLReLU stock = new ActivationLReLU(0.01);
        VectorisedLeakyReLU fast = new VectorisedLeakyReLU(0.01);

        INDArray in = z.dup();
        assertSame(in, fast.getActivation(in, true));
        assertArrayEquals(stock.getActivation(z.dup(), true).ravel().toFloatVector(), in.ravel().toFloatVector(), 0f);
        Pair<INDArray, INDArray> expected = stock.backprop(z.dup(), eps.dup());
        Pair<INDArray, INDArray> actual = fast.backprop(z.dup(), eps.dup());
        assertArrayEquals(expected.getFirst().ravel().toFloatVector(), actual.getFirst().ravel().toFloatVector(), 0f);
        assertNull(actual.getSecond());
    }

    @Test
    void otherLayoutsTakeDl4jsPath() {
        INDArray z = Nd4j.randn(DataType.FLOAT, 6, 5).transpose(); // a view in F order
        INDArray eps = Nd4j.randn(DataType.FLOAT, 5, 6);
        assertArrayEquals(new ActivationLReLU(0.01).backprop(z.dup(), eps.dup()).getFirst().ravel().toFloatVector(),
                new VectorisedLeakyReLU(0.01).backprop(z.dup('f'), eps.dup()).getFirst().ravel().toFloatVector(), 0f);
    }
}
