package sparkconv.store;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.EnumSet;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.hdfs.DistributedFileSystem;
import org.apache.hadoop.hdfs.client.HdfsDataOutputStream;
import org.apache.hadoop.util.Progressable;

/**
 * HDFS, as the product's code opens it, with one fault placed by construction: when a file named {@link #FILE} has
 * {@link #AFTER_BYTES} bytes written, its bytes so far are synced to the DataNode (the write pipeline is up and holds
 * data) and {@link #fault} runs, in the writer's thread, before the write goes on. Configured by
 * {@link #configuration}; the test sets the fault.
 */
public class DataNodeStoppingFileSystem extends DistributedFileSystem {
    static final String FILE = ModelStore.MODEL;
    static final int AFTER_BYTES = 4096;

    /** What happens inside the write (the test stops the DataNode); null: nothing. */
    static volatile Fault fault;

    /** The fault, told how many bytes of the file the NameNode counted on the DataNode when it ran. */
    interface Fault {
        void run(Path file, long bytesOnDataNode) throws IOException;
    }

    /** A Hadoop configuration whose {@code hdfs://} file systems are this one (not cached, so no other test sees it). */
    static Configuration configuration() {
        Configuration conf = new Configuration();
        conf.set("fs.hdfs.impl", DataNodeStoppingFileSystem.class.getName());
        conf.setBoolean("fs.hdfs.impl.disable.cache", true);
        return conf;
    }

    @Override
    public FSDataOutputStream create(Path f, FsPermission permission, boolean overwrite, int bufferSize, short replication,
                                     long blockSize, Progressable progress) throws IOException {
        FSDataOutputStream out = super.create(f, permission, overwrite, bufferSize, replication, blockSize, progress);
        Fault now = fault;
        if (now == null || !f.getName().equals(FILE)) {
            return out;
        }
        HdfsDataOutputStream hdfsOut = (HdfsDataOutputStream) out;
        return new FSDataOutputStream(new FilterOutputStream(out) {
            private long written;

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
                written += len;
                if (written >= AFTER_BYTES && fault == now) {
                    fault = null;
                    hdfsOut.hsync(EnumSet.of(HdfsDataOutputStream.SyncFlag.UPDATE_LENGTH));
                    now.run(f, getFileStatus(f).getLen());
                }
            }

            @Override
            public void write(int b) throws IOException {
                write(new byte[]{(byte) b}, 0, 1);
            }
        }, null);
    }
}
