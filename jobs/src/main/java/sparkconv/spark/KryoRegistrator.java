package sparkconv.spark;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import org.nd4j.kryo.Nd4jRegistrator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Kryo setup for every sparkconv Spark job: ND4J's registrator, with INDArrays written in one block by
 * {@link NdArraySerializer} instead of value by value; Java serialization for records, which Kryo 4's field
 * serializer cannot construct (it writes final fields through Unsafe); decoded images with their compact serializer.
 */
public final class KryoRegistrator implements org.apache.spark.serializer.KryoRegistrator {
    @Override
    public void registerClasses(Kryo kryo) {
        new Nd4jRegistrator().registerClasses(kryo);
        kryo.register(Nd4j.getBackend().getNDArrayClass(), new NdArraySerializer()); // replaces ND4J's serializer
        kryo.addDefaultSerializer(Record.class, JavaSerializer.class);
        kryo.register(sparkconv.data.DecodedImage.class, new sparkconv.data.DecodedImage.KryoSerializer());
    }
}
