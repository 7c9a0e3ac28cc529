package sparkconv.bench;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Supplier;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.worker.NetBroadcastTuple;
import org.nd4j.linalg.dataset.DataSet;

import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;
import sparkconv.data.IdxDataset;
import sparkconv.data.ImageSet;
import sparkconv.models.Hyper;
import sparkconv.models.ModelZoo;
import sparkconv.shards.Manifest;
import sparkconv.shards.ShardBytes;
import sparkconv.shards.ShardWriter;
import sparkconv.spark.KryoRegistrator;

/**
 * The per-round costs of parameter averaging that do not depend on Spark's scheduling, measured side by side in one
 * JVM: reading one shard file (DL4J's {@code DataSet.load} vs {@link ShardBytes#decode}) and a Kryo round trip of
 * what each round broadcasts and returns per worker (LeNet-5 parameters + Nesterov state, ND4J's registrator vs
 * sparkconv's). The shard is the first 64 Fashion-MNIST training images, written as preprocess writes them.
 * Milliseconds per operation, median of 5 timed batches after a warm-up batch. Run by bench/run io. Arguments: [IDX_DIR]
 */
public class TrainIoBench {
    private static final ClassTag<Object> ANY = ClassTag$.MODULE$.apply(Object.class);

    public static void main(String[] args) throws Exception {
        ImageSet images = IdxDataset.load(args.length > 0 ? args[0] : IdxDataset.DEBIAN_FASHION_MNIST,
                IdxDataset.FASHION_CLASSES, new Configuration()).train().slice(0, 64);
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        ShardWriter.toDataSet(images.pixels(), images.labels(), 1, 28, 28, 10,
                new Manifest.Normalisation("standardise", 1 / 255.0, 0.286, 0.353)).save(file);
        byte[] shard = file.toByteArray();
        MultiLayerNetwork net = new MultiLayerNetwork(ModelZoo.build("lenet5", new ModelZoo.Input(1, 28, 28), 10,
                new Hyper("nesterovs", 0.05, 0.9, 1e-4, 42)));
        net.init();
        NetBroadcastTuple round = new NetBroadcastTuple(net.getLayerWiseConfigurations(), net.params(),
                net.getUpdater().getStateViewArray());
        SerializerInstance nd4j = kryo("org.nd4j.kryo.Nd4jRegistrator");
        SerializerInstance ours = kryo(KryoRegistrator.class.getName());

        double load = millis(100, () -> {
            DataSet ds = new DataSet();
            ds.load(new ByteArrayInputStream(shard));
            return ds;
        });
        double decode = millis(100, () -> ShardBytes.decode(shard));
        double nd4jTrip = millis(50, () -> nd4j.deserialize(nd4j.serialize(round, ANY), ANY));
        double oursTrip = millis(50, () -> ours.deserialize(ours.serialize(round, ANY), ANY));

        System.out.println("| per-round cost (one JVM, 1 thread) | DL4J / ND4J default | sparkconv | ratio |");
        System.out.println("|---|---|---|---|");
        System.out.printf("| read one shard (%,d bytes, 64 images) | %.2f ms | %.2f ms | %.1fx |%n", shard.length, load, decode, load / decode);
        System.out.printf("| Kryo round trip, LeNet-5 params + updater (%,d floats) | %.2f ms | %.2f ms | %.1fx |%n",
                net.params().length() + net.getUpdater().getStateViewArray().length(), nd4jTrip, oursTrip, nd4jTrip / oursTrip);
    }

    private static SerializerInstance kryo(String registrator) {
        return new KryoSerializer(new SparkConf().set("spark.kryo.registrator", registrator)).newInstance();
    }

    /** Median milliseconds per call over 5 batches of {@code n} calls, after one warm-up batch. */
    private static double millis(int n, Supplier<Object> op) {
        List<Double> batches = new ArrayList<>();
        for (int b = 0; b <= 5; b++) {
            long start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                op.get();
            }
            if (b > 0) {
                batches.add((System.nanoTime() - start) / 1e6 / n);
            }
        }
        Collections.sort(batches);
        return batches.get(batches.size() / 2);
    }
}
