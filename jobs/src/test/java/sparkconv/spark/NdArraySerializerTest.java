package sparkconv.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.apache.spark.SparkConf;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.worker.NetBroadcastTuple;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import scala.reflect.ClassTag$;
import sparkconv.models.Hyper;
import sparkconv.models.ModelZoo;

/**
 * INDArrays through Spark's Kryo serializer configured as every sparkconv job is (conf/defaults.properties: sparkconv's
 * registrator, no reference tracking): exact round trips.
 */
class NdArraySerializerTest {
    private static final SparkConf CONF = productConf();
    private final SerializerInstance kryo = new KryoSerializer(CONF).newInstance();

    private static SparkConf productConf() {
        SparkConf conf = new SparkConf(false);
        SparkSessions.defaults().forEach(conf::set);
        return conf;
    }

    @SuppressWarnings("unchecked")
    private <T> T roundTrip(T value) {
        var tag = ClassTag$.MODULE$.<T>apply(Object.class);
        return (T) kryo.deserialize(kryo.serialize(value, tag), tag);
    }

    private static void assertSame(INDArray expected, INDArray actual) {
        assertEquals(expected.dataType(), actual.dataType());
        assertArrayEquals(expected.shape(), actual.shape());
        assertEquals(expected, actual);
    }

    @Test
    void theRegistratorUsesTheBlockSerializer() {
        var k = new KryoSerializer(CONF).newKryo();
        assertFalse(k.getReferences(), "conf/defaults.properties turns Kryo's reference tracking off");
        assertInstanceOf(NdArraySerializer.class, k.getSerializer(Nd4j.getBackend().getNDArrayClass()));
    }

    @Test
    void arraysOfEveryLayoutRoundTripExactly() {
        INDArray matrixF = Nd4j.rand(DataType.DOUBLE, 'f', 5, 7);
        INDArray big = Nd4j.rand(DataType.FLOAT, 6, 3, 28, 28);
        List<INDArray> arrays = List.of(
                big,
                matrixF,
                big.get(NDArrayIndex.interval(2, 4), NDArrayIndex.point(1)), // a view with an offset
                matrixF.transpose(),                                         // non-default strides
                Nd4j.arange(0, 12).castTo(DataType.INT).reshape(3, 4),
                Nd4j.scalar(3.5f),
                Nd4j.rand(DataType.FLOAT, 1, 61_706),
                Nd4j.empty(DataType.FLOAT));
        for (INDArray a : arrays) {
            INDArray back = roundTrip(a);
            assertSame(a, back);
            assertTrue(a.isEmpty() || !back.isView());
        }
    }

    @Test
    void aParameterAveragingBroadcastRoundTrips() {
        MultiLayerNetwork net = new MultiLayerNetwork(ModelZoo.build("lenet5", new ModelZoo.Input(1, 28, 28), 10,
                new Hyper("nesterovs", 0.05, 0.9, 1e-4, 7)));
        net.init();
        NetBroadcastTuple tuple = new NetBroadcastTuple(net.getLayerWiseConfigurations(), net.params(),
                net.getUpdater().getStateViewArray());
        NetBroadcastTuple back = roundTrip(tuple);
        assertSame(net.params(), back.getParameters());
        assertSame(net.getUpdater().getStateViewArray(), back.getUpdaterState());
        assertEquals(net.getLayerWiseConfigurations(), back.getConfiguration());
    }
}
