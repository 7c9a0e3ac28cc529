package sparkconv.cli;

import java.io.PrintWriter;
import java.util.ArrayList;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import sparkconv.SparkconvException;

/** Entry point of the shaded jar: {@code ./sparkconv <command>} or {@code spark-submit ... sparkconv.jar <command>}. */
@Command(name = "sparkconv", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Distributed CNN training on Spark: preprocess images into shards, train with parameter averaging, "
                + "store versioned models on any Hadoop file system, evaluate and score.",
        subcommands = {QuickstartCommand.class, PreprocessCommand.class, TrainCommand.class, EvaluateCommand.class, ScoreCommand.class,
                DescribeCommand.class, ModelsCommand.class, PipelineCommand.class, ReportCommand.class,
                SegmentPreprocessCommand.class, SegmentTrainCommand.class, NiftyCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
    }

    public static void main(String[] args) {
        try {
            sparkconv.spark.Kerberos.login();
        } catch (SparkconvException e) {
            System.err.println("sparkconv: error: " + e.getMessage());
            System.exit(2);
        }
        if (System.getenv(CHECK_ONLY) != null) {
            System.exit(check(args)); // deploy/submit, before it submits in cluster mode
        }
        boolean yarnCluster = inYarnClusterMode();
        int code;
        try {
            // a command that starts no SparkContext has no token renewal: it must not use the submission's tokens
            code = yarnCluster && !startsSpark(args) ? sparkconv.spark.Kerberos.withoutSubmissionTokens(() -> run(args)) : run(args);
        } catch (SparkconvException e) {
            System.err.println("sparkconv: error: " + e.getMessage());
            code = 2;
        }
        if (yarnCluster) {
            // In YARN's cluster mode this runs inside the ApplicationMaster, which reports success only if main returns
            // (System.exit, even with 0, is "exited early": FAILED) and failure if it throws; it then ends the JVM.
            if (code != 0) {
                throw new IllegalStateException("sparkconv " + (args.length > 0 ? args[0] : "") + " failed with exit code " + code);
            }
            // it also waits for the job's SparkContext: a command that needs none (models promote) starts one
            org.apache.spark.SparkContext.getOrCreate(new org.apache.spark.SparkConf());
            return;
        }
        // Spark and ND4J leave non-daemon threads behind: exit explicitly so the JVM ends with the job's code.
        System.exit(code);
    }

    /** With this environment variable set, {@link #main} only checks the command line ({@link #check}). */
    static final String CHECK_ONLY = "SPARKCONV_CHECK_ONLY";

    /** Runs a command line and returns its exit code (0 ok, 1 failure, 2 usage or input error). Used by tests. */
    public static int run(String... args) {
        CommandLine cli = commandLine();
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> failure(ex, cmd.getErr()));
        cli.setParameterExceptionHandler((ex, parsedArgs) -> usageError(ex));
        return cli.execute(args);
    }

    /**
     * Checks a command line without running it: its options parse, its job's parameters validate and the inputs this
     * JVM can reach exist ({@link JobCommand#checkInputs}); no Spark. Returns the exit code {@link #run} would give for
     * what it finds (0: nothing wrong), with the same one-line errors.
     */
    static int check(String... args) {
        CommandLine cli = commandLine();
        CommandLine.ParseResult parsed;
        try {
            parsed = cli.parseArgs(args);
        } catch (CommandLine.ParameterException e) {
            return usageError(e);
        }
        while (parsed.hasSubcommand()) {
            parsed = parsed.subcommand();
        }
        if (parsed.isUsageHelpRequested() || parsed.isVersionHelpRequested()) {
            return 0;
        }
        try {
            SparkOptions.checkInputs(parsed.commandSpec().userObject(), sparkconv.spark.SparkSessions.hadoopConf(java.util.Map.of()));
            return 0;
        } catch (Exception e) {
            return failure(e, cli.getErr());
        }
    }

    /** Whether this JVM is a YARN cluster-mode driver (it runs inside the ApplicationMaster, on the submission's tokens). */
    static boolean inYarnClusterMode() {
        return "cluster".equals(System.getProperty("spark.submit.deployMode"))
                && System.getProperty("spark.master", "").startsWith("yarn");
    }

    /** Whether the command line's command is a Spark job (takes --master): one that starts a SparkContext. */
    static boolean startsSpark(String[] args) {
        try {
            CommandLine.ParseResult parsed = commandLine().parseArgs(args);
            while (parsed.hasSubcommand()) {
                parsed = parsed.subcommand();
            }
            return parsed.commandSpec().optionsMap().containsKey("--master");
        } catch (CommandLine.ParameterException e) {
            return true; // run() reports it as it is
        }
    }

    /** A command's failure as one line: 2 for a {@link SparkconvException} anywhere in the causes (bad input), else 1. */
    private static int failure(Exception ex, PrintWriter err) {
        Throwable t = ex;
        while (!(t instanceof SparkconvException) && t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        if (t instanceof SparkconvException) {
            err.println("sparkconv: error: " + t.getMessage());
            err.flush();
            return 2;
        }
        err.println("sparkconv: error: " + ex.getClass().getSimpleName() + ": " + ex.getMessage()
                + " (set SPARKCONV_STACKTRACE=1 for the stack trace)");
        if (System.getenv("SPARKCONV_STACKTRACE") != null) {
            ex.printStackTrace(err);
        }
        err.flush();
        return 1;
    }

    private static int usageError(CommandLine.ParameterException ex) {
        PrintWriter err = ex.getCommandLine().getErr();
        err.println("sparkconv: error: " + ex.getMessage() + " (see " + ex.getCommandLine().getCommandName() + " --help)");
        err.flush();
        return 2;
    }

    /** The command tree with its option defaults from conf/defaults.properties: what runs, parses pipeline stages and shows --help. */
    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main()).setDefaultValueProvider(new ConfDefaults());
        showDefaults(cli);
        return cli;
    }

    /**
     * --help shows every option's effective default: an option whose description does not state its default itself
     * ("(default ${DEFAULT-VALUE})", or in words for a computed one), and that has a default (annotated or from
     * conf/), gets picocli's "Default: x" line.
     */
    private static void showDefaults(CommandLine cl) {
        CommandSpec spec = cl.getCommandSpec();
        for (OptionSpec o : new ArrayList<>(spec.options())) {
            boolean flag = o.type() == boolean.class || o.type() == Boolean.class;
            if (o.usageHelp() || o.versionHelp() || o.required() || flag || o.group() != null
                    || String.join(" ", o.description()).contains("default")) {
                continue;
            }
            String conf = spec.defaultValueProvider() == null ? null : confDefault(spec.defaultValueProvider(), o);
            if (conf != null || o.defaultValue() != null) {
                spec.remove(o);
                spec.addOption(o.toBuilder().showDefaultValue(CommandLine.Help.Visibility.ALWAYS).build());
            }
        }
        cl.getSubcommands().values().forEach(Main::showDefaults);
    }

    private static String confDefault(CommandLine.IDefaultValueProvider provider, OptionSpec o) {
        try {
            return provider.defaultValue(o);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
