package sparkconv.shards;

import java.io.ByteArrayInputStream;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.options.ArrayOptionsHelper;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Shard file bytes, both ways, in bulk. {@link #dataSet} writes what {@code DataSet.save} writes for a features +
 * labels pair of c-order float arrays without masks (DL4J writes every value through {@code DataOutputStream.writeFloat}
 * after a native read, ~15% of a preprocess's CPU); {@link #decode} reads shard files back. Layout (ND4J 1.0.0-M2.1,
 * checked byte for byte against {@code DataSet.save} in ShardWriterTest): one flag byte (features and labels present),
 * then per array its shape-info buffer and its data buffer, each as
 * {@code UTF allocation mode, long length, UTF data type, values big-endian}. {@code DataSet.load} reads it.
 */
public final class ShardBytes {
    private static final byte FEATURES_AND_LABELS = 1 | 1 << 1;
    private static final String ALLOCATION_MODE_NAME = DataBuffer.AllocationMode.MIXED_DATA_TYPES.name();
    private static final byte[] ALLOCATION_MODE = utf(ALLOCATION_MODE_NAME);
    private static final byte[] LONG = utf(DataType.LONG.name());
    private static final byte[] FLOAT = utf(DataType.FLOAT.name());
    private static final long FLOAT_OPTIONS = ArrayOptionsHelper.setOptionBit(0L, DataType.FLOAT);

    private ShardBytes() {
    }

    /** {@code DataSet(features, oneHot(labels)).save()} for features of {@code shape} (N first). */
    public static byte[] dataSet(float[] features, long[] shape, int[] labels, int numClasses) {
        float[] oneHot = new float[labels.length * numClasses];
        for (int i = 0; i < labels.length; i++) {
            oneHot[i * numClasses + labels[i]] = 1f;
        }
        return dataSet(features, shape, oneHot, new long[]{labels.length, numClasses});
    }

    /** {@code DataSet(features, labels).save()} for c-order float arrays of the given shapes. */
    public static byte[] dataSet(float[] features, long[] featureShape, float[] labels, long[] labelShape) {
        int size = 1 + arrayBytes(featureShape, features.length) + arrayBytes(labelShape, labels.length);
        ByteBuffer out = ByteBuffer.allocate(size); // big-endian, as DataOutputStream
        out.put(FEATURES_AND_LABELS);
        putArray(out, featureShape, features);
        putArray(out, labelShape, labels);
        return out.array();
    }

    private static int arrayBytes(long[] shape, int values) {
        int header = ALLOCATION_MODE.length + 8;
        return header + LONG.length + 8 * shapeInfoLength(shape) + header + FLOAT.length + 4 * values;
    }

    private static int shapeInfoLength(long[] shape) {
        return 2 * shape.length + 4;
    }

    /** Shape info as ND4J lays it out: rank, shape, c-order strides, options (data type), element-wise stride 1, 'c'. */
    private static void putArray(ByteBuffer out, long[] shape, float[] values) {
        long count = 1;
        for (long d : shape) {
            count *= d;
        }
        if (count != values.length) {
            throw new IllegalArgumentException(values.length + " values for shape " + java.util.Arrays.toString(shape));
        }
        out.put(ALLOCATION_MODE).putLong(shapeInfoLength(shape)).put(LONG);
        out.putLong(shape.length);
        for (long d : shape) {
            out.putLong(d);
        }
        long stride = 1;
        long[] strides = new long[shape.length];
        for (int i = shape.length - 1; i >= 0; i--) {
            strides[i] = stride;
            stride *= shape[i];
        }
        for (long s : strides) {
            out.putLong(s);
        }
        out.putLong(FLOAT_OPTIONS).putLong(1).putLong('c');
        out.put(ALLOCATION_MODE).putLong(values.length).put(FLOAT);
        out.asFloatBuffer().put(values);
        out.position(out.position() + 4 * values.length);
    }

    /**
     * A DataSet from the bytes of a shard file, with bulk copies. DL4J's own {@code DataSet.load} reads every float
     * with {@code DataInputStream.readFloat} over a synchronized {@code BufferedInputStream} (four locked calls per
     * value), which made reading shards a larger CPU cost than the convolutions of a Spark training epoch (JFR).
     * Anything this reader does not expect (another data type, masks, an older header) goes to {@code DataSet.load},
     * so every file DL4J reads is read.
     */
    public static DataSet decode(byte[] bytes) {
        try {
            DataSet fast = decodeFloatArrays(ByteBuffer.wrap(bytes));
            if (fast != null) {
                return fast;
            }
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            // not the layout this reader expects: DL4J's reader decides (and reports a truncated file)
        }
        DataSet ds = new DataSet();
        ds.load(new ByteArrayInputStream(bytes));
        return ds;
    }

    /** Features and labels as float arrays without masks (what {@link #dataSet} writes), else null. */
    private static DataSet decodeFloatArrays(ByteBuffer in) {
        int included = in.get();
        if (included != FEATURES_AND_LABELS) {
            return null;
        }
        INDArray features = readArray(in);
        INDArray labels = features == null ? null : readArray(in);
        return labels == null || in.hasRemaining() ? null : new DataSet(features, labels);
    }

    /** {@code Nd4j.write} layout: a shape-info buffer (LONG), then the data buffer; null if the data is not FLOAT. */
    private static INDArray readArray(ByteBuffer in) {
        int infoLength = readHeader(in, DataType.LONG);
        if (infoLength < 0) {
            return null;
        }
        long[] info = new long[infoLength];
        in.asLongBuffer().get(info);
        in.position(in.position() + infoLength * Long.BYTES);
        int rank = (int) info[0];
        if (infoLength != 2 * rank + 4) {
            return null;
        }
        long[] shape = java.util.Arrays.copyOfRange(info, 1, 1 + rank);
        long[] stride = java.util.Arrays.copyOfRange(info, 1 + rank, 1 + 2 * rank);
        char order = (char) info[infoLength - 1];

        int length = readHeader(in, DataType.FLOAT);
        if (length < 0) {
            return null;
        }
        INDArray array = Nd4j.createUninitialized(DataType.FLOAT, shape, order);
        if (array.length() != length || !java.util.Arrays.equals(array.stride(), stride)) {
            return null;
        }
        // One bulk copy into the native buffer: Nd4j.create(float[], ...) puts the values one by one (BaseDataBuffer.setData),
        // which was most of the CPU of a worker's prefetch thread.
        array.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer().put(in.asFloatBuffer().limit(length));
        in.position(in.position() + length * Float.BYTES);
        return array;
    }

    /** A buffer's header ({@code UTF allocation mode, long length, UTF data type}): its length, or -1 if not {@code type}. */
    private static int readHeader(ByteBuffer in, DataType type) {
        boolean mixedTypes = ALLOCATION_MODE_NAME.equals(readUtf(in));
        int length = Math.toIntExact(in.getLong());
        return mixedTypes && type.name().equals(readUtf(in)) ? length : -1;
    }

    /** {@code DataOutput.writeUTF}: an unsigned 16-bit length, then (for these ASCII names) the bytes. */
    private static String readUtf(ByteBuffer in) {
        int length = Short.toUnsignedInt(in.getShort());
        byte[] b = new byte[length];
        in.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    /** {@code DataOutputStream.writeUTF} of an ASCII name: two length bytes, then the bytes. */
    private static byte[] utf(String ascii) {
        byte[] text = ascii.getBytes(StandardCharsets.US_ASCII);
        return ByteBuffer.allocate(2 + text.length).putShort((short) text.length).put(text).array();
    }
}
