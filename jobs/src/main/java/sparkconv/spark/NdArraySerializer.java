package sparkconv.spark;

import java.nio.ByteBuffer;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import org.nd4j.kryo.Nd4jSerializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Kryo serializer for INDArrays that copies the data as bytes, in 1 MiB pieces. ND4J's own {@link Nd4jSerializer} writes through
 * {@code Nd4j.write}, one {@code writeFloat} (four Kryo byte writes) per value; parameter averaging serialises the
 * parameters and updater state of every worker's result and of every round's broadcast, so that per-value path was a
 * visible share of a training round's CPU time. The bytes are the machine's native order: driver and executors are
 * assumed to share the architecture. String arrays use ND4J's serializer, marked by a
 * leading flag; ND4J's cannot read back empty arrays, this one can.
 */
public final class NdArraySerializer extends Serializer<INDArray> {
    private static final byte BLOCK = 1;
    private static final byte ND4J = 0;
    private static final byte EMPTY = 2;
    /**
     * The data crosses the heap in pieces of this size: a heap copy of the whole array per write and per read was one
     * more transient copy of AlexNet's parameters (238 MiB) in every broadcast and every worker's result, beside the
     * serialised bytes themselves.
     */
    private static final int CHUNK = 1 << 20;
    private final Nd4jSerializer fallback = new Nd4jSerializer();

    @Override
    public void write(Kryo kryo, Output output, INDArray array) {
        if (array.dataType() == DataType.UTF8 || array.dataType() == DataType.COMPRESSED) {
            output.writeByte(ND4J);
            fallback.write(kryo, output, array);
            return;
        }
        if (array.isEmpty()) {
            output.writeByte(EMPTY);
            output.writeString(array.dataType().name());
            return;
        }
        INDArray dense = array.isView() || array.data().length() != array.length() || !Shape.hasDefaultStridesForShape(array)
                ? array.dup(array.ordering()) : array;
        output.writeByte(BLOCK);
        output.writeString(dense.dataType().name());
        output.writeByte(dense.ordering());
        long[] shape = dense.shape();
        output.writeInt(shape.length, true);
        for (long d : shape) {
            output.writeLong(d, true);
        }
        ByteBuffer data = dense.data().asNio();
        int bytes = Math.toIntExact(dense.length() * dense.data().getElementSize());
        output.writeInt(bytes, true);
        byte[] chunk = new byte[Math.min(bytes, CHUNK)];
        data.position(0);
        for (int done = 0; done < bytes; done += chunk.length) {
            int n = Math.min(chunk.length, bytes - done);
            data.get(chunk, 0, n);
            output.writeBytes(chunk, 0, n);
        }
    }

    @Override
    public INDArray read(Kryo kryo, Input input, Class<INDArray> type) {
        byte kind = input.readByte();
        if (kind == ND4J) {
            return fallback.read(kryo, input, type);
        }
        if (kind == EMPTY) {
            return Nd4j.empty(DataType.valueOf(input.readString()));
        }
        DataType dataType = DataType.valueOf(input.readString());
        char order = (char) input.readByte();
        long[] shape = new long[input.readInt(true)];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = input.readLong(true);
        }
        int bytes = input.readInt(true);
        INDArray array = Nd4j.createUninitialized(dataType, shape, order);
        ByteBuffer data = array.data().asNio();
        data.position(0);
        byte[] chunk = new byte[Math.min(bytes, CHUNK)];
        for (int done = 0; done < bytes; done += chunk.length) {
            int n = Math.min(chunk.length, bytes - done);
            input.readBytes(chunk, 0, n);
            data.put(chunk, 0, n);
        }
        return array;
    }
}
