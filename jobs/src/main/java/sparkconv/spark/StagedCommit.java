package sparkconv.spark;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;

import sparkconv.SparkconvException;

/**
 * The one way sparkconv publishes a directory (shards, ingested prices, scores, model versions): written into a hidden
 * sibling {@code .<name>.staging-<uuid>}, marked complete with {@link #SUCCESS}, then moved into place by one rename
 * that never overwrites, so readers see all of it or nothing, and two writers racing for one target cannot both win.
 * An output being replaced is first renamed aside to {@code .<name>.replaced-<uuid>} and deleted only once the new one
 * is in place: a writer killed in between leaves the old output whole (hidden), never neither. The staging directory
 * is removed whatever happens; what killed writers of the same target left ({@code .<name>.staging-*},
 * {@code .<name>.replaced-*} that existed before this commit started) is removed once this commit is in place.
 */
public final class StagedCommit {
    /** The marker of a complete output directory (Hadoop's and Spark's convention). */
    public static final String SUCCESS = "_SUCCESS";
    private static final String STAGING = ".staging-";
    private static final String REPLACED = ".replaced-";

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
     * @param replace replace an existing target (its writer checked that replacing it is wanted); else an existing
     *                target fails with {@link TargetExists}
     * @param what    names the output in an I/O error: "{@code <target>: could not write <what>: <cause>}"
     */
    public static <T> T commit(Path target, Configuration conf, boolean replace, String what, Body<T> body) {
        String id = java.util.UUID.randomUUID().toString();
        Path staging = sibling(target, STAGING, id);
        FileSystem fs = Fs.fs(staging, conf);
        List<Path> leftovers = leftovers(fs, target);
        Path aside = null;
        try {
            T result = body.write(staging);
            Fs.writeString(new Path(staging, SUCCESS), "", conf);
            fs.mkdirs(target.getParent());
            FileContext fc = FileContext.getFileContext(staging.toUri(), conf);
            if (replace && fs.exists(target)) {
                aside = sibling(target, REPLACED, id);
                fc.rename(target, aside, Options.Rename.NONE);
            }
            try {
                fc.rename(staging, target, Options.Rename.NONE);
            } catch (FileAlreadyExistsException e) {
                throw new TargetExists(target);
            }
            for (Path old : leftovers) {
                fs.delete(old, true);
            }
            return result;
        } catch (IOException e) {
            throw new SparkconvException(target + ": could not write " + what + ": " + e.getMessage(), e);
        } finally {
            try {
                fs.delete(staging, true);
                if (aside != null && fs.exists(aside)) {
                    if (fs.exists(target)) {
                        fs.delete(aside, true); // replaced (by this commit or a racing writer)
                    } else {
                        fs.rename(aside, target); // the new output did not get into place: the old one goes back
                    }
                }
            } catch (IOException e) {
                // best effort: readers ignore hidden directories, and the next commit of this target removes them
            }
        }
    }

    /** Whether {@code dir} is a complete output ({@link #SUCCESS} in it). */
    public static boolean isComplete(Path dir, Configuration conf) {
        return Fs.exists(new Path(dir, SUCCESS), conf);
    }

    private static Path sibling(Path target, String kind, String id) {
        return new Path(target.getParent(), "." + target.getName() + kind + id);
    }

    /** Staging and replaced directories of {@code target} that earlier, killed, writers left beside it. */
    private static List<Path> leftovers(FileSystem fs, Path target) {
        String staging = "." + target.getName() + STAGING;
        String replaced = "." + target.getName() + REPLACED;
        try {
            if (!fs.exists(target.getParent())) {
                return List.of();
            }
            return Arrays.stream(fs.listStatus(target.getParent())).map(FileStatus::getPath)
                    .filter(p -> p.getName().startsWith(staging) || p.getName().startsWith(replaced)).toList();
        } catch (IOException e) {
            return List.of(); // nothing is removed: leftovers are hidden and harmless
        }
    }
}
