package sparkconv.spark;

import java.io.IOException;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;

import sparkconv.SparkconvException;

/**
 * The one way sparkconv publishes a directory (shards, ingested prices, scores, model versions): written into a hidden
 * sibling {@code .<name>.staging-<uuid>}, marked complete with {@link #SUCCESS}, then moved into place by one rename
 * that never overwrites (an output being replaced is deleted just before it), so readers see all of it or nothing, and
 * two writers racing for one target cannot both win. The staging directory is removed whatever happens.
 */
public final class StagedCommit {
    /** The marker of a complete output directory (Hadoop's and Spark's convention). */
    public static final String SUCCESS = "_SUCCESS";

    private StagedCommit() {
    }

    /** Writes the output's files into the staging directory (which does not exist yet: Spark writers create it). */
    @FunctionalInterface
    public interface Body<T> {
        T write(Path staging) throws IOException;
    }

    /** The target existed when it was to be moved into place (and {@code replace} was false). */
    public static final class TargetExists extends SparkconvException {
        TargetExists(Path target) {
            super(target + ": already exists");
        }
    }

    /**
     * Stages, completes and moves {@code target} into place; returns what {@code body} returned.
     *
     * @param replace delete an existing target first (its writer checked that replacing it is wanted); else an
     *                existing target fails with {@link TargetExists}
     * @param what    names the output in an I/O error: "{@code <target>: could not write <what>: <cause>}"
     */
    public static <T> T commit(Path target, Configuration conf, boolean replace, String what, Body<T> body) {
        Path staging = new Path(target.getParent(), "." + target.getName() + ".staging-" + java.util.UUID.randomUUID());
        FileSystem fs = Fs.fs(staging, conf);
        try {
            T result = body.write(staging);
            Fs.writeString(new Path(staging, SUCCESS), "", conf);
            if (replace && fs.exists(target)) {
                fs.delete(target, true);
            }
            fs.mkdirs(target.getParent());
            try {
                FileContext.getFileContext(staging.toUri(), conf).rename(staging, target, Options.Rename.NONE);
            } catch (FileAlreadyExistsException e) {
                throw new TargetExists(target);
            }
            return result;
        } catch (IOException e) {
            throw new SparkconvException(target + ": could not write " + what + ": " + e.getMessage(), e);
        } finally {
            try {
                fs.delete(staging, true);
            } catch (IOException e) {
                // best effort: readers ignore a leftover hidden staging directory
            }
        }
    }

    /** Whether {@code dir} is a complete output ({@link #SUCCESS} in it). */
    public static boolean isComplete(Path dir, Configuration conf) {
        return Fs.exists(new Path(dir, SUCCESS), conf);
    }
}
