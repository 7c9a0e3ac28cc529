package sparkconv.shards;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.datavec.spark.util.BroadcastHadoopConfigHolder;
import org.datavec.spark.util.SerializableHadoopConfig;
import org.deeplearning4j.core.loader.DataSetLoader;
import org.nd4j.common.loader.Source;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import sparkconv.spark.Fs;

/**
 * Reads shard files (DL4J {@code DataSet.save} format) fast. DL4J's own {@code DataSet.load} reads every float with
 * {@code DataInputStream.readFloat} over a synchronized {@code BufferedInputStream}: four locked calls per value,
 * which made loading the training shards a larger CPU cost than the convolutions in a Spark training epoch (JFR).
 * Here a file is read in one call and its float arrays are copied in bulk. Anything this reader does not expect
 * (another data type, an older header) is handed to {@code DataSet.load}, so every file DL4J reads is read.
 */
public final class ShardFiles {
    private static final String ALLOCATION_MODE = "MIXED_DATA_TYPES";
    // DataSet.save's leading byte: which arrays follow
    private static final int FEATURES = 1;
    private static final int LABELS = 2;
    private static final int LABELS_SAME_AS_FEATURES = 4;

    private ShardFiles() {
    }

    /**
     * The loader for training from paths ({@code fitPaths}). It opens the file itself rather than through the
     * {@link Source} dl4j-spark hands it: that source opens every file with a 4 MB read buffer, which was over a
     * third of all memory a training run allocated (JFR) and drove garbage collection. The Hadoop configuration is
     * the driver's, broadcast once per context by the same holder dl4j-spark uses.
     */
    public static final class Loader implements DataSetLoader {
        private static final int READ_BUFFER = 64 * 1024;
        private final Broadcast<SerializableHadoopConfig> conf;

        public Loader(JavaSparkContext jsc) {
            this.conf = BroadcastHadoopConfigHolder.get(jsc);
        }

        @Override
        public DataSet load(Source source) throws IOException {
            Path path = new Path(source.getPath());
            try (InputStream in = path.getFileSystem(conf.getValue().getConfiguration()).open(path, READ_BUFFER)) {
                return decode(in.readAllBytes());
            }
        }
    }

    /** One shard file on any Hadoop file system (executor side: the JVM's default Hadoop configuration). */
    public static DataSet read(String uri) {
        return decode(Fs.readBytes(new Path(uri), ExecutorConf.CONF));
    }

    /** A DataSet from the bytes of a shard file. */
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

    /** Features and labels as float arrays without masks (what sparkconv writes), else null. */
    private static DataSet decodeFloatArrays(ByteBuffer in) {
        int included = in.get();
        if (included != (FEATURES | LABELS)) {
            return null;
        }
        INDArray features = readArray(in);
        INDArray labels = features == null ? null : readArray(in);
        return labels == null || in.hasRemaining() ? null : new DataSet(features, labels);
    }

    /** {@code Nd4j.write} layout: a shape-info buffer (LONG), then the data buffer; null if the data is not FLOAT. */
    private static INDArray readArray(ByteBuffer in) {
        if (!ALLOCATION_MODE.equals(readUtf(in))) {
            return null;
        }
        int infoLength = Math.toIntExact(in.getLong());
        if (!"LONG".equals(readUtf(in))) {
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

        if (!ALLOCATION_MODE.equals(readUtf(in))) {
            return null;
        }
        int length = Math.toIntExact(in.getLong());
        if (!"FLOAT".equals(readUtf(in))) {
            return null;
        }
        float[] data = new float[length];
        in.asFloatBuffer().get(data);
        in.position(in.position() + length * Float.BYTES);
        return Nd4j.create(data, shape, stride, order, DataType.FLOAT);
    }

    /** {@code DataOutput.writeUTF}: an unsigned 16-bit length, then (for these ASCII names) the bytes. */
    private static String readUtf(ByteBuffer in) {
        int length = Short.toUnsignedInt(in.getShort());
        byte[] b = new byte[length];
        in.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    /** One Hadoop configuration per executor JVM: each new one re-parses Hadoop's XML resources. */
    private static final class ExecutorConf {
        static final Configuration CONF = new Configuration();
    }
}
