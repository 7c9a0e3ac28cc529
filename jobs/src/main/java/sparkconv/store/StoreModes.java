package sparkconv.store;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;

import sparkconv.SparkconvException;
import sparkconv.spark.Fs;

/**
 * The permissions of what sparkconv creates in a store (model versions, checkpoints, the directories above them):
 * directories {@code 0750}, files {@code 0640}, whatever the writer's umask. Other users can neither list, read nor
 * write; the group can list and read (evaluate, score, report) but not publish, promote or delete. Set explicitly
 * rather than left to the umask, which is often 022 (world-readable) and on HDFS comes from the client's
 * {@code fs.permissions.umask-mode}. Directories that already existed (a store root an administrator made) are left
 * as they are.
 */
public final class StoreModes {
    public static final FsPermission DIR = new FsPermission((short) 0750);
    public static final FsPermission FILE = new FsPermission((short) 0640);

    private StoreModes() {
    }

    /** Creates {@code dir} and whichever of its parents are missing, each {@link #DIR}. */
    public static void mkdirs(Path dir, Configuration conf) {
        FileSystem fs = Fs.fs(dir, conf);
        Deque<Path> missing = new ArrayDeque<>();
        try {
            for (Path p = dir; p != null && !fs.exists(p); p = p.getParent()) {
                missing.push(p);
            }
            for (Path p : missing) {
                fs.mkdirs(p, DIR);
                fs.setPermission(p, DIR); // mkdirs applies the umask to DIR
            }
        } catch (IOException e) {
            throw new SparkconvException(dir + ": cannot create directory: " + e.getMessage(), e);
        }
    }

    /** Gives {@code dir} and everything under it {@link #DIR} / {@link #FILE} (a written version, before it is published). */
    public static void restrict(Path dir, Configuration conf) {
        FileSystem fs = Fs.fs(dir, conf);
        try {
            fs.setPermission(dir, DIR);
            for (FileStatus s : fs.listStatus(dir)) {
                if (s.isDirectory()) {
                    restrict(s.getPath(), conf);
                } else {
                    fs.setPermission(s.getPath(), FILE);
                }
            }
        } catch (IOException e) {
            throw new SparkconvException(dir + ": cannot set permissions: " + e.getMessage(), e);
        }
    }
}
