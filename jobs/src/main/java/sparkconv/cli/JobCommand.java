package sparkconv.cli;

import org.apache.hadoop.conf.Configuration;

/**
 * A command that runs a library job: it maps its flags onto the job's typed parameters, which own the validation
 * (and know nothing of the CLI). {@link #params()} builds them without touching Spark or any file, so a test can
 * check that every job's defaults are valid.
 */
interface JobCommand<P> {
    P params();

    /**
     * The job's inputs checked where this JVM can reach them, without Spark (a shard directory exists, the model exists
     * and fits it): run before the command's Spark session exists, and by {@code deploy/submit} before it submits in
     * cluster mode ({@link Main#check}), so bad input is one line before any application starts. The job checks the
     * same again when it runs. Default: nothing to check beyond {@link #params()}.
     */
    default void checkInputs(P params, Configuration conf) {
    }

    /** Spark settings the command's own flags imply (e.g. {@code --threads-per-worker}'s); {@code --conf} wins over them. */
    default java.util.Map<String, String> sparkSettings() {
        return java.util.Map.of();
    }
}
