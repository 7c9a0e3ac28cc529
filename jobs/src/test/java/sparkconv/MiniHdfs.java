package sparkconv;

import java.io.IOException;
import java.nio.file.Files;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;

/** A real HDFS for tests: a MiniDFSCluster (NameNode + one DataNode) on 127.0.0.1 with its data in a temporary directory. */
public final class MiniHdfs implements AutoCloseable {
    private final MiniDFSCluster cluster;

    private MiniHdfs(MiniDFSCluster cluster) {
        this.cluster = cluster;
    }

    public static MiniHdfs start() throws IOException {
        Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, Files.createTempDirectory("sparkconv-hdfs").toString());
        conf.set("dfs.namenode.rpc-address", "127.0.0.1:0");
        MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
        cluster.waitActive();
        return new MiniHdfs(cluster);
    }

    /** {@code hdfs://127.0.0.1:<port>}: the root URI of this file system. */
    public String uri() {
        return "hdfs://127.0.0.1:" + cluster.getNameNodePort();
    }

    /** The cluster itself, for tests that stop and restart its DataNode. */
    public MiniDFSCluster cluster() {
        return cluster;
    }

    public FileSystem fileSystem() throws IOException {
        return cluster.getFileSystem();
    }

    /** Stops the NameNode and DataNode and deletes their data. */
    @Override
    public void close() {
        cluster.shutdown(true);
    }
}
