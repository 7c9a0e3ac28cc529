package sparkconv.shards;

import java.io.IOException;
import java.io.InputStream;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.datavec.spark.util.BroadcastHadoopConfigHolder;
import org.datavec.spark.util.SerializableHadoopConfig;
import org.deeplearning4j.core.loader.DataSetLoader;
import org.nd4j.common.loader.Source;
import org.nd4j.linalg.dataset.DataSet;

import sparkconv.data.Checksums;
import sparkconv.spark.FaultPoint;
import sparkconv.spark.Fs;

/**
 * Reads shard files: in one call per file, decoded by {@link ShardBytes#decode} (bulk copies, not DL4J's
 * value-by-value {@code DataSet.load}).
 */
public final class ShardFiles {
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
            return load(source.getPath());
        }

        /** One shard file by its URI (sparkconv's averaging worker loads by path, without a {@link Source}). */
        public DataSet load(String uri) throws IOException {
            FaultPoint.reached();
            Path path = new Path(uri);
            try (InputStream in = path.getFileSystem(conf.getValue().getConfiguration()).open(path, READ_BUFFER)) {
                return ShardBytes.decode(in.readAllBytes());
            }
        }
    }

    /** One shard file on any Hadoop file system (executor side: the JVM's default Hadoop configuration). */
    public static DataSet read(String uri) {
        return ShardBytes.decode(Fs.readBytes(new Path(uri), ExecutorConf.CONF));
    }

    /** The sha256 of one shard file (executor side, as {@link #read}). */
    public static String sha256(String uri) throws IOException {
        Path path = new Path(uri);
        try (InputStream in = path.getFileSystem(ExecutorConf.CONF).open(path)) {
            return Checksums.sha256(in, null);
        }
    }

    /** One Hadoop configuration per executor JVM: each new one re-parses Hadoop's XML resources. */
    private static final class ExecutorConf {
        static final Configuration CONF = new Configuration();
    }
}
