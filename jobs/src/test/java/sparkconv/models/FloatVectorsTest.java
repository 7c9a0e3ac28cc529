package sparkconv.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Random;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link FloatVectors} moves exactly ND4J's own element-wise values: for a dense array, a row of a matrix (a view at
 * an offset into its parent's memory, written without touching the other rows), and an F-order matrix (the
 * element-wise path, C order as {@code toFloatVector()} has it).
 */
class FloatVectorsTest {
    private static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextFloat() - 0.5f;
        }
        return v;
    }

    /** ND4J's element-wise values in C order. */
    private static float[] values(INDArray array) {
        return Nd4j.toFlattened('c', array).toFloatVector();
    }

    private static void readsAndWritesLikeNd4j(INDArray array) {
        int n = (int) array.length();
        assertArrayEquals(values(array), FloatVectors.copy(array, 0));
        float[] withExtra = FloatVectors.copy(array, 3);
        assertArrayEquals(values(array), java.util.Arrays.copyOf(withExtra, n));
        assertArrayEquals(new float[3], java.util.Arrays.copyOfRange(withExtra, n, n + 3));
        float[] into = new float[n + 5];
        FloatVectors.read(array, into, 5);
        assertArrayEquals(values(array), java.util.Arrays.copyOfRange(into, 5, n + 5));

        float[] source = random(n + 7, n);
        FloatVectors.write(source, 7, array);
        assertArrayEquals(java.util.Arrays.copyOfRange(source, 7, n + 7), values(array));
    }

    @Test
    void denseArrays() {
        readsAndWritesLikeNd4j(Nd4j.createFromArray(random(1_001, 1)).reshape(1, 1_001));
        readsAndWritesLikeNd4j(Nd4j.createFromArray(random(24, 2)).reshape(2, 3, 4));
        assertArrayEquals(random(17, 3), values(FloatVectors.vector(random(17, 3))));
    }

    /**
     * A range of a dense vector (a network's parameters: one [1, n] array) is read and written in place: the writes land
     * there and nowhere else. A strided array has no such range, nor has a range past the end.
     */
    @Test
    void aRangeOfAVectorIsReadAndWrittenInPlace() {
        INDArray vector = Nd4j.create(org.nd4j.linalg.api.buffer.DataType.FLOAT, 1, 40); // as DL4J makes a network's
        FloatVectors.write(random(40, 5), 0, vector);
        float[] before = values(vector);
        float[] into = new float[7];
        FloatVectors.readRange(vector, 13, into, 2, 5);
        assertArrayEquals(java.util.Arrays.copyOfRange(before, 13, 18), java.util.Arrays.copyOfRange(into, 2, 7));
        FloatVectors.writeRange(new float[] {9, 1, 2, 3, 4, 5}, 1, vector, 13, 5);
        float[] expected = before.clone();
        System.arraycopy(new float[] {1, 2, 3, 4, 5}, 0, expected, 13, 5);
        assertArrayEquals(expected, values(vector));
        INDArray matrix = vector.reshape(4, 10);
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> FloatVectors.readRange(matrix.getColumn(2), 0, new float[2], 0, 2), "a strided column is not one run");
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> FloatVectors.writeRange(new float[4], 0, vector, 38, 4), "past the end");
    }

    @Test
    void aRowOfAMatrixIsWrittenInPlaceAndAloneOfItsRows() {
        INDArray matrix = Nd4j.createFromArray(random(40, 4)).reshape(4, 10);
        float[] before = values(matrix);
        INDArray row = matrix.getRow(2);
        readsAndWritesLikeNd4j(row);
        float[] after = values(matrix);
        assertArrayEquals(java.util.Arrays.copyOfRange(before, 0, 20), java.util.Arrays.copyOfRange(after, 0, 20));
        assertArrayEquals(values(row), java.util.Arrays.copyOfRange(after, 20, 30));
        assertArrayEquals(java.util.Arrays.copyOfRange(before, 30, 40), java.util.Arrays.copyOfRange(after, 30, 40));
    }

    @Test
    void otherLayoutsTakeTheElementWisePath() {
        readsAndWritesLikeNd4j(Nd4j.createFromArray(random(12, 5)).reshape(3, 4).dup('f'));
        readsAndWritesLikeNd4j(Nd4j.createFromArray(random(40, 6)).reshape(4, 10).getColumn(3));
        readsAndWritesLikeNd4j(Nd4j.rand(DataType.DOUBLE, 3, 5));
    }
}
