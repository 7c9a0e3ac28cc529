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

        /**
         * One minibatch by its name (sparkconv's averaging worker loads by name, without a {@link Source}): a shard
         * file's URI, or a {@link #piece} of one.
         */
        public DataSet load(String minibatch) throws IOException {
            FaultPoint.reached();
            java.util.regex.Matcher piece = PIECE.matcher(minibatch);
            boolean cut = piece.find();
            Path path = new Path(cut ? minibatch.substring(0, piece.start()) : minibatch);
            DataSet shard;
            try (InputStream in = path.getFileSystem(conf.getValue().getConfiguration()).open(path, READ_BUFFER)) {
                shard = ShardBytes.decode(in.readAllBytes());
            }
            return cut ? slice(shard, Integer.parseInt(piece.group(1)), Integer.parseInt(piece.group(2))) : shard;
        }
    }

    /** How a minibatch name says it is a piece of a shard: {@code URI#piece=K/S}. */
    private static final java.util.regex.Pattern PIECE = java.util.regex.Pattern.compile("#piece=(\\d+)/(\\d+)$");

    /**
     * The name of piece {@code k} of {@code pieces} of a shard: its examples {@code k·n/pieces .. (k+1)·n/pieces − 1}
     * (n the shard's examples), in order; one worker's minibatch when the averaging policy cuts each shard among the
     * workers of a round ({@code sync}). The loader reads the whole shard and keeps the piece.
     */
    public static String piece(String shardUri, int k, int pieces) {
        return shardUri + "#piece=" + k + "/" + pieces;
    }

    /** Whether piece {@code k} of {@code pieces} of a shard of {@code examples} holds any (a short shard's may not). */
    public static boolean pieceHoldsExamples(int k, int pieces, int examples) {
        return first(k, pieces, examples) < first(k + 1, pieces, examples);
    }

    private static int first(int k, int pieces, int examples) {
        return (int) ((long) k * examples / pieces);
    }

    /** Examples {@code k·n/pieces ..} of {@code shard} as a minibatch of their own (copies). */
    static DataSet slice(DataSet shard, int k, int pieces) {
        int n = shard.numExamples();
        int from = first(k, pieces, n);
        int to = first(k + 1, pieces, n);
        if (from == to) {
            throw new IllegalArgumentException("piece " + k + "/" + pieces + " of a shard of " + n + " examples holds none");
        }
        DataSet piece = (DataSet) shard.getRange(from, to);
        return new DataSet(piece.getFeatures().dup(), piece.getLabels().dup(),
                piece.getFeaturesMaskArray() == null ? null : piece.getFeaturesMaskArray().dup(),
                piece.getLabelsMaskArray() == null ? null : piece.getLabelsMaskArray().dup());
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
