package sparkconv.spark;

import java.util.ServiceLoader;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import org.nd4j.kryo.Nd4jRegistrator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Kryo setup for every sparkconv Spark job: ND4J's registrator, with INDArrays written in one block by
 * {@link NdArraySerializer} instead of value by value; Java serialization for records, which Kryo 4's field
 * serializer cannot construct (it writes final fields through Unsafe); then the {@link Registration}s of the packages
 * above this one (decoded images with their compact serializer), found through {@code META-INF/services} so that this
 * package names none of them.
 */
public final class KryoRegistrator implements org.apache.spark.serializer.KryoRegistrator {
    @Override
    public void registerClasses(Kryo kryo) {
        new Nd4jRegistrator().registerClasses(kryo);
        kryo.register(Nd4j.getBackend().getNDArrayClass(), new NdArraySerializer()); // replaces ND4J's serializer
        kryo.addDefaultSerializer(Record.class, JavaSerializer.class);
        // the registrator's own class loader: on an executor it is the one that loaded the sparkconv jar
        for (Registration r : ServiceLoader.load(Registration.class, KryoRegistrator.class.getClassLoader())) {
            r.register(kryo);
        }
    }

    /** Classes that bring their own Kryo serializer; listed in META-INF/services/sparkconv.spark.KryoRegistrator$Registration. */
    public interface Registration {
        void register(Kryo kryo);
    }
}
