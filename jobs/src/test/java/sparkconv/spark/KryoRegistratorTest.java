package sparkconv.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import com.esotericsoftware.kryo.Kryo;
import org.apache.spark.SparkConf;
import org.apache.spark.serializer.KryoSerializer;
import org.junit.jupiter.api.Test;

import sparkconv.data.DecodedImage;

/** The registrator names no class above this package, yet decoded images get their compact serializer (META-INF/services). */
class KryoRegistratorTest {
    @Test
    void decodedImagesAreRegisteredThroughTheServiceList() {
        SparkConf conf = new SparkConf(false).set("spark.kryo.registrator", KryoRegistrator.class.getName());
        Kryo kryo = new KryoSerializer(conf).newKryo();
        assertInstanceOf(DecodedImage.KryoSerializer.class, kryo.getRegistration(DecodedImage.class).getSerializer());
        DecodedImage image = new DecodedImage("a/b.png", "b.png", "b", "train", new byte[]{1, 2, 3}, 3, null, null);
        com.esotericsoftware.kryo.io.Output out = new com.esotericsoftware.kryo.io.Output(256);
        kryo.writeClassAndObject(out, image);
        Object back = kryo.readClassAndObject(new com.esotericsoftware.kryo.io.Input(out.toBytes()));
        assertEquals(image.path(), ((DecodedImage) back).path());
        assertEquals(3, ((DecodedImage) back).pixels().length);
    }
}
