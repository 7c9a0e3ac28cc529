package sparkconv.jobs;

/**
 * A command that runs a library job: it maps its flags onto the job's typed parameters, which own the validation
 * (and know nothing of the CLI). {@link #params()} builds them without touching Spark or any file, so a test can
 * check that every job's defaults are valid.
 */
interface JobCommand<P> {
    P params();
}
