package sparkconv.models;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Copies between ND4J arrays (a network's flat parameter or updater-state vector, a layer's activations) and Java
 * float arrays, in bulk. ND4J's own
 * {@code toFloatVector()} and {@code Nd4j.createFromArray(float[])} move one element per call: for LeNet-5's 123,412
 * floats of parameters and Nesterov state that was ~30% of a worker's time in a {@code sync} round (a JFR profile of
 * {@code local[2]}, two workers: 2026-12-07). A dense float array is copied through its memory as a {@link FloatBuffer};
 * anything else (a strided view, another data type) takes ND4J's element-wise path.
 */
public final class FloatVectors {
    private FloatVectors() {
    }

    /** {@code array}'s values in C order followed by {@code extra} zeros. */
    public static float[] copy(INDArray array, int extra) {
        float[] out = new float[Math.toIntExact(array.length()) + extra];
        read(array, out, 0);
        return out;
    }

    /** A new dense float vector holding {@code values}. */
    public static INDArray vector(float[] values) {
        INDArray array = Nd4j.createUninitialized(DataType.FLOAT, values.length);
        write(values, 0, array);
        return array;
    }

    /** {@code array}'s values in C order into {@code into} from {@code at}. */
    public static void read(INDArray array, float[] into, int at) {
        FloatBuffer memory = memory(array);
        if (memory != null) {
            memory.get(into, at, Math.toIntExact(array.length()));
        } else {
            float[] values = Nd4j.toFlattened('c', array).toFloatVector();
            System.arraycopy(values, 0, into, at, values.length);
        }
    }

    /** {@code array.length()} floats of {@code from} from {@code at} become {@code array}'s values (C order). */
    public static void write(float[] from, int at, INDArray array) {
        int n = Math.toIntExact(array.length());
        FloatBuffer memory = memory(array);
        if (memory != null) {
            memory.put(from, at, n);
        } else {
            array.assign(Nd4j.createFromArray(java.util.Arrays.copyOfRange(from, at, at + n)).reshape('c', array.shape()));
        }
    }

    /**
     * Elements {@code from .. from + n - 1} (in C order) of a dense float array (a network's parameters or updater state,
     * one sample of a layer's activations) into {@code into} from {@code at}, in bulk. A view made for the range would not do: ND4J gives a view at an
     * offset a buffer of its own, which {@link #memory} cannot place, and the element-wise path took seconds a round
     * for AlexNet.
     */
    public static void readRange(INDArray array, long from, float[] into, int at, int n) {
        rangeOf(array, from, n).get(into, at, n);
    }

    /** {@code n} floats of {@code values} from {@code at} become elements {@code from ..} of a dense float array, in bulk. */
    public static void writeRange(float[] values, int at, INDArray array, long from, int n) {
        rangeOf(array, from, n).put(values, at, n);
    }

    private static FloatBuffer rangeOf(INDArray array, long from, int n) {
        FloatBuffer memory = memory(array);
        if (memory == null || from < 0 || from + n > array.length()) {
            throw new IllegalArgumentException("elements " + from + ".." + (from + n) + " of " + array.shapeInfoToString()
                    + " are not one dense run of floats");
        }
        memory.position(memory.position() + Math.toIntExact(from));
        return memory;
    }

    /**
     * Whether each plane ({@code [n][c][..][..]}) of a rank-4 float array is one dense C-order run, the planes at any
     * strides: DL4J's own convolution path returns its output as a permuted view laid out [c][n][h][w].
     */
    public static boolean densePlanes(INDArray array) {
        return array.rank() == 4 && array.dataType() == DataType.FLOAT && !array.isEmpty()
                && (array.size(3) == 1 || array.stride(3) == 1) && (array.size(2) == 1 || array.stride(2) == array.size(3));
    }

    /** Plane {@code (n, c)} of a rank-4 array with {@link #densePlanes} into {@code into} from {@code at}, in bulk. */
    public static void readPlane(INDArray array, long n, long c, float[] into, int at) {
        int plane = Math.toIntExact(array.size(2) * array.size(3));
        long first = array.offset() + n * array.stride(0) + c * array.stride(1);
        FloatBuffer memory = array.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
        memory.position(Math.toIntExact(first));
        memory.get(into, at, plane);
    }

    /** Whether {@code array} is one dense C-order run of floats, which every bulk copy here reads or writes in place. */
    public static boolean dense(INDArray array) {
        return memory(array) != null;
    }

    /**
     * Whether the elements lie in C order without gaps: each dimension's stride is the product of the later sizes.
     * Dimensions of size 1 may have any stride (ND4J's own {@code Shape.hasDefaultStridesForShape} says no to
     * [3, 5, 1, 9] with strides [45, 9, 9, 1]).
     */
    private static boolean cContiguous(INDArray array) {
        long[] shape = array.shape();
        long[] stride = array.stride();
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && stride[i] != expected) {
                return false;
            }
            expected *= shape[i];
        }
        return true;
    }

    /** The array's own memory positioned at its first element, or null when its elements are not one dense C-order run. */
    private static FloatBuffer memory(INDArray array) {
        if (array.dataType() != DataType.FLOAT || array.isEmpty() || !cContiguous(array)
                || array.offset() + array.length() > array.data().length()) {
            return null;
        }
        FloatBuffer memory = array.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
        memory.position(Math.toIntExact(array.offset()));
        return memory;
    }
}
