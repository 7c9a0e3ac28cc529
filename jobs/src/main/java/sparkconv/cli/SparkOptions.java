package sparkconv.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import sparkconv.spark.JobDescriptions;
import sparkconv.spark.Kerberos;
import sparkconv.spark.Redaction;
import sparkconv.spark.SparkSessions;
import sparkconv.spark.WorkerThreads;

/** Spark options every Spark job takes; they override conf/defaults.properties and spark-submit settings. */
final class SparkOptions {
    @Option(names = "--master", description = "Spark master (default: spark-submit's, else local[*] from conf/defaults.properties)")
    String master;

    @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "extra Spark setting (repeatable)")
    Map<String, String> conf = new LinkedHashMap<>();

    /** The command these options belong to: its command line becomes the description of every Spark job it starts. */
    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    /** The command's Spark session, after its inputs were checked ({@link JobCommand#checkInputs}). */
    SparkSession session(String appName) {
        Map<String, String> overrides = new LinkedHashMap<>();
        overrides.put("spark.app.name", "sparkconv " + appName);
        overrides.putAll(overrides());
        // In YARN's cluster mode this driver holds the submission's tokens, which nothing renews until the SparkContext's
        // token manager starts (and which outlived their lifetime when the application waited for its container): the
        // inputs are read under a keytab login of their own, as a command without Spark runs (Main).
        Configuration hadoopConf = SparkSessions.hadoopConf(overrides);
        if (Main.inYarnClusterMode()) {
            Kerberos.withoutSubmissionTokens(() -> {
                checkInputs(command.userObject(), hadoopConf);
                return 0;
            });
        } else {
            checkInputs(command.userObject(), hadoopConf);
        }
        WorkerThreads.check(SparkSessions.conf(overrides), System.getenv("OMP_NUM_THREADS"));
        SparkSession session = SparkSessions.getOrCreate(overrides);
        var sc = session.sparkContext();
        if (!sc.isLocal()) {
            // on a cluster the application's id is what its UI, its logs and the cluster manager know it by
            System.err.println("sparkconv: " + appName + " runs as Spark application " + sc.applicationId() + " on " + sc.master());
        }
        // the Spark UI lists it on every job, and the event log keeps it: a secret --conf shows redacted, as Spark's own pages do
        JobDescriptions.command(session.sparkContext(), description(sc.getConf()));
        return session;
    }

    private Map<String, String> overrides() {
        Map<String, String> overrides = new LinkedHashMap<>();
        if (command != null && command.userObject() instanceof JobCommand<?> job) {
            overrides.putAll(job.sparkSettings());
        }
        overrides.putAll(conf);
        if (master != null) {
            overrides.put("spark.master", master);
        }
        return overrides;
    }

    /** The Spark settings a session of these options gets (conf/defaults.properties, spark-submit's, the flags), without Spark. */
    org.apache.spark.SparkConf sparkConf() {
        return SparkSessions.conf(overrides());
    }

    @SuppressWarnings("unchecked")
    static <P> void checkInputs(Object command, Configuration hadoopConf) {
        if (command instanceof JobCommand<?> job) {
            JobCommand<P> typed = (JobCommand<P>) job;
            typed.checkInputs(typed.params(), hadoopConf);
        }
    }

    /**
     * {@code nifty render --in nifty/ingested --window 20 ...}: the command's path and the arguments it was given, a
     * secret {@code --conf} redacted by the session's {@code spark.redaction.regex}.
     */
    String description(org.apache.spark.SparkConf sparkConf) {
        List<String> path = List.of(ConfDefaults.commandPath(command).split("\\."));
        var parsed = command.commandLine().getParseResult();
        List<String> args = parsed == null ? List.of() : parsed.expandedArgs();
        if (args.size() >= path.size() && args.subList(0, path.size()).equals(path)) {
            args = args.subList(path.size(), args.size()); // the whole command line, not only this command's part
        }
        args = Redaction.commandLine(args, sparkConf);
        return String.join(" ", path) + (args.isEmpty() ? "" : " " + String.join(" ", args));
    }
}
