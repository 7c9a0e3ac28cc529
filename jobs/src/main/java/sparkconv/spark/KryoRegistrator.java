package sparkconv.spark;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import org.nd4j.kryo.Nd4jRegistrator;

/**
 * Kryo setup for every sparkconv Spark job: ND4J's registrator (INDArrays off-heap), and Java serialization for
 * records, which Kryo 4's field serializer cannot construct (it writes final fields through Unsafe).
 */
public final class KryoRegistrator implements org.apache.spark.serializer.KryoRegistrator {
    @Override
    public void registerClasses(Kryo kryo) {
        new Nd4jRegistrator().registerClasses(kryo);
        kryo.addDefaultSerializer(Record.class, JavaSerializer.class);
        kryo.register(sparkconv.data.DecodedImage.class, new sparkconv.data.DecodedImage.KryoSerializer());
    }
}
