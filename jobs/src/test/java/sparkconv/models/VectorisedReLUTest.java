package sparkconv.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class VectorisedReLUTest {
    @Test
    void forwardAndBackwardEqualDl4jsReLU() {
        Nd4j.getRandom().setSeed(3);
        INDArray z = Nd4j.randn(DataType.FLOAT, 8, 6, 5, 5);
        z.putScalar(new long[] {0, 0, 0, 0}, 0f); // the kink: both give gradient 0 at z == 0
        INDArray eps = Nd4j.randn(DataType.FLOAT, 8, 6, 5, 5);
        ActivationReLU stock = new ActivationReLU();
        VectorisedReLU fast = new VectorisedReLU();

        assertArrayEquals(stock.getActivation(z.dup(), true).ravel().toFloatVector(), fast.getActivation(z.dup(), true).ravel().toFloatVector());
        Pair<INDArray, INDArray> expected = stock.backprop(z.dup(), eps.dup());
        Pair<INDArray, INDArray> actual = fast.backprop(z.dup(), eps.dup());
        // delta 0: equal values; a zero gradient may be -0.0 here (0 * negative epsilon) and +0.0 in DL4J's op
        assertArrayEquals(expected.getFirst().ravel().toFloatVector(), actual.getFirst().ravel().toFloatVector(), 0f);
        assertNull(actual.getSecond());
        assertEquals(0f, actual.getFirst().getFloat(0, 0, 0, 0), 0f);
        assertEquals("relu", fast.toString());
    }
}
